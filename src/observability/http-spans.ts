/**
 * One SERVER span per HTTP request (OpenTelemetry HTTP server conventions),
 * child of the caller's `traceparent` header when there is one; everything
 * the request does (OAuth steps, MCP requests) runs inside it.
 *
 * The span holds the method, the path without its query (a query can carry
 * a code or a state), the status and the route; never a header value.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

import type { Tracing } from './tracing.js';

/** Paths served here are static, so a matched path is its own route; anything unmatched is not named (cardinality). */
function routeOf(path: string, status: number): string | undefined {
  return status === 404 || status === 405 ? undefined : path;
}

/** Wraps the server's request listener; with tracing off, returns it unchanged. */
export function traceHttp(tracing: Tracing, inner: RequestListener): RequestListener {
  if (!tracing.enabled) return inner;
  return (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    const parent = tracing.extract(req.headers as Record<string, unknown>);
    const span = tracing.tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': path,
          'url.scheme': 'http',
          'network.protocol.name': 'http',
          'network.protocol.version': req.httpVersion,
          ...(req.socket.localPort !== undefined && { 'server.port': req.socket.localPort })
        }
      },
      parent
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const status = res.statusCode;
      span.setAttribute('http.response.status_code', status);
      const route = routeOf(path, status);
      if (route) {
        span.setAttribute('http.route', route);
        span.updateName(`${method} ${route}`);
      }
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    const active = trace.setSpan(parent, span);
    // Listeners on the request and response (body reads, the SDK's dispatch
    // behind them) run in this context too, not in the socket's.
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, () => inner(req, res));
  };
}
