/**
 * The lines the server prints on stdout at start-up, for a person at the
 * terminal: where to connect, and how to look at the server with the MCP
 * Inspector. The Inspector's current releases need Node 22.19 or newer; under
 * an older Node, npx quietly installs Inspector 0.15.0, which cannot connect
 * to this server (docs/inspector.md), so the hint says that instead.
 */

/** The oldest Node the MCP Inspector 2.x runs on (its `engines`). */
export const INSPECTOR_MIN_NODE: readonly [number, number] = [22, 19];

export function inspectorRunsOn(nodeVersion: string): boolean {
  const [major = 0, minor = 0] = nodeVersion.replace(/^v/, '').split('.').map(Number);
  return major > INSPECTOR_MIN_NODE[0] || (major === INSPECTOR_MIN_NODE[0] && minor >= INSPECTOR_MIN_NODE[1]);
}

export function startBanner(mcpUrl: string, nodeVersion = process.version): string {
  const inspector = inspectorRunsOn(nodeVersion)
    ? `npx @modelcontextprotocol/inspector  (then connect to ${mcpUrl}, transport "Streamable HTTP"; docs/inspector.md)`
    : `npx @modelcontextprotocol/inspector under Node ${INSPECTOR_MIN_NODE.join('.')} or newer (this is Node ${nodeVersion}, where npx installs Inspector 0.15.0, which cannot connect; docs/inspector.md), then connect to ${mcpUrl}, transport "Streamable HTTP"`;
  return `\nMCP endpoint:  ${mcpUrl}\nInspector:     ${inspector}\n`;
}
