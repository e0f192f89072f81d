/**
 * 2025-era sessions (Streamable HTTP `Mcp-Session-Id`, and the deprecated
 * HTTP+SSE transport): the ones this instance holds, and where the others are.
 *
 * Ownership: a session belongs to the subject of the token that created it.
 * The owner is recorded in the store as `session:{<sessionId>}:owner` (value:
 * the subject, empty when authorization is off), and a request presenting the
 * id with another subject is answered exactly like an unknown session: 404
 * (another user's token on a session id must not learn it exists).
 *
 * Location: a session lives in the memory of the instance that created it
 * (its transport, its SSE streams, its pending server-to-client requests).
 * `session:{sessionId}:instance` records which instance that is (JSON
 * `{instance, url, kind}`), so that another instance sharing the store can
 * forward a request to it (./forward.ts, docs/architecture.md "Several
 * instances"). Both records are written before the session is announced to
 * the client, expire after the idle lifetime (refreshed on use) and are
 * deleted when the session ends.
 *
 * Scope: one registry serves one MCP server's sessions (`/mcp` and `/sse`,
 * or one gallery app's `/<slug>/mcp` and `/<slug>/sse`). A registry with a
 * `scope` writes it into the location record, and a session of another
 * scope is unknown to it (404), never forwarded, never deleted.
 *
 * Sessions idle for `idleTimeoutMs` are closed by a sweeper; `closeAll()`
 * ends every session and its streams (graceful shutdown).
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { Logger } from '../../logger.js';
import { hashTag } from '../../store/keys.js';
import type { Store } from '../../store/store.js';
import type { SessionFeatureState } from '../features/env.js';

export type SessionKind = 'streamable' | 'sse';

/** What a session's server must offer the registry: ending it. */
export interface SessionServer {
  close(): Promise<void>;
}

export interface SessionRecord<S extends SessionServer = McpServer> {
  readonly id: string;
  readonly kind: SessionKind;
  /** Token subject that created the session ('' when authorization is off). */
  readonly owner: string;
  readonly server: S;
  readonly state: SessionFeatureState;
  /** Ends the transport (and with it the session). */
  close(): Promise<void>;
  lastSeen: number;
  ownerRefreshedAt: number;
}

/** This process, as other instances see it. */
export interface InstanceIdentity {
  /** Random per process: a restarted instance is a different instance. */
  readonly id: string;
  /** Base URL other instances reach this one at (`INSTANCE_URL`). */
  readonly url: string;
}

export interface SessionRegistryOptions {
  store: Store;
  logger: Logger;
  /** Close sessions without a request for this long (default 30 min). */
  idleTimeoutMs: number;
  instance: InstanceIdentity;
  /** Which MCP server's sessions this registry holds (unset: `/mcp`'s; `gallery:<slug>` for a gallery app). */
  scope?: string;
}

/** Where a session presented by a caller is. */
export type SessionLocation<S extends SessionServer = McpServer> =
  | { readonly where: 'here'; readonly record: SessionRecord<S> }
  | { readonly where: 'remote'; readonly url: string; readonly instance: string }
  | { readonly where: 'nowhere' };

/**
 * The session id is the keys' hash tag (docs/storage-schema.md "Redis
 * Cluster"): both records, and the session's event logs, sit in one slot, so
 * deleting them together is one command on any topology.
 */
export const ownerKey = (sessionId: string) => `session:${hashTag(sessionId)}:owner`;
export const instanceKey = (sessionId: string) => `session:${hashTag(sessionId)}:instance`;
/** The session id in an owner record's key (the troubleshooting CLI lists sessions by scanning them). */
export function sessionIdOfOwnerKey(key: string): string | undefined {
  return /^session:\{([^}]*)\}:owner$/.exec(key)?.[1];
}

/** Session ids this server mints (UUIDs); anything else is unknown without a store round trip. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const InstanceRecord = z.object({ instance: z.string().min(1), url: z.string().url(), kind: z.enum(['streamable', 'sse']), scope: z.string().optional() });

const NOWHERE = { where: 'nowhere' } as const;

export class SessionRegistry<S extends SessionServer = McpServer> {
  private readonly sessions = new Map<string, SessionRecord<S>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: SessionRegistryOptions) {
    const every = Math.max(250, Math.min(60_000, Math.floor(options.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => void this.sweep(), every);
    this.sweeper.unref();
  }

  get instance(): InstanceIdentity {
    return this.options.instance;
  }

  /**
   * Writes the owner and location records of a new session. Call before the
   * client learns the id; rejects (`StoreUnavailableError`) when the store is
   * down, and the session must then not be created.
   */
  async claim(id: string, owner: string, kind: SessionKind): Promise<void> {
    await this.writeRecords(id, owner, kind);
  }

  /** Registers a session whose records `claim` wrote. */
  add(record: Omit<SessionRecord<S>, 'lastSeen' | 'ownerRefreshedAt'>): SessionRecord<S> {
    const now = Date.now();
    const full: SessionRecord<S> = { ...record, lastSeen: now, ownerRefreshedAt: now };
    this.sessions.set(record.id, full);
    return full;
  }

  /**
   * The session for `id` if this instance holds it and `subject` owns it.
   * Unknown and foreign sessions are indistinguishable to the caller.
   */
  lookup(id: string | undefined, subject: string, kind: SessionKind): SessionRecord<S> | undefined {
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

  /**
   * Where the session is: here (held by this instance, owned by `subject`),
   * remote (held by another live-looking instance, owned by `subject`), or
   * nowhere. Sessions held here never touch the store. Records that name this
   * instance, or an earlier process at this instance's address, are stale
   * (that process died without cleaning up): they are deleted. Rejects with
   * `StoreUnavailableError` when the store cannot answer.
   */
  async locate(id: string | undefined, subject: string, kind: SessionKind): Promise<SessionLocation<S>> {
    if (!id) return NOWHERE;
    if (this.sessions.has(id)) {
      const record = this.lookup(id, subject, kind);
      return record ? { where: 'here', record } : NOWHERE;
    }
    if (!SESSION_ID.test(id)) return NOWHERE;
    const [owner, rawInstance] = await Promise.all([this.options.store.get(ownerKey(id)), this.options.store.get(instanceKey(id))]);
    if (owner === undefined) return NOWHERE;
    if (owner !== subject) {
      this.options.logger.warn({ sessionId: id }, 'session presented by a subject that does not own it; answered as unknown');
      return NOWHERE;
    }
    const location = parseInstance(rawInstance);
    // Another MCP server's session (e.g. a gallery app's at /mcp): unknown here, and not ours to delete.
    if (!location || location.kind !== kind || (location.scope ?? '') !== (this.options.scope ?? '')) return NOWHERE;
    const self = this.options.instance;
    if (location.instance === self.id || location.url === self.url) {
      this.options.logger.info({ sessionId: id }, 'session records name this instance but it does not hold the session (ended, or held by a previous process); removing them');
      await this.forget(id);
      return NOWHERE;
    }
    return { where: 'remote', url: location.url, instance: location.instance };
  }

  /** Deletes a session's records (its holder is gone). Best effort. */
  async forget(id: string): Promise<void> {
    await this.options.store.delete(ownerKey(id), instanceKey(id)).catch(err => this.options.logger.warn({ err, sessionId: id }, 'could not delete the records of a vanished session'));
  }

  touch(record: SessionRecord<S>): void {
    const now = Date.now();
    record.lastSeen = now;
    // Refresh the records' TTL, at most a few times per lifetime.
    if (now - record.ownerRefreshedAt > this.options.idleTimeoutMs / 4) {
      record.ownerRefreshedAt = now;
      this.writeRecords(record.id, record.owner, record.kind).catch(() => undefined);
    }
  }

  /** Forgets a session whose transport has closed. Idempotent. */
  remove(id: string): void {
    const record = this.sessions.get(id);
    if (!record) return;
    this.sessions.delete(id);
    void this.forget(id);
    void record.server.close().catch(() => undefined);
  }

  /** The session of `owner` on this instance that has gone longest without a request, if any. */
  leastRecentlyUsed(owner: string): SessionRecord<S> | undefined {
    let oldest: SessionRecord<S> | undefined;
    for (const s of this.sessions.values()) if (s.owner === owner && (!oldest || s.lastSeen < oldest.lastSeen)) oldest = s;
    return oldest;
  }

  /** Closes a session now (session limit: room for the same caller's new one). */
  async evict(record: SessionRecord<S>): Promise<void> {
    await this.closeOne(record);
  }

  /** Whether this instance holds session `id` (owned by anyone; `lookup` checks the owner). */
  has(id: string): boolean {
    return this.sessions.has(id);
  }

  /** The session `id` if this instance holds it (no owner check: for a request the session's transport already serves). */
  local(id: string | undefined): SessionRecord<S> | undefined {
    return id === undefined ? undefined : this.sessions.get(id);
  }

  all(): SessionRecord<S>[] {
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

  private async writeRecords(id: string, owner: string, kind: SessionKind): Promise<void> {
    const { store, idleTimeoutMs, instance, scope } = this.options;
    const location = JSON.stringify({ instance: instance.id, url: instance.url, kind, ...(scope ? { scope } : {}) });
    await Promise.all([store.set(ownerKey(id), owner, idleTimeoutMs), store.set(instanceKey(id), location, idleTimeoutMs)]);
  }

  private async closeOne(record: SessionRecord<S>): Promise<void> {
    await record.close().catch(err => this.options.logger.warn({ err, sessionId: record.id }, 'error while closing a session'));
    this.remove(record.id);
  }
}

function parseInstance(raw: string | undefined): z.infer<typeof InstanceRecord> | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = InstanceRecord.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
