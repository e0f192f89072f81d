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

type Entry =
  | { kind: 'string'; value: string; expiresAt: number }
  | { kind: 'set'; members: Set<string>; expiresAt: number }
  | { kind: 'log'; entries: Array<{ id: string; value: string }>; lastMs: number; lastSeq: number; expiresAt: number };

type Listener = (message: string) => void;

/** Keys, channels and the sweep timer; shared by stores created with `shareWith`. */
class MemoryState {
  readonly entries = new Map<string, Entry>();
  readonly channels = new Map<string, Set<Listener>>();
  private users = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly now: () => number, private readonly sweepIntervalMs: number) {}

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
    const now = this.now();
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** The live entry under `key`, dropping it first when it has expired. */
  live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
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
      const value = entry.kind === 'string' ? entry.value : entry.kind === 'set' ? JSON.stringify([...entry.members].sort()) : JSON.stringify(entry.entries);
      out.set(key, { value, expiresAt: entry.expiresAt });
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
    this.state.entries.set(key, { kind: 'string', value, expiresAt: this.now + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    if (this.state.live(key)) return false;
    this.state.entries.set(key, { kind: 'string', value, expiresAt: this.now + ttlMs });
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
    return entry ? entry.expiresAt - this.now : undefined;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    checkTtl(ttlMs);
    const entry = this.string(key);
    if (!entry) {
      this.state.entries.set(key, { kind: 'string', value: '1', expiresAt: this.now + ttlMs });
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
    const expiresAt = this.now + ttlMs;
    if (!entry) {
      this.state.entries.set(key, { kind: 'set', members: new Set([member]), expiresAt });
      return;
    }
    if (entry.kind !== 'set') throw wrongType(key, 'set');
    entry.members.add(member);
    entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
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
    let entry = this.state.live(key);
    if (!entry) {
      entry = { kind: 'log', entries: [], lastMs: 0, lastSeq: 0, expiresAt: 0 };
      this.state.entries.set(key, entry);
    }
    if (entry.kind !== 'log') throw wrongType(key, 'log');
    // Same id scheme as a Redis stream: `<ms>-<seq>`, strictly increasing even
    // when the clock stands still or steps back.
    const now = this.now;
    const ms = Math.max(now, entry.lastMs);
    const seq = ms === entry.lastMs ? entry.lastSeq + 1 : 0;
    entry.lastMs = ms;
    entry.lastSeq = seq;
    const id = `${ms}-${seq}`;
    entry.entries.push({ id, value });
    if (entry.entries.length > opts.maxLength) entry.entries.splice(0, entry.entries.length - opts.maxLength);
    entry.expiresAt = now + opts.ttlMs;
    return id;
  }

  async readAfter(key: string, afterId: string | undefined): Promise<Array<{ id: string; value: string }>> {
    if (afterId !== undefined) checkLogId(afterId);
    const entry = this.state.live(key);
    if (!entry) return [];
    if (entry.kind !== 'log') throw wrongType(key, 'log');
    if (afterId === undefined) return entry.entries.map(e => ({ ...e }));
    const after = parseLogId(afterId);
    return entry.entries.filter(e => compareLogIds(parseLogId(e.id), after) > 0).map(e => ({ ...e }));
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
