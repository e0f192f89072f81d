/**
 * Resumable SSE streams for 2025-era sessions (MCP 2025-11-25 Streamable
 * HTTP "Resumability and Redelivery"): the SDK transport stamps every SSE
 * event with an id from this store, and a client reconnecting with
 * `Last-Event-ID` gets what it missed on that stream.
 *
 * Built on the project's `Store` append-only logs, so with Redis any
 * instance can replay a stream another instance wrote. One store per session:
 * keys are `mcp:session:{sessionId}:stream:{streamId}`, and an event id is
 * `{streamId}::{logEntryId}`, so a Last-Event-ID only ever resolves inside
 * the session that presents it.
 */
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

import type { Store } from '../../store/store.js';

export interface StoreEventStoreOptions {
  /** Log expiry after the last event (default 1 h). */
  ttlMs?: number;
  /** Events kept per stream (default 1000). */
  maxLength?: number;
}

const SEPARATOR = '::';

export function streamLogKey(sessionId: string, streamId: string): string {
  return `mcp:session:${sessionId}:stream:${streamId}`;
}

function splitEventId(eventId: string): { streamId: string; entryId: string } | undefined {
  const at = eventId.lastIndexOf(SEPARATOR);
  if (at <= 0 || at + SEPARATOR.length >= eventId.length) return undefined;
  return { streamId: eventId.slice(0, at), entryId: eventId.slice(at + SEPARATOR.length) };
}

export function createStoreEventStore(store: Store, sessionId: string, options: StoreEventStoreOptions = {}): EventStore {
  const ttlMs = options.ttlMs ?? 60 * 60 * 1000;
  const maxLength = options.maxLength ?? 1000;
  return {
    async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
      const entryId = await store.append(streamLogKey(sessionId, streamId), JSON.stringify(message), { ttlMs, maxLength });
      return `${streamId}${SEPARATOR}${entryId}`;
    },
    async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
      return splitEventId(eventId)?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }): Promise<StreamId> {
      const parsed = splitEventId(lastEventId);
      if (!parsed) throw new Error('Invalid Last-Event-ID');
      const entries = await store.readAfter(streamLogKey(sessionId, parsed.streamId), parsed.entryId);
      for (const entry of entries) {
        const message = JSON.parse(entry.value) as JSONRPCMessage;
        // Priming events carry no message; nothing to redeliver for them.
        if (message && typeof message === 'object' && Object.keys(message).length > 0) {
          await send(`${parsed.streamId}${SEPARATOR}${entry.id}`, message);
        }
      }
      return parsed.streamId;
    }
  };
}
