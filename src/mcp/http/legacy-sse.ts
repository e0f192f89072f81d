/**
 * The deprecated HTTP+SSE transport of MCP 2024-11-05, still used by older
 * clients: `GET /sse` opens an event stream whose first event (`endpoint`)
 * names `/message?sessionId=…`; the client POSTs every JSON-RPC message there
 * (answered 202) and reads all responses and notifications from the stream.
 *
 * The SDK v2 server no longer ships this transport (its frozen v1 copy lives
 * in a separate deprecated package), so this is a small `Transport` of our
 * own. The same ownership rule as `/mcp` applies: a POST for a session
 * created by another subject is answered 404, like an unknown session. A
 * POST that reaches an instance other than the one holding the stream is
 * forwarded to it, exactly as for `/mcp` (./streamable.ts).
 */
import { randomUUID } from 'node:crypto';

import type { AuthInfo, JSONRPCMessage, MessageExtraInfo, Transport } from '@modelcontextprotocol/server';
import { parseJSONRPCMessage } from '@modelcontextprotocol/server';
import type { Request, RequestHandler, Response } from 'express';

import { JSONRPC_INVALID_REQUEST, JSONRPC_SESSION_NOT_FOUND, sendJsonRpcError } from '../../http/jsonrpc-error.js';
import type { Logger } from '../../logger.js';
import { subjectOf } from '../features/env.js';
import type { BuildContext } from '../server.js';
import { isStoreUnavailable } from '../../store/store.js';
import type { HttpFaultHook } from './fault-hook.js';
import type { Forwarder } from './forward.js';
import type { SessionRegistry } from './sessions.js';
import type { ConnectableServer } from './streamable.js';
import { admitSession, admitStream, type Quotas } from './admission.js';
import { createSessionRouter, storeUnavailable } from './streamable.js';
import { webHeaders } from './web-handler.js';

export class LegacySseServerTransport implements Transport {
  readonly sessionId: string;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  private closed = false;
  private keepAlive?: NodeJS.Timeout;

  constructor(
    private readonly res: Response,
    private readonly endpoint: string,
    private readonly keepAliveMs = 15_000
  ) {
    this.sessionId = randomUUID();
  }

  async start(): Promise<void> {
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no'
    });
    this.res.write(`event: endpoint\ndata: ${this.endpoint}?sessionId=${encodeURIComponent(this.sessionId)}\n\n`);
    if (this.keepAliveMs > 0) {
      this.keepAlive = setInterval(() => this.res.write(': keep-alive\n\n'), this.keepAliveMs);
      this.keepAlive.unref();
    }
    this.res.on('close', () => void this.close());
  }

  /** Hands a POSTed message to the connected server. */
  receive(message: JSONRPCMessage, extra: MessageExtraInfo): void {
    this.onmessage?.(message, extra);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.holders > 0) await this.held;
    if (this.closed) throw new Error('SSE stream is closed');
    this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  /** Set while `writeExclusive` owns the stream: messages wait, so no event is split. */
  private held: Promise<void> = Promise.resolve();
  private holders = 0;

  /**
   * Raw SSE text, written by `writer` while every other message waits (the
   * test bench's faults only: a slowly dripped event must not be interleaved).
   */
  async writeExclusive(writer: (write: (sse: string) => void) => Promise<void>): Promise<void> {
    this.holders++;
    const run = this.held.then(() => writer(sse => void (this.closed || this.res.write(sse))));
    this.held = run.catch(() => undefined);
    try {
      await run;
    } finally {
      this.holders--;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.res.end();
    this.onclose?.();
  }
}

export interface LegacySseOptions<S extends ConnectableServer> {
  /** Caller limits: a legacy /sse connection is a session and a stream (../caller-limits.ts). */
  quotas: Quotas;
  build: (ctx: BuildContext) => S;
  registry: SessionRegistry<S>;
  forwarder: Forwarder;
  logger: Logger;
  /** Path clients POST to (default `/message`; a gallery app's is `/<slug>/message`). */
  messagePath?: string;
  /** The client test bench's HTTP-level faults; may answer a POST (or write on its stream) itself. */
  faults?: HttpFaultHook;
}

type AuthedRequest = Request & { auth?: AuthInfo };

export function createLegacySseEndpoints<S extends ConnectableServer>(options: LegacySseOptions<S>): { open: RequestHandler; message: RequestHandler; close(): Promise<void> } {
  const { registry, logger } = options;
  const transports = new Map<string, LegacySseServerTransport>();
  const messagePath = options.messagePath ?? '/message';
  const route = createSessionRouter({ registry, forwarder: options.forwarder, logger });

  const open: RequestHandler = async (req, res) => {
    const authed = req as AuthedRequest;
    const owner = subjectOf(authed.auth) ?? '';
    const log = req.log ?? logger;
    const release = await admitSession(options.quotas, registry, authed, res, log);
    if (!release) return;
    if (!admitStream(options.quotas, authed, res, log)) return release();
    res.once('close', release);
    const transport = new LegacySseServerTransport(res, messagePath);
    try {
      await registry.claim(transport.sessionId, owner, 'sse');
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      log.warn({ err }, 'legacy SSE session refused: storage unavailable');
      return storeUnavailable(res);
    }
    const state = { subscriptions: new Set<string>() };
    const server = options.build({ era: 'legacy', authInfo: authed.auth, session: state });
    transports.set(transport.sessionId, transport);
    registry.add({ id: transport.sessionId, kind: 'sse', owner, server, state, close: () => transport.close() });
    transport.onclose = () => {
      transports.delete(transport.sessionId);
      registry.remove(transport.sessionId);
    };
    try {
      await server.connect(transport);
      logger.info({ sessionId: transport.sessionId }, 'legacy SSE session opened');
    } catch (err) {
      logger.error({ err }, 'legacy SSE session failed to start');
      await transport.close();
    }
  };

  const deliver = (req: AuthedRequest, res: Response) => async (id: string) => {
    const authed = req;
    const transport = transports.get(id);
    if (!transport) return sendJsonRpcError(res, 404, JSONRPC_SESSION_NOT_FOUND, 'Session not found');

    const raw = req.body as unknown;
    const items = Array.isArray(raw) ? raw : [raw];
    const messages: JSONRPCMessage[] = [];
    try {
      for (const item of items) messages.push(parseJSONRPCMessage(item));
    } catch {
      return sendJsonRpcError(res, 400, JSONRPC_INVALID_REQUEST, 'Invalid Request: not a JSON-RPC message');
    }
    if (messages.length === 0) return sendJsonRpcError(res, 400, JSONRPC_INVALID_REQUEST, 'Invalid Request: empty batch');
    if (options.faults?.wants(req) && (await options.faults.intercept(req, res, { transport: 'legacy-sse', stream: transport }))) return;
    res.status(202).type('text/plain').send('Accepted');
    // The POST's headers, as the SDK's own transports hand them to handlers (`ctx.http.req`).
    const request = new globalThis.Request(new URL(req.originalUrl ?? req.url, 'http://localhost'), { method: 'POST', headers: webHeaders(req) });
    for (const m of messages) transport.receive(m, { authInfo: authed.auth, request });
  };

  const message: RequestHandler = async (req, res) => {
    const sessionId = typeof req.query['sessionId'] === 'string' ? req.query['sessionId'] : undefined;
    try {
      await route(req as AuthedRequest, res, sessionId, 'sse', deliver(req as AuthedRequest, res), req.body);
    } catch (err) {
      if (isStoreUnavailable(err)) return storeUnavailable(res);
      (req.log ?? logger).error({ err }, 'legacy SSE message failed');
      sendJsonRpcError(res, 500, -32603, 'Internal error');
    }
  };

  return {
    open,
    message,
    async close() {
      await Promise.all([...transports.values()].map(t => t.close()));
    }
  };
}
