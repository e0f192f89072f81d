/**
 * The 2026-07-28 requests of `/mcp` on Node's request and response: the
 * SDK's web-standard handler (`createMcpHandler`) gets a `Request` carrying
 * the method, URL, headers and an abort signal, and the body already parsed
 * (`parsedBody`), and its `Response` is written back to Node's response.
 *
 * Not the SDK's `toNodeHandler` (@modelcontextprotocol/node): that adapter
 * serialises the parsed body again (`JSON.stringify`, a `TextEncoder` pass
 * for `content-length`) into a `Request` body, a web `ReadableStream` that
 * nothing reads when `parsedBody` is given (the handler serves from
 * `parsedBody`, as its documentation says). In a CPU profile of the echo
 * that stream and the serialising were ~20 µs of a ~380 µs request
 * (docs/performance.md, "Issue 15"). Here the `Request` has no body, and no
 * `content-length`, `content-encoding` or `transfer-encoding` header that
 * would describe one; every other header is the client's.
 *
 * What is kept from the SDK adapter, by the same rules: the signal aborts
 * when the client goes away before the answer is complete (`close` on the
 * response), so the handler cancels what it runs for it; `req.auth` is
 * handed over as `authInfo`; a handler that throws is reported to `onerror`
 * and answered 500 with a JSON-RPC internal error echoing the request's id;
 * a streamed answer (SSE) is written chunk by chunk, waiting for `drain`
 * under back-pressure, and stops (cancelling the stream) once the client is
 * gone. Only the JSON body parser in front of `/mcp` (../../http/json-body.ts)
 * reads the request bytes, and it enforces `MAX_BODY_BYTES`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server';

/** Headers that describe the request's bytes: the web request built here carries none. */
const BODY_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding']);

export interface WebHandlerOptions {
  /** A handler that threw (the request is answered 500). */
  onerror: (error: Error) => void;
}

export type NodeMcpHandler = (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, parsedBody: unknown) => Promise<void>;

/** The JSON-RPC id an error answer may echo: a single request's string or number id. */
function echoableId(body: unknown): string | number | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { method, id } = body as { method?: unknown; id?: unknown };
  return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number') ? id : null;
}

/**
 * The request's headers as web `Headers` (a repeated header appended once
 * per value, as fetch joins them), but for HTTP/2 pseudo-headers and the
 * names in `omit`. Also the headers the legacy `/message` hands its handlers
 * (./legacy-sse.ts).
 */
export function webHeaders(req: IncomingMessage, omit?: ReadonlySet<string>): Headers {
  const headers = new Headers();
  const raw = req.headers;
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined || name.charCodeAt(0) === 58 /* ':' (HTTP/2 pseudo-headers) */ || omit?.has(name)) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, value);
  }
  return headers;
}

/** A body-less web `Request` with the client's method, URL and headers. */
function webRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const host = req.headers.host ?? 'localhost';
  return new Request(`http://${host}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers: webHeaders(req, BODY_HEADERS), signal });
}

export function nodeHandlerFor(handler: McpHttpHandler, options: WebHandlerOptions): NodeMcpHandler {
  return async (req, res, parsedBody) => {
    let complete = false;
    const abort = new AbortController();
    res.on('close', () => {
      if (!complete) abort.abort();
    });
    if (res.destroyed) abort.abort();

    let response: Response;
    try {
      response = await handler.fetch(webRequest(req, abort.signal), { ...(req.auth !== undefined && { authInfo: req.auth }), parsedBody });
    } catch (err) {
      try {
        options.onerror(err instanceof Error ? err : new Error(String(err)));
      } catch {
        // reporting must not change the answer
      }
      complete = true;
      if (!res.headersSent) {
        const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: echoableId(parsedBody) });
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(body);
      } else res.end();
      return;
    }

    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    res.writeHead(response.status, headers);
    if (response.body === null) {
      complete = true;
      res.end();
      return;
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (abort.signal.aborted) {
          await reader.cancel().catch(() => undefined);
          break;
        }
        if (!res.write(value)) await drained(res, abort.signal);
      }
    } catch {
      // the stream failed or the client went away: end what was written
    }
    complete = true;
    res.end();
  };
}

/** Resolves on `drain`, or once the client is gone. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise(resolve => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
