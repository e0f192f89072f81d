/**
 * The two `Store` implementations as test harnesses, for suites that must
 * hold for both (event store, event bus). Redis is a real redis-server
 * started once per test file (or `REDIS_URL`).
 */
import { after, before } from 'node:test';

import { createLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import type { StoreHarness } from './store.contract.js';

export const memoryHarness: StoreHarness = {
  create: async () => new MemoryStore(),
  createPeer: async store => new MemoryStore({ shareWith: store as MemoryStore })
};

/** Starts redis-server for this file (root hooks) and returns a harness on it. */
export function redisHarness(): StoreHarness {
  let redis: TestRedis | undefined;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  const connect = async () => {
    if (!redis) throw new Error('redis harness used before its before() hook ran');
    const store = new RedisStore({ url: redis.url, logger: createLogger('silent') });
    await store.connect();
    return store;
  };
  return { create: connect, createPeer: connect };
}

/** Runs `suite` once per implementation. */
export function forEachStore(suite: (name: string, harness: StoreHarness) => void): void {
  suite('memory', memoryHarness);
  suite('redis', redisHarness());
}
