/**
 * The SDK's `EventStore` (resumable Streamable HTTP streams, MCP 2025-11-25
 * "Resumability and Redelivery") over `Store.append` / `Store.readAfter`.
 *
 * With Redis, a client that reconnects to another instance with
 * `Last-Event-ID` gets the events the first instance wrote: the event id
 * carries the stream id, and the log lives in the shared store.
 *
 * Scoped to one session: the SDK names every session's standalone GET stream
 * `_GET_stream`, so a log keyed by stream id alone would mix sessions. Keys
 * are `mcp:session:{sessionId}:stream:{streamId}` and event ids are
 * `{streamId}::{logId}` (docs/storage-schema.md), so a Last-Event-ID only
 * ever resolves inside the session that presents it.
 */
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

import { hashTag, isLogId } from './keys.js';
import type { Store } from './store.js';

export interface StoreEventStoreOptions {
  /** The log expires this long after its last event, in ms. Default 1 hour. */
  ttlMs?: number;
  /**
   * Once a request stream has carried its JSON-RPC response (a POST stream
   * ends with it), its log is kept only this long, in ms: long enough for a
   * client that lost the connection to reconnect with `Last-Event-ID` (it
   * waits the SSE `retry` interval the server sent), short enough that a busy
   * session does not keep every finished exchange for the whole session idle
   * time. Default 10 s, never more than `ttlMs`.
   */
  completedTtlMs?: number;
  /** Events kept per stream (at least; Redis trims approximately). Default 1000. */
  maxLength?: number;
}

const SEPARATOR = '::';
/**
 * How many of a session's most recent streams `clear` deletes at session end.
 * Older request streams have carried their response long ago and expire on
 * their own within `completedTtlMs`; a bounded list keeps a busy session from
 * growing a list of every request it ever made.
 */
const RECENT_STREAMS = 8;
/** Stream ids the SDK generates are UUIDs or `_GET_stream`; anything far from that is not ours. */
const STREAM_ID = /^[\w.-]{1,128}$/;

/** Tagged with the session id (docs/storage-schema.md "Redis Cluster"): one session's logs and records share a slot. */
export function streamLogKey(sessionId: string, streamId: string): string {
  return `mcp:session:${hashTag(sessionId)}:stream:${streamId}`;
}

/** Splits an event id into stream id and log id; undefined for anything we did not issue. */
export function parseEventId(eventId: string): { streamId: string; logId: string } | undefined {
  const at = eventId.lastIndexOf(SEPARATOR);
  if (at <= 0) return undefined;
  const streamId = eventId.slice(0, at);
  const logId = eventId.slice(at + SEPARATOR.length);
  return STREAM_ID.test(streamId) && isLogId(logId) ? { streamId, logId } : undefined;
}

/** The SDK's name for a session's standalone GET stream (server-initiated messages, never responses). */
export const STANDALONE_STREAM = '_GET_stream';

/**
 * A JSON-RPC response (result or error): the last event of the request stream
 * that carries it. A shape check on purpose: the SDK's `isJSONRPCResponse`
 * runs a full schema parse, and this runs on every stored event.
 */
function isResponse(message: object): boolean {
  return 'id' in message && ('result' in message || 'error' in message);
}

/** A priming event (SDK: an empty message that only carries an id) has nothing to redeliver. */
function isPriming(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  for (const _ in message) return false;
  return true;
}

/**
 * The log id of a request stream's priming event: before every id a log can
 * hold (Redis stream ids and ours are `<ms>-<seq>` with ms > 0), so replaying
 * after it replays the whole stream.
 */
const STREAM_START = '0-0';
/** Primed request streams with no event stored yet, kept per session (the oldest go first beyond this). */
const MAX_PENDING = 1000;

export class StoreEventStore implements EventStore {
  private readonly ttlMs: number;
  private readonly maxLength: number;
  private readonly completedTtlMs: number;
  /** The streams written most recently (at most RECENT_STREAMS), for `clear`. */
  private recent: string[] = [];
  /**
   * Request streams primed but with nothing stored yet, and when that
   * priming expires (ms epoch): their log does not exist yet, but their
   * priming id resumes them (see `storeEvent`).
   */
  private readonly pending = new Map<string, number>();
  /** `streamLogKey(sessionId, '')`: a stream's log key is this and the stream id. */
  private readonly keyPrefix: string;

  constructor(
    private readonly store: Store,
    private readonly sessionId: string,
    options: StoreEventStoreOptions = {}
  ) {
    this.ttlMs = options.ttlMs ?? 60 * 60 * 1000;
    this.maxLength = options.maxLength ?? 1000;
    this.completedTtlMs = Math.min(this.ttlMs, options.completedTtlMs ?? 10_000);
    this.keyPrefix = streamLogKey(sessionId, '');
  }

  /**
   * `streamLogKey(sessionId, streamId)` as one flat string. A memory store
   * keeps the key of every finished request's log for its retention time,
   * and the SDK's stream ids (`crypto.randomUUID()`) are V8 cons strings of
   * about twenty pieces: a template literal would keep that tree alive in
   * the key, ten times the key's own size (a heap profile showed the stream
   * ids as the largest retained allocation under load). `join` copies the
   * characters into one sequential string.
   */
  private logKey(streamId: StreamId): string {
    return [this.keyPrefix, streamId].join('');
  }

  storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    if (streamId !== STANDALONE_STREAM && isPriming(message)) return Promise.resolve(this.prime(streamId));
    return this.append(streamId, message);
  }

  /**
   * A request stream's priming event is not written: the SDK primes each
   * POST stream once, first, under a fresh stream id (a UUID), so its id is
   * the start of the stream (`STREAM_START`), and replaying after it replays
   * the whole log, which is what replaying after a stored priming event did.
   * Until the stream's first real event creates its log, the stream is
   * remembered here, so that its priming id still resumes it (on this
   * instance, the one holding the session, where every request of the
   * session is served). One store write per request instead of two. The
   * standalone GET stream is primed again at each reconnection, in the
   * middle of its log: its priming events are stored as before.
   */
  private prime(streamId: StreamId): EventId {
    const now = Date.now();
    if (this.pending.size >= MAX_PENDING) {
      for (const [id, expiresAt] of this.pending) {
        if (expiresAt <= now || this.pending.size >= MAX_PENDING) this.pending.delete(id);
        else break;
      }
    }
    this.pending.set(streamId, now + this.ttlMs);
    return `${streamId}${SEPARATOR}${STREAM_START}`;
  }

  private async append(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    // The append sets the log's TTL: the long one while a request is in
    // flight (or on the standalone stream), the short one once the response is in.
    const completed = streamId !== STANDALONE_STREAM && isResponse(message);
    const logId = await this.store.append(this.logKey(streamId), JSON.stringify(message), {
      ttlMs: completed ? this.completedTtlMs : this.ttlMs,
      maxLength: this.maxLength
    });
    if (this.pending.size > 0) this.pending.delete(streamId);
    if (!this.recent.includes(streamId)) {
      this.recent.push(streamId);
      if (this.recent.length > RECENT_STREAMS) this.recent.shift();
    }
    return `${streamId}${SEPARATOR}${logId}`;
  }

  /**
   * The session has ended (DELETE, idle timeout, shutdown): nobody can resume
   * its streams any more, so their logs go now rather than at their TTL.
   */
  async clear(): Promise<void> {
    const keys = this.recent.map(streamId => streamLogKey(this.sessionId, streamId));
    this.recent = [];
    this.pending.clear();
    if (keys.length > 0) await this.store.delete(...keys);
  }

  /**
   * The stream an event id belongs to, or undefined when the id is malformed
   * or its stream has expired: the SDK then answers 400 and the client starts
   * afresh, rather than resuming a stream whose events are gone.
   */
  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const parsed = parseEventId(eventId);
    if (!parsed) return undefined;
    if (parsed.logId === STREAM_START && (this.pending.get(parsed.streamId) ?? 0) > Date.now()) return parsed.streamId;
    const ttl = await this.store.ttl(streamLogKey(this.sessionId, parsed.streamId));
    return ttl === undefined ? undefined : parsed.streamId;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const parsed = parseEventId(lastEventId);
    if (!parsed) throw new RangeError('Last-Event-ID was not issued by this server');
    const entries = await this.store.readAfter(streamLogKey(this.sessionId, parsed.streamId), parsed.logId);
    for (const entry of entries) {
      const message = JSON.parse(entry.value) as JSONRPCMessage; // we wrote it: JSON by construction
      if (isPriming(message)) continue;
      await send(`${parsed.streamId}${SEPARATOR}${entry.id}`, message);
    }
    return parsed.streamId;
  }
}

export function createStoreEventStore(store: Store, sessionId: string, options: StoreEventStoreOptions = {}): EventStore {
  return new StoreEventStore(store, sessionId, options);
}
