/**
 * Periodic demo activity, so clients can watch notifications arrive:
 *
 * - every `resourceUpdateIntervalMs` (default 10 s): a
 *   `notifications/resources/updated` for every resource URI someone follows
 *   (2025 `resources/subscribe` on a session of this instance, or the
 *   `resourceSubscriptions` of an open 2026-07-28 `subscriptions/listen`);
 * - every `logIntervalMs` (default 15 s): a log message to every 2025-era
 *   session, cycling through the levels; the SDK drops it when it is below
 *   the level the session set with `logging/setLevel`.
 *
 * It also bridges change events from the bus (raised by tools, or by another
 * instance) to 2025-era sessions, which receive them as unsolicited
 * notifications instead of through `subscriptions/listen`.
 */
import type { ServerEvent } from '@modelcontextprotocol/server';

import type { Logger } from '../logger.js';
import type { ListenRegistry, McpEventBus } from './events.js';
import { periodicLogMessage } from './features/logging.js';
import type { SessionRegistry } from './http/sessions.js';

export interface ActivityOptions {
  registry: SessionRegistry;
  listens: ListenRegistry;
  bus: McpEventBus;
  logger: Logger;
  resourceUpdateIntervalMs: number;
  logIntervalMs: number;
}

export function startActivity(options: ActivityOptions): () => void {
  const { registry, listens, bus, logger } = options;
  const quiet = (p: Promise<unknown>) => void p.catch(err => logger.debug({ err }, 'notification not delivered'));

  const unsubscribe = bus.subscribe((event: ServerEvent) => {
    for (const session of registry.all()) {
      const s = session.server;
      if (!s.isConnected()) continue;
      switch (event.kind) {
        case 'tools_list_changed':
          s.sendToolListChanged();
          break;
        case 'prompts_list_changed':
          s.sendPromptListChanged();
          break;
        case 'resources_list_changed':
          s.sendResourceListChanged();
          break;
        case 'resource_updated':
          if (session.state.subscriptions.has(event.uri)) quiet(s.server.sendResourceUpdated({ uri: event.uri }));
          break;
      }
    }
  });

  const resourceTimer = setInterval(() => {
    const uris = listens.resourceUris();
    for (const session of registry.all()) for (const uri of session.state.subscriptions) uris.add(uri);
    for (const uri of uris) bus.publishLocal({ kind: 'resource_updated', uri });
  }, options.resourceUpdateIntervalMs);
  resourceTimer.unref();

  let tick = 0;
  const logTimer = setInterval(() => {
    const message = periodicLogMessage(tick++);
    for (const session of registry.all()) {
      if (session.server.isConnected()) quiet(session.server.sendLoggingMessage(message, session.id));
    }
  }, options.logIntervalMs);
  logTimer.unref();

  return () => {
    clearInterval(resourceTimer);
    clearInterval(logTimer);
    unsubscribe();
  };
}
