/**
 * Change events for `subscriptions/listen` (MCP 2026-07-28
 * basic/patterns/subscriptions) and, bridged by ./activity.ts, for 2025-era
 * sessions.
 *
 * `McpEventBus` is the SDK's `ServerEventBus` for this process, over the
 * shared bus of src/store/event-bus.ts (`Store` publish/subscribe on channel
 * `mcp:events`): an event published on one instance reaches the listen
 * streams and sessions of every instance (memory store: this process; Redis:
 * all). Local listeners get it at once, also while the store is down.
 * `publishLocal` delivers on this instance only (the periodic demo updates,
 * which every instance generates for its own streams).
 *
 * Joining the channel needs the store; when it is down at start-up the bus
 * keeps retrying, and events from other instances arrive once it succeeds
 * (the Redis client then restores the subscription across later outages).
 *
 * Per-caller events (the client test bench's own catalogue changes) carry
 * an `audience`, the subject they are for: `publishTo` sends one. A listen
 * stream subscribes while `listenCaller` holds the subject of the request
 * that opened it (../http/streamable.ts), and receives audience events for
 * that subject only; a subscriber outside any caller never receives them
 * (fail closed), except through `subscribeAll`, which sees every event with
 * its audience and filters for itself (2025-era sessions).
 *
 * `ListenRegistry` remembers which resource URIs the open listen streams of
 * this instance asked for (`notifications.resourceSubscriptions`), so the
 * periodic updater knows what to publish.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import type { ServerEvent, ServerEventBus, ServerNotifier } from '@modelcontextprotocol/server';

import type { Logger } from '../logger.js';
import { EVENT_BUS_CHANNEL, StoreEventBus, type AudienceListener } from '../store/event-bus.js';
import type { Store } from '../store/store.js';

export const EVENTS_CHANNEL = EVENT_BUS_CHANNEL;

/** The subject of the 2026-07-28 request being served, while a `subscriptions/listen` stream subscribes. */
export const listenCaller = new AsyncLocalStorage<string>();

export class McpEventBus implements ServerEventBus {
  private readonly shared: StoreEventBus;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private joined: Promise<void> | undefined;

  constructor(
    store: Store,
    private readonly logger: Logger,
    private readonly retryMaxMs = 5000
  ) {
    this.shared = new StoreEventBus(store, { logger });
  }

  /** Joins the shared channel, retrying until it succeeds; resolves then (never rejects). */
  start(): Promise<void> {
    this.joined ??= new Promise<void>(resolve => {
      let failures = 0;
      const attempt = () => {
        if (this.closed) return resolve();
        this.shared.start().then(
          () => {
            if (failures > 0) this.logger.info('event bus: joined the shared channel; change events from other instances arrive again');
            resolve();
          },
          (err: unknown) => {
            if (failures++ === 0) this.logger.warn({ err }, 'event bus: cannot join the shared channel (storage unreachable); change events stay on this instance until it is back, retrying');
            this.retryTimer = setTimeout(attempt, Math.min(250 * 2 ** Math.min(failures, 5), this.retryMaxMs));
            this.retryTimer.unref();
          }
        );
      };
      attempt();
    });
    return this.joined;
  }

  publish(event: ServerEvent): void {
    // Delivered locally at once by the shared bus, and broadcast to the others.
    this.shared.publish(event);
  }

  publishLocal(event: ServerEvent): void {
    this.shared.publishLocal(event);
  }

  /** An event for `subject` only (every instance; see the module comment). */
  publishTo(subject: string, event: ServerEvent): void {
    this.shared.publish(event, subject);
  }

  /** The SDK's listen streams: events for everyone, and those addressed to the subscribing caller. */
  subscribe(listener: (event: ServerEvent) => void): () => void {
    const caller = listenCaller.getStore();
    return this.shared.subscribe((event, audience) => {
      if (audience === undefined || (caller !== undefined && audience === caller)) listener(event);
    });
  }

  /** Every event with its audience (undefined: for everyone); the listener filters. */
  subscribeAll(listener: AudienceListener): () => void {
    return this.shared.subscribe(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.shared.close();
  }
}

/** The typed publish facade, same shape as `createMcpHandler(...).notify`. */
export function notifierFor(bus: ServerEventBus): ServerNotifier {
  return {
    toolsChanged: () => bus.publish({ kind: 'tools_list_changed' }),
    promptsChanged: () => bus.publish({ kind: 'prompts_list_changed' }),
    resourcesChanged: () => bus.publish({ kind: 'resources_list_changed' }),
    resourceUpdated: uri => bus.publish({ kind: 'resource_updated', uri })
  };
}

/** Open `subscriptions/listen` streams on this instance and the URIs they follow. */
export class ListenRegistry {
  private readonly streams = new Map<symbol, readonly string[]>();

  /** Records a stream; call the returned function when its response closes. */
  open(resourceSubscriptions: readonly string[]): () => void {
    const key = Symbol('listen');
    this.streams.set(key, resourceSubscriptions);
    return () => void this.streams.delete(key);
  }

  get size(): number {
    return this.streams.size;
  }

  resourceUris(): Set<string> {
    const out = new Set<string>();
    for (const uris of this.streams.values()) for (const uri of uris) out.add(uri);
    return out;
  }
}
