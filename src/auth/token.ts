/**
 * `POST /token` (OAuth 2.1 §3.2, RFC 6749 §4.1.3, §6; RFC 7636 §4.6; RFC 8707).
 *
 * Steps: rateLimit -> cors -> noStore -> parseForm -> authenticateClient ->
 * by grant type:
 *
 * authorization_code: `redeemCode` (atomic single use; a replayed code
 *   revokes the grant it created, RFC 6749 §10.5) -> `checkCodeBinding`
 *   (client, redirect_uri, expiry) -> `checkPkce` -> `checkTokenResource`
 *   -> grant + exchange record -> `issueTokens`.
 *
 * refresh_token: `findRefreshToken` -> `checkRefreshScope` -> `rotate`:
 *   the first use of a refresh token rotates it (a new refresh token is
 *   issued; the old one is marked used). A used refresh token presented
 *   again:
 *   - within `REFRESH_GRACE_SECONDS` of its first use (default 10 s), by
 *     the same client, while the grant is live, AND while its successor
 *     has not been used: treated as a concurrent retry of the same refresh
 *     (two tabs, a retried request whose response was lost) and answered
 *     with a fresh access + refresh token pair in the same grant; the pair
 *     issued earlier stays valid;
 *   - otherwise: treated as theft (RFC 9700 §4.14.2): the whole grant (every
 *     access and refresh token it issued) is revoked and the answer is
 *     `invalid_grant`, with a `refresh_reuse_detected` audit line.
 *   Each refresh token carries its generation; the first rotation of a
 *   generation continues the grant's one line (`auth:refresh-line:`). Once
 *   generation n+1 was used, a generation-n token is a fork, not a retry,
 *   and so is a second sibling of generation n+1 (a retry's other
 *   successor) trying to continue the line.
 *   `REFRESH_GRACE_SECONDS=0` turns the grace window off.
 */
import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';

import { authenticateClient, type AuthenticatedClient } from './client-authentication.js';
import { PATHS, type AsContext } from './context.js';
import { sha256 } from './crypto.js';
import { OAuthError } from './errors.js';
import { createGrant, issueTokens, looksLikeToken, revokeGrant, type IssuedTokens } from './grants.js';
import { allowCors, form, noStore, parseForm, required, wrap, type Step } from './http.js';
import { parseScopes } from './authorize.js';
import { verifierMatches } from './pkce.js';
import { rateLimit } from './rate-limit.js';
import { ttlUntil, type CodeRecord, type GrantRecord, type TokenRecord } from './records.js';
import { oauthSpan } from '../observability/oauth-spans.js';

const invalidGrant = (reason: string) => new OAuthError('invalid_grant', { reason });

// ---- authorization_code ----------------------------------------------------

/** Takes the code's record atomically; a second redemption finds the exchange record and revokes that grant. */
export async function redeemCode(ctx: AsContext, code: string): Promise<{ record: CodeRecord; codeHash: string }> {
  if (!looksLikeToken(code)) throw invalidGrant('malformed code');
  const codeHash = sha256(code);
  const record = await ctx.records.codes.consume(codeHash);
  if (record) return { record, codeHash };
  const exchanged = await ctx.records.exchanges.get(codeHash);
  if (exchanged) {
    ctx.log.warn({ event: 'code_replay_detected', clientId: exchanged.clientId, grantId: exchanged.grantId }, 'authorization code replayed: revoking its grant');
    await revokeGrant(ctx, exchanged.grantId, 'authorization code replay');
    throw invalidGrant('code already redeemed (grant revoked)');
  }
  throw invalidGrant('unknown or expired code');
}

export function checkCodeBinding(ctx: AsContext, record: CodeRecord, caller: AuthenticatedClient, presentedRedirectUri: string | undefined): void {
  if (record.expiresAt <= ctx.now()) throw invalidGrant('code expired');
  if (record.clientId !== caller.clientId) throw invalidGrant('code issued to another client');
  // RFC 6749 §4.1.3: required and identical when the authorization request carried it.
  if (record.redirectUriProvided && presentedRedirectUri !== record.redirectUri) throw invalidGrant('redirect_uri differs from the authorization request');
  if (!record.redirectUriProvided && presentedRedirectUri !== undefined && presentedRedirectUri !== record.redirectUri) {
    throw invalidGrant('redirect_uri differs from the registered one');
  }
}

export function checkPkceVerifier(record: CodeRecord, verifier: string | undefined): void {
  if (!verifierMatches(verifier, record.codeChallenge)) throw invalidGrant(verifier === undefined ? 'PKCE code_verifier missing' : 'PKCE verification failed');
}

/** RFC 8707 §2.2: a resource at the token endpoint must be one the grant covers. */
export function checkTokenResource(res: Response, resource: string): void {
  const presented = form(res).resource;
  if (presented !== undefined && presented !== resource) throw new OAuthError('invalid_target', { reason: 'resource differs from the grant' });
}

async function authorizationCodeGrant(ctx: AsContext, req: Request, res: Response, caller: AuthenticatedClient): Promise<IssuedTokens> {
  const f = form(res);
  const { record, codeHash } = await redeemCode(ctx, required(res, 'code'));
  checkCodeBinding(ctx, record, caller, f.redirect_uri);
  checkPkceVerifier(record, f.code_verifier);
  checkTokenResource(res, record.resource);

  const grant = await createGrant(
    ctx,
    { grantId: record.grantId, clientId: record.clientId, subject: record.subject, scopes: record.scopes, resource: record.resource, upstream: record.upstream },
    record.issueRefreshToken
  );
  // The provider's tokens (if any) now live as long as the grant.
  await ctx.upstreamTokens.extend(grant.grantId, grant.expiresAt);
  await ctx.records.exchanges.set(codeHash, { grantId: grant.grantId, clientId: grant.clientId }, ctx.config.tokens.codeTtl * 1000);
  const tokens = await issueTokens(ctx, grant, { scopes: record.scopes, refresh: record.issueRefreshToken });
  ctx.log.info(
    { event: 'token_issued', grantType: 'authorization_code', clientId: grant.clientId, subject: grant.subject, grantId: grant.grantId, scopes: grant.scopes, refreshToken: !!tokens.refresh_token },
    'tokens issued'
  );
  return tokens;
}

// ---- refresh_token ---------------------------------------------------------

export async function findRefreshToken(ctx: AsContext, token: string, caller: AuthenticatedClient): Promise<{ record: TokenRecord; tokenHash: string }> {
  if (!looksLikeToken(token)) throw invalidGrant('malformed refresh token');
  const tokenHash = sha256(token);
  const record = await ctx.records.refreshTokens.get(tokenHash);
  if (!record || record.expiresAt <= ctx.now()) throw invalidGrant('unknown, expired or revoked refresh token');
  if (record.clientId !== caller.clientId) throw invalidGrant('refresh token issued to another client');
  return { record, tokenHash };
}

/** RFC 6749 §6: the requested scope must not exceed the original grant. */
export function checkRefreshScope(res: Response, record: TokenRecord): string[] {
  const requested = parseScopes(form(res).scope);
  if (!requested) return record.scopes;
  if (requested.some(s => !record.scopes.includes(s))) throw new OAuthError('invalid_scope', { reason: 'refresh scope exceeds the grant' });
  return requested;
}

/** RFC 9700 §4.14.2: reuse of a rotated refresh token ends the whole grant, with an audit line. */
async function revokeForReuse(ctx: AsContext, grant: GrantRecord, caller: AuthenticatedClient, reason: string): Promise<never> {
  ctx.log.warn({ event: 'refresh_reuse_detected', clientId: caller.clientId, subject: grant.subject, grantId: grant.grantId, reason }, 'rotated refresh token reused: revoking its grant');
  await revokeGrant(ctx, grant.grantId, 'refresh token reuse');
  throw invalidGrant(`refresh token reused after rotation (grant revoked): ${reason}`);
}

/**
 * The first rotation of a generation-`generation` token continues the grant's
 * line. Of the sibling tokens a grace-window retry can create, only one may
 * continue it: a second one rotating means two holders went separate ways.
 */
async function continueLine(ctx: AsContext, grant: GrantRecord, generation: number, tokenHash: string, caller: AuthenticatedClient): Promise<void> {
  const now = ctx.now();
  const ttl = ttlUntil(grant.expiresAt, now);
  await ctx.store.addToSet(ctx.records.grantTokensKey(grant.grantId), `l:${generation}`, ttl);
  const lineId = `${grant.grantId}:${generation}`;
  if (await ctx.records.lines.setIfAbsent(lineId, { tokenHash, usedAt: now }, ttl)) return;
  const line = await ctx.records.lines.get(lineId);
  if (line && line.tokenHash !== tokenHash) await revokeForReuse(ctx, grant, caller, 'a sibling refresh token already continued the grant');
}

async function refreshTokenGrant(ctx: AsContext, _req: Request, res: Response, caller: AuthenticatedClient): Promise<IssuedTokens> {
  const { record, tokenHash } = await findRefreshToken(ctx, required(res, 'refresh_token'), caller);
  const scopes = checkRefreshScope(res, record);
  checkTokenResource(res, record.resource);
  const grant = await ctx.records.grants.get(record.grantId);
  if (!grant) throw invalidGrant('grant revoked');

  const now = ctx.now();
  const generation = record.generation ?? 0;
  const first = await ctx.records.rotations.setIfAbsent(tokenHash, { rotatedAt: now, grantId: grant.grantId }, Math.max(1, record.expiresAt - now));
  let event = 'token_refreshed';
  if (first) {
    await continueLine(ctx, grant, generation, tokenHash, caller);
  } else {
    const rotation = await ctx.records.rotations.get(tokenHash);
    const graceMs = ctx.config.tokens.refreshGraceSeconds * 1000;
    // A window of 0 means none at all, even for a retry in the same millisecond.
    if (!rotation || graceMs === 0 || now - rotation.rotatedAt > graceMs) {
      await revokeForReuse(ctx, grant, caller, 'rotated refresh token presented after the grace window');
    }
    // Only a retry while the successor is unused: once the line went on, an earlier token is a fork.
    if (await ctx.records.lines.get(`${grant.grantId}:${generation + 1}`)) {
      await revokeForReuse(ctx, grant, caller, 'rotated refresh token presented after its successor was used');
    }
    event = 'token_refreshed_within_grace';
  }
  const tokens = await issueTokens(ctx, grant, { scopes, refresh: true, refreshScopes: record.scopes, generation: generation + 1 });
  ctx.log.info({ event, clientId: caller.clientId, subject: grant.subject, grantId: grant.grantId, scopes }, 'tokens refreshed');
  return tokens;
}

// ---- the endpoint ----------------------------------------------------------

export function tokenRouter(ctx: AsContext, onError: ErrorRequestHandler): Router {
  const router = Router();

  const token: Step = async (req, res) => {
    const grantType = required(res, 'grant_type');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      throw new OAuthError('unsupported_grant_type', { reason: `grant_type ${grantType.slice(0, 60)}` });
    }
    const caller = await authenticateClient(ctx, req, res);
    if (caller.isResourceServer) throw new OAuthError('unauthorized_client', { reason: 'resource-server client cannot obtain tokens' });
    const tokens = grantType === 'authorization_code' ? await authorizationCodeGrant(ctx, req, res, caller) : await refreshTokenGrant(ctx, req, res, caller);
    ctx.onTokensIssued?.(grantType);
    res.status(200).json(tokens);
  };

  router.options(PATHS.token, allowCors('POST'));
  router.post(PATHS.token, oauthSpan(ctx.tracer, 'token'), allowCors('POST'), rateLimit(ctx, 'token'), noStore, parseForm, wrap(token), onError);
  return router;
}
