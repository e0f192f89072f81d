/**
 * The stdio transport: the whole catalogue (tools, resources, prompts, the
 * MCP Apps page, skills) for a desktop client that starts this process and
 * speaks MCP on its stdin/stdout (`node dist/index.js --stdio`).
 *
 * - The catalogue as over HTTP: the extensions (skills, tasks) and the client
 *   test bench included.
 * - Both eras on one connection kind: the SDK's `serveStdio` lets the
 *   client's opening decide (an `initialize` pins a 2025-era instance, a
 *   2026-07-28 request carrying the `_meta` envelope pins a modern one).
 * - No OAuth: whoever can start the process already is the local user, so
 *   the local user is the identity (`LOCAL_USER_SUBJECT`), with every scope.
 *   The SDK delivers stdio messages without `authInfo`; `asLocalUser` adds it
 *   to each inbound message, so features read the caller from
 *   `ctx.http.authInfo` exactly as they do over HTTP.
 * - stdout carries protocol messages only: the caller gives a logger that
 *   writes to stderr (src/index.ts), and nothing here prints.
 *
 * What stdio does not have: the periodic demo notifications of HTTP
 * sessions (../mcp/activity.ts drives HTTP sessions and listen streams).
 */
import { userInfo } from 'node:os';

import type { AuthInfo, McpServer, Transport } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { ClientTestingServices, DEFAULT_LIMITS } from './client-testing/index.js';
import { McpEventBus, notifierFor } from './events.js';
import type { ReferenceSkills } from './extensions/skills/index.js';
import { TaskRuntime, taskLimitsFrom } from './extensions/tasks/index.js';
import { createStateCodec } from './request-state.js';
import { buildMcpServer, type FeatureServices, type LiveSession } from './server.js';
import { TOOL_REQUIRED_SCOPES } from './features/scopes.js';

/** The client id `whoami` reports for a stdio caller. */
export const STDIO_CLIENT_ID = 'stdio';

/** `local:<login name>` (the OS account that started the process). */
export function localUserSubject(): string {
  let name = process.env.USER ?? 'user';
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry (some containers): keep the fallback.
  }
  return `local:${name}`;
}

/** The local user as the SDK's AuthInfo: every scope the catalogue knows, no token, no expiry. */
export function localUserAuthInfo(subject = localUserSubject()): AuthInfo {
  const scopes = [...new Set(['mcp', ...Object.values(TOOL_REQUIRED_SCOPES).flat()])];
  return { token: '', clientId: STDIO_CLIENT_ID, scopes, extra: { subject, transport: 'stdio' } };
}

/**
 * `transport` as seen by a server: every inbound message arrives with
 * `authInfo` (the SDK turns it into `ctx.http.authInfo`); everything else
 * passes through.
 */
export function asLocalUser(transport: Transport, authInfo: AuthInfo): Transport {
  const wrapped: Transport = {
    start: () => transport.start(),
    send: (message, options) => transport.send(message, options),
    close: () => transport.close(),
    setProtocolVersion: version => transport.setProtocolVersion?.(version),
    get sessionId() {
      return transport.sessionId;
    },
    set onclose(handler) {
      transport.onclose = handler;
    },
    get onclose() {
      return transport.onclose;
    },
    set onerror(handler) {
      transport.onerror = handler;
    },
    get onerror() {
      return transport.onerror;
    },
    set onmessage(handler) {
      transport.onmessage = handler === undefined ? undefined : (message, extra) => handler(message, { ...extra, authInfo });
    },
    get onmessage() {
      return transport.onmessage;
    }
  };
  return wrapped;
}

export interface StdioServerOptions {
  config: Config;
  store: Store;
  /** Must not write to stdout. */
  logger: Logger;
  skills?: ReferenceSkills;
  /** Default: this process's stdin/stdout. */
  transport?: Transport;
}

export interface RunningStdioServer {
  /** Resolves when the client closed the connection (stdin ended) or `close()` ran. */
  closed: Promise<void>;
  close(): Promise<void>;
}

export function serveMcpOverStdio(options: StdioServerOptions): RunningStdioServer {
  const { config, store, logger } = options;
  const bus = new McpEventBus(store, logger);
  void bus.start();
  const startedAt = Date.now();
  const tasks = new TaskRuntime(store, logger, taskLimitsFrom(config.mcp?.tasks));
  void tasks.start().catch(err => logger.warn({ err }, 'tasks: cannot join the cross-instance channel'));
  // stdio serves one session: whatever id a request carries, it is this one.
  let live: LiveSession | undefined;
  const services: FeatureServices = {
    store,
    logger,
    baseUri: config.baseUri,
    stateCodec: createStateCodec(config.requestStateKey, logger),
    notify: notifierFor(bus),
    skills: options.skills,
    tasks,
    stats: () => ({ startedAt, streamableSessions: 0, sseSessions: 0, listenStreams: 0 }),
    sessionOf: () => live,
    // The client test bench's tools too (its HTTP-level faults have no HTTP to act on here).
    clientTesting: new ClientTestingServices(store, logger, config.mcp?.clientTesting ?? DEFAULT_LIMITS, bus)
  };
  const authInfo = localUserAuthInfo();

  const factory = ({ era }: { era: 'legacy' | 'modern' }): McpServer => {
    const session = era === 'legacy' ? { subscriptions: new Set<string>() } : undefined;
    const server = buildMcpServer(services, { era, authInfo, session });
    if (session) live = { server, state: session };
    const connect = server.connect.bind(server);
    server.connect = transport => connect(asLocalUser(transport, authInfo));
    logger.info({ era, subject: subjectOfLocal(authInfo) }, 'stdio: client connected');
    return server;
  };

  const wire = options.transport ?? new StdioServerTransport();
  let ended!: () => void;
  const closed = new Promise<void>(resolve => (ended = resolve));
  const previousOnClose = wire.onclose;
  const handle = serveStdio(factory, { transport: wire, onerror: err => logger.debug({ err }, 'stdio: message rejected or failed') });
  // serveStdio owns the wire's callbacks; chain ours after its own.
  const sdkOnClose = wire.onclose ?? previousOnClose;
  wire.onclose = () => {
    sdkOnClose?.();
    ended();
  };

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await handle.close().catch(err => logger.warn({ err }, 'stdio: error while closing'));
      await tasks.close().catch(() => undefined);
      await bus.close().catch(() => undefined);
      ended();
    })());
  return { closed, close };
}

function subjectOfLocal(authInfo: AuthInfo): string {
  return String(authInfo.extra?.['subject'] ?? '');
}
