/**
 * JSON-RPC error bodies written by the HTTP layer itself, before a request
 * reaches the MCP SDK (body limit, malformed JSON, Host/Origin rejection,
 * unknown session). The codes follow JSON-RPC 2.0 §5.1 and the MCP
 * Streamable HTTP transport; the message is generic, never a stack trace.
 */
import type { Response } from 'express';

export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
/** Implementation-defined server error (JSON-RPC §5.1 range -32000..-32099; MCP keeps -32000..-32019 for implementations). */
export const JSONRPC_SERVER_ERROR = -32000;
/** The code the SDK and the MCP examples use for "Session not found" (HTTP 404). */
export const JSONRPC_SESSION_NOT_FOUND = -32001;

export function sendJsonRpcError(res: Response, status: number, code: number, message: string, id: string | number | null = null): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(status).setHeader('Cache-Control', 'no-store');
  res.json({ jsonrpc: '2.0', error: { code, message }, id });
}
