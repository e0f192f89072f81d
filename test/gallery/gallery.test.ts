/**
 * The MCP Apps gallery at /<slug>/mcp, through the real app on port 0 and
 * the SDK v2 client, with the example-app packages from gallery/node_modules:
 *
 * - by default each app is a protected resource of its own: 401 naming its
 *   RFC 9728 document, the SDK client's OAuth flow gets a token for that URL
 *   (consent and demo IdP driven over HTTP), then lists and calls the app in
 *   both eras; tokens for /mcp and for the app are not interchangeable;
 * - a 2025-11-25 client gets a session (Mcp-Session-Id) owned by the token's
 *   subject, unknown to /mcp and to other users, resumable (Last-Event-ID
 *   replays an answer), ended by DELETE;
 * - a 2024-11-05 client (SSEClientTransport) signs in for `/<slug>/sse`
 *   (its own RFC 9728 document, a resource the AS accepts) and uses the app
 *   over `/<slug>/sse` + `/<slug>/message`;
 * - EXAMPLE_APPS_PUBLIC=true: no token needed, sessions and legacy SSE too;
 * - system-monitor reports a simulated machine unless the operator opts in;
 * - an unknown slug is a JSON-RPC error with HTTP 404;
 * - the landing page lists every app with a copy button.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';

import { Client, SSEClientTransport, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { GALLERY_APPS, resolveGalleryPackage } from '../../src/gallery/index.js';
import { createLogger } from '../../src/logger.js';
import { TestOAuthProvider } from '../e2e/support.js';
import { freePort } from '../helpers/free-port.js';
import { obtainTokens, OAuthBrowser } from '../helpers/oauth.js';

const APP = 'basic-vanillajs';
const ERAS = [
  { label: '2025-11-25', versionNegotiation: { mode: 'legacy' as const } },
  { label: '2026-07-28', versionNegotiation: { mode: { pin: '2026-07-28' as const } } }
];

async function start(env: Record<string, string> = {}): Promise<RunningServer> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000', ...env });
  return startServer(config, { logger: createLogger('silent') });
}

const post = (url: string, body: unknown, token?: string, extra: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
    body: JSON.stringify(body)
  });
const LIST_TOOLS = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The JSON-RPC message of a JSON or SSE answer (the last `data:` line that carries one). */
async function answerOf(res: Response): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const text = await res.text();
  if (text.startsWith('{')) return JSON.parse(text) as never;
  const data = [...text.matchAll(/^data: (.+)$/gm)].map(m => m[1]!).filter(d => d.startsWith('{'));
  assert.ok(data.length > 0, text);
  return JSON.parse(data.at(-1)!) as never;
}

/** Plays the person at the browser: consent (Approve), then the demo IdP as alice; returns the callback URL. */
async function approve(issuer: string, authorizationUrl: URL): Promise<URL> {
  const browser = new OAuthBrowser(issuer);
  const { fields } = await browser.openConsent(authorizationUrl.href);
  return new URL(await browser.signIn(await browser.decide(fields, 'approve'), 'alice'));
}
const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

async function getTime(client: Client): Promise<string> {
  const tools = (await client.listTools()).tools;
  const tool = tools.find(t => t.name === 'get-time');
  assert.ok(tool, `tools: ${tools.map(t => t.name).join(', ')}`);
  // The MCP Apps link from the tool to its UI resource.
  const uri = (tool._meta?.['ui'] as { resourceUri?: string } | undefined)?.resourceUri;
  assert.ok(uri?.startsWith('ui://'));
  const html = await client.readResource({ uri: uri! });
  assert.match((html.contents[0] as { text: string }).text, /<html/i);
  const result = await client.callTool({ name: 'get-time', arguments: {} });
  return (result.content as Array<{ text: string }>)[0]!.text;
}

it('every gallery package is installed (npm --prefix gallery ci)', () => {
  assert.deepEqual(
    GALLERY_APPS.filter(a => !resolveGalleryPackage(a)).map(a => a.packageName),
    []
  );
});

describe('gallery behind OAuth (default)', () => {
  let server: RunningServer;
  before(async () => {
    server = await start();
  });
  after(async () => {
    await server?.close();
  });

  it(`/${APP}/mcp answers 401 naming its own protected resource metadata`, async () => {
    const url = `${server.url}/${APP}/mcp`;
    const res = await post(url, INITIALIZE);
    await res.body?.cancel();
    assert.equal(res.status, 401);
    const prmUrl = `${server.url}/.well-known/oauth-protected-resource/${APP}/mcp`;
    assert.match(res.headers.get('www-authenticate') ?? '', new RegExp(`resource_metadata="${prmUrl.replace(/[.]/g, '\\.')}"`));
    const prm = (await (await fetch(prmUrl)).json()) as { resource: string; authorization_servers: string[] };
    assert.equal(prm.resource, url);
    assert.deepEqual(prm.authorization_servers, [server.url]);
  });

  it('the SDK client signs in through OAuth for the app, then lists and calls it in both eras', async () => {
    const url = new URL(`${server.url}/${APP}/mcp`);
    const provider = new TestOAuthProvider('http://127.0.0.1:9/callback');
    const first = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await assert.rejects(new Client({ name: 'gallery-test', version: '1.0.0' }).connect(first), UnauthorizedError);
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    // RFC 8707: the SDK asks for a token for the app's URL, from its metadata.
    assert.equal(authorizationUrl.searchParams.get('resource'), url.href);
    const browser = new OAuthBrowser(server.url);
    const { fields } = await browser.openConsent(authorizationUrl.href);
    const callback = new URL(await browser.signIn(await browser.decide(fields, 'approve'), 'alice'));
    await first.finishAuth(callback.searchParams);
    const token = provider.tokens()!.access_token;

    for (const era of ERAS) {
      const client = new Client({ name: 'gallery-test', version: '1.0.0' }, { versionNegotiation: era.versionNegotiation });
      await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
      assert.equal(client.getNegotiatedProtocolVersion(), era.label);
      assert.match(client.getServerVersion()!.name, /Basic MCP App Server/);
      const time = await getTime(client);
      assert.ok(Math.abs(Date.parse(time) - Date.now()) < 60_000, time);
      await client.close();
    }

    // The token's audience is the app's URL: /mcp refuses it, and the app refuses a token for /mcp.
    const atMcp = await post(`${server.url}/mcp`, INITIALIZE, token);
    await atMcp.body?.cancel();
    assert.equal(atMcp.status, 401);
    const mcpToken = (await obtainTokens(server.url, { scope: 'mcp' })).accessToken;
    const atApp = await post(url.href, INITIALIZE, mcpToken);
    await atApp.body?.cancel();
    assert.equal(atApp.status, 401);
    const otherApp = await post(`${server.url}/basic-react/mcp`, INITIALIZE, token);
    await otherApp.body?.cancel();
    assert.equal(otherApp.status, 401);
  });

  it('a 2025-11-25 client gets a session owned by its subject: unknown to other users and to /mcp, ended by DELETE', async () => {
    const url = `${server.url}/${APP}/mcp`;
    const alice = (await obtainTokens(server.url, { scope: 'mcp', resource: url, identity: 'alice' })).accessToken;
    const bob = (await obtainTokens(server.url, { scope: 'mcp', resource: url, identity: 'bob' })).accessToken;
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${alice}` } } });
    const client = new Client({ name: 'gallery-test', version: '1.0.0' }, { versionNegotiation: { mode: 'legacy' } });
    await client.connect(transport);
    assert.equal(client.getNegotiatedProtocolVersion(), '2025-11-25');
    const sessionId = transport.sessionId;
    assert.match(sessionId ?? '', UUID);
    assert.ok(!Number.isNaN(Date.parse(await getTime(client))));

    const session = { 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-11-25' };
    // Another person's token on the session: answered like an unknown session.
    const asBob = await post(url, LIST_TOOLS, bob, session);
    assert.equal(asBob.status, 404);
    assert.equal(((await asBob.json()) as { error: { code: number } }).error.code, -32001);
    // The app's session is not /mcp's, even for its owner (and /mcp leaves its records alone).
    const mcpToken = (await obtainTokens(server.url, { scope: 'mcp', identity: 'alice' })).accessToken;
    const atMcp = await post(`${server.url}/mcp`, LIST_TOOLS, mcpToken, session);
    await atMcp.body?.cancel();
    assert.equal(atMcp.status, 404);
    // Nor another app's.
    const otherToken = (await obtainTokens(server.url, { scope: 'mcp', resource: `${server.url}/basic-react/mcp`, identity: 'alice' })).accessToken;
    const atOther = await post(`${server.url}/basic-react/mcp`, LIST_TOOLS, otherToken, session);
    await atOther.body?.cancel();
    assert.equal(atOther.status, 404);
    // Its owner still has it, and its streams are resumable: the answer's priming event id replays it.
    const again = await post(url, LIST_TOOLS, alice, session);
    assert.equal(again.status, 200);
    const text = await again.text();
    const primingId = /^id: (\S+)$/m.exec(text)?.[1];
    assert.ok(primingId, text);
    const replay = await fetch(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${alice}`, ...session, 'last-event-id': primingId } });
    assert.equal(replay.status, 200);
    const reader = replay.body!.getReader();
    let replayed = '';
    while (!replayed.includes('"get-time"')) {
      const { value, done } = await reader.read();
      if (done) break;
      replayed += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const replayedAnswer = JSON.parse(/^data: (\{.+\})$/m.exec(replayed)![1]!) as { id: number; result: { tools: Array<{ name: string }> } };
    assert.equal(replayedAnswer.id, 2);
    assert.ok(replayedAnswer.result.tools.some(t => t.name === 'get-time'));

    await transport.terminateSession();
    const ended = await post(url, LIST_TOOLS, alice, session);
    await ended.body?.cancel();
    assert.equal(ended.status, 404);
    await client.close();
  });

  it('a 2024-11-05 client signs in for /<slug>/sse and uses the app over /<slug>/sse + /<slug>/message', async () => {
    const sseUrl = new URL(`${server.url}/${APP}/sse`);
    const provider = new TestOAuthProvider('http://127.0.0.1:9/callback');
    const first = new SSEClientTransport(sseUrl, { authProvider: provider });
    await assert.rejects(new Client({ name: 'gallery-sse', version: '1.0.0' }).connect(first), UnauthorizedError);
    assert.equal(provider.discoveryState()?.resourceMetadataUrl, `${server.url}/.well-known/oauth-protected-resource/${APP}/sse`);
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    assert.equal(authorizationUrl.searchParams.get('resource'), sseUrl.href);
    await first.finishAuth((await approve(server.url, authorizationUrl)).searchParams);
    assert.ok(provider.tokens()?.access_token);

    const messages: string[] = [];
    const transport = new SSEClientTransport(sseUrl, { authProvider: provider });
    const client = new Client({ name: 'gallery-sse', version: '1.0.0' });
    await client.connect(transport);
    const originalSend = transport.send.bind(transport);
    transport.send = async message => {
      messages.push((transport as unknown as { _endpoint?: URL })._endpoint?.pathname ?? '');
      return originalSend(message);
    };
    assert.match(client.getServerVersion()!.name, /Basic MCP App Server/);
    assert.ok(!Number.isNaN(Date.parse(await getTime(client))));
    assert.ok(messages.length > 0 && messages.every(p => p === `/${APP}/message`), messages.join(', '));
    await client.close();
    // Without a token, /<slug>/message is refused with its own challenge.
    const anonymous = await post(`${server.url}/${APP}/message?sessionId=00000000-0000-4000-8000-000000000000`, LIST_TOOLS);
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', new RegExp(`oauth-protected-resource/${APP}/sse"`));
  });

  it('an unknown slug is a JSON-RPC error with HTTP 404 on every path, token or not', async () => {
    const requests: Array<[string, string]> = [
      ['POST', '/no-such-app/mcp'],
      ['GET', '/no-such-app/mcp'],
      ['DELETE', '/no-such-app/mcp'],
      ['GET', '/no-such-app/sse'],
      ['POST', '/no-such-app/message?sessionId=x'],
      ['POST', '/mcp/mcp'],
      ['POST', '/.well-known/mcp']
    ];
    for (const [method, path] of requests) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        ...(method === 'POST' ? { body: JSON.stringify(INITIALIZE) } : {})
      });
      assert.equal(res.status, 404, `${method} ${path}`);
      const body = (await res.json()) as { jsonrpc: string; error: { code: number; message: string }; id: null };
      assert.equal(body.jsonrpc, '2.0');
      assert.equal(typeof body.error.code, 'number');
      assert.match(body.error.message, /unknown example app/);
    }
  });

  it('the landing page lists every app with its URL and a copy button', async () => {
    const res = await fetch(`${server.url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    const page = await res.text();
    for (const app of GALLERY_APPS) {
      assert.ok(page.includes(`data-copy="${server.url}/${app.slug}/mcp"`), app.slug);
    }
    // The copy script runs by nonce; nothing else may.
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.ok(page.includes(`<script nonce="${nonce}">`));
    assert.match(csp, /default-src 'none'/);
  });
});

describe('gallery with EXAMPLE_APPS_PUBLIC=true', () => {
  let server: RunningServer;
  before(async () => {
    server = await start({ EXAMPLE_APPS_PUBLIC: 'true' });
  });
  after(async () => {
    await server?.close();
  });

  for (const era of ERAS) {
    it(`serves ${APP} without a token (${era.label})`, async () => {
      const client = new Client({ name: 'gallery-test', version: '1.0.0' }, { versionNegotiation: era.versionNegotiation });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/${APP}/mcp`)));
      assert.equal(client.getNegotiatedProtocolVersion(), era.label);
      assert.ok(!Number.isNaN(Date.parse(await getTime(client))));
      await client.close();
    });
  }

  it('answers initialize with a session in every 2025-era revision /mcp negotiates', async () => {
    for (const version of SUPPORTED_PROTOCOL_VERSIONS.filter(v => v !== '2026-07-28')) {
      const res = await post(`${server.url}/${APP}/mcp`, { ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: version } });
      assert.equal(res.status, 200, version);
      assert.match(res.headers.get('mcp-session-id') ?? '', UUID, version);
      const body = (await answerOf(res)) as { result: { protocolVersion: string; serverInfo: { name: string } } };
      assert.equal(body.result.protocolVersion, version);
      assert.match(body.result.serverInfo.name, /Basic MCP App Server/);
    }
  });

  it('a 2025-11-25 session and a legacy SSE connection, without a token, counted in /metrics', async () => {
    const gauges = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      return [value('gallery_active_sessions'), value('gallery_active_sse_sessions')];
    };
    const before = await gauges();
    assert.ok(before.every(Number.isFinite), String(before));
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/${APP}/mcp`));
    const client = new Client({ name: 'gallery-test', version: '1.0.0' }, { versionNegotiation: { mode: 'legacy' } });
    await client.connect(transport);
    assert.match(transport.sessionId ?? '', UUID);
    assert.ok(!Number.isNaN(Date.parse(await getTime(client))));

    const sse = new Client({ name: 'gallery-sse', version: '1.0.0' });
    await sse.connect(new SSEClientTransport(new URL(`${server.url}/${APP}/sse`)));
    assert.ok(!Number.isNaN(Date.parse(await getTime(sse))));
    assert.deepEqual(await gauges(), [before[0]! + 1, before[1]! + 1]);

    await transport.terminateSession();
    await client.close();
    await sse.close();
  });

  it('answers other methods with 405, Allow and a JSON-RPC error (HEAD never opens a stream)', async () => {
    const cases: Array<[string, string, string]> = [
      ['HEAD', `/${APP}/mcp`, 'GET, POST, DELETE, OPTIONS'],
      ['PUT', `/${APP}/mcp`, 'GET, POST, DELETE, OPTIONS'],
      ['HEAD', `/${APP}/sse`, 'GET, OPTIONS'],
      ['POST', `/${APP}/sse`, 'GET, OPTIONS'],
      ['GET', `/${APP}/message`, 'POST, OPTIONS']
    ];
    for (const [method, path, allow] of cases) {
      const res = await fetch(`${server.url}${path}`, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
      if (method === 'HEAD') continue;
      assert.equal(((await res.json()) as { jsonrpc: string }).jsonrpc, '2.0');
    }
  });

  it('system-monitor reports a simulated machine, never this one', async () => {
    const client = new Client({ name: 'gallery-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/system-monitor/mcp`)));
    const info = (await client.callTool({ name: 'get-system-info', arguments: {} })).structuredContent as { hostname: string; cpu: { model: string } };
    assert.equal(info.hostname, 'simulated-host');
    assert.notEqual(info.hostname, hostname());
    const stats = (await client.callTool({ name: 'poll-system-stats', arguments: {} })).structuredContent as { cpu: { cores: unknown[] } };
    assert.equal(stats.cpu.cores.length, 4);
    await client.close();
  });

  it('pdf opens only https://arxiv.org/ documents (no local files, no other hosts)', async () => {
    const client = new Client({ name: 'gallery-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/pdf/mcp`)));
    for (const url of ['file:///etc/passwd', 'https://127.0.0.1/x.pdf', 'http://arxiv.org/pdf/1706.03762']) {
      const r = await client.callTool({ name: 'read_pdf_bytes', arguments: { url, offset: 0, byteCount: 10 } });
      assert.equal(r.isError, true, url);
      assert.match((r.content as Array<{ text: string }>)[0]!.text, /only opens PDFs from https:\/\/arxiv\.org/);
    }
    await client.close();
  });
});

describe('gallery with EXAMPLE_APPS_SYSTEM_MONITOR_REAL=true', () => {
  it('system-monitor reports this machine', async () => {
    const server = await start({ EXAMPLE_APPS_PUBLIC: 'true', EXAMPLE_APPS_SYSTEM_MONITOR_REAL: 'true' });
    try {
      const client = new Client({ name: 'gallery-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/system-monitor/mcp`)));
      const info = (await client.callTool({ name: 'get-system-info', arguments: {} })).structuredContent as { hostname: string };
      assert.equal(info.hostname, hostname());
      await client.close();
    } finally {
      await server.close();
    }
  });
});

describe('an authorization server on its own (AUTH_MODE=auth_server) knows the gallery resources', () => {
  const MCP = 'http://mcp.example.test/mcp';
  it('issues tokens for /<slug>/mcp and /<slug>/sse beside MCP_RESOURCE_URL, never for an unknown slug; none when the apps are public', async () => {
    const as = await start({ AUTH_MODE: 'auth_server', MCP_RESOURCE_URL: MCP });
    try {
      for (const resource of ['http://mcp.example.test/basic-react/mcp', 'http://mcp.example.test/basic-react/sse', `http://mcp.example.test/${APP}/mcp`]) {
        const tokens = await obtainTokens(as.url, { scope: 'mcp', resource });
        assert.ok(tokens.accessToken, resource);
      }
      await assert.rejects(obtainTokens(as.url, { scope: 'mcp', resource: 'http://mcp.example.test/no-such-app/mcp' }));
    } finally {
      await as.close();
    }
    const publicAs = await start({ AUTH_MODE: 'auth_server', MCP_RESOURCE_URL: MCP, EXAMPLE_APPS_PUBLIC: 'true' });
    try {
      await assert.rejects(obtainTokens(publicAs.url, { scope: 'mcp', resource: 'http://mcp.example.test/basic-react/mcp' }));
      assert.ok((await obtainTokens(publicAs.url, { scope: 'mcp', resource: MCP })).accessToken);
    } finally {
      await publicAs.close();
    }
  });
});

describe('external mode: the gallery behind an authorization server of its own (AUTH_MODE=auth_server)', () => {
  let as: RunningServer;
  let rs: RunningServer;
  before(async () => {
    const creds = { INTROSPECTION_CLIENT_ID: 'rs-client', INTROSPECTION_CLIENT_SECRET: randomBytes(32).toString('base64url') };
    const port = await freePort();
    const rsUrl = `http://127.0.0.1:${port}`;
    as = await start({ AUTH_MODE: 'auth_server', MCP_RESOURCE_URL: `${rsUrl}/mcp`, ...creds });
    rs = await start({ AUTH_MODE: 'external', AUTH_SERVER_URL: as.url, PORT: String(port), BASE_URI: rsUrl, TOKEN_VALIDATION: 'introspection', ...creds });
  });
  after(async () => {
    await rs?.close();
    await as?.close();
  });

  it('the SDK client signs in at that AS for the app (2025-11-25 session and legacy SSE); a token for /mcp is refused', async () => {
    const url = new URL(`${rs.url}/${APP}/mcp`);
    const provider = new TestOAuthProvider('http://127.0.0.1:9/callback');
    const first = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await assert.rejects(new Client({ name: 'gallery-external', version: '1.0.0' }).connect(first), UnauthorizedError);
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    assert.equal(`${authorizationUrl.origin}${authorizationUrl.pathname}`, `${as.url}/authorize`);
    assert.equal(authorizationUrl.searchParams.get('resource'), url.href);
    await first.finishAuth((await approve(as.url, authorizationUrl)).searchParams);

    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
    const client = new Client({ name: 'gallery-external', version: '1.0.0' }, { versionNegotiation: { mode: 'legacy' } });
    await client.connect(transport);
    assert.match(transport.sessionId ?? '', UUID);
    assert.ok(!Number.isNaN(Date.parse(await getTime(client))));
    await transport.terminateSession();
    await client.close();
    // A token for the app's URL works on its legacy SSE URL too (one resource, two transports, as /mcp and /sse).
    const sse = new Client({ name: 'gallery-external-sse', version: '1.0.0' });
    await sse.connect(new SSEClientTransport(new URL(`${rs.url}/${APP}/sse`), { requestInit: { headers: { authorization: `Bearer ${provider.tokens()!.access_token}` } } }));
    assert.ok(!Number.isNaN(Date.parse(await getTime(sse))));
    await sse.close();

    const mcpToken = (await obtainTokens(as.url, { scope: 'mcp', resource: `${rs.url}/mcp` })).accessToken;
    const refused = await post(url.href, INITIALIZE, mcpToken);
    await refused.body?.cancel();
    assert.equal(refused.status, 401);
  });
});
