/**
 * Builds the store the configuration asks for: Redis when `REDIS_URL` (one
 * Redis) or `REDIS_CLUSTER_NODES` (a Redis Cluster) is set (shared by every
 * instance, survives restarts), otherwise this process's memory (state lost
 * on restart, said so at start-up).
 */
import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import { MemoryStore } from './memory.js';
import { RedisStore, type RedisStoreOptions } from './redis.js';
import type { Store } from './store.js';

export { StoreUnavailableError, type Store } from './store.js';

/** The `RedisStore` options for `config.redis` (the server and the troubleshooting CLI). */
export function redisStoreOptions(redis: NonNullable<Config['redis']>, logger: Logger): RedisStoreOptions {
  return {
    url: redis.url,
    tls: redis.tls,
    password: redis.password,
    logger,
    waitReplicas: redis.waitReplicas,
    waitTimeoutMs: redis.waitTimeoutMs,
    ...(redis.clusterNodes ? { clusterNodes: redis.clusterNodes } : {})
  };
}

export interface CreateStoreOptions {
  /** How long start-up waits for Redis, in ms. Default 5000. */
  startupTimeoutMs?: number;
}

export async function createStore(config: Config, logger: Logger, options: CreateStoreOptions = {}): Promise<Store> {
  const log = logger.child({ component: 'store' });
  if (!config.redis) {
    log.warn(
      { storage: 'memory' },
      'storage: in memory. All state (registered clients, tokens, sessions) is lost when this process stops and is not shared with other instances; set REDIS_URL to keep it.'
    );
    return new MemoryStore();
  }

  const store = new RedisStore(redisStoreOptions(config.redis, log));
  const variable = store.topology === 'cluster' ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
  const connected = store.connect();
  const timeoutMs = options.startupTimeoutMs ?? 5000;
  const outcome = await Promise.race([
    connected.then(
      () => 'ready' as const,
      (err: unknown) => err
    ),
    new Promise<'timeout'>(resolve => setTimeout(resolve, timeoutMs, 'timeout').unref())
  ]);
  if (outcome === 'ready') {
    log.info({ storage: 'redis', topology: store.topology, redis: store.url }, store.topology === 'cluster' ? 'storage: redis cluster' : 'storage: redis');
    return store;
  }
  const reason = outcome === 'timeout' ? `no answer within ${timeoutMs} ms` : String(outcome);
  if (config.env === 'production') {
    await store.close();
    throw new ConfigError(
      variable,
      `Redis at ${store.url} is unreachable (${reason}). In production the server does not start without its storage: start Redis, or fix ${variable} (and REDIS_PASSWORD / REDIS_TLS).`
    );
  }
  connected.catch(() => undefined);
  log.warn(
    { storage: 'redis', redis: store.url },
    `storage: Redis at ${store.url} is unreachable (${reason}). Starting anyway (NODE_ENV=${config.env}); requests that need storage answer 503 until it is reachable, and the connection keeps retrying.`
  );
  return store;
}
