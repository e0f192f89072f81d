/**
 * Change events for `subscriptions/listen` (MCP 2026-07-28
 * basic/patterns/subscriptions) and, bridged by ./activity.ts, for 2025-era
 * sessions.
 *
 * `StoreEventBus` implements the SDK's `ServerEventBus` over the project's
 * `Store` publish/subscribe, so an event raised on one instance reaches the
 * open listen streams of every instance (memory: this process; Redis: all).
 * `publishLocal` delivers on this instance only (periodic demo updates, which
 * every instance generates for its own streams).
 *
 * `ListenRegistry` remembers which resource URIs the open listen streams of
 * this instance asked for (`notifications.resourceSubscriptions`), so the
 * periodic updater knows what to publish.
 */
import type { ServerEvent, ServerEventBus, ServerNotifier } from '@modelcontextprotocol/server';

import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';

export const EVENTS_CHANNEL = 'mcp:events';

const KINDS = new Set(['tools_list_changed', 'prompts_list_changed', 'resources_list_changed', 'resource_updated']);

function parseEvent(message: string): ServerEvent | undefined {
  try {
    const e = JSON.parse(message) as { kind?: unknown; uri?: unknown };
    if (typeof e.kind !== 'string' || !KINDS.has(e.kind)) return undefined;
    if (e.kind === 'resource_updated') return typeof e.uri === 'string' ? { kind: 'resource_updated', uri: e.uri } : undefined;
    return { kind: e.kind } as ServerEvent;
  } catch {
    return undefined;
  }
}

export class StoreEventBus implements ServerEventBus {
  private readonly listeners = new Set<(event: ServerEvent) => void>();
  private unsubscribe?: () => Promise<void>;
  private live = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly channel = EVENTS_CHANNEL
  ) {}

  /** Subscribes to the store channel; until then (or if it fails) events are delivered locally. */
  async start(): Promise<void> {
    try {
      this.unsubscribe = await this.store.subscribe(this.channel, message => {
        const event = parseEvent(message);
        if (event) this.deliver(event);
      });
      this.live = true;
    } catch (err) {
      this.logger.warn({ err }, 'event bus: store subscription failed; change events stay on this instance');
    }
  }

  publish(event: ServerEvent): void {
    if (!this.live) return this.deliver(event);
    // Only the kind and URI travel; params never carry secrets.
    const wire = JSON.stringify(event.kind === 'resource_updated' ? { kind: event.kind, uri: event.uri } : { kind: event.kind });
    this.store.publish(this.channel, wire).catch(err => {
      this.logger.warn({ err }, 'event bus: publish failed; delivering locally');
      this.deliver(event);
    });
  }

  publishLocal(event: ServerEvent): void {
    this.deliver(event);
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.live = false;
    await this.unsubscribe?.().catch(() => undefined);
    this.listeners.clear();
  }

  private deliver(event: ServerEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.warn({ err }, 'event bus listener failed');
      }
    }
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
