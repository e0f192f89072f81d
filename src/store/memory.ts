/**
 * `MemoryStore`: the single-process implementation of `Store`.
 *
 * It keeps the production limits (STYLE.md habit 7): every key has a TTL, a
 * read never returns an expired value, and a periodic sweep (an unref'd timer,
 * so it never keeps the process alive) drops expired keys nobody reads again,
 * so memory does not grow without bound. Pub/sub is in-process and delivers
 * asynchronously, as Redis does, so callers cannot come to depend on a
 * synchronous delivery that Redis would not give them.
 *
 * State is lost when the process stops; `createStore` says so at start-up.
 */
import { checkLogId, checkTtl, compareLogIds, globToRegExp, parseLogId } from './keys.js';
import type { Store } from './store.js';

export interface MemoryStoreOptions {
  /** Clock in ms since the epoch (tests freeze it). Default `Date.now`. */
  now?: () => number;
  /**
   * How often expired keys are swept, in ms. Default 5 000: a busy session
   * expires thousands of finished stream logs a second, and until swept they
   * stay in the map and on the heap the collector walks.
   */
  sweepIntervalMs?: number;
  /**
   * Share keys and channels with another `MemoryStore` in the same process,
   * as two instances share one Redis (tests of cross-instance behaviour).
   */
  shareWith?: MemoryStore;
}

/**
 * Every entry's `expires` is when it expires in ms after the state's epoch
 * (`MemoryState.epoch`): a small integer, which V8 keeps in the object,
 * where an epoch time in ms would be a separate boxed number per entry.
 */

type Entry =
  | { kind: 'string'; value: string; expires: number }
  | { kind: 'set'; members: Set<string>; expires: number }
  | LogEntry;

/**
 * A log (`append` / `readAfter`), kept with as few heap objects as possible:
 * the event logs of resumable streams hold every finished request for its
 * retention time (src/store/event-store.ts), tens of thousands of logs under
 * load, and every object they hold is promoted and marked by the old-generation
 * collector until it expires (docs/performance.md). A log of one entry (a
 * finished request's stream: its response) keeps it in the object itself
 * (`only`, its id being the last id); longer logs keep their entries flat,
 * `[ms, seq, value, ms, seq, value, …]`. `ms` is an offset from the state's
 * epoch (a small integer, not a boxed double), and ids are formatted
 * (`<ms>-<seq>`) when read.
 */
interface LogEntry {
  kind: 'log';
  /** The value of a log's single entry; undefined once it has more (then `items`). */
  only: string | undefined;
  items: Array<number | string> | undefined;
  /** The last id's ms (offset from the epoch) and sequence number. */
  lastMs: number;
  lastSeq: number;
  expires: number;
}

type Listener = (message: string) => void;

/** Keys, channels and the sweep timer; shared by stores created with `shareWith`. */
class MemoryState {
  readonly entries = new Map<string, Entry>();
  readonly channels = new Map<string, Set<Listener>>();
  /** Log ids' ms are kept as offsets from this (see LogEntry). */
  readonly epoch: number;
  private users = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly now: () => number, private readonly sweepIntervalMs: number) {
    this.epoch = now();
  }

  /** A log's entries as `{ id, value }`, those after `after` only when given. */
  logEntries(entry: LogEntry, after?: [number, number]): Array<{ id: string; value: string }> {
    const out: Array<{ id: string; value: string }> = [];
    if (entry.only !== undefined) {
      const ms = this.epoch + entry.lastMs;
      if (!after || compareLogIds([ms, entry.lastSeq], after) > 0) out.push({ id: `${ms}-${entry.lastSeq}`, value: entry.only });
      return out;
    }
    const items = entry.items!;
    for (let i = 0; i < items.length; i += 3) {
      const ms = this.epoch + (items[i] as number);
      const seq = items[i + 1] as number;
      if (after && compareLogIds([ms, seq], after) <= 0) continue;
      out.push({ id: `${ms}-${seq}`, value: items[i + 2] as string });
    }
    return out;
  }

  acquire(): void {
    if (this.users++ === 0) {
      this.timer = setInterval(() => this.sweep(), this.sweepIntervalMs);
      this.timer.unref();
    }
  }

  release(): void {
    if (--this.users === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Drops every expired key; returns how many were dropped. */
  sweep(): number {
    const now = this.now() - this.epoch;
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expires <= now) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** The live entry under `key`, dropping it first when it has expired. */
  live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expires <= this.now() - this.epoch) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

function wrongType(key: string, expected: Entry['kind']): Error {
  return new TypeError(`WRONGTYPE: key ${JSON.stringify(key)} does not hold a ${expected}`);
}

export class MemoryStore implements Store {
  /** One process, nothing to replicate. */
  async replicate(_keys: string[]): Promise<boolean> {
    return true;
  }

  readonly kind = 'memory' as const;
  private readonly state: MemoryState;
  private closed = false;
  /** This store's own subscriptions, dropped on close. */
  private readonly unsubscribers = new Set<() => Promise<void>>();

  constructor(options: MemoryStoreOptions = {}) {
    this.state = options.shareWith?.state ?? new MemoryState(options.now ?? Date.now, options.sweepIntervalMs ?? 5_000);
    this.state.acquire();
  }

  /** Number of keys currently held, expired or not (tests of the sweep). */
  get size(): number {
    return this.state.entries.size;
  }

  /**
   * Every live key, its value as text (sets sorted, logs as their entries) and
   * when it expires (tests: the fuzzer checks that a rejected request changed
   * nothing by comparing two snapshots; a key that merely expired in between
   * is not a change).
   */
  snapshot(): Map<string, { value: string; expiresAt: number }> {
    const out = new Map<string, { value: string; expiresAt: number }>();
    for (const key of [...this.state.entries.keys()].sort()) {
      const entry = this.state.live(key);
      if (!entry) continue;
      const value = entry.kind === 'string' ? entry.value : entry.kind === 'set' ? JSON.stringify([...entry.members].sort()) : JSON.stringify(this.state.logEntries(entry));
      out.set(key, { value, expiresAt: this.state.epoch + entry.expires });
    }
    return out;
  }

  /** Drops expired keys now instead of waiting for the timer (tests). */
  sweep(): number {
    return this.state.sweep();
  }

  private get now(): number {
    return this.state.now();
  }

  /** Now, in ms after the state's epoch (what entries' `expires` count in). */
  private get clock(): number {
    return this.state.now() - this.state.epoch;
  }

  private string(key: string): Extract<Entry, { kind: 'string' }> | undefined {
    const entry = this.state.live(key);
    if (entry && entry.kind !== 'string') throw wrongType(key, 'string');
    return entry;
  }

  async get(key: string): Promise<string | undefined> {
    return this.string(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    checkTtl(ttlMs);
    this.state.entries.set(key, { kind: 'string', value, expires: this.clock + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    if (this.state.live(key)) return false;
    this.state.entries.set(key, { kind: 'string', value, expires: this.clock + ttlMs });
    return true;
  }

  async consume(key: string): Promise<string | undefined> {
    const entry = this.string(key);
    if (!entry) return undefined;
    this.state.entries.delete(key);
    return entry.value;
  }

  async delete(...keys: string[]): Promise<number> {
    let existed = 0;
    for (const key of keys) {
      if (this.state.live(key)) {
        this.state.entries.delete(key);
        existed++;
      }
    }
    return existed;
  }

  async ttl(key: string): Promise<number | undefined> {
    const entry = this.state.live(key);
    return entry ? entry.expires - this.clock : undefined;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    checkTtl(ttlMs);
    const entry = this.string(key);
    if (!entry) {
      this.state.entries.set(key, { kind: 'string', value: '1', expires: this.clock + ttlMs });
      return 1;
    }
    const n = Number(entry.value);
    if (!Number.isSafeInteger(n)) throw new TypeError(`key ${JSON.stringify(key)} does not hold an integer`);
    entry.value = String(n + 1);
    return n + 1;
  }

  async addToSet(key: string, member: string, ttlMs: number): Promise<void> {
    checkTtl(ttlMs);
    const entry = this.state.live(key);
    const expires = this.clock + ttlMs;
    if (!entry) {
      this.state.entries.set(key, { kind: 'set', members: new Set([member]), expires });
      return;
    }
    if (entry.kind !== 'set') throw wrongType(key, 'set');
    entry.members.add(member);
    entry.expires = Math.max(entry.expires, expires);
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    const entry = this.state.live(key);
    if (!entry) return;
    if (entry.kind !== 'set') throw wrongType(key, 'set');
    entry.members.delete(member);
    if (entry.members.size === 0) this.state.entries.delete(key); // as Redis does
  }

  async members(key: string): Promise<string[]> {
    const entry = this.state.live(key);
    if (!entry) return [];
    if (entry.kind !== 'set') throw wrongType(key, 'set');
    return [...entry.members];
  }

  async append(key: string, value: string, opts: { ttlMs: number; maxLength: number }): Promise<string> {
    checkTtl(opts.ttlMs);
    if (!Number.isSafeInteger(opts.maxLength) || opts.maxLength < 1) throw new RangeError('maxLength must be a positive integer');
    const entry = this.state.live(key);
    // Same id scheme as a Redis stream: `<ms>-<seq>`, strictly increasing even
    // when the clock stands still or steps back.
    const now = this.now;
    const { epoch } = this.state;
    if (!entry) {
      const ms = Math.max(now, 0);
      const seq = ms === 0 ? 1 : 0;
      this.state.entries.set(key, { kind: 'log', only: value, items: undefined, lastMs: ms - epoch, lastSeq: seq, expires: now - epoch + opts.ttlMs });
      return `${ms}-${seq}`;
    }
    if (entry.kind !== 'log') throw wrongType(key, 'log');
    const lastMs = epoch + entry.lastMs;
    const ms = Math.max(now, lastMs);
    const seq = ms === lastMs ? entry.lastSeq + 1 : 0;
    let items = entry.items;
    if (items === undefined) {
      items = entry.items = [entry.lastMs, entry.lastSeq, entry.only!, ms - epoch, seq, value];
      entry.only = undefined;
    } else items.push(ms - epoch, seq, value);
    if (items.length > 3 * opts.maxLength) items.splice(0, items.length - 3 * opts.maxLength);
    entry.lastMs = ms - epoch;
    entry.lastSeq = seq;
    entry.expires = now - epoch + opts.ttlMs;
    return `${ms}-${seq}`;
  }

  async readAfter(key: string, afterId: string | undefined): Promise<Array<{ id: string; value: string }>> {
    if (afterId !== undefined) checkLogId(afterId);
    const entry = this.state.live(key);
    if (!entry) return [];
    if (entry.kind !== 'log') throw wrongType(key, 'log');
    return this.state.logEntries(entry, afterId === undefined ? undefined : parseLogId(afterId));
  }

  async *scan(pattern: string): AsyncIterable<string> {
    const re = globToRegExp(pattern);
    for (const key of [...this.state.entries.keys()]) {
      if (re.test(key) && this.state.live(key)) yield key;
    }
  }

  async publish(channel: string, message: string): Promise<void> {
    const listeners = this.state.channels.get(channel);
    if (!listeners) return;
    // Snapshot now (who is subscribed at publish time), deliver later.
    for (const listener of [...listeners]) {
      setImmediate(() => {
        try {
          listener(message);
        } catch {
          // A throwing listener must not break delivery to the others (Redis
          // clients behave the same way); listeners log their own failures.
        }
      });
    }
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    // Wrap so that the same function subscribed twice gets two deliveries and
    // two independent unsubscribes.
    const wrapped: Listener = message => listener(message);
    let listeners = this.state.channels.get(channel);
    if (!listeners) this.state.channels.set(channel, (listeners = new Set()));
    listeners.add(wrapped);
    const unsubscribe = async () => {
      this.unsubscribers.delete(unsubscribe);
      const current = this.state.channels.get(channel);
      if (!current) return;
      current.delete(wrapped);
      if (current.size === 0) this.state.channels.delete(channel);
    };
    this.unsubscribers.add(unsubscribe);
    return unsubscribe;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const unsubscribe of [...this.unsubscribers]) await unsubscribe();
    this.state.release();
  }
}
