/**
 * The protected-resource side: RFC 9728 metadata and the bearer-token gate.
 * Knows only the TokenValidator seam, never the AS (scripts/check-boundaries.mjs).
 */
import type { Router, RequestHandler } from 'express';

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
  /** `/.well-known/oauth-protected-resource[/mcp]` with CORS and OPTIONS. */
  router: Router;
  /**
   * Express middleware for /mcp, /sse, /message: on success sets `req.auth`
   * (the SDK's AuthInfo, with `extra.subject`); otherwise answers 401/403/503
   * with the RFC 6750 challenge.
   */
  authenticate: RequestHandler;
  /** The URL advertised in `resource_metadata="…"`. */
  resourceMetadataUrl: string;
}

export function createProtectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const { config, validator, logger } = options;
  const toolScopes = options.toolScopes ?? TOOL_REQUIRED_SCOPES;
  const resource = config.mcpUrl;
  const resourceMetadataUrl = protectedResourceMetadataUrl(resource);
  const scopesSupported = [...new Set([BASE_SCOPE, 'mcp:admin', ...Object.values(toolScopes).flat()])];

  const router = createProtectedResourceMetadataRouter({
    resource,
    authorizationServers: [config.issuer],
    scopesSupported,
    resourceName: 'MCP Feature Reference Server'
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
}
