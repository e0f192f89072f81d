/**
 * Zero-configuration scale-out: instances sharing one Redis agree on the two
 * secrets every instance must hold alike, when the operator did not set them.
 *
 * - `INSTANCE_SECRET` authenticates a 2025-era session request one instance
 *   forwards to the instance that holds the session (docs/architecture.md
 *   "Several instances"); without a shared one, forwarding is off.
 * - `MCP_REQUEST_STATE_KEY` seals 2026-07-28 `requestState`; without a
 *   shared one, a retry that lands on another instance is refused.
 *
 * Each missing one is created once, atomically (`setIfAbsent`: of instances
 * starting together exactly one writes, the others read its value), at
 * `config:{name}`, then read back and used; its lifetime (400 days) is
 * extended at every start, and a running instance re-creates it daily if
 * Redis lost it. A value set explicitly always
 * wins and is never written to Redis. Memory mode (one process) needs none.
 *
 * Trade-off (documented in docs/architecture.md): a secret kept in Redis is
 * readable by whoever can read Redis, who can then forward requests as an
 * instance and seal or open requestState. Set both explicitly to keep them
 * out of Redis.
 */
import { randomBytes } from 'node:crypto';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from './store.js';

export const SHARED_SECRET_KEYS = {
  instanceSecret: 'config:instance-secret',
  requestStateKey: 'config:mcp-request-state-key'
} as const;

/** 400 days, extended at every start and daily: it outlives any deployment's quiet period. */
export const SHARED_SECRET_TTL_MS = 400 * 24 * 3600 * 1000;
const REFRESH_EVERY_MS = 24 * 3600 * 1000;
/** 32 random bytes, base64url: valid for both variables. */
const SHAPE = /^[A-Za-z0-9_-]{43,}$/;

/** The value stored at `key`, created by this call when absent. */
async function agree(store: Store, key: string): Promise<{ value: string; created: boolean }> {
  const candidate = randomBytes(32).toString('base64url');
  const created = await store.setIfAbsent(key, candidate, SHARED_SECRET_TTL_MS);
  const value = created ? candidate : await store.get(key);
  if (value === undefined) return agree(store, key); // expired in between: try again
  if (!SHAPE.test(value)) throw new Error(`${key} in Redis is not a base64url secret of at least 32 bytes: delete it (redis-cli DEL ${key}) or set the variable explicitly`);
  // Extend the lifetime (same value: harmless when several instances do it).
  if (!created) await store.set(key, value, SHARED_SECRET_TTL_MS);
  return { value, created };
}

export interface SharedSecrets {
  /** `config` with the agreed values filled in where they were missing. */
  config: Config;
  /** Stops the daily lifetime extension. */
  stop(): void;
}

export async function agreeOnSharedSecrets(config: Config, store: Store, logger: Logger): Promise<SharedSecrets> {
  const missing = (['instanceSecret', 'requestStateKey'] as const).filter(name =>
    name === 'instanceSecret' ? !config.mcp.instanceSecret : !config.requestStateKey
  );
  if (store.kind !== 'redis' || missing.length === 0) return { config, stop: () => undefined };

  const agreed: Partial<Record<(typeof missing)[number], string>> = {};
  for (const name of missing) {
    const key = SHARED_SECRET_KEYS[name];
    const { value, created } = await agree(store, key);
    agreed[name] = value;
    const variable = name === 'instanceSecret' ? 'INSTANCE_SECRET' : 'MCP_REQUEST_STATE_KEY';
    logger.info(
      { event: 'shared_secret_agreed', variable, key, created },
      `${variable} is not set: using the value shared by every instance through Redis (${created ? 'created it' : 'read it'} at ${key}); set ${variable} explicitly to keep it out of Redis`
    );
  }
  // Daily: re-create a value Redis lost (a flush), never overwrite one that exists.
  const timer = setInterval(() => {
    for (const name of missing) {
      void store.setIfAbsent(SHARED_SECRET_KEYS[name], agreed[name]!, SHARED_SECRET_TTL_MS).catch(err => logger.warn({ err, key: SHARED_SECRET_KEYS[name] }, 'could not check a shared secret'));
    }
  }, REFRESH_EVERY_MS);
  timer.unref();
  return {
    config: {
      ...config,
      requestStateKey: agreed.requestStateKey ?? config.requestStateKey,
      mcp: { ...config.mcp, instanceSecret: agreed.instanceSecret ?? config.mcp.instanceSecret }
    },
    stop: () => clearInterval(timer)
  };
}
