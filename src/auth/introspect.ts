/**
 * `POST /introspect` (RFC 7662).
 *
 * Who may introspect (RFC 7662 §2.1 requires authorization; §4 warns
 * against token scanning):
 * - the resource-server client provisioned from configuration
 *   (`INTROSPECTION_CLIENT_ID` / `INTROSPECTION_CLIENT_SECRET`, what the
 *   MCP server uses in external mode): any token;
 * - any other confidential client (client_secret_basic / _post): only tokens
 *   issued to itself; for anyone else's token the answer is `{active:false}`;
 * - public clients and unauthenticated callers: 401 invalid_client.
 *
 * Steps: rateLimit -> noStore -> parseForm -> authenticateCaller -> readToken
 * -> introspectToken -> applyCallerPolicy. The answer starts from, and
 * defaults to, `{ "active": false }`.
 */
import { Router, type ErrorRequestHandler } from 'express';

import { authenticateClient, type AuthenticatedClient } from './client-authentication.js';
import { PATHS, type AsContext } from './context.js';
import { OAuthError } from './errors.js';
import { introspectToken } from './grants.js';
import { noStore, parseForm, required, wrap, type Step } from './http.js';
import type { IntrospectionResponse } from '../shared/introspection-response.js';
import { rateLimit } from './rate-limit.js';
import { oauthSpan } from '../observability/oauth-spans.js';

export type { IntrospectionResponse };

export function applyCallerPolicy(caller: AuthenticatedClient, answer: IntrospectionResponse): IntrospectionResponse {
  if (!answer.active) return { active: false };
  if (caller.isResourceServer || answer.client_id === caller.clientId) return answer;
  return { active: false };
}

export function introspectRouter(ctx: AsContext, onError: ErrorRequestHandler): Router {
  const router = Router();

  const introspect: Step = async (req, res) => {
    const caller = await authenticateClient(ctx, req, res);
    if (caller.method === 'none') {
      ctx.log.warn({ event: 'client_auth_failed', clientId: caller.clientId, reason: 'public client at introspection', path: req.path }, 'client authentication failed');
      throw new OAuthError('invalid_client', { reason: 'public clients may not introspect' });
    }
    const token = required(res, 'token');
    const answer = applyCallerPolicy(caller, await introspectToken(ctx, token));
    res.status(200).json(answer);
  };

  router.post(PATHS.introspect, oauthSpan(ctx.tracer, 'introspect'), rateLimit(ctx, 'introspect'), noStore, parseForm, wrap(introspect), onError);
  return router;
}
