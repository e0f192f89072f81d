/**
 * Heap held by one MCP server instance of an idle 2025-era session (the
 * shared catalogue adopted, the session's own wiring) versus what a
 * 2026-07-28 tools/call builds. Before the shared catalogue (src/mcp/catalogue.ts)
 * these were 103 and 9 KiB.
 *
 * Usage: node --expose-gc --import tsx bench/session-heap.ts
 */
import { pino } from 'pino';
import { notifierFor, McpEventBus } from '../src/mcp/events.js';
import { createStateCodec } from '../src/mcp/request-state.js';
import { buildMcpServer, type FeatureServices } from '../src/mcp/server.js';
import { MemoryStore } from '../src/store/memory.js';
const logger = pino({ level: 'silent' });
const store = new MemoryStore();
const bus = new McpEventBus(store, logger);
const services: FeatureServices = { store, logger, baseUri: 'http://localhost:0', stateCodec: createStateCodec(undefined, logger), notify: notifierFor(bus), stats: () => ({ startedAt: 0, streamableSessions: 0, sseSessions: 0, listenStreams: 0 }) };
const authInfo = { token: 't', clientId: 'c', scopes: ['mcp'], extra: { subject: 'alice' } };
const gc = (globalThis as any).gc;
for (let i = 0; i < 20; i++) buildMcpServer(services, { era: 'legacy', authInfo, session: { subscriptions: new Set() } });
gc(); gc();
const h0 = process.memoryUsage().heapUsed;
const keep: unknown[] = [];
for (let i = 0; i < 1000; i++) keep.push(buildMcpServer(services, { era: 'legacy', authInfo, session: { subscriptions: new Set() } }));
gc(); gc();
const h1 = process.memoryUsage().heapUsed;
console.log(`heap per McpServer (2025 session, shared catalogue): ${((h1 - h0) / 1000 / 1024).toFixed(1)} KiB`);
const route = { method: 'tools/call', name: 'echo' };
keep.length = 0; gc(); gc();
const h2 = process.memoryUsage().heapUsed;
for (let i = 0; i < 1000; i++) keep.push(buildMcpServer(services, { era: 'modern', authInfo, route }));
gc(); gc();
console.log(`heap per McpServer (2026-07-28 tools/call echo): ${((process.memoryUsage().heapUsed - h2) / 1000 / 1024).toFixed(1)} KiB`);
process.exit(0);
