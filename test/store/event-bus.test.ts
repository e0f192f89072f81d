import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { ServerEvent } from '@modelcontextprotocol/server';

import { createLogger } from '../../src/logger.js';
import { StoreEventBus, createStoreEventBus } from '../../src/store/event-bus.js';
import { MemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { forEachStore } from './harnesses.js';
import { eventually } from './store.contract.js';

const logger = createLogger('silent');

forEachStore((name, harness) => {
  describe(`StoreEventBus on ${name}`, () => {
    let store: Store;
    let peer: Store;
    before(async () => {
      store = await harness.create();
      peer = await harness.createPeer(store);
    });
    after(async () => {
      await peer?.close();
      await store?.close();
    });

    it('delivers an event raised on instance A to listeners on instance B, and once to A', async () => {
      const channel = `test:bus:${randomUUID()}`;
      const a = await createStoreEventBus(store, { logger, channel });
      const b = await createStoreEventBus(peer, { logger, channel });
      const onA: ServerEvent[] = [];
      const onB: ServerEvent[] = [];
      a.subscribe(e => onA.push(e));
      b.subscribe(e => onB.push(e));
      a.publish({ kind: 'tools_list_changed' });
      assert.deepEqual(onA, [{ kind: 'tools_list_changed' }], 'delivered locally at once, like InMemoryServerEventBus');
      a.publish({ kind: 'resource_updated', uri: 'demo://resource/1', params: { uri: 'demo://resource/1', title: 'One' } });
      await eventually(() => onB.length === 2, 2000, 'both events on B');
      assert.deepEqual(onB, [{ kind: 'tools_list_changed' }, { kind: 'resource_updated', uri: 'demo://resource/1', params: { uri: 'demo://resource/1', title: 'One' } }]);
      await sleep(50);
      assert.equal(onA.length, 2, 'A does not get its own broadcast back');
      await a.close();
      await b.close();
    });

    it("carries a per-caller event's audience to the other instance (client test bench list changes)", async () => {
      const channel = `test:bus:${randomUUID()}`;
      const a = await createStoreEventBus(store, { logger, channel });
      const b = await createStoreEventBus(peer, { logger, channel });
      const onB: Array<[string, string | undefined]> = [];
      b.subscribe((e, audience) => onB.push([e.kind, audience]));
      a.publish({ kind: 'tools_list_changed' }, 'demo-user:alice');
      a.publish({ kind: 'prompts_list_changed' });
      await eventually(() => onB.length === 2, 2000, 'both events on B');
      assert.deepEqual(onB, [
        ['tools_list_changed', 'demo-user:alice'],
        ['prompts_list_changed', undefined]
      ]);
      await a.close();
      await b.close();
    });

    it('stops delivering after unsubscribe, and unsubscribing twice is harmless', async () => {
      const channel = `test:bus:${randomUUID()}`;
      const a = await createStoreEventBus(store, { logger, channel });
      const b = await createStoreEventBus(peer, { logger, channel });
      const got: ServerEvent[] = [];
      const off = b.subscribe(e => got.push(e));
      a.publish({ kind: 'prompts_list_changed' });
      await eventually(() => got.length === 1, 2000, 'first event');
      off();
      off();
      a.publish({ kind: 'prompts_list_changed' });
      await sleep(100);
      assert.equal(got.length, 1);
      await a.close();
      await b.close();
    });

    it('ignores malformed messages on the channel', async () => {
      const channel = `test:bus:${randomUUID()}`;
      const b = await createStoreEventBus(peer, { logger, channel });
      const got: ServerEvent[] = [];
      b.subscribe(e => got.push(e));
      for (const junk of ['not json', '{}', JSON.stringify({ origin: 'x', event: { kind: 'format_disk' } }), JSON.stringify({ origin: 'x', event: { kind: 'resource_updated' } })]) {
        await store.publish(channel, junk);
      }
      await store.publish(channel, JSON.stringify({ origin: 'elsewhere', event: { kind: 'resources_list_changed' } }));
      await eventually(() => got.length === 1, 2000, 'the valid event');
      assert.deepEqual(got, [{ kind: 'resources_list_changed' }]);
      await b.close();
    });
  });
});

describe('StoreEventBus when the store is down', () => {
  it('still delivers locally and does not leak an unhandled rejection', async () => {
    const broken = new MemoryStore();
    broken.publish = async () => {
      throw new StoreUnavailableError();
    };
    const bus = new StoreEventBus(broken, { logger });
    const got: ServerEvent[] = [];
    bus.subscribe(e => got.push(e));
    bus.publish({ kind: 'tools_list_changed' });
    await sleep(20);
    assert.deepEqual(got, [{ kind: 'tools_list_changed' }]);
    await bus.close();
    await broken.close();
  });
});
