/**
 * `/mcp`: the Streamable HTTP endpoint for every protocol revision.
 *
 * Each request is classified by the SDK (`classifyInboundRequest`, the same
 * step `createMcpHandler` runs) and takes one of two paths:
 *
 * 1. 2026-07-28 (anything claiming the per-request `_meta` envelope, also
 *    malformed claims, which get the modern error answers): served
 *    statelessly by `createMcpHandler` — `server/discover`,
 *    `subscriptions/listen`, `input_required`, cache hints and the
 *    `Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` header checks all live there.
 * 2. 2025-03-26 … 2025-11-25 (no envelope claim): sessions on
 *    `NodeStreamableHTTPServerTransport` — `initialize` creates one, later
 *    POSTs, the GET stream and DELETE carry `Mcp-Session-Id`; streams are
 *    resumable through the store-backed event store.
 *
 * A request naming a session this instance does not hold is located through
 * the store (`session:{id}:owner` / `session:{id}:instance`, ./sessions.ts)
 * and, when the caller owns it and its holder is another live instance,
 * forwarded there (./forward.ts); a holder that is gone means the session
 * is gone: its records are deleted and the answer is 404, so the client
 * re-initializes. When the store cannot answer, the answer is 503 with a
 * JSON-RPC error body.
 *
 * The steps before this handler (Host/Origin guard, CORS, JSON body,
 * authentication) are mounted in ../index.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { AuthInfo, McpHttpHandler, Transport } from '@modelcontextprotocol/server';
import { classifyInboundRequest, isInitializeRequest, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import type { Request, RequestHandler, Response } from 'express';

import { JSONRPC_SERVER_ERROR, JSONRPC_SESSION_NOT_FOUND, sendJsonRpcError } from '../../http/jsonrpc-error.js';
import type { Logger } from '../../logger.js';
import { isStoreUnavailable, type Store } from '../../store/store.js';
import { subjectOf } from '../features/env.js';
import { listenCaller, type ListenRegistry } from '../events.js';
import type { BuildContext } from '../server.js';
import { admitSession, admitStream, type Quotas } from './admission.js';
import { createStoreEventStore, type SessionEventStore } from './event-store.js';
import type { HttpFaultHook } from './fault-hook.js';
import type { Forwarder } from './forward.js';
import type { SessionKind, SessionRegistry, SessionServer } from './sessions.js';
import { nodeHandlerFor } from './web-handler.js';

/** A session's MCP server: `/mcp`'s `McpServer`, or a gallery app's proxy `Server`. */
export interface ConnectableServer extends SessionServer {
  connect(transport: Transport): Promise<void>;
}

export interface StreamableEndpointOptions<S extends ConnectableServer> {
  /** Caller limits on sessions and streams (../caller-limits.ts). */
  quotas: Quotas;
  modern: McpHttpHandler;
  /** The client test bench's HTTP-level faults; may answer a POST itself. */
  faults?: HttpFaultHook;
  build: (ctx: BuildContext) => S;
  registry: SessionRegistry<S>;
  forwarder: Forwarder;
  /** Open `subscriptions/listen` streams, for `/mcp`'s periodic updater (absent: not tracked). */
  listens?: ListenRegistry;
  store: Store;
  logger: Logger;
  maxBodyBytes: number;
  /** SSE `retry` hint (ms) sent with the priming event of resumable streams. */
  retryIntervalMs: number;
  /** Event log lifetime for resumable streams. */
  eventTtlMs: number;
}

export interface StreamableEndpoint {
  post: RequestHandler;
  get: RequestHandler;
  delete: RequestHandler;
  close(): Promise<void>;
}

type AuthedRequest = Request & { auth?: AuthInfo };

const header = (req: Request, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const subjectOfRequest = (req: AuthedRequest) => subjectOf(req.auth) ?? '';

function sessionNotFound(res: Response): void {
  sendJsonRpcError(res, 404, JSONRPC_SESSION_NOT_FOUND, 'Session not found');
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A sufficient test for "the SDK's `classifyInboundRequest` does not say
 * legacy" that reads three properties instead of running four zod schemas:
 * a POSTed JSON object with a string `method` other than `initialize`
 * whose `params._meta` carries the envelope's protocol-version key. Such a
 * body is never a JSON-RPC response (both response schemas are strict and
 * have no `method`), and a request or notification claiming the envelope is
 * classified modern or rejected, never legacy; only `initialize` can be
 * legacy with a claim. So routing it straight to the modern handler (which
 * classifies it once, and answers the rejections) is what the full
 * classification would do, and the SDK's own classification no longer runs
 * twice per 2026-07-28 request (~30 µs of ~400 in a CPU profile: the
 * response schemas' failures build zod issues). Anything else takes the full
 * classification. test/mcp/era-routing.test.ts checks the implication on
 * generated bodies.
 */
export function claimsModernEnvelope(body: unknown): boolean {
  if (!isPlainObject(body) || typeof body.method !== 'string' || body.method === 'initialize') return false;
  const params = body.params;
  if (!isPlainObject(params)) return false;
  const meta = params._meta;
  return isPlainObject(meta) && PROTOCOL_VERSION_META_KEY in meta;
}

/** Seconds a client should wait before retrying after a storage outage answer. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/** 503 with a JSON-RPC body: the session store cannot answer now (never a hang, never a stack trace). */
export function storeUnavailable(res: Response): void {
  if (!res.headersSent) res.setHeader('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
  sendJsonRpcError(res, 503, JSONRPC_SERVER_ERROR, 'Service unavailable: session storage is unreachable; retry shortly');
}

export interface SessionRoutingOptions<S extends SessionServer> {
  registry: SessionRegistry<S>;
  forwarder: Forwarder;
  logger: Logger;
}

/**
 * Serves a request naming a 2025-era session: here when this instance holds
 * it, by forwarding when another instance does, 404 otherwise. Shared by
 * `/mcp` and the legacy `/message`.
 */
export function createSessionRouter<S extends SessionServer>(options: SessionRoutingOptions<S>) {
  const { registry, forwarder, logger } = options;
  let warnedDisabled = false;
  return async function route(
    req: AuthedRequest,
    res: Response,
    sessionId: string | undefined,
    kind: SessionKind,
    serveHere: (id: string) => Promise<void> | void,
    body?: unknown
  ): Promise<void> {
    const location = await registry.locate(sessionId, subjectOfRequest(req), kind);
    if (location.where === 'here') return serveHere(location.record.id);
    if (location.where === 'nowhere') return sessionNotFound(res);
    const log = req.log ?? logger;
    if (forwarder.isForwarded(req)) {
      // Another instance sent it here, and it is not here: never bounce it on.
      log.warn({ sessionId }, 'forwarded request for a session this instance does not hold');
      return sessionNotFound(res);
    }
    if (!forwarder.enabled) {
      if (!warnedDisabled) {
        warnedDisabled = true;
        log.warn({ sessionId }, 'a request named a session held by another instance, but INSTANCE_SECRET is not set, so it is not forwarded: answered 404 (the client re-initializes). Set the same INSTANCE_SECRET on every instance.');
      }
      return sessionNotFound(res);
    }
    log.debug({ sessionId, holder: location.instance }, 'forwarding a session request to the instance holding it');
    const outcome = await forwarder.forward(req, res, location.url, body);
    if (outcome === 'unreachable') {
      log.info({ sessionId, holder: location.instance }, 'the instance holding the session is gone; session records removed, answered 404');
      await registry.forget(sessionId!);
      sessionNotFound(res);
    }
  };
}

export function createStreamableEndpoint<S extends ConnectableServer>(options: StreamableEndpointOptions<S>): StreamableEndpoint {
  const { registry, logger } = options;
  const route = createSessionRouter({ registry, forwarder: options.forwarder, logger });
  /** The sessions held here: each one's transport and its event store (`onGet`). */
  const local = new Map<string, { transport: NodeStreamableHTTPServerTransport; eventStore: SessionEventStore }>();
  // The body is parsed and bounded in front of /mcp (../../http/json-body.ts): the handler gets it parsed.
  const modernNode = nodeHandlerFor(options.modern, { onerror: err => logger.error({ err }, 'modern MCP handler failed') });

  const guard =
    (fn: (req: AuthedRequest, res: Response) => Promise<void>): RequestHandler =>
    async (req, res) => {
      try {
        await fn(req as AuthedRequest, res);
      } catch (err) {
        if (isStoreUnavailable(err)) {
          (req.log ?? logger).warn({ err }, 'MCP request refused: storage unavailable');
          return storeUnavailable(res);
        }
        (req.log ?? logger).error({ err }, 'MCP request failed');
        if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal error');
        else res.end();
      }
    };

  /** 2026-07-28 request: stateless, per request. Tracks listen streams for the periodic updater. */
  async function serveModern(req: AuthedRequest, res: Response): Promise<void> {
    const body = req.body as { method?: unknown; params?: { notifications?: { resourceSubscriptions?: unknown } } } | undefined;
    if (options.listens && body && !Array.isArray(body) && body.method === 'subscriptions/listen') {
      const wanted = body.params?.notifications?.resourceSubscriptions;
      const uris = Array.isArray(wanted) ? wanted.filter((u): u is string => typeof u === 'string').slice(0, 1000) : [];
      if (!admitStream(options.quotas, req, res, req.log ?? logger)) return;
      const done = options.listens.open(uris);
      res.once('close', done);
      // The stream subscribes to the event bus as this caller (per-caller events, ../events.ts).
      return listenCaller.run(subjectOfRequest(req), () => modernNode(req, res, req.body));
    }
    if (options.faults?.wants(req) && (await options.faults.intercept(req, res, { transport: 'modern' }))) return;
    await modernNode(req, res, req.body);
  }

  async function createSession(req: AuthedRequest, res: Response): Promise<void> {
    const release = await admitSession(options.quotas, registry, req, res, req.log ?? logger);
    if (!release) return;
    try {
      await openSession(req, res, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  async function openSession(req: AuthedRequest, res: Response, release: () => void): Promise<void> {
    const sessionId = randomUUID();
    const state = { subscriptions: new Set<string>() };
    const server = options.build({ era: 'legacy', authInfo: req.auth, session: state });
    const owner = subjectOfRequest(req);
    // Records first: another instance must find the session as soon as the client knows its id.
    // Rejects with StoreUnavailableError (503) when the store is down.
    await registry.claim(sessionId, owner, 'streamable');
    // A finished request stream stays resumable for ten SSE retry intervals (at least 10 s).
    const completedTtlMs = Math.max(10_000, 10 * options.retryIntervalMs);
    const eventStore = createStoreEventStore(options.store, sessionId, { ttlMs: options.eventTtlMs, completedTtlMs, logger });
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      eventStore,
      retryInterval: options.retryIntervalMs,
      maxRequestBodySize: options.maxBodyBytes,
      onsessioninitialized: id => {
        local.set(id, { transport, eventStore });
        registry.add({ id, kind: 'streamable', owner, server, state, close: () => transport.close() });
        logger.info({ sessionId: id }, 'session created');
      }
    });
    transport.onclose = () => {
      release();
      local.delete(sessionId);
      registry.remove(sessionId);
      // The session is over: its stream logs can no longer be resumed.
      void eventStore.clear();
    };
    try {
      await server.connect(transport);
      await transport.handleRequest(req as unknown as IncomingMessage & { auth?: AuthInfo }, res, req.body);
    } finally {
      if (!local.has(sessionId)) {
        // initialize failed (e.g. bad params): nothing to keep.
        release();
        await server.close().catch(() => undefined);
        await registry.forget(sessionId);
      }
    }
  }

  /** Hands the request to the local transport of session `id`. */
  async function serveLocal(req: AuthedRequest, res: Response, id: string, body?: unknown): Promise<void> {
    const held = local.get(id);
    if (!held) return sessionNotFound(res);
    const { transport } = held;
    // Resuming needs the event log: answer 503 now rather than a 500 from the replay.
    if (req.method === 'GET' && header(req, 'last-event-id')) await options.store.ping();
    if (req.method === 'GET' && !admitStream(options.quotas, req, res, req.log ?? logger)) return;
    // The standalone stream is logged from its first GET on (./event-store.ts).
    if (req.method === 'GET') held.eventStore.onGet(header(req, 'last-event-id'));
    if (req.method === 'POST' && options.faults?.wants(req) && (await options.faults.intercept(req, res, { transport: 'session', expire: () => transport.close() }))) return;
    await transport.handleRequest(req as unknown as IncomingMessage & { auth?: AuthInfo }, res, body);
  }

  const post = guard(async (req, res) => {
    if (claimsModernEnvelope(req.body)) return serveModern(req, res);
    const inbound = classifyInboundRequest({
      httpMethod: 'POST',
      protocolVersionHeader: header(req, 'mcp-protocol-version'),
      mcpMethodHeader: header(req, 'mcp-method'),
      mcpNameHeader: header(req, 'mcp-name'),
      body: req.body
    });
    if (inbound.kind !== 'legacy') return serveModern(req, res);

    const sessionId = header(req, 'mcp-session-id');
    if (sessionId) {
      // Held here, as nearly every request of a session is: served without the routing step (no store, no async frames).
      if (registry.has(sessionId)) {
        const record = registry.lookup(sessionId, subjectOfRequest(req), 'streamable');
        return record ? serveLocal(req, res, record.id, req.body) : sessionNotFound(res);
      }
      return route(req, res, sessionId, 'streamable', id => serveLocal(req, res, id, req.body), req.body);
    }
    const body = req.body as unknown;
    if (isInitializeRequest(body) || (Array.isArray(body) && body.some(m => isInitializeRequest(m)))) return createSession(req, res);
    sendJsonRpcError(res, 400, JSONRPC_SERVER_ERROR, 'Bad Request: Mcp-Session-Id header is required');
  });

  // GET (the 2025 standalone SSE stream, resumable with Last-Event-ID) and
  // DELETE (session termination) exist only for sessions; 2026-07-28 has no
  // GET endpoint.
  const sessionVerb = guard(async (req, res) => {
    if (!header(req, 'mcp-session-id')) {
      res.setHeader('Allow', 'POST');
      sendJsonRpcError(res, 405, JSONRPC_SERVER_ERROR, 'Method not allowed without an Mcp-Session-Id');
      return;
    }
    await route(req, res, header(req, 'mcp-session-id'), 'streamable', id => serveLocal(req, res, id));
  });

  return {
    post,
    get: sessionVerb,
    delete: sessionVerb,
    async close() {
      await Promise.all([...local.values()].map(s => s.transport.close().catch(() => undefined)));
      local.clear();
    }
  };
}
