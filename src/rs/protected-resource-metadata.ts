/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728), the document MCP clients
 * read to find the authorization server (MCP authorization, "Authorization
 * Server Discovery"). Served at both well-known locations the spec lets
 * clients try:
 *
 *   /.well-known/oauth-protected-resource/mcp   (path of the MCP endpoint; the URL in our challenges)
 *   /.well-known/oauth-protected-resource       (root fallback)
 *
 * Both carry `resource` equal to the canonical MCP URL exactly (RFC 9728 §3.3:
 * clients compare it with the URL they used) and name the AS this server
 * trusts: itself in internal mode, `AUTH_SERVER_URL` in external mode.
 *
 * The deprecated HTTP+SSE transport is the same server at another URL, so it
 * has its own document, `/.well-known/oauth-protected-resource/sse` with
 * `resource` = the legacy SSE URL (`rootFallback: false`: the root stays the
 * MCP URL's). SDK clients accept a `resource` only when it is a path prefix
 * of the URL they connect to (same origin), so `/mcp` would be refused for `/sse`.
 *
 * Browsers (e.g. the MCP Inspector) read it cross-origin: every route answers
 * CORS preflights and carries `Access-Control-Allow-Origin: *` (public,
 * credential-free data).
 */
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/server';
import { Router, type RequestHandler } from 'express';

export interface ProtectedResourceMetadataOptions {
  /** Canonical MCP URL: the RFC 8707 resource identifier. */
  resource: string;
  /** Issuer identifiers of the authorization servers whose tokens are accepted. */
  authorizationServers: readonly string[];
  scopesSupported: readonly string[];
  resourceName?: string;
  resourceDocumentation?: string;
  /** Serve the root well-known URI too (default true). Only one resource per origin may have it. */
  rootFallback?: boolean;
}

/** RFC 9728 §2 document. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  resource_name?: string;
  resource_documentation?: string;
}

export function buildProtectedResourceMetadata(o: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  return {
    resource: o.resource,
    authorization_servers: [...o.authorizationServers],
    scopes_supported: [...o.scopesSupported],
    // OAuth 2.1 §5.1 / MCP: the Authorization header is the only way a token is accepted.
    bearer_methods_supported: ['header'],
    ...(o.resourceName ? { resource_name: o.resourceName } : {}),
    ...(o.resourceDocumentation ? { resource_documentation: o.resourceDocumentation } : {})
  };
}

/** `https://host/mcp` -> `https://host/.well-known/oauth-protected-resource/mcp` (RFC 9728 §3.1). */
export function protectedResourceMetadataUrl(resource: string): string {
  return getOAuthProtectedResourceMetadataUrl(new URL(resource));
}

/** The well-known paths this process serves for `resource`: the path-specific one first, then the root (unless `rootFallback` is false). */
export function protectedResourceMetadataPaths(resource: string, rootFallback = true): string[] {
  const path = new URL(resource).pathname.replace(/\/+$/, '');
  const root = '/.well-known/oauth-protected-resource';
  if (!path) return [root];
  return rootFallback ? [`${root}${path}`, root] : [`${root}${path}`];
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  // The SDK client sends MCP-Protocol-Version on discovery requests.
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, MCP-Protocol-Version',
  'Access-Control-Max-Age': '86400'
};

export function createProtectedResourceMetadataRouter(o: ProtectedResourceMetadataOptions): Router {
  const body = JSON.stringify(buildProtectedResourceMetadata(o));
  const serve: RequestHandler = (req, res) => {
    res.set(CORS_HEADERS);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD, OPTIONS').status(405).json({ error: 'invalid_request', error_description: 'Method not allowed' });
      return;
    }
    res.set({ 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'public, max-age=3600' });
    res.status(200).send(body);
  };
  const router = Router();
  for (const path of protectedResourceMetadataPaths(o.resource, o.rootFallback ?? true)) router.all(path, serve);
  return router;
}
