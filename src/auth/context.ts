/**
 * What every AS step receives: the checked options, the record collections,
 * the clock and the audit log. Built once by `createAuthorizationServer`.
 */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { IdentityProvider } from './identity/provider.js';
import type { UpstreamStates } from './identity/upstream-state.js';
import type { UpstreamTokenStore } from './identity/upstream-tokens.js';
import type { Records } from './records.js';
import type { RedirectUriAllowlist } from './redirect-uri-allowlist.js';
import type { Tracer } from '@opentelemetry/api';

/** Scopes this AS knows. `offline_access` asks for a refresh token (SEP-2207); it is never a resource scope. */
export const SCOPES_SUPPORTED = ['mcp', 'mcp:admin', 'offline_access'] as const;
export const DEFAULT_SCOPES = ['mcp'];

export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  mcp: 'Use the MCP server’s tools, resources and prompts',
  'mcp:admin': 'Use administrative MCP tools (elevated access)',
  offline_access: 'Stay connected when you are away (a refresh token)'
};

/** Endpoint paths, relative to the issuer. */
export const PATHS = {
  authorize: '/authorize',
  consent: '/authorize/consent',
  token: '/token',
  register: '/register',
  introspect: '/introspect',
  revoke: '/revoke',
  idp: '/mock-upstream-idp/authorize',
  /** Where the identity provider sends the person back (register BASE_URI + this at the provider). */
  upstreamCallback: '/upstream-idp/callback'
} as const;

export interface AsContext {
  config: Config;
  store: Store;
  records: Records;
  /** Audit and diagnostics. Never a token, code, secret or verifier value. */
  log: Logger;
  /** Milliseconds since the epoch. */
  now(): number;
  issuer: string;
  /** The default resource (RFC 8707) tokens are issued for: the canonical MCP URL. */
  resource: string;
  /**
   * Every resource a client may name: the MCP URL and the legacy HTTP+SSE URL
   * of the same server (`config.legacySseUrl`). The requested one becomes the token's `aud`.
   */
  resources: readonly string[];
  /** Resource-server credentials provisioned from configuration; may introspect every token. */
  resourceServerClient?: { clientId: string; secretHash: string };
  /** Who signs the person in (`UPSTREAM_IDP`; identity/provider.ts). */
  idp: IdentityProvider;
  /** The `state` sent to the provider: single use, browser-bound, short-lived. */
  upstreamStates: UpstreamStates;
  /** The provider's tokens, sealed and bound to the grant. */
  upstreamTokens: UpstreamTokenStore;
  /** `ALLOWED_CLIENT_REDIRECT_URIS`, compiled; undefined = no restriction beyond redirect-uri.ts. */
  redirectUriAllowlist?: RedirectUriAllowlist;
  /** Metrics hook: one call per successful token response. */
  onTokensIssued?: (grantType: 'authorization_code' | 'refresh_token') => void;
  /** OpenTelemetry spans of the OAuth steps (../observability/oauth-spans.ts); the API's no-op tracer when tracing is off. */
  tracer: Tracer;
}

export const seconds = (ms: number) => Math.floor(ms / 1000);
