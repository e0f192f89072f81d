/**
 * The SDK's `ServerEventBus` (`subscriptions/listen` change events, MCP
 * 2026-07-28) over `Store.publish` / `Store.subscribe`, so that an event
 * raised on instance A reaches the listen streams open on instance B.
 *
 * `publish` delivers to this instance's listeners synchronously, as the SDK's
 * `InMemoryServerEventBus` does (so local streams keep working while Redis is
 * down), and broadcasts on the store channel; each bus ignores its own
 * broadcasts by an instance id, so nothing is delivered twice. Messages from
 * the channel are validated before they reach a listener. Only the event
 * kind, URI and notification params travel; they never carry secrets.
 */
import { randomUUID } from 'node:crypto';

import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { Logger } from '../logger.js';
import type { Store } from './store.js';

/** The pub/sub channel (docs/storage-schema.md). */
export const EVENT_BUS_CHANNEL = 'mcp:events';

const Params = z.record(z.string(), z.unknown()).optional();
const Wire = z.object({
  origin: z.string(),
  /** Subject the event is for (per-caller events); absent: for everyone. */
  audience: z.string().max(1024).optional(),
  event: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('tools_list_changed'), params: Params }),
    z.object({ kind: z.literal('prompts_list_changed'), params: Params }),
    z.object({ kind: z.literal('resources_list_changed'), params: Params }),
    z.object({ kind: z.literal('resource_updated'), uri: z.string().max(8192), params: Params })
  ])
});

/** A listener; `audience` is the subject a per-caller event is for (undefined: for everyone). */
export type AudienceListener = (event: ServerEvent, audience?: string) => void;

export interface StoreEventBusOptions {
  logger: Logger;
  /** Default `mcp:events`. */
  channel?: string;
}

export class StoreEventBus implements ServerEventBus {
  /** Identifies this bus's own broadcasts, which it has already delivered locally. */
  readonly instanceId = randomUUID();
  private readonly listeners = new Set<AudienceListener>();
  private readonly channel: string;
  private readonly logger: Logger;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: Store,
    options: StoreEventBusOptions
  ) {
    this.channel = options.channel ?? EVENT_BUS_CHANNEL;
    this.logger = options.logger;
  }

  /** Joins the channel; resolves once events from other instances arrive. Rejects (StoreUnavailableError) when the store is down. */
  async start(): Promise<void> {
    this.unsubscribe ??= await this.store.subscribe(this.channel, message => this.receive(message));
  }

  /** `audience`: the subject the event is for (listeners decide what to do with it); absent: everyone. */
  publish(event: ServerEvent, audience?: string): void {
    this.deliver(event, audience);
    const message = JSON.stringify(audience === undefined ? { origin: this.instanceId, event } : { origin: this.instanceId, audience, event });
    this.store.publish(this.channel, message).catch((err: unknown) => {
      this.logger.warn({ err, kind: event.kind }, 'event bus: broadcast failed; only this instance saw the event');
    });
  }

  subscribe(listener: AudienceListener): () => void {
    // Wrapped so that one function subscribed twice is two subscriptions.
    const wrapped: AudienceListener = (event, audience) => listener(event, audience);
    this.listeners.add(wrapped);
    return () => void this.listeners.delete(wrapped);
  }

  async close(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    this.listeners.clear();
    await unsubscribe?.().catch(() => undefined);
  }

  private receive(message: string): void {
    let parsed: z.infer<typeof Wire>;
    try {
      parsed = Wire.parse(JSON.parse(message));
    } catch {
      this.logger.warn({ channel: this.channel }, 'event bus: ignored a malformed message');
      return;
    }
    if (parsed.origin === this.instanceId) return;
    this.deliver(parsed.event as ServerEvent, parsed.audience);
  }

  /** Delivers to this instance's listeners only, with no broadcast. */
  publishLocal(event: ServerEvent): void {
    this.deliver(event);
  }

  private deliver(event: ServerEvent, audience?: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event, audience);
      } catch (err) {
        this.logger.error({ err, kind: event.kind }, 'event bus: a listener threw');
      }
    }
  }
}

/** Builds a bus and joins its channel. */
export async function createStoreEventBus(store: Store, options: StoreEventBusOptions): Promise<StoreEventBus> {
  const bus = new StoreEventBus(store, options);
  await bus.start();
  return bus;
}
