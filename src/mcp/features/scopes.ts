/**
 * OAuth scopes a tool needs beyond the base MCP scope. The bearer gate in
 * src/rs reads this map and answers a `tools/call` of such a tool without the
 * scope with HTTP 403 `insufficient_scope` and the scope to ask for
 * (RFC 6750 §3.1; MCP authorization "Scope challenge handling", step-up).
 * Kept free of SDK imports so the gate can read it cheaply.
 */
export const ADMIN_SCOPE = 'mcp:admin';

export const TOOL_REQUIRED_SCOPES: Record<string, string[]> = {
  adminStats: [ADMIN_SCOPE]
};
