/**
 * `POST /revoke` (RFC 7009).
 *
 * Steps: rateLimit -> cors -> noStore -> parseForm -> authenticateClient ->
 * findToken (access or refresh, in `token_type_hint` order) ->
 * checkOwnership -> revoke.
 *
 * - A client revokes only tokens issued to itself (§2.1); another client's
 *   token is refused with `invalid_grant` (RFC 6749 §5.2: "issued to another
 *   client") and left untouched.
 * - Revoking a refresh token ends its grant: every access and refresh token
 *   issued from the same consent (§2.1 "SHOULD also invalidate").
 * - Revoking an access token ends that token only.
 * - Unknown, expired or already revoked tokens: 200 (§2.2), nothing to do.
 */
import { Router, type ErrorRequestHandler } from 'express';

import { authenticateClient } from './client-authentication.js';
import { PATHS, type AsContext } from './context.js';
import { sha256 } from './crypto.js';
import { OAuthError } from './errors.js';
import { looksLikeToken, revokeAccessToken, revokeGrant } from './grants.js';
import { allowCors, form, noStore, parseForm, required, wrap, type Step } from './http.js';
import { rateLimit } from './rate-limit.js';
import type { TokenRecord } from './records.js';
import { oauthSpan } from '../observability/oauth-spans.js';

type Found = { kind: 'access_token' | 'refresh_token'; record: TokenRecord; hash: string };

async function findToken(ctx: AsContext, token: string, hint: string | undefined): Promise<Found | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const hash = sha256(token);
  const order: Array<'access_token' | 'refresh_token'> = hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
  for (const kind of order) {
    const record = await (kind === 'access_token' ? ctx.records.accessTokens : ctx.records.refreshTokens).get(hash);
    if (record) return { kind, record, hash };
  }
  return undefined;
}

export function revokeRouter(ctx: AsContext, onError: ErrorRequestHandler): Router {
  const router = Router();

  const revoke: Step = async (req, res) => {
    const caller = await authenticateClient(ctx, req, res);
    if (caller.isResourceServer) throw new OAuthError('unauthorized_client', { reason: 'resource-server client cannot revoke' });
    const token = required(res, 'token');
    const found = await findToken(ctx, token, form(res).token_type_hint);
    if (!found) {
      res.status(200).end();
      return;
    }
    if (found.record.clientId !== caller.clientId) {
      ctx.log.warn({ event: 'revocation_refused', clientId: caller.clientId, owner: found.record.clientId }, 'client tried to revoke another client’s token');
      throw new OAuthError('invalid_grant', { reason: 'token issued to another client', description: 'The token was issued to another client.' });
    }
    if (found.kind === 'refresh_token') {
      await revokeGrant(ctx, found.record.grantId, 'refresh token revoked by its client');
    } else {
      await revokeAccessToken(ctx, found.hash, found.record.grantId);
    }
    ctx.log.info({ event: 'token_revoked', clientId: caller.clientId, tokenType: found.kind, grantId: found.record.grantId }, 'token revoked');
    res.status(200).end();
  };

  router.options(PATHS.revoke, allowCors('POST'));
  router.post(PATHS.revoke, oauthSpan(ctx.tracer, 'revoke'), allowCors('POST'), rateLimit(ctx, 'revoke'), noStore, parseForm, wrap(revoke), onError);
  return router;
}
