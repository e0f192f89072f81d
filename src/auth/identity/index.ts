/**
 * The identity-provider registry: `UPSTREAM_IDP` -> one `IdentityProvider`
 * (provider.ts), and the routes every provider shares (the callback).
 *
 *   mock                                         -> mock.ts (the demo IdP, our own page)
 *   oidc, google, entra, okta, auth0, keycloak,
 *   cognito                                      -> oidc.ts (openid-client; presets in oidc-presets.ts)
 *   github                                       -> github.ts (OAuth 2.0, /user, /user/emails)
 */
import { Router, type ErrorRequestHandler } from 'express';

import { OIDC_KINDS } from '../../config.js';
import { PATHS, type AsContext } from '../context.js';
import { callbackRouter } from './callback.js';
import { createGithubIdentityProvider } from './github.js';
import { createMockIdentityProvider } from './mock.js';
import { createOidcIdentityProvider } from './oidc.js';
import type { IdentityProvider } from './provider.js';
import { createCompletion } from './sign-in.js';

export type { IdentityProvider } from './provider.js';

export function createIdentityProvider(ctx: AsContext, onError: ErrorRequestHandler): IdentityProvider {
  const kind = ctx.config.upstream.kind;
  const redirectUri = `${ctx.issuer}${PATHS.upstreamCallback}`;
  if (kind === 'mock') return createMockIdentityProvider(ctx, onError);
  if (kind === 'github') return createGithubIdentityProvider({ config: ctx.config.upstream, redirectUri, log: ctx.log });
  if (OIDC_KINDS.includes(kind)) {
    return createOidcIdentityProvider({ config: ctx.config.upstream, redirectUri, log: ctx.log });
  }
  throw new Error(`UPSTREAM_IDP=${kind} is not available in this build`);
}

/** The provider's own routes (if any) and the shared callback. */
export function identityRouter(ctx: AsContext, onError: ErrorRequestHandler): Router {
  const completion = createCompletion(ctx);
  const router = Router();
  if (ctx.idp.routes) router.use(ctx.idp.routes(completion));
  router.use(callbackRouter(ctx, completion, onError));
  return router;
}
