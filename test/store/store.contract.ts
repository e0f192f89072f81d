/**
 * The one contract test suite for `Store` (src/store/store.ts), run against
 * every implementation (STYLE.md habit 7): `memory.test.ts` and
 * `redis.test.ts` call `storeContract` with a harness that builds stores.
 *
 * Each test works under its own random key prefix, so the suite can share a
 * Redis with other tests. TTLs are short (tens of ms) and waits are a few
 * times longer: they bound correctness, they are not benchmarks.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Store } from '../../src/store/store.js';

export interface StoreHarness {
  /** Builds a fresh store (connected, ready for commands). */
  create(): Promise<Store>;
  /** Builds a second "instance" that shares state and channels with `store`. */
  createPeer(store: Store): Promise<Store>;
}

/** Polls `check` until it holds or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

function parseId(id: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(id);
  assert.ok(m, `log id ${id} has the <ms>-<seq> shape`);
  return [Number(m[1]), Number(m[2])];
}

function idLess(a: string, b: string): boolean {
  const [am, as] = parseId(a);
  const [bm, bs] = parseId(b);
  return am < bm || (am === bm && as < bs);
}

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let peer: Store;
    const key = (suffix: string) => `test:${randomUUID()}:${suffix}`;

    before(async () => {
      store = await harness.create();
      peer = await harness.createPeer(store);
    });

    after(async () => {
      await peer?.close();
      await store?.close();
    });

    describe('get, set and TTL', () => {
      it('returns what was set, and undefined for a key never set', async () => {
        const k = key('a');
        await store.set(k, 'value', 10_000);
        assert.equal(await store.get(k), 'value');
        assert.equal(await store.get(key('missing')), undefined);
      });

      it('shares keys between two instances', async () => {
        const k = key('shared');
        await store.set(k, 'from-a', 10_000);
        assert.equal(await peer.get(k), 'from-a');
      });

      it('replaces the value and the TTL on set', async () => {
        const k = key('replace');
        await store.set(k, 'one', 50);
        await store.set(k, 'two', 10_000);
        await sleep(100);
        assert.equal(await store.get(k), 'two');
      });

      it('never returns a value after its TTL has passed', async () => {
        const k = key('short');
        await store.set(k, 'soon gone', 60);
        assert.equal(await store.get(k), 'soon gone');
        await sleep(150);
        assert.equal(await store.get(k), undefined);
        assert.equal(await store.ttl(k), undefined);
        assert.equal(await store.consume(k), undefined);
      });

      it('reports the remaining TTL in milliseconds', async () => {
        const k = key('ttl');
        await store.set(k, 'v', 5000);
        const ttl = await store.ttl(k);
        assert.ok(ttl !== undefined && ttl > 4000 && ttl <= 5000, `ttl ${ttl}`);
        assert.equal(await store.ttl(key('missing')), undefined);
      });

      it('rejects a write without a positive TTL', async () => {
        await assert.rejects(store.set(key('x'), 'v', 0), RangeError);
        await assert.rejects(store.set(key('x'), 'v', -5), RangeError);
        await assert.rejects(store.setIfAbsent(key('x'), 'v', Number.NaN), RangeError);
        await assert.rejects(store.increment(key('x'), 1.5), RangeError);
      });
    });

    describe('setIfAbsent', () => {
      it('lets exactly one of 50 concurrent callers on two instances win', async () => {
        const k = key('nx');
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? peer : store).setIfAbsent(k, `caller-${i}`, 10_000)));
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal(await store.get(k), `caller-${winner}`);
      });

      it('does not overwrite an existing value and succeeds again once it expired', async () => {
        const k = key('nx-expire');
        assert.equal(await store.setIfAbsent(k, 'first', 60), true);
        assert.equal(await store.setIfAbsent(k, 'second', 60), false);
        assert.equal(await store.get(k), 'first');
        await sleep(150);
        assert.equal(await store.setIfAbsent(k, 'third', 10_000), true);
        assert.equal(await store.get(k), 'third');
      });
    });

    describe('consume', () => {
      it('hands the value to exactly one of 50 concurrent callers on two instances', async () => {
        const k = key('code');
        await store.set(k, 'single-use', 10_000);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? peer : store).consume(k)));
        assert.deepEqual(
          results.filter(r => r !== undefined),
          ['single-use']
        );
        assert.equal(await store.get(k), undefined);
      });

      it('returns undefined for a key that does not exist', async () => {
        assert.equal(await store.consume(key('none')), undefined);
      });
    });

    describe('increment', () => {
      it('counts 50 concurrent increments on two instances without losing one', async () => {
        const k = key('counter');
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? peer : store).increment(k, 10_000)));
        assert.deepEqual(
          [...results].sort((a, b) => a - b),
          Array.from({ length: 50 }, (_, i) => i + 1)
        );
      });

      it('keeps the TTL set at creation (a fixed window) and starts over after it', async () => {
        // Margins wide enough for a loaded machine: the second increment lands
        // well inside the window, the third well past it.
        const k = key('window');
        assert.equal(await store.increment(k, 600), 1);
        await sleep(200);
        assert.equal(await store.increment(k, 600), 2);
        const ttl = await store.ttl(k);
        assert.ok(ttl !== undefined && ttl <= 410, `later increments must not extend the window (ttl ${ttl})`);
        await sleep(450);
        assert.equal(await store.increment(k, 600), 1);
      });
    });

    describe('sets', () => {
      it('adds, lists and removes members', async () => {
        const k = key('set');
        await store.addToSet(k, 'a', 10_000);
        await store.addToSet(k, 'b', 10_000);
        await peer.addToSet(k, 'a', 10_000);
        assert.deepEqual((await store.members(k)).sort(), ['a', 'b']);
        await store.removeFromSet(k, 'a');
        assert.deepEqual(await peer.members(k), ['b']);
        await store.removeFromSet(k, 'not-a-member');
        assert.deepEqual(await store.members(key('empty')), []);
      });

      it('drops the set when its last member is removed', async () => {
        const k = key('set-last');
        await store.addToSet(k, 'only', 10_000);
        await store.removeFromSet(k, 'only');
        assert.equal(await store.ttl(k), undefined);
      });

      it('raises the TTL on add but never shortens it', async () => {
        const k = key('set-ttl');
        await store.addToSet(k, 'a', 100);
        await store.addToSet(k, 'b', 5000);
        const raised = await store.ttl(k);
        assert.ok(raised !== undefined && raised > 4000, `ttl raised to ${raised}`);
        await store.addToSet(k, 'c', 100);
        const kept = await store.ttl(k);
        assert.ok(kept !== undefined && kept > 4000, `ttl kept at ${kept}`);
      });

      it('expires the whole set after its TTL', async () => {
        const k = key('set-expire');
        await store.addToSet(k, 'a', 60);
        await sleep(150);
        assert.deepEqual(await store.members(k), []);
      });
    });

    describe('append and readAfter', () => {
      const opts = { ttlMs: 10_000, maxLength: 1000 };

      it('returns entries oldest first with strictly increasing ids', async () => {
        const k = key('log');
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push(await store.append(k, `m${i}`, opts));
        for (let i = 1; i < ids.length; i++) assert.ok(idLess(ids[i - 1]!, ids[i]!), `${ids[i - 1]} < ${ids[i]}`);
        const all = await peer.readAfter(k, undefined);
        assert.deepEqual(
          all.map(e => e.value),
          Array.from({ length: 20 }, (_, i) => `m${i}`)
        );
        assert.deepEqual(
          all.map(e => e.id),
          ids
        );
      });

      it('returns only the entries strictly after the given id', async () => {
        const k = key('log-after');
        const ids: string[] = [];
        for (const v of ['a', 'b', 'c', 'd']) ids.push(await store.append(k, v, opts));
        assert.deepEqual(
          (await store.readAfter(k, ids[1])).map(e => e.value),
          ['c', 'd']
        );
        assert.deepEqual(await store.readAfter(k, ids[3]), []);
        assert.deepEqual(await store.readAfter(key('no-log'), undefined), []);
        assert.deepEqual(await store.readAfter(key('no-log'), ids[0]), []);
      });

      it('keeps ids increasing when appends come from two instances at once', async () => {
        const k = key('log-concurrent');
        const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? peer : store).append(k, `m${i}`, opts)));
        const read = await store.readAfter(k, undefined);
        assert.equal(read.length, 40);
        assert.deepEqual(new Set(read.map(e => e.id)), new Set(ids));
        for (let i = 1; i < read.length; i++) assert.ok(idLess(read[i - 1]!.id, read[i]!.id));
      });

      it('trims old entries but always keeps the newest maxLength, in order', async () => {
        const k = key('log-trim');
        const total = 250;
        for (let i = 0; i < total; i++) await store.append(k, `m${i}`, { ttlMs: 10_000, maxLength: 10 });
        const values = (await store.readAfter(k, undefined)).map(e => e.value);
        // Redis trims approximately (whole stream nodes): bounded, not exact.
        assert.ok(values.length >= 10 && values.length < total, `kept ${values.length} of ${total}`);
        assert.deepEqual(
          values.slice(-10),
          Array.from({ length: 10 }, (_, i) => `m${total - 10 + i}`)
        );
        const first = Number(values[0]!.slice(1));
        assert.deepEqual(
          values,
          Array.from({ length: values.length }, (_, i) => `m${first + i}`)
        );
      });

      it('expires the log after ttlMs without appends, and each append restarts the clock', async () => {
        // Wide margins (each sleep is well inside or well past the TTL): the
        // cluster and a loaded machine add tens of ms per round trip.
        const k = key('log-ttl');
        await store.append(k, 'a', { ttlMs: 400, maxLength: 10 });
        await sleep(250);
        await store.append(k, 'b', { ttlMs: 400, maxLength: 10 });
        await sleep(250);
        assert.deepEqual(
          (await store.readAfter(k, undefined)).map(e => e.value),
          ['a', 'b']
        );
        await sleep(450);
        assert.deepEqual(await store.readAfter(k, undefined), []);
      });

      it('rejects an id that is not a log id', async () => {
        await assert.rejects(store.readAfter(key('log'), 'not-an-id'), RangeError);
        await assert.rejects(store.readAfter(key('log'), '1-2-3'), RangeError);
      });
    });

    describe('scan', () => {
      it('lists the keys matching a glob, each once, and none that expired', async () => {
        const prefix = `test:${randomUUID()}`;
        const want = [`${prefix}:a`, `${prefix}:b`, `${prefix}:c:d`];
        for (const k of want) await store.set(k, 'v', 10_000);
        await store.addToSet(`${prefix}:set`, 'm', 10_000);
        await store.set(`${prefix}:gone`, 'v', 30);
        await store.set(`${prefix}x`, 'v', 10_000); // matches `${prefix}*` but not `${prefix}:*`
        await sleep(100);
        const found: string[] = [];
        for await (const k of peer.scan(`${prefix}:*`)) found.push(k);
        assert.deepEqual(found.sort(), [...want, `${prefix}:set`].sort());
      });

      it('treats only * as special', async () => {
        const prefix = `test:${randomUUID()}`;
        await store.set(`${prefix}:a?[b]`, 'v', 10_000);
        await store.set(`${prefix}:ax[b]`, 'v', 10_000);
        await store.set(`${prefix}:ab`, 'v', 10_000);
        const found: string[] = [];
        for await (const k of store.scan(`${prefix}:a?[b]*`)) found.push(k);
        assert.deepEqual(found, [`${prefix}:a?[b]`]);
      });
    });

    describe('delete', () => {
      it('deletes keys of every kind and counts the ones that existed', async () => {
        const [s, set, log, missing] = [key('s'), key('set'), key('log'), key('missing')];
        await store.set(s, 'v', 10_000);
        await store.addToSet(set, 'm', 10_000);
        await store.append(log, 'e', { ttlMs: 10_000, maxLength: 10 });
        assert.equal(await peer.delete(s, set, log, missing), 3);
        assert.equal(await store.get(s), undefined);
        assert.deepEqual(await store.members(set), []);
        assert.deepEqual(await store.readAfter(log, undefined), []);
        assert.equal(await store.delete(), 0);
      });

      it('does not count a key that already expired', async () => {
        const k = key('expired');
        await store.set(k, 'v', 30);
        await sleep(100);
        assert.equal(await store.delete(k), 0);
      });
    });

    describe('publish and subscribe', () => {
      it('delivers a message published on one instance to subscribers on both', async () => {
        const channel = key('channel');
        const onPeer: string[] = [];
        const onSelf: string[] = [];
        const offPeer = await peer.subscribe(channel, m => onPeer.push(m));
        const offSelf = await store.subscribe(channel, m => onSelf.push(m));
        await store.publish(channel, 'hello');
        await store.publish(channel, 'world');
        await eventually(() => onPeer.length === 2 && onSelf.length === 2, 2000, 'both deliveries');
        assert.deepEqual(onPeer, ['hello', 'world']);
        assert.deepEqual(onSelf, ['hello', 'world']);
        await offPeer();
        await offSelf();
      });

      it('stops delivering to a listener once it unsubscribed, and keeps delivering to the others', async () => {
        const channel = key('channel-off');
        const first: string[] = [];
        const second: string[] = [];
        const offFirst = await peer.subscribe(channel, m => first.push(m));
        const offSecond = await peer.subscribe(channel, m => second.push(m));
        await store.publish(channel, 'one');
        await eventually(() => first.length === 1 && second.length === 1, 2000, 'first delivery');
        await offFirst();
        await store.publish(channel, 'two');
        await eventually(() => second.length === 2, 2000, 'second delivery');
        await sleep(50);
        assert.deepEqual(first, ['one']);
        await offSecond();
        await store.publish(channel, 'three');
        await sleep(50);
        assert.deepEqual(second, ['one', 'two']);
      });

      it('keeps delivering to other listeners when one throws', async () => {
        const channel = key('channel-throw');
        const got: string[] = [];
        const offBad = await peer.subscribe(channel, () => {
          throw new Error('listener bug');
        });
        const offGood = await peer.subscribe(channel, m => got.push(m));
        await store.publish(channel, 'still delivered');
        await eventually(() => got.length === 1, 2000, 'delivery');
        await offBad();
        await offGood();
      });

      it('does not deliver messages of other channels', async () => {
        const channel = key('channel-a');
        const got: string[] = [];
        const off = await peer.subscribe(channel, m => got.push(m));
        await store.publish(key('channel-b'), 'elsewhere');
        await store.publish(channel, 'here');
        await eventually(() => got.length === 1, 2000, 'delivery');
        await sleep(50);
        assert.deepEqual(got, ['here']);
        await off();
      });
    });

    describe('ping', () => {
      it('answers when the backing service is up', async () => {
        await store.ping();
      });
    });
  });
}
