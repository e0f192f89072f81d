/**
 * The protected-resource side: RFC 9728 metadata and the bearer-token gate.
 * Knows only the TokenValidator seam, never the AS (scripts/check-boundaries.mjs).
 */
import { Router, type RequestHandler } from 'express';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { TOOL_REQUIRED_SCOPES } from '../mcp/features/scopes.js';
import type { TokenValidator } from '../validators/token-validator.js';
import { createBearerGate, type GateOutcome } from './bearer.js';
import { createProtectedResourceMetadataRouter, protectedResourceMetadataUrl } from './protected-resource-metadata.js';

export type { GateOutcome } from './bearer.js';

/** The scope every MCP client asks for first (the 401 challenge's `scope`). */
export const BASE_SCOPE = 'mcp';
/** `mcp:admin` is broader than `mcp` (MCP spec: servers account for scope hierarchies). */
export const IMPLIED_SCOPES: Readonly<Record<string, readonly string[]>> = { 'mcp:admin': ['mcp'] };

export interface ProtectedResourceOptions {
  config: Config;
  validator: TokenValidator;
  logger: Logger;
  /** Tool name -> extra scopes; default: src/mcp's `TOOL_REQUIRED_SCOPES`. */
  toolScopes?: Readonly<Record<string, readonly string[]>>;
  /** Metrics hook: one call per gated request (e.g. `metrics.authOutcomes.inc({ outcome, reason })`). */
  onOutcome?: (outcome: GateOutcome, reason: string) => void;
}

export interface ProtectedResource {
  /**
   * `/.well-known/oauth-protected-resource[/mcp]` and
   * `/.well-known/oauth-protected-resource/sse`, with CORS and OPTIONS.
   */
  router: Router;
  /**
   * Express middleware for /mcp: on success sets `req.auth` (the SDK's
   * AuthInfo, with `extra.subject`); otherwise answers 401/403/503 with the
   * RFC 6750 challenge naming the /mcp metadata document.
   */
  authenticate: RequestHandler;
  /**
   * The same gate for the legacy HTTP+SSE endpoints (/sse, /message): its
   * challenges name the /sse metadata document, `req.auth.resource` is the
   * legacy SSE URL. Same validator, so a token for either URL works on both.
   */
  authenticateLegacySse: RequestHandler;
  /** The URL advertised in `resource_metadata="…"` by `authenticate`. */
  resourceMetadataUrl: string;
  /** The URL advertised in `resource_metadata="…"` by `authenticateLegacySse`. */
  legacySseResourceMetadataUrl: string;
}

export function createProtectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const { config, validator, logger } = options;
  const toolScopes = options.toolScopes ?? TOOL_REQUIRED_SCOPES;
  const scopesSupported = [...new Set([BASE_SCOPE, 'mcp:admin', ...Object.values(toolScopes).flat()])];

  // One protected resource, two URLs (one per transport): one metadata document and one challenge each.
  const endpoints = [
    { resource: config.mcpUrl, rootFallback: true },
    { resource: config.legacySseUrl, rootFallback: false }
  ].map(({ resource, rootFallback }) => {
    const resourceMetadataUrl = protectedResourceMetadataUrl(resource);
    const router = createProtectedResourceMetadataRouter({
      resource,
      authorizationServers: [config.issuer],
      scopesSupported,
      resourceName: 'MCP Feature Reference Server',
      rootFallback
    });
    const authenticate = createBearerGate({
      validator,
      resource,
      resourceMetadataUrl,
      scope: BASE_SCOPE,
      toolScopes,
      impliedScopes: IMPLIED_SCOPES,
      maxBodyBytes: config.maxBodyBytes,
      logger,
      onOutcome: options.onOutcome
    });
    return { router, authenticate, resourceMetadataUrl };
  });
  const [mcp, legacy] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];

  const router = Router();
  router.use(mcp.router, legacy.router);

  return {
    router,
    authenticate: mcp.authenticate,
    authenticateLegacySse: legacy.authenticate,
    resourceMetadataUrl: mcp.resourceMetadataUrl,
    legacySseResourceMetadataUrl: legacy.resourceMetadataUrl
  };
}

export interface AdditionalResourceOptions {
  config: Config;
  /** Accepts only tokens whose audience is `resource`. */
  validator: TokenValidator;
  logger: Logger;
  /** The resource's canonical URL, e.g. `BASE_URI/<slug>/mcp`. */
  resource: string;
  resourceName: string;
  onOutcome?: (outcome: GateOutcome, reason: string) => void;
}

/**
 * Another protected resource on this origin (a gallery app's `/<slug>/mcp`):
 * its own RFC 9728 document at `/.well-known/oauth-protected-resource/<path>`
 * (`resource` = its URL, never the root fallback) and its own bearer gate,
 * whose challenges name that document. Scope `mcp`; no tool needs more.
 */
export function createAdditionalProtectedResource(options: AdditionalResourceOptions): { router: Router; authenticate: RequestHandler; resourceMetadataUrl: string } {
  const { config, validator, logger, resource } = options;
  const resourceMetadataUrl = protectedResourceMetadataUrl(resource);
  const router = createProtectedResourceMetadataRouter({
    resource,
    authorizationServers: [config.issuer],
    scopesSupported: [BASE_SCOPE],
    resourceName: options.resourceName,
    rootFallback: false
  });
  const authenticate = createBearerGate({
    validator,
    resource,
    resourceMetadataUrl,
    scope: BASE_SCOPE,
    toolScopes: {},
    impliedScopes: IMPLIED_SCOPES,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    onOutcome: options.onOutcome
  });
  return { router, authenticate, resourceMetadataUrl };
}
