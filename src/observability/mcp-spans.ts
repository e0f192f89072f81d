/**
 * One SERVER span per MCP request, following the OpenTelemetry semantic
 * conventions for MCP (open-telemetry/semantic-conventions-genai,
 * docs/gen-ai/mcp.md; status Development):
 *
 * - name `{mcp.method.name} {target}`, target = the tool (`tools/call`) or
 *   prompt (`prompts/get`) name, else `{mcp.method.name}` alone;
 * - `mcp.method.name`, `jsonrpc.request.id` (string form), `mcp.session.id`
 *   (2025 sessions), `mcp.protocol.version`, `gen_ai.tool.name` +
 *   `gen_ai.operation.name` = `execute_tool`, `gen_ai.prompt.name`,
 *   `mcp.resource.uri` (resources/read, subscribe, unsubscribe),
 *   `network.transport` = `tcp`, `network.protocol.name` = `http`;
 * - on a JSON-RPC error: `error.type` and `rpc.response.status_code` = the
 *   error code, status ERROR with its message; a tool result with `isError`:
 *   `error.type` = `tool_error`;
 * - parent: the context in the request's `params._meta` (`traceparent`,
 *   `tracestate`, SEP-414) when present, with a link to the HTTP request's
 *   span; otherwise the HTTP request's span.
 *
 * Installed by wrapping the request handlers of each McpServer instance when
 * it is built, and only when tracing is on. Requests the SDK refuses before a
 * handler runs (unknown method, bad envelope) get the HTTP span only.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Link } from '@opentelemetry/api';
import type { McpServer } from '@modelcontextprotocol/server';

import type { Tracing } from './tracing.js';

type Handler = (request: { id?: unknown; method: string; params?: Record<string, unknown> }, ctx: { sessionId?: string }) => Promise<unknown>;

const RESOURCE_METHODS = new Set(['resources/read', 'resources/subscribe', 'resources/unsubscribe']);

function stringParam(params: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = params?.[key];
  return typeof v === 'string' && v.length <= 256 ? v : undefined;
}

/** Wraps every request handler registered on `server` so that each request gets its span. */
export function traceMcpRequests(server: McpServer, tracing: Tracing): void {
  // The SDK keeps the handlers in a Map; wrapping them there covers the ones
  // the Server registers itself (initialize, ping) and those McpServer adds.
  const protocol = server.server as unknown as { _requestHandlers: Map<string, Handler>; getNegotiatedProtocolVersion(): string | undefined };
  for (const [method, handler] of protocol._requestHandlers) {
    protocol._requestHandlers.set(method, async (request, ctx) => {
      const params = request.params;
      const meta = params?._meta;
      const ambient = context.active();
      const ambientSpan = trace.getSpan(ambient);
      const fromMeta = meta !== null && typeof meta === 'object' && typeof (meta as Record<string, unknown>).traceparent === 'string';
      const parent = fromMeta ? tracing.extract(meta as Record<string, unknown>) : ambient;
      const links: Link[] = fromMeta && ambientSpan ? [{ context: ambientSpan.spanContext() }] : [];

      const attributes: Attributes = { 'mcp.method.name': method, 'network.transport': 'tcp', 'network.protocol.name': 'http' };
      if (typeof request.id === 'string' || typeof request.id === 'number') attributes['jsonrpc.request.id'] = String(request.id);
      if (ctx.sessionId) attributes['mcp.session.id'] = ctx.sessionId;
      const version = protocol.getNegotiatedProtocolVersion();
      if (version) attributes['mcp.protocol.version'] = version;
      let target: string | undefined;
      if (method === 'tools/call') {
        target = stringParam(params, 'name');
        if (target) attributes['gen_ai.tool.name'] = target;
        attributes['gen_ai.operation.name'] = 'execute_tool';
      } else if (method === 'prompts/get') {
        target = stringParam(params, 'name');
        if (target) attributes['gen_ai.prompt.name'] = target;
      } else if (RESOURCE_METHODS.has(method)) {
        const uri = stringParam(params, 'uri');
        if (uri) attributes['mcp.resource.uri'] = uri;
      }

      const span = tracing.tracer.startSpan(target ? `${method} ${target}` : method, { kind: SpanKind.SERVER, attributes, links }, parent);
      try {
        const result = await context.with(trace.setSpan(parent, span), () => handler(request, ctx));
        if (method === 'tools/call' && (result as { isError?: unknown } | undefined)?.isError === true) {
          span.setAttribute('error.type', 'tool_error');
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        return result;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const type = Number.isSafeInteger(code) ? String(code) : '_OTHER';
        span.setAttribute('error.type', type);
        if (type !== '_OTHER') span.setAttribute('rpc.response.status_code', type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }
}
