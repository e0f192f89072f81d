/**
 * agreeOnSharedSecrets (src/store/shared-secrets.ts) on a real redis-server:
 * instances starting together agree on one value per secret; an explicitly
 * set value wins and is never written to Redis; memory mode needs none; a
 * malformed stored value stops start-up naming the key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import { agreeOnSharedSecrets, SHARED_SECRET_KEYS } from '../../src/store/shared-secrets.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

const log = createLogger('silent');
const EXPLICIT = Buffer.alloc(32, 9).toString('base64url');

describe('shared secrets through Redis', () => {
  let redis: TestRedis;
  const stores: RedisStore[] = [];
  const connect = async () => {
    const s = new RedisStore({ url: redis.url, logger: log });
    await s.connect();
    stores.push(s);
    return s;
  };
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await redis?.stop();
  });
  const purge = async () => (await connect()).delete(...Object.values(SHARED_SECRET_KEYS));

  it('five instances starting at once agree on one value per secret', async () => {
    await purge();
    const config = loadConfig({ REDIS_URL: redis.url });
    const results = await Promise.all(Array.from({ length: 5 }, async () => agreeOnSharedSecrets(config, await connect(), log)));
    for (const r of results) r.stop();
    assert.equal(new Set(results.map(r => r.config.mcp.instanceSecret)).size, 1);
    assert.equal(new Set(results.map(r => r.config.requestStateKey)).size, 1);
    assert.notEqual(results[0]!.config.mcp.instanceSecret, results[0]!.config.requestStateKey);
    assert.ok(Buffer.from(results[0]!.config.requestStateKey!, 'base64url').length >= 32);
  });

  it('an explicitly set value wins and is never written to Redis', async () => {
    await purge();
    const store = await connect();
    const config = loadConfig({ REDIS_URL: redis.url, INSTANCE_SECRET: EXPLICIT, MCP_REQUEST_STATE_KEY: EXPLICIT });
    const r = await agreeOnSharedSecrets(config, store, log);
    r.stop();
    assert.equal(r.config.mcp.instanceSecret, EXPLICIT);
    assert.equal(r.config.requestStateKey, EXPLICIT);
    assert.equal(await store.get(SHARED_SECRET_KEYS.instanceSecret), undefined);
    assert.equal(await store.get(SHARED_SECRET_KEYS.requestStateKey), undefined);
  });

  it('one set, one agreed: only the missing one goes through Redis', async () => {
    await purge();
    const store = await connect();
    const r = await agreeOnSharedSecrets(loadConfig({ REDIS_URL: redis.url, INSTANCE_SECRET: EXPLICIT }), store, log);
    r.stop();
    assert.equal(r.config.mcp.instanceSecret, EXPLICIT);
    assert.equal(r.config.requestStateKey, await store.get(SHARED_SECRET_KEYS.requestStateKey));
    assert.equal(await store.get(SHARED_SECRET_KEYS.instanceSecret), undefined);
  });

  it('a malformed stored value stops start-up, naming the key', async () => {
    await purge();
    const store = await connect();
    await store.set(SHARED_SECRET_KEYS.instanceSecret, 'short', 60_000);
    await assert.rejects(agreeOnSharedSecrets(loadConfig({ REDIS_URL: redis.url }), store, log), /config:instance-secret/);
  });
});

it('memory mode (one process) agrees on nothing', async () => {
  const store = new MemoryStore();
  const config = loadConfig({});
  const r = await agreeOnSharedSecrets(config, store, log);
  assert.equal(r.config, config);
  assert.equal(await store.get(SHARED_SECRET_KEYS.instanceSecret), undefined);
  await store.close();
});
