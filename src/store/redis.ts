/**
 * `RedisStore`: the shared implementation of `Store`, on the official `redis`
 * client (node-redis). Every instance of the server that points at the same
 * Redis sees the same state (DESIGN.md "State"); key names follow
 * `docs/storage-schema.md`.
 *
 * Failure behaviour (store.ts contract, issue 4):
 * - The offline queue is disabled, so a command issued while the connection is
 *   down rejects at once instead of waiting for a reconnect; every command
 *   also carries a timeout (`commandTimeoutMs`), so a command sent to a Redis
 *   that stopped answering rejects too. Both surface as
 *   `StoreUnavailableError`, which the HTTP layer maps to 503.
 * - 'error' events are always handled (an unhandled one would crash the
 *   process) and logged once per outage, not once per retry.
 * - The client reconnects by itself, with capped exponential backoff and
 *   jitter, for ever; node-redis re-sends SUBSCRIBE for every channel after a
 *   reconnect, so subscriptions survive an outage (messages published during
 *   it are lost: pub/sub is fire-and-forget, as the contract says).
 * - Pub/sub uses a dedicated connection (a subscribed Redis connection cannot
 *   run other commands), opened on the first `subscribe`.
 */
import { createClient, ErrorReply } from 'redis';

import type { Logger } from '../logger.js';
import { checkLogId, checkTtl, globToRedisMatch } from './keys.js';
import { StoreUnavailableError, type Store } from './store.js';

export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL (`REDIS_URL`). */
  url: string;
  /** Force TLS even for a `redis://` URL (`REDIS_TLS`). */
  tls?: boolean;
  /** `REDIS_PASSWORD`; overrides a password in the URL. */
  password?: string;
  logger: Logger;
  /** Upper bound for one command, in ms. Default 2000. */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts, in ms. Default 2000. */
  maxReconnectDelayMs?: number;
}

/** The client with this store's failure rules (see the file comment). */
function buildClient(url: string, password: string | undefined, timeoutMs: number, maxDelayMs: number) {
  return createClient({
    url,
    ...(password !== undefined ? { password } : {}),
    disableOfflineQueue: true,
    commandOptions: { timeout: timeoutMs },
    socket: {
      connectTimeout: timeoutMs,
      // Never give up: 50 ms, 100 ms, ... capped, with jitter so that many
      // instances do not reconnect in lockstep.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelayMs) * (0.75 + Math.random() / 2)
    }
  });
}

type Client = ReturnType<typeof buildClient>;

/** The URL with any password replaced, safe for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/** Replies that mean "Redis cannot answer now" rather than "the command is wrong". */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOAUTH|WRONGPASS|NOPERM|OOM)\b/;

function toStoreError(err: unknown): Error {
  if (err instanceof StoreUnavailableError) return err;
  if (err instanceof ErrorReply && !UNAVAILABLE_REPLIES.test(err.message)) return err; // a bug, not an outage
  const reason = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(`redis is unavailable: ${reason}`, { cause: err });
}

/** INCR, and set the TTL only when the counter was just created (fixed window). */
const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** SADD, and raise the TTL to at least ARGV[2] (never shorten it). */
const ADD_TO_SET = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

/** The stream field each log entry's value is stored under. */
const FIELD = 'v';

interface Channel {
  listeners: Set<(message: string) => void>;
  dispatch: (message: string) => void;
  live: Promise<void>;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly url: string;
  private readonly client: Client;
  private subscriber: Client | undefined;
  private subscriberConnecting: Promise<Client> | undefined;
  private readonly channels = new Map<string, Channel>();
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private closed = false;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    this.url = redactRedisUrl(options.url);
    this.logger = options.logger;
    this.timeoutMs = options.commandTimeoutMs ?? 2000;
    this.client = this.newClient('commands');
  }

  private newClient(role: 'commands' | 'subscriber'): Client {
    const { tls, password } = this.options;
    // node-redis refuses `socket.tls: true` with a `redis://` URL: say it with the scheme instead.
    const url = tls && this.options.url.startsWith('redis://') ? `rediss://${this.options.url.slice('redis://'.length)}` : this.options.url;
    const client = buildClient(url, password, this.timeoutMs, this.options.maxReconnectDelayMs ?? 2000);
    let down = false;
    client.on('error', (err: unknown) => {
      if (this.closed) return;
      if (!down) {
        down = true;
        this.logger.error({ err, redis: this.url, connection: role }, 'redis: connection failed; commands fail with 503 until it is back, retrying');
      } else {
        this.logger.debug({ err, redis: this.url, connection: role }, 'redis: still unreachable');
      }
    });
    client.on('ready', () => {
      if (down) this.logger.info({ redis: this.url, connection: role }, 'redis: connection restored');
      down = false;
    });
    return client;
  }

  /**
   * Opens the command connection. Resolves once Redis answers; until then the
   * client keeps retrying in the background. Rejects only if the store is
   * closed first.
   */
  connect(): Promise<void> {
    this.connecting ??= this.client.connect().then(() => undefined);
    return this.connecting;
  }

  /** Runs one operation with the store's failure rules: bounded time, one error type. */
  private async run<T>(op: (client: Client) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    let timer: NodeJS.Timeout | undefined;
    // node-redis enforces the timeout per command; this outer bound also
    // covers scripts, MULTI and anything node-redis might queue.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs + 100);
    });
    try {
      return await Promise.race([op(this.client), deadline]);
    } catch (err) {
      throw toStoreError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.run(c => c.get(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    checkTtl(ttlMs);
    await this.run(c => c.set(key, value, { expiration: { type: 'PX', value: ttlMs } }));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const reply = await this.run(c => c.set(key, value, { expiration: { type: 'PX', value: ttlMs }, condition: 'NX' }));
    return reply === 'OK';
  }

  async consume(key: string): Promise<string | undefined> {
    return (await this.run(c => c.getDel(key))) ?? undefined;
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.run(c => c.del(keys));
  }

  async ttl(key: string): Promise<number | undefined> {
    const ms = await this.run(c => c.pTTL(key));
    if (ms === -2) return undefined;
    return ms === -1 ? Number.POSITIVE_INFINITY : ms; // -1: a key written without TTL by someone else
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    checkTtl(ttlMs);
    return Number(await this.run(c => c.eval(INCREMENT, { keys: [key], arguments: [String(ttlMs)] })));
  }

  async addToSet(key: string, member: string, ttlMs: number): Promise<void> {
    checkTtl(ttlMs);
    await this.run(c => c.eval(ADD_TO_SET, { keys: [key], arguments: [member, String(ttlMs)] }));
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.run(c => c.sRem(key, member));
  }

  async members(key: string): Promise<string[]> {
    return this.run(c => c.sMembers(key));
  }

  async append(key: string, value: string, opts: { ttlMs: number; maxLength: number }): Promise<string> {
    checkTtl(opts.ttlMs);
    if (!Number.isSafeInteger(opts.maxLength) || opts.maxLength < 1) throw new RangeError('maxLength must be a positive integer');
    const replies = await this.run(c =>
      c
        .multi()
        .xAdd(key, '*', { [FIELD]: value }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: opts.maxLength } })
        .pExpire(key, opts.ttlMs)
        .exec()
    );
    return String(replies[0]);
  }

  async readAfter(key: string, afterId: string | undefined): Promise<Array<{ id: string; value: string }>> {
    if (afterId !== undefined) checkLogId(afterId);
    const entries = await this.run(c => c.xRange(key, afterId === undefined ? '-' : `(${afterId}`, '+'));
    return (entries ?? []).map(e => ({ id: e.id, value: String(e.message[FIELD] ?? '') }));
  }

  async *scan(pattern: string): AsyncIterable<string> {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    const seen = new Set<string>(); // SCAN may return a key more than once
    const iterator = this.client.scanIterator({ MATCH: globToRedisMatch(pattern), COUNT: 200 });
    while (true) {
      let step: IteratorResult<string[]>;
      try {
        step = await iterator.next();
      } catch (err) {
        throw toStoreError(err);
      }
      if (step.done) return;
      for (const key of step.value) {
        if (seen.has(key)) continue;
        seen.add(key);
        yield key;
      }
    }
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.run(c => c.publish(channel, message));
  }

  private subscriberClient(): Promise<Client> {
    if (this.subscriber?.isReady) return Promise.resolve(this.subscriber);
    if (!this.subscriberConnecting) {
      const client = (this.subscriber = this.newClient('subscriber'));
      this.subscriberConnecting = client.connect().then(() => client);
      // The first connection may take a while (or never come, during an
      // outage): callers get a bounded wait below, the connection keeps trying.
      this.subscriberConnecting.catch(() => undefined);
    }
    return this.subscriberConnecting;
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    // One Redis subscription per channel; listeners fan out from it, so that
    // removing one listener never depends on a round trip.
    let entry = this.channels.get(channel);
    if (!entry) {
      const listeners = new Set<(message: string) => void>();
      const dispatch = (message: string) => {
        if (this.channels.get(channel) !== entry) return; // a stale registration left after a failed UNSUBSCRIBE
        for (const l of [...listeners]) {
          try {
            l(message);
          } catch (err) {
            this.logger.error({ err, channel }, 'store: a subscriber threw');
          }
        }
      };
      const created: Channel = {
        listeners,
        dispatch,
        live: this.run(async () => {
          const sub = await this.subscriberClient();
          await sub.subscribe(channel, dispatch);
        })
      };
      entry = created;
      this.channels.set(channel, created);
      try {
        await created.live;
      } catch (err) {
        if (this.channels.get(channel) === created) this.channels.delete(channel);
        throw err;
      }
    } else {
      await entry.live;
    }
    const wrapped = (message: string) => listener(message);
    const current = entry;
    current.listeners.add(wrapped);
    return async () => {
      current.listeners.delete(wrapped);
      if (current.listeners.size > 0 || this.channels.get(channel) !== current) return;
      this.channels.delete(channel);
      // Best effort: if Redis is down, the stale registration is ignored by `dispatch`.
      await this.subscriber?.unsubscribe(channel, current.dispatch).catch(() => undefined);
    };
  }

  async ping(): Promise<void> {
    await this.run(c => c.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    for (const client of [this.client, this.subscriber]) {
      if (!client?.isOpen) continue;
      // QUIT when connected (flushes replies), otherwise drop the socket at once.
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    }
  }
}
