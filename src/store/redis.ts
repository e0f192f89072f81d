/**
 * `RedisStore`: the shared implementation of `Store`, on the official `redis`
 * client (node-redis). Every instance of the server that points at the same
 * Redis sees the same state (DESIGN.md "State"); key names follow
 * `docs/storage-schema.md`.
 *
 * Two topologies, one class: a single Redis (`url`, `createClient`; also what
 * a Sentinel-managed primary looks like through a stable address) or a Redis
 * Cluster (`clusterNodes`, `createCluster`). Every operation of the contract
 * touches one key, so each is atomic on whichever node owns that key's slot;
 * keys that are deleted together share a hash tag (docs/storage-schema.md
 * "Redis Cluster"), and `delete` of keys in different slots is split per slot
 * by the client. On a cluster, pub/sub is sharded (SPUBLISH / SSUBSCRIBE)
 * when every node runs Redis ≥ 7.0, classic pub/sub otherwise.
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
import { createClient, createCluster, ErrorReply } from 'redis';

import type { Logger } from '../logger.js';
import { checkLogId, checkTtl, globToRedisMatch } from './keys.js';
import { StoreUnavailableError, type Store } from './store.js';

export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL (`REDIS_URL`); with `clusterNodes`, only used in logs. */
  url: string;
  /**
   * Seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`): when given, the
   * store runs on the cluster and `url` is ignored for connecting. The client
   * discovers the other nodes from any seed that answers.
   */
  clusterNodes?: string[];
  /** Force TLS even for a `redis://` URL (`REDIS_TLS`). */
  tls?: boolean;
  /** `REDIS_PASSWORD`; overrides a password in the URL. */
  password?: string;
  /**
   * Cluster only: how long after a node connection starts failing the client
   * asks the cluster for its topology again (to find a promoted replica). In
   * ms, default 1000.
   */
  topologyRefreshMs?: number;
  logger: Logger;
  /**
   * `REDIS_WAIT_REPLICAS`: how many replicas must acknowledge the writes that
   * `replicate` waits for. Default 0 (no waiting).
   */
  waitReplicas?: number;
  /** `REDIS_WAIT_TIMEOUT_MS`: how long `replicate` waits, in ms. Default 500; keep it below `commandTimeoutMs`. */
  waitTimeoutMs?: number;
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

/** The cluster client with the same failure rules; TLS and credentials go to every node it discovers. */
function buildCluster(nodes: string[], tls: boolean, password: string | undefined, timeoutMs: number, maxDelayMs: number, refreshMs: number) {
  // node-redis only uses the seeds to discover the topology: credentials from a
  // seed URL would not reach the discovered nodes unless given as defaults.
  const seeds = nodes.map(n => new URL(n));
  const withAuth = seeds.find(u => u.password || u.username);
  return createCluster({
    rootNodes: nodes.map(url => ({ url })),
    defaults: {
      ...(withAuth?.username ? { username: decodeURIComponent(withAuth.username) } : {}),
      ...(password !== undefined ? { password } : withAuth?.password ? { password: decodeURIComponent(withAuth.password) } : {}),
      disableOfflineQueue: true,
      socket: {
        connectTimeout: timeoutMs,
        ...(tls ? { tls: true as const } : {}),
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelayMs) * (0.75 + Math.random() / 2)
      }
    },
    commandOptions: { timeout: timeoutMs },
    // A master that stops answering is replaced by its replica after the
    // cluster's node timeout; ask for the new topology soon after.
    topologyRefreshOnReconnectionAttemptStrategy: refreshMs
  });
}

type Client = ReturnType<typeof buildClient>;
type Cluster = ReturnType<typeof buildCluster>;
/** The commands this store sends, which both clients offer with the same signatures. */
type Commands = Pick<Cluster, 'get' | 'set' | 'getDel' | 'del' | 'pTTL' | 'eval' | 'sRem' | 'sMembers' | 'xRange' | 'scan' | 'publish'>;

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

/** XADD with approximate trimming, then PEXPIRE: one key, one atomic step on any topology. */
const APPEND = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', '${FIELD}', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return id`;

interface Channel {
  listeners: Set<(message: string) => void>;
  dispatch: (message: string) => void;
  live: Promise<void>;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  /** `single` (one Redis, `REDIS_URL`) or `cluster` (`REDIS_CLUSTER_NODES`). */
  readonly topology: 'single' | 'cluster';
  /** Where the store points, without passwords (logs, `/ready`, errors). */
  readonly url: string;
  private readonly client: Client | undefined;
  private readonly cluster: Cluster | undefined;
  private readonly commands: Commands;
  private subscriber: Client | undefined;
  private subscriberConnecting: Promise<Client> | undefined;
  /** Cluster: SPUBLISH / SSUBSCRIBE (Redis ≥ 7.0 on every master) rather than cluster-wide PUBLISH. */
  private sharded = false;
  private readonly channels = new Map<string, Channel>();
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private closed = false;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    this.logger = options.logger;
    this.timeoutMs = options.commandTimeoutMs ?? 2000;
    if (options.clusterNodes?.length) {
      this.topology = 'cluster';
      this.url = options.clusterNodes.map(redactRedisUrl).join(',');
      const tls = Boolean(options.tls) || options.clusterNodes.some(n => n.startsWith('rediss://'));
      this.cluster = buildCluster(options.clusterNodes, tls, options.password, this.timeoutMs, options.maxReconnectDelayMs ?? 2000, options.topologyRefreshMs ?? 1000);
      this.watchCluster(this.cluster);
      this.commands = this.cluster;
    } else {
      this.topology = 'single';
      this.url = redactRedisUrl(options.url);
      this.client = this.newClient('commands');
      this.commands = this.client;
    }
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

  /** The cluster's events, logged once per node and outage (an unhandled 'error' would crash the process). */
  private watchCluster(cluster: Cluster): void {
    const down = new Set<string>();
    cluster.on('error', (err: unknown) => {
      if (!this.closed) this.logger.warn({ err, redis: this.url }, 'redis cluster: topology discovery failed, retrying');
    });
    cluster.on('node-error', (err: unknown, node: { host: string; port: number }) => {
      if (this.closed) return;
      const address = `${node.host}:${node.port}`;
      if (down.has(address)) return this.logger.debug({ err, redis: address }, 'redis cluster: node still unreachable');
      down.add(address);
      this.logger.error({ err, redis: address }, 'redis cluster: node connection failed; commands for its slots fail with 503 until it or its replica answers');
    });
    cluster.on('node-ready', (node: { host: string; port: number }) => {
      const address = `${node.host}:${node.port}`;
      if (down.delete(address)) this.logger.info({ redis: address }, 'redis cluster: node connection restored');
    });
  }

  /**
   * Opens the command connection(s). Resolves once Redis answers; until then
   * the client keeps retrying in the background. Rejects only if the store is
   * closed first.
   */
  connect(): Promise<void> {
    this.connecting ??= this.client ? this.client.connect().then(() => undefined) : this.connectCluster();
    return this.connecting;
  }

  /**
   * `createCluster().connect()` gives up when no seed answers; keep trying
   * (as the single client does) until one does or the store is closed.
   */
  private async connectCluster(): Promise<void> {
    const cluster = this.cluster!;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new StoreUnavailableError('store is closed');
      try {
        await cluster.connect();
        break;
      } catch (err) {
        if (attempt === 0) this.logger.error({ err, redis: this.url }, 'redis cluster: no seed node answers; retrying');
        await new Promise(r => setTimeout(r, Math.min(100 * 2 ** Math.min(attempt, 5), this.options.maxReconnectDelayMs ?? 2000)).unref());
      }
    }
    this.sharded = await this.supportsShardedPubSub(cluster);
    this.logger.debug({ redis: this.url, masters: cluster.masters.length, shardedPubSub: this.sharded }, 'redis cluster: connected');
    await this.checkReplicas(cluster);
  }

  /** Says at start-up when a master has fewer replicas than `REDIS_WAIT_REPLICAS` asks for (every wait on it would time out). */
  private async checkReplicas(cluster: Cluster): Promise<void> {
    const wanted = this.options.waitReplicas ?? 0;
    if (wanted <= 0) return;
    for (const m of cluster.masters) {
      const info = await (await cluster.nodeClient(m)).info('replication').catch(() => undefined);
      const replicas = Number(/connected_slaves:(\d+)/.exec(info ?? '')?.[1] ?? NaN);
      if (replicas < wanted) {
        this.logger.warn(
          { redis: m.address, replicas, wanted },
          `redis cluster: master ${m.address} has ${replicas} connected replica(s) but REDIS_WAIT_REPLICAS=${wanted}: tokens, clients and revocations on its slots wait REDIS_WAIT_TIMEOUT_MS and are not confirmed (set REDIS_WAIT_REPLICAS=0 for a cluster without replicas)`
        );
      }
    }
  }

  /** SPUBLISH / SSUBSCRIBE arrived in Redis 7.0; use them only when every master has them. */
  private async supportsShardedPubSub(cluster: Cluster): Promise<boolean> {
    try {
      const versions = await Promise.all(
        cluster.masters.map(async m => /redis_version:(\d+)\./.exec(await (await cluster.nodeClient(m)).info('server'))?.[1])
      );
      return versions.every(v => v !== undefined && Number(v) >= 7);
    } catch {
      return false;
    }
  }

  /** Runs one operation with the store's failure rules: bounded time, one error type. */
  private async run<T>(op: (client: Commands) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    let timer: NodeJS.Timeout | undefined;
    // node-redis enforces the timeout per command; this outer bound also
    // covers scripts, cluster redirections and anything node-redis might queue.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs + 100);
    });
    try {
      return await Promise.race([op(this.commands), deadline]);
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

  /** On a cluster, node-redis sends one DEL per slot and sums the counts: atomic per hash tag, not across slots. */
  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return Number(await this.run(c => c.del(keys)));
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
    return String(await this.run(c => c.eval(APPEND, { keys: [key], arguments: [value, String(opts.ttlMs), String(opts.maxLength)] })));
  }

  async readAfter(key: string, afterId: string | undefined): Promise<Array<{ id: string; value: string }>> {
    if (afterId !== undefined) checkLogId(afterId);
    const entries = await this.run(c => c.xRange(key, afterId === undefined ? '-' : `(${afterId}`, '+'));
    return (entries ?? []).map(e => ({ id: e.id, value: String(e.message[FIELD] ?? '') }));
  }

  /** SCAN MATCH; on a cluster node-redis walks every master behind one cursor. */
  async *scan(pattern: string): AsyncIterable<string> {
    const seen = new Set<string>(); // SCAN may return a key more than once
    let cursor = '0';
    do {
      const reply = await this.run(c => c.scan(cursor, { MATCH: globToRedisMatch(pattern), COUNT: 200 }));
      cursor = String(reply.cursor);
      for (const key of reply.keys) {
        if (seen.has(key)) continue;
        seen.add(key);
        yield key;
      }
    } while (cursor !== '0');
  }

  async publish(channel: string, message: string): Promise<void> {
    const cluster = this.cluster;
    if (cluster && this.sharded) await this.run(() => cluster.sPublish(channel, message));
    else await this.run(c => c.publish(channel, message));
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

  /** SUBSCRIBE on the dedicated connection, or on the cluster (which keeps its own pub/sub connections and moves them on failover). */
  private async listen(channel: string, dispatch: (message: string) => void): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return void (await (await this.subscriberClient()).subscribe(channel, dispatch));
    await this.connect();
    if (this.sharded) await cluster.sSubscribe(channel, dispatch);
    else await cluster.subscribe(channel, dispatch);
  }

  private async unlisten(channel: string, dispatch: (message: string) => void): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return void (await this.subscriber?.unsubscribe(channel, dispatch));
    if (this.sharded) await cluster.sUnsubscribe(channel, dispatch);
    else await cluster.unsubscribe(channel, dispatch as Parameters<Cluster['unsubscribe']>[1]);
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
        live: this.run(() => this.listen(channel, dispatch))
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
      await this.unlisten(channel, current.dispatch).catch(() => undefined);
    };
  }

  /**
   * `WAIT n timeout` on the connection that wrote the keys: the one command
   * connection on a single Redis; on a cluster the connection to each master
   * that owns one of the keys (node-redis keeps one per master, so WAIT counts
   * exactly the writes this store sent there, these keys' among them).
   */
  async replicate(keys: string[]): Promise<boolean> {
    const wanted = this.options.waitReplicas ?? 0;
    if (wanted <= 0 || keys.length === 0) return true;
    const timeoutMs = this.options.waitTimeoutMs ?? 500;
    const acknowledged = await this.run(async () => {
      const cluster = this.cluster;
      const connections = cluster ? [...new Set(await Promise.all(keys.map(k => cluster.getNodeClientForKey(k))))] : [this.client!];
      const replies = await Promise.all(connections.map(c => c.sendCommand<number>(['WAIT', String(wanted), String(timeoutMs)])));
      return Math.min(...replies.map(Number));
    });
    if (acknowledged >= wanted) return true;
    this.logger.warn(
      { event: 'replication_unconfirmed', redis: this.url, wanted, acknowledged, keys: keys.length, waitedMs: timeoutMs },
      'redis: the replicas did not confirm these writes in time; answering anyway (a failover of their master now would lose them)'
    );
    return false;
  }

  /** PING; on a cluster every master must answer (a master that is down and not yet replaced fails readiness). */
  async ping(): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return void (await this.run(() => this.client!.ping()));
    await this.run(async () => {
      if (!cluster.isReady) throw new StoreUnavailableError('redis cluster is not connected');
      await Promise.all(cluster.masters.map(async m => (await cluster.nodeClient(m)).ping()));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    if (this.cluster) {
      if (this.cluster.isOpen) await this.cluster.close().catch(() => this.cluster?.destroy());
      return;
    }
    for (const client of [this.client, this.subscriber]) {
      if (!client?.isOpen) continue;
      // QUIT when connected (flushes replies), otherwise drop the socket at once.
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    }
  }
}
