/**
 * The protected-resource side: RFC 9728 metadata and the bearer-token gate.
 * Knows only the TokenValidator seam, never the AS. STUB: replaced by the RS work.
 */
import { Router, type RequestHandler } from 'express';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { TokenValidator } from '../validators/token-validator.js';

export interface ProtectedResourceOptions {
  config: Config;
  validator: TokenValidator;
  logger: Logger;
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
}

export function createProtectedResource(_options: ProtectedResourceOptions): ProtectedResource {
  return { router: Router(), authenticate: (_req, _res, next) => next() };
}
