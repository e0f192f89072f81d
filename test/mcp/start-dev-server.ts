/**
 * Development launcher for the MCP side alone (no OAuth): `npx tsx
 * test/mcp/start-dev-server.ts [port]`. Used to point the conformance suite
 * or the MCP Inspector at the MCP router while authorization is elsewhere.
 */
import { startMcpApp } from './helpers/app.js';

const app = await startMcpApp({ port: Number(process.argv[2] ?? 0), logLevel: process.env.LOG_LEVEL ?? 'warn' });
console.log(`MCP dev server: ${app.mcpUrl}`);
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
