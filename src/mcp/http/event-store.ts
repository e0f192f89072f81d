/**
 * Resumable SSE streams for 2025-era sessions (MCP 2025-11-25 Streamable
 * HTTP "Resumability and Redelivery"): the SDK transport stamps every SSE
 * event with an id from this store, and a client reconnecting with
 * `Last-Event-ID` gets what it missed on that stream.
 *
 * The log itself is src/store/event-store.ts (`StoreEventStore`: keys
 * `mcp:session:{sessionId}:stream:{streamId}`, event ids
 * `{streamId}::{logId}`), on the shared store, so the events of a session
 * outlive a network drop and any instance can read them.
 *
 * Storage outages: recording an event is not allowed to fail the live
 * exchange. While the store is unreachable the event is still delivered on
 * the open stream, without an id (SSE: no `id:` line), so it simply cannot
 * be resumed; resumption requests themselves answer 503 (./streamable.ts).
 */
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

import type { Logger } from '../../logger.js';
import { StoreEventStore, type StoreEventStoreOptions } from '../../store/event-store.js';
import { isStoreUnavailable, type Store } from '../../store/store.js';

export { streamLogKey } from '../../store/event-store.js';


export interface SessionEventStoreOptions extends StoreEventStoreOptions {
  logger?: Logger;
}

/** The SDK's `EventStore`, plus `clear` for the end of the session (never rejects). */
export interface SessionEventStore extends EventStore {
  clear(): Promise<void>;
}

export function createStoreEventStore(store: Store, sessionId: string, options: SessionEventStoreOptions = {}): SessionEventStore {
  const inner = new StoreEventStore(store, sessionId, options);
  let warned = false;
  return {
    async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
      try {
        const id = await inner.storeEvent(streamId, message);
        warned = false;
        return id;
      } catch (err) {
        if (!isStoreUnavailable(err)) throw err;
        if (!warned) options.logger?.warn({ err, sessionId }, 'event store unavailable: stream events are delivered but cannot be resumed');
        warned = true;
        return '';
      }
    },
    getStreamIdForEventId: (eventId: EventId) => inner.getStreamIdForEventId(eventId),
    replayEventsAfter: (lastEventId, handlers) => inner.replayEventsAfter(lastEventId, handlers),
    // Best effort: with the store down, the logs expire at their TTL instead.
    clear: () => inner.clear().catch(err => options.logger?.debug({ err, sessionId }, 'could not delete the stream logs of a closed session'))
  };
}
