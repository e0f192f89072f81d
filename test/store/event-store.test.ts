import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { EventId, JSONRPCMessage } from '@modelcontextprotocol/server';

import { StoreEventStore, parseEventId, streamLogKey } from '../../src/store/event-store.js';
import type { Store } from '../../src/store/store.js';
import { forEachStore } from './harnesses.js';

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `event ${n}` } });

async function replay(es: StoreEventStore, lastEventId: EventId) {
  const sent: Array<{ id: EventId; message: JSONRPCMessage }> = [];
  const streamId = await es.replayEventsAfter(lastEventId, { send: async (id, message) => void sent.push({ id, message }) });
  return { streamId, sent };
}

forEachStore((name, harness) => {
  describe(`StoreEventStore on ${name}`, () => {
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

    it('replays, on another instance, the events written after the given id, in order', async () => {
      const session = randomUUID();
      const a = new StoreEventStore(store, session);
      const b = new StoreEventStore(peer, session);
      const ids: EventId[] = [];
      for (let i = 0; i < 5; i++) ids.push(await a.storeEvent('stream-1', note(i)));
      assert.equal(await b.getStreamIdForEventId(ids[1]!), 'stream-1');
      const { streamId, sent } = await replay(b, ids[1]!);
      assert.equal(streamId, 'stream-1');
      assert.deepEqual(
        sent.map(s => s.id),
        ids.slice(2)
      );
      assert.deepEqual(
        sent.map(s => s.message),
        [note(2), note(3), note(4)]
      );
    });

    it('encodes the stream id in every event id', async () => {
      const es = new StoreEventStore(store, randomUUID());
      const id = await es.storeEvent('_GET_stream', note(0));
      assert.deepEqual(parseEventId(id)?.streamId, '_GET_stream');
    });

    it('does not redeliver priming events', async () => {
      const es = new StoreEventStore(store, randomUUID());
      const priming = await es.storeEvent('s', {} as JSONRPCMessage);
      await es.storeEvent('s', note(1));
      const second = await es.storeEvent('s', {} as JSONRPCMessage);
      await es.storeEvent('s', note(2));
      const { sent } = await replay(es, priming);
      assert.deepEqual(
        sent.map(s => s.message),
        [note(1), note(2)]
      );
      assert.ok(!sent.some(s => s.id === second));
    });

    it("writes nothing for a request stream's priming event, yet its id resumes the stream from the start", async () => {
      const session = randomUUID();
      const es = new StoreEventStore(store, session);
      const priming = await es.storeEvent('post-1', {} as JSONRPCMessage);
      assert.deepEqual(await store.readAfter(streamLogKey(session, 'post-1'), undefined), [], 'no store write for the priming event');
      assert.equal(await es.getStreamIdForEventId(priming), 'post-1', 'in flight, nothing stored yet: still resumable');
      assert.deepEqual((await replay(es, priming)).sent, []);
      const progress = await es.storeEvent('post-1', note(1));
      const result = await es.storeEvent('post-1', { jsonrpc: '2.0', id: 3, result: {} } as JSONRPCMessage);
      const { streamId, sent } = await replay(es, priming);
      assert.equal(streamId, 'post-1');
      assert.deepEqual(
        sent.map(s => s.id),
        [progress, result]
      );
      assert.equal(await new StoreEventStore(store, randomUUID()).getStreamIdForEventId(priming), undefined, 'another session does not know it');
      await es.clear();
      assert.equal(await es.getStreamIdForEventId(priming), undefined, 'the session ended: gone');
    });

    it('stores the standalone stream\'s priming events (it is primed again mid-log at each reconnection)', async () => {
      const session = randomUUID();
      const es = new StoreEventStore(store, session);
      await es.storeEvent('_GET_stream', {} as JSONRPCMessage);
      await es.storeEvent('_GET_stream', note(1));
      const again = await es.storeEvent('_GET_stream', {} as JSONRPCMessage);
      await es.storeEvent('_GET_stream', note(2));
      assert.equal((await store.readAfter(streamLogKey(session, '_GET_stream'), undefined)).length, 4);
      assert.deepEqual(
        (await replay(es, again)).sent.map(s => s.message),
        [note(2)]
      );
    });

    it('keeps streams and sessions apart, even for the shared _GET_stream id', async () => {
      const [s1, s2] = [randomUUID(), randomUUID()];
      const one = new StoreEventStore(store, s1);
      const two = new StoreEventStore(store, s2);
      const first = await one.storeEvent('_GET_stream', note(1));
      await one.storeEvent('_GET_stream', note(2));
      await one.storeEvent('other', note(99));
      await two.storeEvent('_GET_stream', note(3));
      const { sent } = await replay(one, first);
      assert.deepEqual(
        sent.map(s => s.message),
        [note(2)]
      );
      assert.equal(await two.getStreamIdForEventId(await one.storeEvent('only-in-one', note(4))), undefined, 'an event id of session 1 does not resolve in session 2');
    });

    it('answers undefined for a malformed event id, and replay rejects it', async () => {
      const es = new StoreEventStore(store, randomUUID());
      for (const bad of ['', 'nonsense', '::1-0', 'stream::abc', 'a b::1-0', `${'x'.repeat(200)}::1-0`]) {
        assert.equal(await es.getStreamIdForEventId(bad), undefined, JSON.stringify(bad));
        await assert.rejects(replay(es, bad), RangeError);
      }
    });

    it('answers undefined for an event id whose stream has expired', async () => {
      const es = new StoreEventStore(store, randomUUID(), { ttlMs: 50 });
      const id = await es.storeEvent('s', note(1));
      assert.equal(await es.getStreamIdForEventId(id), 's');
      await sleep(120);
      assert.equal(await es.getStreamIdForEventId(id), undefined);
    });

    it("keeps a request stream only completedTtlMs once its response is in, and the standalone stream its full TTL", async () => {
      const es = new StoreEventStore(store, randomUUID(), { ttlMs: 60_000, completedTtlMs: 1_000 });
      const key = (stream: string) => streamLogKey((es as unknown as { sessionId: string }).sessionId, stream);
      await es.storeEvent('post-1', {} as JSONRPCMessage); // priming
      await es.storeEvent('post-1', note(1)); // progress, mid-request
      assert.ok((await store.ttl(key('post-1')))! > 30_000, 'in flight: the full TTL');
      const last = await es.storeEvent('post-1', { jsonrpc: '2.0', id: 7, result: { content: [] } } as JSONRPCMessage);
      const ttl = (await store.ttl(key('post-1')))!;
      assert.ok(ttl > 0 && ttl <= 1_000, `completed: at most completedTtlMs, got ${ttl}`);
      assert.equal(await es.getStreamIdForEventId(last), 'post-1', 'still resumable meanwhile');
      await es.storeEvent('post-2', { jsonrpc: '2.0', id: 8, error: { code: -32602, message: 'bad' } } as JSONRPCMessage);
      assert.ok((await store.ttl(key('post-2')))! <= 1_000, 'an error response completes the stream too');
      await es.storeEvent('_GET_stream', { jsonrpc: '2.0', id: 9, result: {} } as JSONRPCMessage);
      assert.ok((await store.ttl(key('_GET_stream')))! > 30_000, 'the standalone stream keeps the full TTL');
    });

    it('clear() deletes the logs of the most recent streams (at most 8), leaving older ones to their TTL', async () => {
      const session = randomUUID();
      const es = new StoreEventStore(store, session);
      const streams = Array.from({ length: 10 }, (_, i) => `s${i}`);
      for (const s of streams) await es.storeEvent(s, note(1));
      await es.storeEvent('s9', note(2)); // a stream written twice counts once
      await es.clear();
      const left = [];
      for (const s of streams) if ((await store.ttl(streamLogKey(session, s))) !== undefined) left.push(s);
      assert.deepEqual(left, ['s0', 's1']);
      await es.clear(); // nothing left to delete: no error
    });

    it('writes its logs under mcp:session:{sessionId}:stream:{streamId}', async () => {
      const session = randomUUID();
      const es = new StoreEventStore(store, session);
      await es.storeEvent('s', note(1));
      assert.equal((await store.readAfter(streamLogKey(session, 's'), undefined)).length, 1);
      assert.equal(streamLogKey(session, 's'), `mcp:session:{${session}}:stream:s`);
    });
  });
});
