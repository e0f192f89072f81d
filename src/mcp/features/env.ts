/**
 * What every feature module receives: the era being served, the caller,
 * shared services, and (2025-era sessions only) the session's own state.
 * Features are written once; the few era differences (structured output
 * shape, deprecated channels) read `era` from here.
 */
import type { AuthInfo, McpServer, RequestStateCodec, ServerNotifier } from '@modelcontextprotocol/server';

import type { Logger } from '../../logger.js';
import type { UpstreamAccount } from '../../shared/upstream-account.js';
import type { CatalogueState, ClientTestingServices } from '../client-testing/index.js';
import type { Store } from '../../store/store.js';

export type Era = 'legacy' | 'modern';

/** State a 2025-era session keeps for its lifetime. */
export interface SessionFeatureState {
  /** URIs the client subscribed to with `resources/subscribe`. */
  readonly subscriptions: Set<string>;
  /** Roots the client announced (`notifications/roots/list_changed`, then `roots/list`): client testing's `mirror`. */
  roots?: { changes: number; roots: Array<{ uri: string; name?: string }> };
}

/** A 2025-era session this process holds: its server (what the client sent at `initialize`) and its state. */
export interface LiveSession {
  readonly server: McpServer;
  readonly state: SessionFeatureState;
}

export interface ServerStats {
  startedAt: number;
  streamableSessions: number;
  sseSessions: number;
  listenStreams: number;
}

export interface FeatureEnv {
  era: Era;
  authInfo?: AuthInfo;
  store: Store;
  logger: Logger;
  /** Public origin of the server (links in tool output). */
  baseUri: string;
  /** Seals `requestState` for multi-round-trip tools (see ../request-state.ts). */
  stateCodec: RequestStateCodec<Record<string, unknown>>;
  /** Publishes change events to open `subscriptions/listen` streams (2026-07-28). */
  notify: ServerNotifier;
  session?: SessionFeatureState;
  /**
   * The live 2025-era session a request belongs to (`ctx.sessionId`; stdio's
   * one session whatever the id). Handlers are shared by every session of the
   * process (../catalogue.ts), so this is how one reaches its own session.
   */
  sessionOf?(sessionId: string | undefined): LiveSession | undefined;
  /** The caller's identity-provider account, keyed by their access token (internal mode only). */
  upstream?: UpstreamAccount;
  stats(): ServerStats;
  /** The client-author test bench's shared services (../client-testing); absent: the bench is not registered. */
  clientTesting?: ClientTestingServices;
  /** The caller's own dynamic catalogue (../client-testing/dynamic-catalogue.ts), when this build needs it. */
  callerCatalogue?: CatalogueState;
}

/** The caller's subject (`req.auth.extra.subject`), or undefined when authorization is off. */
export function subjectOf(authInfo: AuthInfo | undefined): string | undefined {
  const subject = authInfo?.extra?.['subject'];
  return typeof subject === 'string' && subject ? subject : undefined;
}
