/**
 * What a 2026-07-28 request is, from its `Mcp-Method` and `Mcp-Name`
 * headers: the SDK requires them on that revision and has cross-checked them
 * against the body before our server factory runs. Read once per request
 * (by ./index.ts) and handed to what decides from them: the caller-catalogue
 * prefetch (./client-testing/prefetch.ts) and the per-request build
 * (./server.ts).
 */

/** The request's method and, for a named one (`tools/call`, `prompts/get`, `resources/read` …), the name. */
export interface McpRoute {
  method: string;
  name: string | undefined;
}

/** Optional whitespace around a header value (RFC 9110 §5.5). */
const OWS = /^[ \t]+|[ \t]+$/g;

/** The route of `request`, or undefined without one (or without an `Mcp-Method`). */
export function mcpRouteOf(request: Request | undefined): McpRoute | undefined {
  const method = request?.headers.get('mcp-method')?.replace(OWS, '');
  if (!method) return undefined;
  return { method, name: request!.headers.get('mcp-name')?.replace(OWS, '') || undefined };
}
