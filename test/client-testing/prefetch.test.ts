/**
 * `prefetchCatalogue` (unit): which 2026-07-28 requests read the caller's
 * dynamic catalogue before the per-request build, and that a storage outage
 * only leaves the caller's own items out (stateless requests keep working).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ClientTestingServices, DEFAULT_LIMITS, prefetchCatalogue } from '../../src/mcp/client-testing/index.js';
import { createLogger } from '../../src/logger.js';
import { mcpRouteOf } from '../../src/mcp/route.js';
import { MemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError } from '../../src/store/store.js';

const bus = { publishTo: () => undefined, subscribeAll: () => () => undefined };
const alice = { token: 't', clientId: 'c', scopes: ['mcp'], extra: { subject: 'alice' } };
const request = (method: string, name?: string) =>
  mcpRouteOf(new Request('http://localhost/mcp', { method: 'POST', headers: { 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) } }));

describe('prefetchCatalogue', () => {
  it('reads the caller catalogue for lists and for dynamic or generated names only', async () => {
    const store = new MemoryStore();
    const bench = new ClientTestingServices(store, createLogger('silent'), DEFAULT_LIMITS, bus);
    await bench.catalogue.apply('alice', { action: 'add', kind: 'tool', name: 'alpha' });
    let reads = 0;
    const get = store.get.bind(store);
    store.get = key => (reads++, get(key));
    for (const method of ['tools/list', 'prompts/list', 'resources/list']) assert.deepEqual((await prefetchCatalogue(bench, request(method), alice))?.tools, ['alpha']);
    assert.deepEqual((await prefetchCatalogue(bench, request('tools/call', 'dynamic_alpha'), alice))?.tools, ['alpha']);
    assert.equal(reads, 4);
    // Not even a promise: those requests build their server synchronously.
    assert.equal(prefetchCatalogue(bench, request('tools/call', 'echo'), alice), undefined);
    assert.equal(prefetchCatalogue(bench, request('ping'), alice), undefined);
    assert.equal(reads, 4, 'no store read for other requests');
    await store.close();
  });

  it('serves without the caller catalogue while the store is unreachable', async () => {
    const store = new MemoryStore();
    store.get = async () => {
      throw new StoreUnavailableError('down');
    };
    const bench = new ClientTestingServices(store, createLogger('silent'), DEFAULT_LIMITS, bus);
    assert.equal(await prefetchCatalogue(bench, request('tools/list'), alice), undefined);
    await store.close();
  });
});
