/**
 * The authorization server (AS). Never imports src/mcp or src/rs.
 * STUB: replaced by the OAuth work.
 */
import { Router } from 'express';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';

export interface AuthorizationServerOptions {
  config: Config;
  store: Store;
  logger: Logger;
}

/** RFC 7662 §2.2 response. `{ active: false }` is the failing default. */
export interface IntrospectionResponse {
  active: boolean;
  sub?: string;
  client_id?: string;
  scope?: string;
  aud?: string | string[];
  iss?: string;
  exp?: number;
  iat?: number;
  token_type?: string;
}

export interface AuthorizationServer {
  /** Every AS route: metadata, /register, /authorize, consent, mock IdP, /token, /introspect, /revoke. */
  router: Router;
  /** The function behind `/introspect`, also used in-process by internal mode. Rejects with StoreUnavailableError when storage is down. */
  introspect(token: string): Promise<IntrospectionResponse>;
  close(): Promise<void>;
}

export function createAuthorizationServer(_options: AuthorizationServerOptions): AuthorizationServer {
  return { router: Router(), introspect: async () => ({ active: false }), close: async () => undefined };
}
