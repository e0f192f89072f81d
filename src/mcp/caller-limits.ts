/**
 * Limits on what one caller can hold on this instance, and a ceiling for
 * everyone, so that one token cannot exhaust the process's memory (issue: one
 * token opened 5,000 sessions in 13 s, 111 MB -> 850 MB RSS).
 *
 * A `CallerQuota` counts one kind of long-lived resource (2025-era sessions,
 * open streams; the same pattern serves tasks) per subject, per OAuth client
 * and in total. `admit` answers which limit a new one would break, `acquire`
 * takes a slot and returns its release (idempotent). Counts are per process:
 * what they protect, memory, is per process too; with N instances a caller
 * may hold N times as many in all.
 *
 * What the endpoints do over a limit (docs/architecture.md "Limits"):
 * - the total: 503 + Retry-After (the instance is full; another instance
 *   or a later retry may have room);
 * - a subject's session limit: the caller's own least recently used session
 *   is closed to make room (clients rarely DELETE sessions, so a user who
 *   leaked sessions is never locked out by them, and nobody else is touched);
 *   when none can be closed, 429 + Retry-After;
 * - a client's session limit, and every stream limit: 429 + Retry-After
 *   (closing would hit other users of the same client, or a stream the caller
 *   is reading).
 */
import type { CallerLimits } from '../config.js';

export type LimitBroken = 'subject' | 'client' | 'total';

export interface Caller {
  /** Token subject ('' when authorization is off). */
  subject: string;
  /** OAuth client id ('' when unknown). */
  clientId: string;
}

/** Seconds a refused caller is told to wait (429 and 503). */
export const LIMIT_RETRY_AFTER_SECONDS = 10;

export class CallerQuota {
  private total = 0;
  private readonly bySubject = new Map<string, number>();
  private readonly byClient = new Map<string, number>();

  constructor(
    /** What is counted, for logs ("session", "stream", "task"). */
    readonly name: string,
    readonly limits: CallerLimits
  ) {}

  /** The limit one more would break, or undefined when there is room. */
  admit(caller: Caller): LimitBroken | undefined {
    if (this.total >= this.limits.total) return 'total';
    if ((this.bySubject.get(caller.subject) ?? 0) >= this.limits.perSubject) return 'subject';
    if (caller.clientId && (this.byClient.get(caller.clientId) ?? 0) >= this.limits.perClient) return 'client';
    return undefined;
  }

  /** Takes a slot (whether or not `admit` said yes); the returned function gives it back, once. */
  acquire(caller: Caller): () => void {
    this.total++;
    bump(this.bySubject, caller.subject, 1);
    if (caller.clientId) bump(this.byClient, caller.clientId, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      bump(this.bySubject, caller.subject, -1);
      if (caller.clientId) bump(this.byClient, caller.clientId, -1);
    };
  }

  /** `admit`, then `acquire` when there is room. */
  tryAcquire(caller: Caller): { release: () => void } | { refused: LimitBroken } {
    const refused = this.admit(caller);
    return refused ? { refused } : { release: this.acquire(caller) };
  }

  get size(): number {
    return this.total;
  }

  heldBy(subject: string): number {
    return this.bySubject.get(subject) ?? 0;
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
