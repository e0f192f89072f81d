/**
 * 2025-era sessions (Streamable HTTP `Mcp-Session-Id`, and the deprecated
 * HTTP+SSE transport) held by this instance.
 *
 * Ownership: a session belongs to the subject of the token that created it.
 * The owner is recorded in the store as `session:{sessionId}:owner` (value:
 * the subject, empty when authorization is off; TTL = idle lifetime,
 * refreshed on use), and a request presenting the id with another subject is
 * answered exactly like an unknown session: 404 (issue: another user's token
 * on a session id must not learn it exists).
 *
 * Sessions idle for `idleTimeoutMs` are closed by a sweeper; `closeAll()`
 * ends every session and its streams (graceful shutdown).
 */
import type { McpServer } from '@modelcontextprotocol/server';

import type { Logger } from '../../logger.js';
import type { Store } from '../../store/store.js';
import type { SessionFeatureState } from '../features/env.js';

export type SessionKind = 'streamable' | 'sse';

export interface SessionRecord {
  readonly id: string;
  readonly kind: SessionKind;
  /** Token subject that created the session ('' when authorization is off). */
  readonly owner: string;
  readonly server: McpServer;
  readonly state: SessionFeatureState;
  /** Ends the transport (and with it the session). */
  close(): Promise<void>;
  lastSeen: number;
  ownerRefreshedAt: number;
}

export interface SessionRegistryOptions {
  store: Store;
  logger: Logger;
  /** Close sessions without a request for this long (default 30 min). */
  idleTimeoutMs: number;
}

export const ownerKey = (sessionId: string) => `session:${sessionId}:owner`;

export class SessionRegistry {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: SessionRegistryOptions) {
    const every = Math.max(250, Math.min(60_000, Math.floor(options.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => void this.sweep(), every);
    this.sweeper.unref();
  }

  add(record: Omit<SessionRecord, 'lastSeen' | 'ownerRefreshedAt'>): SessionRecord {
    const now = Date.now();
    const full: SessionRecord = { ...record, lastSeen: now, ownerRefreshedAt: now };
    this.sessions.set(record.id, full);
    this.options.store.set(ownerKey(record.id), record.owner, this.options.idleTimeoutMs).catch(err =>
      this.options.logger.warn({ err, sessionId: record.id }, 'could not record the session owner')
    );
    return full;
  }

  /**
   * The session for `id` if this instance holds it and `subject` owns it.
   * Unknown and foreign sessions are indistinguishable to the caller.
   */
  lookup(id: string | undefined, subject: string, kind: SessionKind): SessionRecord | undefined {
    if (!id) return undefined;
    const record = this.sessions.get(id);
    if (!record || record.kind !== kind) return undefined;
    if (record.owner !== subject) {
      this.options.logger.warn({ sessionId: id }, 'session presented by a subject that does not own it; answered as unknown');
      return undefined;
    }
    this.touch(record);
    return record;
  }

  touch(record: SessionRecord): void {
    const now = Date.now();
    record.lastSeen = now;
    // Refresh the owner record's TTL, at most a few times per lifetime.
    if (now - record.ownerRefreshedAt > this.options.idleTimeoutMs / 4) {
      record.ownerRefreshedAt = now;
      this.options.store.set(ownerKey(record.id), record.owner, this.options.idleTimeoutMs).catch(() => undefined);
    }
  }

  /** Forgets a session whose transport has closed. Idempotent. */
  remove(id: string): void {
    const record = this.sessions.get(id);
    if (!record) return;
    this.sessions.delete(id);
    this.options.store.delete(ownerKey(id)).catch(() => undefined);
    void record.server.close().catch(() => undefined);
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  all(): SessionRecord[] {
    return [...this.sessions.values()];
  }

  count(kind: SessionKind): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.kind === kind) n++;
    return n;
  }

  async sweep(now = Date.now()): Promise<void> {
    for (const record of this.all()) {
      if (now - record.lastSeen >= this.options.idleTimeoutMs) {
        this.options.logger.info({ sessionId: record.id, kind: record.kind }, 'closing idle session');
        await this.closeOne(record);
      }
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all(this.all().map(r => this.closeOne(r)));
  }

  private async closeOne(record: SessionRecord): Promise<void> {
    await record.close().catch(err => this.options.logger.warn({ err, sessionId: record.id }, 'error while closing a session'));
    this.remove(record.id);
  }
}
