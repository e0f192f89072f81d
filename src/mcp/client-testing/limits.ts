/**
 * Bounds of the test bench, so that nobody can turn it against other users:
 * every size and duration a caller asks for is clamped to these, and faults
 * are rate limited per subject (a fixed one-minute window counted in the
 * store, so every instance shares one count). Configured by
 * `CLIENT_TEST_MAX_RESULT_BYTES`, `CLIENT_TEST_MAX_DURATION` and
 * `CLIENT_TEST_FAULTS_PER_MINUTE` (src/config.ts).
 */
import type { Store } from '../../store/store.js';

export interface ClientTestingLimits {
  /** Largest result `largeResult` builds, in bytes (default 10 MiB). */
  maxResultBytes: number;
  /** Longest delay, drip or flood, in ms (default 30 s). */
  maxDurationMs: number;
  /** Faults one subject may trigger per minute (default 60). */
  faultsPerMinute: number;
}

export const DEFAULT_LIMITS: ClientTestingLimits = { maxResultBytes: 10 * 1024 * 1024, maxDurationMs: 30_000, faultsPerMinute: 60 };

const WINDOW_MS = 60_000;

/** `clienttest:faults:{subject}:{window}` (docs/storage-schema.md). */
export const faultCounterKey = (subject: string, now = Date.now()) => `clienttest:faults:${subject || 'anonymous'}:${Math.floor(now / WINDOW_MS)}`;

export class FaultBudget {
  constructor(
    private readonly store: Store,
    private readonly perMinute: number
  ) {}

  /** Counts one fault for `subject`; false when the subject has used up this minute's budget. */
  async take(subject: string): Promise<boolean> {
    return (await this.store.increment(faultCounterKey(subject), WINDOW_MS)) <= this.perMinute;
  }

  /** Whether `subject` has used up this minute's budget (without counting). */
  async exhausted(subject: string): Promise<boolean> {
    return Number((await this.store.get(faultCounterKey(subject))) ?? 0) >= this.perMinute;
  }

  /** Seconds until the current window ends. */
  retryAfterSeconds(now = Date.now()): number {
    return Math.max(1, Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000));
  }
}

export const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
