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
 * The steps before this handler (Host/Origin guard, CORS, JSON body,
 * authentication) are mounted in ../index.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server';
import { classifyInboundRequest, isInitializeRequest } from '@modelcontextprotocol/server';
import type { Request, RequestHandler, Response } from 'express';

import { JSONRPC_SERVER_ERROR, JSONRPC_SESSION_NOT_FOUND, sendJsonRpcError } from '../../http/jsonrpc-error.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/store.js';
import { subjectOf } from '../features/env.js';
import type { ListenRegistry } from '../events.js';
import type { BuildContext } from '../server.js';
import type { McpServer } from '@modelcontextprotocol/server';
import { createStoreEventStore } from './event-store.js';
import type { SessionRegistry } from './sessions.js';

export interface StreamableEndpointOptions {
  modern: McpHttpHandler;
  build: (ctx: BuildContext) => McpServer;
  registry: SessionRegistry;
  listens: ListenRegistry;
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

export function createStreamableEndpoint(options: StreamableEndpointOptions): StreamableEndpoint {
  const { registry, logger } = options;
  const transports = new Map<string, NodeStreamableHTTPServerTransport>();
  const modernNode = toNodeHandler(options.modern, {
    maxRequestBodySize: options.maxBodyBytes,
    onerror: err => logger.error({ err }, 'modern MCP handler failed')
  });

  const guard =
    (fn: (req: AuthedRequest, res: Response) => Promise<void>): RequestHandler =>
    async (req, res) => {
      try {
        await fn(req as AuthedRequest, res);
      } catch (err) {
        (req.log ?? logger).error({ err }, 'MCP request failed');
        if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal error');
        else res.end();
      }
    };

  /** 2026-07-28 request: stateless, per request. Tracks listen streams for the periodic updater. */
  async function serveModern(req: AuthedRequest, res: Response): Promise<void> {
    const body = req.body as { method?: unknown; params?: { notifications?: { resourceSubscriptions?: unknown } } } | undefined;
    if (body && !Array.isArray(body) && body.method === 'subscriptions/listen') {
      const wanted = body.params?.notifications?.resourceSubscriptions;
      const uris = Array.isArray(wanted) ? wanted.filter((u): u is string => typeof u === 'string').slice(0, 1000) : [];
      const done = options.listens.open(uris);
      res.once('close', done);
    }
    await modernNode(req, res, req.body);
  }

  async function createSession(req: AuthedRequest, res: Response): Promise<void> {
    const sessionId = randomUUID();
    const state = { subscriptions: new Set<string>() };
    const server = options.build({ era: 'legacy', authInfo: req.auth, session: state });
    const owner = subjectOfRequest(req);
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      eventStore: createStoreEventStore(options.store, sessionId, { ttlMs: options.eventTtlMs }),
      retryInterval: options.retryIntervalMs,
      maxRequestBodySize: options.maxBodyBytes,
      onsessioninitialized: id => {
        transports.set(id, transport);
        registry.add({ id, kind: 'streamable', owner, server, state, close: () => transport.close() });
        logger.info({ sessionId: id }, 'session created');
      }
    });
    transport.onclose = () => {
      transports.delete(sessionId);
      registry.remove(sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req as unknown as IncomingMessage & { auth?: AuthInfo }, res, req.body);
    if (!transports.has(sessionId)) {
      // initialize failed (e.g. bad params): nothing to keep.
      await server.close().catch(() => undefined);
    }
  }

  /** The session named by Mcp-Session-Id, if it exists here and belongs to the caller. */
  function sessionTransport(req: AuthedRequest): NodeStreamableHTTPServerTransport | undefined {
    const record = registry.lookup(header(req, 'mcp-session-id'), subjectOfRequest(req), 'streamable');
    return record ? transports.get(record.id) : undefined;
  }

  const post = guard(async (req, res) => {
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
      const transport = sessionTransport(req);
      if (!transport) return sessionNotFound(res);
      return transport.handleRequest(req as unknown as IncomingMessage & { auth?: AuthInfo }, res, req.body);
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
    const transport = sessionTransport(req);
    if (!transport) return sessionNotFound(res);
    await transport.handleRequest(req as unknown as IncomingMessage & { auth?: AuthInfo }, res);
  });

  return {
    post,
    get: sessionVerb,
    delete: sessionVerb,
    async close() {
      await Promise.all([...transports.values()].map(t => t.close().catch(() => undefined)));
      transports.clear();
    }
  };
}
