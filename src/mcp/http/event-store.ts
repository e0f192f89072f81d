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
 * The standalone stream (`_GET_stream`, server-initiated messages) is logged
 * only once the client has opened it (`onGet`, called by the GET handler):
 * the SDK stores every unsolicited message (the periodic log message, list
 * changes) whether or not a GET stream was ever opened, and a client that
 * never opened one holds no id of that stream to resume from, so nobody
 * could ever read those events. Logged anyway, an idle session
 * that never opens its GET stream kept a log in the store for its whole
 * lifetime: one `notifications/message` every `LOG_MESSAGE_INTERVAL`, 4.7 KiB
 * of Redis from the first one on, 27 KiB after 30 minutes (docs/performance.md
 * "Ours in Redis mode: the heap after the cycles, and Redis per idle
 * session"). Once opened, the stream is logged until the session ends, also
 * while the client is disconnected (what a reconnection replays).
 *
 * Storage outages: recording an event is not allowed to fail the live
 * exchange. While the store is unreachable the event is still delivered on
 * the open stream, without an id (SSE: no `id:` line), so it simply cannot
 * be resumed; resumption requests themselves answer 503 (./streamable.ts).
 */
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

import type { Logger } from '../../logger.js';
import { parseEventId, STANDALONE_STREAM, StoreEventStore, type StoreEventStoreOptions } from '../../store/event-store.js';
import { isStoreUnavailable, type Store } from '../../store/store.js';

export { streamLogKey } from '../../store/event-store.js';

export interface SessionEventStoreOptions extends StoreEventStoreOptions {
  logger?: Logger;
}

/** The SDK's `EventStore`, plus `clear` for the end of the session (never rejects). */
export interface SessionEventStore extends EventStore {
  /**
   * A GET on the session, with its `Last-Event-ID` if any: a GET without one,
   * or resuming the standalone stream, opens the standalone stream, which is
   * logged from then on. (A GET resuming a request stream opens only that.)
   */
  onGet(lastEventId: string | undefined): void;
  clear(): Promise<void>;
}

export function createStoreEventStore(store: Store, sessionId: string, options: SessionEventStoreOptions = {}): SessionEventStore {
  const inner = new StoreEventStore(store, sessionId, options);
  let warned = false;
  let standalone = false;
  return {
    async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
      // No GET stream yet: the SDK drops the message after this (no stream to write it on), and no id is needed.
      if (streamId === STANDALONE_STREAM && !standalone) return '';
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
    onGet(lastEventId: string | undefined) {
      if (lastEventId === undefined || parseEventId(lastEventId)?.streamId === STANDALONE_STREAM) standalone = true;
    },
    getStreamIdForEventId: (eventId: EventId) => inner.getStreamIdForEventId(eventId),
    replayEventsAfter: (lastEventId, handlers) => inner.replayEventsAfter(lastEventId, handlers),
    // Best effort: with the store down, the logs expire at their TTL instead.
    clear: () => inner.clear().catch(err => options.logger?.debug({ err, sessionId }, 'could not delete the stream logs of a closed session'))
  };
}
