/**
 * CORS for the MCP endpoints, so browser-based clients (the MCP Inspector,
 * web hosts) can call `/mcp`. Only origins that already passed the
 * Host/Origin guard reach this, so the allowed origin is reflected. Request
 * headers are reflected too: `Mcp-Param-*` names are tool-defined (SEP-2243)
 * and cannot be listed in advance. No cookies are used (bearer tokens only),
 * so credentials stay off.
 */
import cors from 'cors';
import type { RequestHandler } from 'express';

/** Response headers a browser client must be able to read. */
export const MCP_EXPOSED_HEADERS = ['Mcp-Session-Id', 'WWW-Authenticate', 'MCP-Protocol-Version', 'Retry-After'];

export function mcpCors(): RequestHandler {
  return cors({
    origin: true,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    exposedHeaders: MCP_EXPOSED_HEADERS,
    maxAge: 600
  });
}
