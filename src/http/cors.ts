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
  const handler = cors({
    origin: true,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    exposedHeaders: MCP_EXPOSED_HEADERS,
    maxAge: 600
  });
  // A request without Origin is not a cross-origin browser request (browsers
  // send Origin on every CORS request and preflight), so CORS headers would
  // be read by no one: skip the work on this hot path, keeping `Vary: Origin`
  // since the answer differs for requests that carry one. OPTIONS is always
  // answered by the CORS handler, as before.
  return (req, res, next) => {
    if (req.headers.origin !== undefined || req.method === 'OPTIONS') return handler(req, res, next);
    // Nothing set Vary yet (the usual case): set it without `vary`'s parsing and merging.
    if (res.getHeader('Vary') === undefined) res.setHeader('Vary', 'Origin');
    else res.vary('Origin');
    next();
  };
}
