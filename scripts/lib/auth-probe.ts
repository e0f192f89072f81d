/**
 * Is `/mcp` protected? One unauthenticated POST (a 2025 `initialize`, which
 * every era of the endpoint must answer) tells: 401 with a Bearer challenge
 * naming the resource metadata means the gate is real.
 */
export interface AuthProbe {
  status: number;
  wwwAuthenticate?: string;
  /** 401 with a `Bearer` challenge that names its resource metadata. */
  challenged: boolean;
  error?: string;
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'conformance-auth-probe', version: '1.0.0' } }
});

/** POSTs an `initialize` to `mcpUrl` with the given headers; ends the session it may have opened. */
export async function probeMcp(mcpUrl: string, headers: Record<string, string> = {}): Promise<AuthProbe> {
  try {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: initialize
    });
    await res.text().catch(() => undefined);
    const wwwAuthenticate = res.headers.get('www-authenticate') ?? undefined;
    const session = res.headers.get('mcp-session-id');
    if (session) {
      await fetch(mcpUrl, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } })
        .then(r => r.text())
        .catch(() => undefined);
    }
    return {
      status: res.status,
      wwwAuthenticate,
      challenged: res.status === 401 && /^Bearer\b/i.test(wwwAuthenticate ?? '') && /resource_metadata=/i.test(wwwAuthenticate ?? '')
    };
  } catch (err) {
    return { status: 0, challenged: false, error: err instanceof Error ? err.message : String(err) };
  }
}
