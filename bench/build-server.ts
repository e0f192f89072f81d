/**
 * Micro-benchmark of the per-request cost the 2026-07-28 stateless path pays
 * before any JSON-RPC work: `buildMcpServer` (src/mcp/server.ts) builds a
 * server instance (adopting the shared catalogue, src/mcp/catalogue.ts) for
 * every request through createMcpHandler's factory. Prints microseconds per
 * build for each era, for a 2026-07-28 tools/call (no per-instance wiring),
 * and for the plain floor's per-request build (bench/plain-floor-server.ts:
 * an McpServer with one echo tool). Far less sensitive to machine load than
 * the HTTP load runs.
 *
 * Usage: tsx bench/build-server.ts [iterations=2000]
 */
import { McpServer } from '@modelcontextprotocol/server';
import { pino } from 'pino';
import { z } from 'zod';

import { notifierFor, McpEventBus } from '../src/mcp/events.js';
import { createStateCodec } from '../src/mcp/request-state.js';
import { buildMcpServer, type FeatureServices } from '../src/mcp/server.js';
import { MemoryStore } from '../src/store/memory.js';

const N = Number(process.argv[2] ?? 2000);
const logger = pino({ level: 'silent' });
const store = new MemoryStore();
const bus = new McpEventBus(store, logger);
const services: FeatureServices = {
  store,
  logger,
  baseUri: 'http://localhost:0',
  stateCodec: createStateCodec(undefined, logger),
  notify: notifierFor(bus),
  stats: () => ({ startedAt: Date.now(), streamableSessions: 0, sseSessions: 0, listenStreams: 0 })
};
const authInfo = { token: 't', clientId: 'c', scopes: ['mcp'], extra: { subject: 'alice' } };

for (const era of ['modern', 'legacy'] as const) {
  // Warm-up: module-level work and JIT.
  for (let i = 0; i < 50; i++) buildMcpServer(services, { era, authInfo, session: era === 'legacy' ? { subscriptions: new Set() } : undefined });
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) buildMcpServer(services, { era, authInfo, session: era === 'legacy' ? { subscriptions: new Set() } : undefined });
  const us = Number(process.hrtime.bigint() - started) / 1000 / N;
  console.log(`buildMcpServer(${era}): ${us.toFixed(0)} µs per build (${N} builds)`);
}

// A 2026-07-28 tools/call (the route ../src/mcp/route.ts reads from its headers): the catalogue adopted, no wiring of its own.
const route = { method: 'tools/call', name: 'echo' };
for (let i = 0; i < 50; i++) buildMcpServer(services, { era: 'modern', authInfo, route });
const started = process.hrtime.bigint();
for (let i = 0; i < N; i++) buildMcpServer(services, { era: 'modern', authInfo, route });
console.log(`buildMcpServer(modern, tools/call echo): ${(Number(process.hrtime.bigint() - started) / 1000 / N).toFixed(0)} µs per build (${N} builds)`);
// The plain floor's factory, as bench/plain-floor-server.ts builds it per request.
const EchoInput = z.object({ message: z.string() });
const floorBuild = () => {
  const server = new McpServer({ name: 'plain-floor', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.registerTool('echo', { description: 'Echoes the message', inputSchema: EchoInput }, async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }));
  return server;
};
for (let i = 0; i < 50; i++) floorBuild();
const floorStarted = process.hrtime.bigint();
for (let i = 0; i < N; i++) floorBuild();
console.log(`plain floor build (McpServer + echo): ${(Number(process.hrtime.bigint() - floorStarted) / 1000 / N).toFixed(0)} µs per build (${N} builds)`);
await store.close?.();
process.exit(0);
