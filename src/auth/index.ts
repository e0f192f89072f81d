/**
 * The authorization server (AS): OAuth 2.1 with PKCE, RFC 8414 metadata,
 * RFC 7591 registration, client ID metadata documents, a consent page and a
 * demo IdP step, RFC 7662 introspection and RFC 7009 revocation.
 *
 * Never imports src/mcp, src/rs or src/validators (scripts/check-boundaries.mjs).
 * The RS meets it only through `introspect`, the same function that serves
 * `POST /introspect` (without the caller policy, which is an HTTP concern).
 *
 * Routes (relative to the issuer):
 *   GET  /.well-known/oauth-authorization-server, /.well-known/openid-configuration
 *   POST /register
 *   GET  /authorize                 -> consent page
 *   POST /authorize/consent         -> identity provider (approve) or client (deny)
 *   GET|POST /mock-upstream-idp/authorize -> client with code, state, iss (UPSTREAM_IDP=mock)
 *   GET  /upstream-idp/callback     -> client with code, state, iss (real providers)
 *   POST /token, /introspect, /revoke
 * Storage keys: docs/storage-schema.md, "Authorization server".
 */
import { Router } from 'express';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { authorizeRouter } from './authorize.js';
import { consentRouter } from './consent.js';
import type { AsContext } from './context.js';
import { sha256 } from './crypto.js';
import { PATHS } from './context.js';
import { createErrorHandler } from './error-handler.js';
import { introspectToken } from './grants.js';
import { introspectRouter, type IntrospectionResponse } from './introspect.js';
import { metadataRouter } from './metadata.js';
import { createIdentityProvider, identityRouter } from './identity/index.js';
import { createUpstreamAccount } from './identity/account.js';
import { createSealer } from './identity/seal.js';
import { createUpstreamStates } from './identity/upstream-state.js';
import { createUpstreamTokenStore } from './identity/upstream-tokens.js';
import type { UpstreamAccount } from '../shared/upstream-account.js';
import { createRecords } from './records.js';
import { registerRouter } from './register.js';
import { AllowlistEntryError, compileRedirectUriAllowlist, type RedirectUriAllowlist } from './redirect-uri-allowlist.js';
import { revokeRouter } from './revoke.js';
import { tokenRouter } from './token.js';
import type { Tracer } from '@opentelemetry/api';
import { TRACING_OFF } from '../observability/tracing.js';

export type { IntrospectionResponse } from './introspect.js';

export interface AuthorizationServerOptions {
  config: Config;
  store: Store;
  logger: Logger;
  /** Clock in ms since the epoch (tests). Default `Date.now`. */
  now?: () => number;
  /** Called once per successful token response (metrics). */
  onTokensIssued?: (grantType: 'authorization_code' | 'refresh_token') => void;
  /**
   * More resources (RFC 8707) this AS issues tokens for, beside the MCP and
   * legacy SSE URLs: the gallery apps' `/<slug>/mcp` URLs. A token's `aud`
   * is the one resource it was requested for.
   */
  additionalResources?: readonly string[];
  /** OpenTelemetry tracer for the OAuth step spans. Default: the API's no-op tracer. */
  tracer?: Tracer;
}

export interface AuthorizationServer {
  /** Every AS route: metadata, /register, /authorize, consent, mock IdP, /token, /introspect, /revoke. */
  router: Router;
  /** The function behind `/introspect`, also used in-process by internal mode. Rejects with StoreUnavailableError when storage is down. */
  introspect(token: string): Promise<IntrospectionResponse>;
  /** The person's identity-provider account behind one of our access tokens (for the RS, wired by the composition root). */
  upstream: UpstreamAccount;
  /** Which provider signs people in, our redirect URI at it, and its readiness (for `/ready`, the landing page, the start-up log). */
  identityProvider: { kind: string; displayName: string; callbackUrl: string; ready?: () => Promise<void> };
  close(): Promise<void>;
}

export class AuthorizationServerConfigError extends Error {
  override readonly name = 'AuthorizationServerConfigError';
}

/** Checks the options once, at build time (STYLE.md habit 6). */
function checkOptions({ config }: AuthorizationServerOptions): void {
  let issuer: URL;
  try {
    issuer = new URL(config.issuer);
  } catch {
    throw new AuthorizationServerConfigError(`issuer ${JSON.stringify(config.issuer)} is not a URL: set BASE_URI to this server's public origin.`);
  }
  if (issuer.search || issuer.hash || config.issuer.endsWith('/')) {
    throw new AuthorizationServerConfigError('the issuer must have no query, fragment or trailing slash (RFC 8414 §2): fix BASE_URI.');
  }
  const rs = config.introspectionClient;
  if (rs && rs.clientSecret.length < 32) {
    throw new AuthorizationServerConfigError('INTROSPECTION_CLIENT_SECRET must be at least 32 characters (generate one with `openssl rand -base64 32`).');
  }
  const t = config.tokens;
  for (const [name, v] of [['ACCESS_TOKEN_TTL', t.accessTtl], ['REFRESH_TOKEN_TTL', t.refreshTtl], ['AUTH_CODE_TTL', t.codeTtl], ['CLIENT_REGISTRATION_TTL', t.registrationTtl]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new AuthorizationServerConfigError(`${name} must be a positive number of seconds.`);
  }
}

function buildRedirectUriAllowlist(entries: readonly string[]): RedirectUriAllowlist | undefined {
  try {
    return compileRedirectUriAllowlist(entries);
  } catch (err) {
    if (err instanceof AllowlistEntryError) throw new AuthorizationServerConfigError(`ALLOWED_CLIENT_REDIRECT_URIS: ${err.message} (see README, "Configuration").`);
    throw err;
  }
}

/**
 * The configuration checks that need no store: the composition root calls
 * this before it binds a port or opens storage, so a bad setting stops
 * start-up without leaving anything open.
 */
export function checkAuthorizationServerConfig(config: Config): void {
  buildRedirectUriAllowlist(config.allowedClientRedirectUris);
}

export function createAuthorizationServer(options: AuthorizationServerOptions): AuthorizationServer {
  checkOptions(options);
  const { config, store, logger } = options;
  const rs = config.introspectionClient;
  const sealer = createSealer(config.upstream.tokenKey);
  const base: Omit<AsContext, 'idp' | 'upstreamStates' | 'upstreamTokens'> = {
    config,
    store,
    log: logger,
    now: options.now ?? Date.now,
    issuer: config.issuer,
    resource: config.mcpUrl,
    resources: [config.mcpUrl, config.legacySseUrl, ...(options.additionalResources ?? [])],
    records: createRecords(store, key => logger.error({ event: 'corrupt_record', key: key.split(':').slice(0, 2).join(':') }, 'stored record failed validation; treated as absent')),
    resourceServerClient: rs ? { clientId: rs.clientId, secretHash: sha256(rs.clientSecret) } : undefined,
    redirectUriAllowlist: buildRedirectUriAllowlist(config.allowedClientRedirectUris),
    onTokensIssued: options.onTokensIssued,
    tracer: options.tracer ?? TRACING_OFF.tracer
  };
  // The provider and the records around it need the context, and the context them: set below, before any route runs.
  const ctx = base as AsContext;
  const onError = createErrorHandler(ctx);
  ctx.idp = createIdentityProvider(ctx, onError);
  ctx.upstreamStates = createUpstreamStates(ctx, sealer);
  ctx.upstreamTokens = createUpstreamTokenStore(ctx, ctx.idp, sealer);

  const router = Router();
  router.use(metadataRouter(ctx));
  router.use(registerRouter(ctx, onError));
  router.use(authorizeRouter(ctx, onError));
  router.use(consentRouter(ctx, onError));
  router.use(identityRouter(ctx, onError));
  router.use(tokenRouter(ctx, onError));
  router.use(introspectRouter(ctx, onError));
  router.use(revokeRouter(ctx, onError));

  if (rs) logger.info({ clientId: rs.clientId }, 'resource-server client provisioned for introspection');
  if (config.upstream.kind !== 'mock') {
    logger.info({ provider: config.upstream.kind, redirectUri: `${config.issuer}${PATHS.upstreamCallback}` }, `identity provider: ${ctx.idp.displayName}; register this redirect URI at the provider`);
    if (sealer.generated) logger.warn({ event: 'upstream_token_key_generated' }, 'UPSTREAM_TOKEN_KEY unset: a development key was generated for this process; stored provider tokens do not survive a restart or reach other instances');
  }

  return {
    router,
    introspect: token => introspectToken(ctx, token),
    upstream: createUpstreamAccount(ctx),
    identityProvider: { kind: ctx.idp.kind, displayName: ctx.idp.displayName, callbackUrl: `${config.issuer}${PATHS.upstreamCallback}`, ready: ctx.idp.ready?.bind(ctx.idp) },
    close: async () => ctx.idp.close?.()
  };
}
