/**
 * The shared catalogue (src/mcp/catalogue.ts): every server instance of an
 * era adopts one build of the catalogue by reference, and copies a registry
 * only when it registers something of its own. Checked through real SDK
 * clients on in-memory transports, so that an SDK upgrade that moves the
 * registries McpServer's handlers read fails here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { pino } from 'pino';
import { z } from 'zod';

import { CatalogueServer } from '../../src/mcp/catalogue.js';
import { McpEventBus, notifierFor } from '../../src/mcp/events.js';
import { createStateCodec } from '../../src/mcp/request-state.js';
import { buildMcpServer, type FeatureServices } from '../../src/mcp/server.js';
import { MemoryStore } from '../../src/store/memory.js';

const logger = pino({ level: 'silent' });

function services(): FeatureServices {
  const store = new MemoryStore();
  return {
    store,
    logger,
    baseUri: 'http://localhost:0',
    stateCodec: createStateCodec(undefined, logger),
    notify: notifierFor(new McpEventBus(store, logger)),
    stats: () => ({ startedAt: 0, streamableSessions: 0, sseSessions: 0, listenStreams: 0 })
  };
}

const authInfo = { token: 'unused', clientId: 'c', scopes: ['mcp'], extra: { subject: 'alice' } };

async function session(shared: FeatureServices) {
  const server = buildMcpServer(shared, { era: 'legacy', authInfo, session: { subscriptions: new Set() } }) as CatalogueServer;
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'catalogue-test', version: '1.0.0' });
  await server.connect(serverSide);
  await client.connect(clientSide);
  return { server, client, close: () => client.close() };
}

const names = async (client: Client) => (await client.listTools()).tools.map(t => t.name);

describe('the shared catalogue', () => {
  it('serves every session from one build, and a session’s own registration stays its own', async () => {
    const shared = services();
    const a = await session(shared);
    const b = await session(shared);
    try {
      assert.ok(a.server instanceof CatalogueServer);
      for (const registry of ['_registeredTools', '_registeredPrompts', '_registeredResources'] as const) {
        assert.ok(a.server.sharesRegistry(registry), `${registry} shared by session a`);
        assert.ok(b.server.sharesRegistry(registry), `${registry} shared by session b`);
      }
      const before = await names(a.client);
      assert.ok(before.length > 40, `the whole catalogue is listed (${before.length} tools)`);
      assert.deepEqual(await names(b.client), before);

      // A shared tool runs through the session's own handlers.
      const echoed = await a.client.callTool({ name: 'echo', arguments: { message: 'shared' } });
      assert.match(JSON.stringify(echoed.content), /shared/);
      // Validation by the shared schema: a wrong argument type is refused.
      const bad = await a.client.callTool({ name: 'echo', arguments: { message: 42 } }).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
      assert.equal(bad.isError, true);

      // Session a registers a tool of its own: it gets a copy, b does not see the tool.
      a.server.registerTool('only_a', { description: 'a’s own', inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: 'a' }] }));
      assert.equal(a.server.sharesRegistry('_registeredTools'), false);
      assert.ok(a.server.sharesRegistry('_registeredPrompts'), 'only the registry written to is copied');
      assert.deepEqual(await names(a.client), [...before, 'only_a']);
      assert.deepEqual(await names(b.client), before);
      const fromB = await b.client.callTool({ name: 'only_a', arguments: {} }).catch((e: Error) => e);
      assert.ok(fromB instanceof Error || (fromB as { isError?: boolean }).isError, 'b cannot call a’s tool');

      // A session opened afterwards still gets the pristine catalogue.
      const c = await session(shared);
      try {
        assert.deepEqual(await names(c.client), before);
      } finally {
        await c.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('builds the catalogue once per era and process, not per session', async () => {
    const shared = services();
    const a = await session(shared);
    const b = await session(shared);
    const other = await session(services());
    try {
      const registry = (s: CatalogueServer) => (s as unknown as { _registeredTools: object })._registeredTools;
      assert.equal(registry(a.server), registry(b.server), 'one registry object for both sessions of a process');
      assert.notEqual(registry(a.server), registry(other.server), 'another running server builds its own');
    } finally {
      await a.close();
      await b.close();
      await other.close();
    }
  });
});
