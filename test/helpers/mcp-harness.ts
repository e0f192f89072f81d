/**
 * Integration-test harness: the real server (startServer, AUTH_MODE=internal,
 * memory store, port 0), a token from the real OAuth flow
 * (test/helpers/oauth.ts), and SDK v2 clients for each way a client can reach
 * the server:
 *
 * - `2025`: Streamable HTTP, `initialize` handshake, a session (2025-11-25);
 * - `2026`: Streamable HTTP pinned to 2026-07-28 (stateless, `server/discover`,
 *   per-request `_meta`, input_required instead of server-to-client requests);
 * - `sse`: the deprecated HTTP+SSE transport (`GET /sse` + `POST /message`).
 *
 * Every client declares sampling (with tools), elicitation (form and URL) and
 * roots, and records what the server asked of it so tests can assert exact
 * values.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type CreateMessageRequestParams,
  type ElicitRequestParams,
  type LoggingMessageNotificationParams,
  type Transport
} from '@modelcontextprotocol/client';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { obtainTokens } from './oauth.js';

export type Kind = '2025' | '2026' | 'sse';
export const KINDS: readonly Kind[] = ['2025', '2026', 'sse'];
export const KIND_LABEL: Record<Kind, string> = {
  '2025': '2025-11-25 Streamable HTTP (session)',
  '2026': '2026-07-28 Streamable HTTP (stateless)',
  sse: '2024-11-05 HTTP+SSE (legacy transport)'
};

/** Periodic resource updates and log messages, fast (see startTestServer). */
export const FAST_TIMING = { resourceUpdateIntervalMs: 200, logIntervalMs: 100 };
/** Longest a test waits for a periodic notification: covers the server's default intervals too. */
export const PERIODIC_WAIT_MS = 20_000;

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'integration');

export interface TestServer {
  server: RunningServer;
  baseUrl: string;
  mcpUrl: string;
  /** True when /mcp answered an unauthenticated request with 401. */
  authOn: boolean;
  /** Access token from the real OAuth flow (scopes "mcp mcp:admin", identity alice); undefined when authorization is off. */
  token?: string;
  /** The OAuth client the token was issued to. */
  oauthClientId?: string;
  grantedScope?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Extra environment for loadConfig (strings). */
  env?: Record<string, string>;
  /** Name for the server log file under test-artifacts/integration. */
  name?: string;
  scope?: string;
  identity?: string;
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const config = loadConfig({
    NODE_ENV: 'test',
    AUTH_MODE: 'internal',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    RATE_LIMIT_MAX: '100000',
    ...options.env
  });
  const logFile = join(ARTIFACTS, `${options.name ?? 'server'}.log`);
  // Short periodic intervals, so subscription updates and periodic logs arrive within a test.
  const server = await startServer(config, { logger: createLogger('debug', createWriteStream(logFile)), mcpTiming: FAST_TIMING });
  const mcpUrl = server.config.mcpUrl;
  const baseUrl = server.config.baseUri;

  const probe = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } })
  });
  await probe.text();
  const authOn = probe.status === 401;
  let token: string | undefined;
  let oauthClientId: string | undefined;
  let grantedScope: string | undefined;
  if (authOn) {
    const t = await obtainTokens(baseUrl, { scope: options.scope ?? 'mcp mcp:admin', identity: options.identity ?? 'alice', clientName: 'Integration tests' });
    token = t.accessToken;
    oauthClientId = t.clientId;
    grantedScope = t.scope;
  } else {
    console.warn(`!!! ${mcpUrl} answered ${probe.status} without a token: authorization is OFF; integration clients connect unauthenticated.`);
  }
  return { server, baseUrl, mcpUrl, authOn, token, oauthClientId, grantedScope, close: () => server.close() };
}

/** What the server asked of a client, and what it told it. */
export class Recorder {
  readonly sampling: CreateMessageRequestParams[] = [];
  readonly elicitations: ElicitRequestParams[] = [];
  rootsRequests = 0;
  readonly logs: LoggingMessageNotificationParams[] = [];
  readonly resourceUpdates: string[] = [];
  readonly errors: Error[] = [];
}

/** The roots every test client exposes. */
export const CLIENT_ROOTS = [
  { uri: 'file:///home/test/project', name: 'Project' },
  { uri: 'file:///home/test/data', name: 'Data' }
];

/** The sampling answer for a request without tools. */
export const SAMPLED_TEXT = (prompt: string) => `Sampled answer to: ${prompt}`;

/** Values the form handler fills in for `startElicitation`'s schema, by property type. */
export function fillForm(schema: { properties: Record<string, Record<string, unknown>> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema.properties)) {
    if (prop.type === 'string') {
      if (Array.isArray(prop.enum)) out[name] = prop.enum[0];
      else if (Array.isArray(prop.oneOf)) out[name] = (prop.oneOf[prop.oneOf.length - 1] as { const: string }).const;
      else if (prop.format === 'email') out[name] = 'alice@example.com';
      else if (prop.format === 'uri') out[name] = 'https://example.com/alice';
      else if (prop.format === 'date') out[name] = '1990-04-01';
      else if (prop.format === 'date-time') out[name] = '2030-01-02T10:30:00Z';
      else out[name] = 'Alice Example';
    } else if (prop.type === 'integer') out[name] = 42;
    else if (prop.type === 'number') out[name] = 3.5;
    else if (prop.type === 'boolean') out[name] = true;
    else if (prop.type === 'array') {
      const items = prop.items as { enum?: string[]; anyOf?: Array<{ const: string }> };
      out[name] = items.enum ? items.enum.slice(1, 3) : (items.anyOf ?? []).slice(0, 2).map(o => o.const);
    }
  }
  return out;
}

export interface Connection {
  kind: Kind;
  client: Client;
  transport: Transport;
  recorder: Recorder;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Elicitation answer: accept (default), decline or cancel. */
  elicitAction?: 'accept' | 'decline' | 'cancel';
  /** Token to send; default the server's token. `null` sends none. */
  token?: string | null;
  name?: string;
}

export async function connect(ts: TestServer, kind: Kind, options: ConnectOptions = {}): Promise<Connection> {
  const recorder = new Recorder();
  const client = new Client(
    { name: options.name ?? `integration-${kind}`, version: '1.0.0' },
    {
      capabilities: { sampling: { tools: {} }, elicitation: { form: {}, url: {} }, roots: { listChanged: true } },
      ...(kind === '2026' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : { versionNegotiation: { mode: 'legacy' } })
    }
  );
  client.onerror = err => recorder.errors.push(err);

  client.setRequestHandler('sampling/createMessage', async request => {
    const params = request.params as CreateMessageRequestParams;
    recorder.sampling.push(params);
    if (params.tools?.length) {
      return {
        model: 'integration-test-model',
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_1', name: params.tools[0]!.name, input: { city: 'Paris' } }],
        stopReason: 'toolUse'
      };
    }
    const last = params.messages.at(-1)?.content;
    const prompt = last && !Array.isArray(last) && last.type === 'text' ? last.text : '';
    return { model: 'integration-test-model', role: 'assistant', content: { type: 'text', text: SAMPLED_TEXT(prompt) }, stopReason: 'endTurn' };
  });
  client.setRequestHandler('elicitation/create', async request => {
    const params = request.params as ElicitRequestParams;
    recorder.elicitations.push(params);
    const action = options.elicitAction ?? 'accept';
    if (action !== 'accept') return { action };
    if (params.mode === 'url') return { action: 'accept' };
    return { action: 'accept', content: fillForm(params.requestedSchema as { properties: Record<string, Record<string, unknown>> }) as Record<string, string> };
  });
  client.setRequestHandler('roots/list', async () => {
    recorder.rootsRequests++;
    return { roots: CLIENT_ROOTS };
  });
  client.setNotificationHandler('notifications/message', async n => {
    recorder.logs.push(n.params);
  });
  client.setNotificationHandler('notifications/resources/updated', async n => {
    recorder.resourceUpdates.push(n.params.uri);
  });

  const token = options.token === null ? undefined : (options.token ?? ts.token);
  const authProvider = token ? { token: async () => token } : undefined;
  const transport: Transport =
    kind === 'sse'
      ? new SSEClientTransport(new URL('/sse', ts.baseUrl), { authProvider })
      : new StreamableHTTPClientTransport(new URL(ts.mcpUrl), { authProvider });
  await client.connect(transport);
  return {
    kind,
    client,
    transport,
    recorder,
    close: async () => {
      if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
  };
}

/** Text of every text block of a tool result. */
export function texts(result: { content?: unknown }): string[] {
  return ((result.content as Array<{ type: string; text?: string }>) ?? []).filter(b => b.type === 'text').map(b => b.text ?? '');
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Polls `fn` until it returns true or `timeoutMs` passes. */
export async function waitFor(fn: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
