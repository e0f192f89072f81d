/**
 * Forwarding a request for a 2025-era session to the instance that holds it
 * (docs/architecture.md "Several instances").
 *
 * A session's transport, SSE streams and pending server-to-client requests
 * live in the memory of one process. When a load balancer sends a request
 * for it to another instance, that instance looks up
 * `session:{id}:instance` (./sessions.ts), checks the caller owns the session,
 * and streams the HTTP request to the holder's `INSTANCE_URL` and the answer
 * back, byte for byte and unbuffered (SSE included), here.
 *
 * - The forwarded request is the client's own, with its `Authorization`
 *   header: the holder authenticates it again and re-checks ownership, so
 *   forwarding grants nothing. The token travels only in that header, on the
 *   internal hop; it is never logged or published.
 * - `X-MCP-Instance-Secret` (the shared `INSTANCE_SECRET`) marks a request as
 *   forwarded by a peer. A forwarded request is never forwarded again (no
 *   loops); without a valid secret the header is ignored.
 * - Host and Origin are passed unchanged, so the holder's DNS-rebinding
 *   checks see what the client sent (every instance shares `BASE_URI`).
 * - A holder that cannot be connected to (refused, unresolvable, no TCP
 *   connection within `connectTimeoutMs`) is gone, and so is the session:
 *   the caller deletes its records and answers 404, and the client
 *   re-initializes (MCP Streamable HTTP "Session Management").
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';

import type { Request, Response } from 'express';

import type { Logger } from '../../logger.js';

export const FORWARD_SECRET_HEADER = 'x-mcp-instance-secret';

/** RFC 9110 §7.6.1 connection-specific fields, plus what we recompute. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  FORWARD_SECRET_HEADER
]);

export type ForwardOutcome = 'forwarded' | 'unreachable';

export interface ForwarderOptions {
  /** `INSTANCE_SECRET`; undefined disables forwarding. */
  secret?: string;
  logger: Logger;
  /** Longest wait for a TCP connection to the holder (default 2000 ms). */
  connectTimeoutMs?: number;
}

export interface Forwarder {
  readonly enabled: boolean;
  /** True when the request carries a valid peer secret, i.e. another instance forwarded it. */
  isForwarded(req: Request): boolean;
  /**
   * Streams `req` to `targetBase` + the same path and query, and the answer
   * back into `res`. `body` is the parsed JSON body (re-serialized), if any.
   * Resolves 'unreachable' (nothing written to `res`) when no connection
   * could be made, otherwise 'forwarded' once the exchange ends.
   */
  forward(req: Request, res: Response, targetBase: string, body?: unknown): Promise<ForwardOutcome>;
  close(): void;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNTIMEOUT']);

export function createForwarder(options: ForwarderOptions): Forwarder {
  const { secret, logger } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  const expected = secret ? digest(secret) : undefined;
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  function isForwarded(req: Request): boolean {
    const presented = req.headers[FORWARD_SECRET_HEADER];
    if (presented === undefined) return false;
    if (!expected || typeof presented !== 'string' || !timingSafeEqual(digest(presented), expected)) {
      (req.log ?? logger).warn('request carried an invalid instance secret; treated as a client request');
      return false;
    }
    return true;
  }

  function requestHeaders(req: Request, payload: Buffer | undefined): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      out[name] = value;
    }
    if (payload) out['content-length'] = String(payload.length);
    out[FORWARD_SECRET_HEADER] = secret!;
    return out;
  }

  function attempt(req: Request, res: Response, target: URL, payload: Buffer | undefined, retried: boolean): Promise<ForwardOutcome> {
    return new Promise(resolve => {
      const client = target.protocol === 'https:' ? https : http;
      const upstream = client.request(target, {
        method: req.method,
        headers: requestHeaders(req, payload),
        agent: target.protocol === 'https:' ? agents.https : agents.http
      });
      let responded = false;
      let completed = false;
      let connectTimer: NodeJS.Timeout | undefined;

      upstream.on('socket', socket => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ECONNTIMEOUT' })), connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });

      upstream.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        if (responded) return; // the response side handles mid-stream failures
        // A kept-alive socket the holder had just closed: retry once on a fresh connection.
        if (upstream.reusedSocket && !retried && err.code === 'ECONNRESET') {
          resolve(attempt(req, res, target, payload, true));
          return;
        }
        if (UNREACHABLE.has(err.code ?? '') || (err.code === 'ECONNRESET' && !res.headersSent)) {
          (req.log ?? logger).warn({ holder: target.origin, errno: err.code }, 'instance holding the session is unreachable');
          resolve('unreachable');
          return;
        }
        (req.log ?? logger).error({ err, holder: target.origin }, 'forwarding to the instance holding the session failed');
        if (!res.headersSent) {
          res.status(502).setHeader('Cache-Control', 'no-store');
          res.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad gateway: the instance holding this session did not answer' }, id: null });
        } else res.end();
        resolve('forwarded');
      });

      upstream.on('response', (answer: IncomingMessage) => {
        responded = true;
        clearTimeout(connectTimer);
        const headers: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value === undefined || HOP_BY_HOP.has(name) || name === 'x-request-id') continue;
          headers[name] = value;
        }
        if (answer.headers['content-length'] !== undefined && !answer.headers['transfer-encoding']) headers['content-length'] = answer.headers['content-length'];
        res.writeHead(answer.statusCode ?? 502, headers);
        res.flushHeaders();
        answer.pipe(res);
        const finish = () => resolve('forwarded');
        answer.once('end', () => {
          completed = true;
          finish();
        });
        answer.once('error', () => {
          res.end();
          finish();
        });
        answer.once('aborted', () => {
          res.end();
          finish();
        });
      });

      // The client went away (closed its SSE stream, cancelled): stop the upstream exchange too.
      res.once('close', () => {
        if (!completed && !upstream.destroyed) upstream.destroy();
        clearTimeout(connectTimer);
        if (!responded) resolve('forwarded');
      });

      if (payload) upstream.end(payload);
      else upstream.end();
    });
  }

  return {
    enabled: secret !== undefined,
    isForwarded,
    forward(req, res, targetBase, body) {
      if (!secret) return Promise.resolve('unreachable');
      const target = new URL(`${targetBase.replace(/\/+$/, '')}${req.originalUrl}`);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      return attempt(req, res, target, payload, false);
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    }
  };
}
