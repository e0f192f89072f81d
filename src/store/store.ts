/**
 * The one storage seam of the project (DESIGN.md "State").
 *
 * Every piece of shared state (OAuth records, rate-limit counters, session
 * ownership, resumable-stream events, the cross-instance message bus) goes
 * through this interface. Two implementations exist: `MemoryStore` (one
 * process, state lost on restart) and `RedisStore` (shared by every instance).
 * One contract test suite (`test/store/store.contract.ts`) runs against both.
 *
 * Contract, for every implementation:
 * - Values are strings. Callers serialize (JSON) and validate (zod) themselves.
 * - Every write that creates a key takes a TTL in milliseconds (a positive
 *   whole number; anything else rejects with `RangeError`); nothing lives
 *   forever. A read never returns an expired value.
 * - `consume` is atomic: of N concurrent callers for one key, exactly one gets
 *   the value and the others get `undefined` (single-use codes, rotation).
 * - `setIfAbsent` is atomic: exactly one of N concurrent callers wins.
 * - `increment` is atomic; the TTL is set when the counter is created and not
 *   extended by later increments (fixed-window rate limits).
 * - Keys are plain strings following `docs/storage-schema.md`; they hold hashes
 *   of secrets, never secrets.
 * - When the backing service is unreachable, methods reject with
 *   `StoreUnavailableError` within a bounded time; they never hang.
 */
export interface Store {
  /** Which implementation this is, for logs, `/ready` and start-up messages. */
  readonly kind: 'memory' | 'redis';

  get(key: string): Promise<string | undefined>;
  /** Writes unconditionally, replacing any value and TTL. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Writes only when the key does not exist. Resolves true when this call wrote. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Atomically reads and deletes. */
  consume(key: string): Promise<string | undefined>;
  /** Deletes keys; resolves with how many existed. */
  delete(...keys: string[]): Promise<number>;
  /** Remaining time to live in ms, or undefined when the key does not exist (Infinity for a key someone wrote without TTL, Redis only). */
  ttl(key: string): Promise<number | undefined>;

  /** Atomic counter; TTL applied only when the counter is created. */
  increment(key: string, ttlMs: number): Promise<number>;

  /** Set membership (e.g. grant -> token hashes). TTL is (re)set to at least `ttlMs` on every add. */
  addToSet(key: string, member: string, ttlMs: number): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;

  /**
   * Append-only log per key (resumable SSE streams). Each entry gets an id
   * `<ms>-<seq>` (a Redis stream id) that sorts after every earlier id of the
   * same log, comparing ms then seq as numbers. Old entries are trimmed, always
   * keeping at least the newest `maxLength` (Redis trims approximately, in
   * whole stream nodes; memory exactly). The log expires `ttlMs` after the
   * last append.
   */
  append(key: string, value: string, opts: { ttlMs: number; maxLength: number }): Promise<string>;
  /**
   * Entries strictly after `afterId` (all entries when `afterId` is undefined),
   * oldest first; [] for a missing log. Rejects with `RangeError` when
   * `afterId` is not of the `<ms>-<seq>` shape.
   */
  readAfter(key: string, afterId: string | undefined): Promise<Array<{ id: string; value: string }>>;

  /** Keys matching a glob where only `*` is special (troubleshooting CLI only: never on a hot path). Each key once. */
  scan(pattern: string): AsyncIterable<string>;

  /** Fire-and-forget broadcast to every instance (including this one). Messages never carry secrets. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Resolves once the subscription is live; the returned function unsubscribes.
   * Delivery is asynchronous; a throwing listener does not stop delivery to
   * others. Subscriptions survive a Redis reconnect (messages published while
   * it was down are lost).
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;

  /**
   * Waits, for a bounded time, until the writes made so far to `keys` (sets
   * and deletes alike) have reached the replicas the deployment asks for:
   * Redis `WAIT` on each master that owns one of the keys
   * (`REDIS_WAIT_REPLICAS`, `REDIS_WAIT_TIMEOUT_MS`). Called before an answer
   * that hands out something the client will rely on (tokens, a registered
   * client, a revocation), so that a failover right after the answer does not
   * undo it. Resolves true when every replica asked for confirmed; false (and
   * a warning is logged) when they did not in time: the answer still goes
   * out, because refusing it would turn a missing replica into an outage.
   * Memory, and Redis with `REDIS_WAIT_REPLICAS=0`: true at once.
   */
  replicate(keys: string[]): Promise<boolean>;

  /** Round trip to the backing service (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The backing service cannot answer now. Mapped to 503 + Retry-After, never to 401/400. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'store_unavailable';
  constructor(message = 'storage is unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for a `StoreUnavailableError`, also one from another copy of this module (matched by its stable code). */
export function isStoreUnavailable(err: unknown): boolean {
  return err instanceof StoreUnavailableError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'store_unavailable');
}
