import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MemoryStore } from '../../src/store/memory.js';
import { storeContract } from './store.contract.js';

storeContract('memory', {
  create: async () => new MemoryStore(),
  createPeer: async store => new MemoryStore({ shareWith: store as MemoryStore })
});

describe('MemoryStore limits', () => {
  it('sweeps expired keys that nobody reads again, so memory does not grow without bound', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    for (let i = 0; i < 100; i++) await store.set(`k${i}`, 'v', 1000);
    await store.addToSet('set', 'm', 1000);
    await store.append('log', 'e', { ttlMs: 1000, maxLength: 10 });
    await store.set('long-lived', 'v', 60_000);
    assert.equal(store.size, 103);
    now += 1001;
    assert.equal(store.sweep(), 102);
    assert.equal(store.size, 1);
    assert.equal(await store.get('long-lived'), 'v');
    await store.close();
  });

  it('runs the sweep on a timer', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 20 });
    for (let i = 0; i < 10; i++) await store.set(`k${i}`, 'v', 10);
    await new Promise(r => setTimeout(r, 100));
    assert.equal(store.size, 0);
    await store.close();
  });

  it('keeps log ids increasing when the clock stands still or steps back', async () => {
    let now = 5000;
    const store = new MemoryStore({ now: () => now });
    const a = await store.append('log', 'a', { ttlMs: 60_000, maxLength: 10 });
    const b = await store.append('log', 'b', { ttlMs: 60_000, maxLength: 10 });
    now = 4000;
    const c = await store.append('log', 'c', { ttlMs: 60_000, maxLength: 10 });
    assert.deepEqual([a, b, c], ['5000-0', '5000-1', '5000-2']);
    assert.deepEqual(
      (await store.readAfter('log', a)).map(e => e.value),
      ['b', 'c']
    );
    await store.close();
  });

  it('trims a log to exactly maxLength entries', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 30; i++) await store.append('log', `m${i}`, { ttlMs: 60_000, maxLength: 5 });
    assert.deepEqual(
      (await store.readAfter('log', undefined)).map(e => e.value),
      ['m25', 'm26', 'm27', 'm28', 'm29']
    );
    await store.close();
  });

  it('delivers published messages asynchronously, as Redis does', async () => {
    const store = new MemoryStore();
    const got: string[] = [];
    await store.subscribe('c', m => got.push(m));
    await store.publish('c', 'x');
    assert.deepEqual(got, []);
    await new Promise(r => setImmediate(r));
    assert.deepEqual(got, ['x']);
    await store.close();
  });

  it('drops its subscriptions when closed, without touching a peer that shares its state', async () => {
    const a = new MemoryStore();
    const b = new MemoryStore({ shareWith: a });
    const onA: string[] = [];
    const onB: string[] = [];
    await a.subscribe('c', m => onA.push(m));
    await b.subscribe('c', m => onB.push(m));
    await a.close();
    await b.publish('c', 'after close');
    await new Promise(r => setImmediate(r));
    assert.deepEqual(onA, []);
    assert.deepEqual(onB, ['after close']);
    await b.set('k', 'v', 1000);
    assert.equal(await b.get('k'), 'v');
    await b.close();
  });
});
