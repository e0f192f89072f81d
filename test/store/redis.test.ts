import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';

import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { freePort } from '../helpers/free-port.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { eventually, storeContract } from './store.contract.js';

/** A logger whose JSON lines land in `lines` (tests read what was logged). */
function captureLogger(level = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    }
  });
  return { logger: createLogger(level, stream), lines };
}

const quiet = createLogger('silent');

/** Makes Redis hold every client's commands for `ms` (CLIENT PAUSE), over a raw socket. */
async function pauseRedis(url: string, ms: number): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', data => (String(data).startsWith('+OK') ? resolve() : reject(new Error(String(data)))));
    socket.write(`CLIENT PAUSE ${ms} ALL\r\n`);
  });
  socket.destroy();
}

async function connected(url: string, options: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}): Promise<RedisStore> {
  const store = new RedisStore({ url, logger: quiet, ...options });
  await store.connect();
  return store;
}

let redis: TestRedis;
before(async () => {
  redis = await startTestRedis();
});
after(async () => {
  await redis?.stop();
});

storeContract('redis', {
  create: () => connected(redis.url),
  createPeer: () => connected(redis.url)
});

describe('RedisStore.replicate (WAIT)', () => {
  it('resolves true at once when no replica is asked for (REDIS_WAIT_REPLICAS=0, the single-Redis default)', async () => {
    const store = await connected(redis.url);
    try {
      await store.set(`test:${process.pid}:wait0`, 'v', 10_000);
      assert.equal(await store.replicate([`test:${process.pid}:wait0`]), true);
    } finally {
      await store.close();
    }
  });

  it('asks Redis to WAIT for the replicas; a Redis without any answers false after the timeout and logs a warning', async t => {
    if (!redis.canRestart) return t.skip('REDIS_URL is external (it may have replicas)');
    const { logger, lines } = captureLogger('info');
    const store = await connected(redis.url, { logger, waitReplicas: 1, waitTimeoutMs: 50 });
    try {
      await store.set(`test:${process.pid}:wait1`, 'v', 10_000);
      assert.equal(await store.replicate([`test:${process.pid}:wait1`]), false);
      const warning = lines.find(l => l.event === 'replication_unconfirmed');
      assert.ok(warning, 'a warning says the write is not confirmed');
      assert.equal(warning.wanted, 1);
      assert.equal(warning.acknowledged, 0);
      assert.equal(await store.replicate([]), true, 'nothing to wait for');
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore failure behaviour', () => {
  /** Asserts that `op` rejects with StoreUnavailableError, within 3 s (a correctness bound, not a benchmark). */
  async function failsFast(what: string, op: () => Promise<unknown>): Promise<void> {
    const started = Date.now();
    await assert.rejects(op(), StoreUnavailableError, `${what} rejects with StoreUnavailableError`);
    const took = Date.now() - started;
    assert.ok(took < 3000, `${what} failed after ${took} ms`);
  }

  it('fails every kind of command fast while Redis is down, and works again after it returns without a new store', async t => {
    if (!redis.canRestart) return t.skip('REDIS_URL is external');
    const store = await connected(redis.url);
    try {
      await store.set('test:failure:k', 'before', 60_000);
      await redis.stop();
      await failsFast('get', () => store.get('test:failure:k'));
      await failsFast('set', () => store.set('test:failure:k', 'v', 1000));
      await failsFast('setIfAbsent', () => store.setIfAbsent('test:failure:nx', 'v', 1000));
      await failsFast('consume', () => store.consume('test:failure:k'));
      await failsFast('increment', () => store.increment('test:failure:n', 1000));
      await failsFast('addToSet', () => store.addToSet('test:failure:s', 'm', 1000));
      await failsFast('append', () => store.append('test:failure:log', 'e', { ttlMs: 1000, maxLength: 10 }));
      await failsFast('readAfter', () => store.readAfter('test:failure:log', undefined));
      await failsFast('publish', () => store.publish('test:failure:c', 'm'));
      await failsFast('subscribe', () => store.subscribe('test:failure:c', () => undefined));
      await failsFast('ping', () => store.ping());
      await failsFast('scan', async () => {
        for await (const _ of store.scan('test:failure:*')) void _;
      });
      await redis.start();
      await eventually(
        () => store.ping().then(
          () => true,
          () => false
        ),
        10_000,
        'the store to reconnect'
      );
      await store.set('test:failure:k', 'after', 60_000);
      assert.equal(await store.get('test:failure:k'), 'after');
    } finally {
      await redis.start();
      await store.close();
    }
  });

  it('fails a command that Redis does not answer within the command timeout', async t => {
    if (!redis.canRestart) return t.skip('REDIS_URL is external');
    // Redis stays connected but stops answering (CLIENT PAUSE): the command must not hang.
    const store = await connected(redis.url, { commandTimeoutMs: 300 });
    try {
      await pauseRedis(redis.url, 1500);
      const started = Date.now();
      await assert.rejects(store.get('test:paused'), StoreUnavailableError);
      const took = Date.now() - started;
      assert.ok(took < 1000, `rejected after ${took} ms`);
      await sleep(1500);
      await eventually(
        () => store.ping().then(
          () => true,
          () => false
        ),
        5000,
        'Redis to answer again'
      );
    } finally {
      await store.close();
    }
  });

  it('keeps a subscription working across a Redis restart', async t => {
    if (!redis.canRestart) return t.skip('REDIS_URL is external');
    const publisher = await connected(redis.url);
    const subscriber = await connected(redis.url);
    const got: string[] = [];
    try {
      await subscriber.subscribe('test:restart:channel', m => got.push(m));
      await publisher.publish('test:restart:channel', 'before');
      await eventually(() => got.includes('before'), 2000, 'delivery before the restart');
      await redis.restart();
      // Publish until the subscriber's connection has come back and re-subscribed.
      let n = 0;
      await eventually(
        async () => {
          await publisher.publish('test:restart:channel', `after-${n++}`).catch(() => undefined);
          return got.some(m => m.startsWith('after-'));
        },
        10_000,
        'delivery after the restart'
      );
    } finally {
      await publisher.close();
      await subscriber.close();
    }
  });

  it('does not crash the process or leak unhandled errors when Redis is unreachable', async () => {
    const port = await freePort(); // nothing listens there
    const { logger, lines } = captureLogger();
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}`, logger });
    void store.connect().catch(() => undefined);
    await assert.rejects(store.ping(), StoreUnavailableError);
    await sleep(300);
    const errors = lines.filter(l => l.level === 50);
    assert.equal(errors.length, 1, 'one error line per outage, not one per retry');
    await store.close();
  });
});

describe('createStore', () => {
  const base = { AUTH_MODE: 'internal', LOG_LEVEL: 'silent' };

  it('uses memory when REDIS_URL is unset and warns that state is lost on restart', async () => {
    const { logger, lines } = captureLogger('info');
    const store = await createStore(loadConfig(base), logger);
    assert.ok(store instanceof MemoryStore);
    const warning = lines.find(l => l.level === 40);
    assert.match(String(warning?.msg), /lost/);
    await store.close();
  });

  it('uses Redis when REDIS_URL is set', async () => {
    const { logger } = captureLogger('info');
    const store = await createStore(loadConfig({ ...base, REDIS_URL: redis.url }), logger);
    assert.equal(store.kind, 'redis');
    await store.ping();
    await store.close();
  });

  it('refuses to start in production when Redis is unreachable, naming REDIS_URL', async () => {
    const port = await freePort();
    const config = loadConfig({ ...base, NODE_ENV: 'production', REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` });
    const started = Date.now();
    await assert.rejects(createStore(config, quiet, { startupTimeoutMs: 500 }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.variable, 'REDIS_URL');
      assert.match(err.message, /unreachable/);
      assert.doesNotMatch(err.message, /hunter2/, 'the password never appears in the message');
      return true;
    });
    assert.ok(Date.now() - started < 3000);
  });

  it('starts in development with a clear warning and connects once Redis appears', async t => {
    if (!redis.canRestart) return t.skip('REDIS_URL is external');
    const { logger, lines } = captureLogger('info');
    await redis.stop();
    let store: Store | undefined;
    try {
      store = await createStore(loadConfig({ ...base, NODE_ENV: 'development', REDIS_URL: redis.url }), logger, { startupTimeoutMs: 300 });
      assert.equal(store.kind, 'redis');
      assert.ok(lines.some(l => l.level === 40 && /unreachable/.test(String(l.msg))));
      await assert.rejects(store.ping(), StoreUnavailableError);
      await redis.start();
      const s = store;
      await eventually(
        () => s.ping().then(
          () => true,
          () => false
        ),
        10_000,
        'the store to connect'
      );
    } finally {
      await redis.start();
      await store?.close();
    }
  });
});
