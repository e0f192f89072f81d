/** The MCP requests the benchmark tools send (bench/run.ts, bench/profile.ts). */
export const MODERN = '2026-07-28';
export const LEGACY = '2025-11-25';

export const jsonHeaders = (token?: string): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...(token ? { authorization: `Bearer ${token}` } : {})
});

/**
 * The headers of the measured echo: a 2026-07-28 request's (no `sessionId`),
 * or those of a request on 2025 session `sessionId`.
 */
export const echoHeaders = (token: string | undefined, sessionId?: string): Record<string, string> =>
  sessionId === undefined
    ? { ...jsonHeaders(token), 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }
    : { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY, 'mcp-session-id': sessionId };

export async function openSession(mcpUrl: string, token?: string): Promise<string> {
  const init = await fetch(mcpUrl, {
    method: 'POST',
    headers: { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } }
    })
  });
  const sessionId = init.headers.get('mcp-session-id');
  await init.text();
  if (!init.ok || !sessionId) throw new Error(`initialize failed: HTTP ${init.status}`);
  const note = await fetch(mcpUrl, {
    method: 'POST',
    headers: { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY, 'mcp-session-id': sessionId },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })
  });
  await note.text();
  return sessionId;
}

/** DELETE the session; returns the HTTP status (404: the server had already closed it). */
export async function closeSession(mcpUrl: string, sessionId: string, token?: string): Promise<number> {
  const res = await fetch(mcpUrl, { method: 'DELETE', headers: { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY, 'mcp-session-id': sessionId } });
  await res.text();
  return res.status;
}

export const echoCall = (id: number, modern: boolean) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { message: 'hello' },
      ...(modern
        ? {
            _meta: {
              'io.modelcontextprotocol/protocolVersion': MODERN,
              'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
              'io.modelcontextprotocol/clientCapabilities': {}
            }
          }
        : {})
    }
  });

