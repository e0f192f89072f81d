/**
 * A small header-injecting reverse proxy (node:http only).
 *
 * The conformance suite cannot do OAuth, so it talks to this proxy, which
 * forwards every request to the real server and adds
 * `Authorization: Bearer <token>` when the request carries none. Everything
 * else passes through untouched:
 *
 * - every request header, in its original spelling and order, Host and Origin
 *   exactly as the suite sent them (the DNS-rebinding scenario depends on it);
 * - bodies stream both ways without buffering (SSE responses reach the suite
 *   event by event; a long POST body is piped as it arrives);
 * - when the suite closes its side (2026-era cancellation closes the SSE
 *   response stream), the upstream request is destroyed too, so the server
 *   sees the same disconnect.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyOptions {
  /** Where to forward: scheme, host and port (the path of each request is kept). May be set later with `setTarget`. */
  target?: string;
  /** Returns the bearer token to inject, or undefined to inject nothing. Called per request (tokens may be refreshed). */
  token?: () => string | undefined;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Called for each proxied request (method, path, upstream status or error) — for debugging. */
  onRequest?: (entry: { method: string; path: string; status?: number; error?: string; injected: boolean }) => void;
}

export interface RunningProxy {
  /** e.g. http://localhost:41234 (always `localhost`, which the suite's DNS-rebinding scenario treats as local). */
  readonly origin: string;
  readonly port: number;
  /** Number of requests that had a token injected / passed through with their own Authorization. */
  readonly stats: { requests: number; injected: number; upstreamErrors: number };
  /** Points the proxy at its upstream (lets a caller bind the proxy first and hand its port to the server's allowed hosts). */
  setTarget(target: string): void;
  close(): Promise<void>;
}

/** Rebuild the raw header list, adding Authorization only when absent. Keeps duplicates, order and case. */
export function forwardHeaders(rawHeaders: readonly string[], token: string | undefined): { headers: string[]; injected: boolean } {
  const headers = [...rawHeaders];
  let hasAuth = false;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'authorization') hasAuth = true;
  }
  if (!hasAuth && token) {
    headers.push('Authorization', `Bearer ${token}`);
    return { headers, injected: true };
  }
  return { headers, injected: false };
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  let target: URL | undefined;
  const setTarget = (t: string) => {
    const url = new URL(t);
    if (url.protocol !== 'http:') throw new Error(`proxy target must be http:// (got ${url.protocol})`);
    target = url;
  };
  if (options.target) setTarget(options.target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const stats = { requests: 0, injected: 0, upstreamErrors: 0 };

  const server = http.createServer((req, res) => {
    stats.requests++;
    const { headers, injected } = forwardHeaders(req.rawHeaders, options.token?.());
    if (injected) stats.injected++;
    const path = req.url ?? '/';
    if (!target) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'proxy_not_ready' }));
      return;
    }
    const to = target;

    const upstream = http.request({
      agent,
      host: to.hostname,
      port: to.port || 80,
      method: req.method,
      path,
      // An array of raw headers is sent as given (Host included: the server sees the suite's Host, not ours).
      headers: headers as unknown as http.OutgoingHttpHeaders,
      // Never let Node add a Host of its own.
      setHost: false
    });

    upstream.on('response', up => {
      options.onRequest?.({ method: req.method ?? '', path, status: up.statusCode, injected });
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
      // Send the status line and headers now: an SSE stream may not write its first event for a while.
      res.flushHeaders();
      up.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) {
          up.pause();
          res.once('drain', () => up.resume());
        }
      });
      up.on('end', () => res.end());
      up.on('error', () => res.destroy());
      up.on('aborted', () => res.destroy());
    });

    upstream.on('error', err => {
      stats.upstreamErrors++;
      options.onRequest?.({ method: req.method ?? '', path, error: err.message, injected });
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'bad_gateway', error_description: `proxy could not reach ${to.origin}: ${err.message}` }));
      } else {
        res.destroy();
      }
    });

    // Request body: stream through as it arrives.
    req.on('data', (chunk: Buffer) => {
      if (!upstream.write(chunk)) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => upstream.end());

    // The client went away before the response finished (e.g. closed an SSE stream): drop the upstream side too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('aborted', () => upstream.destroy());
  });
  server.keepAliveTimeout = 5_000;
  // Long SSE streams: no request or header timeout on the proxy itself.
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    origin: `http://localhost:${port}`,
    port,
    stats,
    setTarget,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      })
  };
}
