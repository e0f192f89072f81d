/**
 * Grants and the tokens they issue.
 *
 * A grant is one consent, by one subject, to one client, for one resource.
 * Every access and refresh token belongs to exactly one grant, listed in
 * `auth:grant:{grantId}:tokens`. A token is valid only while its own record
 * AND its grant record exist, so deleting the grant record is enough to end
 * everything it issued (the token records are then deleted for tidiness).
 *
 * Write order (a failure part-way never leaves a usable half):
 *   grant record -> token listed in the grant's set -> token record.
 * Revocation order: grant record first (everything dies at once), then tokens.
 *
 * Lifetimes: access tokens `ACCESS_TOKEN_TTL`; a grant with refresh tokens
 * lives `REFRESH_TOKEN_TTL` from consent (absolute: rotation does not extend
 * it), and no token outlives its grant.
 */
import { seconds, type AsContext } from './context.js';
import { randomToken, sha256 } from './crypto.js';
import type { IntrospectionResponse } from './introspect.js';
import { ttlUntil, type GrantRecord, type TokenRecord } from './records.js';

export interface IssuedTokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

export function newGrantId(): string {
  return randomToken();
}

/** Grant record lifetime: the refresh lifetime when refresh tokens are issued, otherwise one access token's. */
export async function createGrant(
  ctx: AsContext,
  grant: Omit<GrantRecord, 'createdAt' | 'expiresAt'>,
  withRefresh: boolean
): Promise<GrantRecord> {
  const now = ctx.now();
  const lifetime = (withRefresh ? Math.max(ctx.config.tokens.refreshTtl, ctx.config.tokens.accessTtl) : ctx.config.tokens.accessTtl) * 1000;
  const record: GrantRecord = { ...grant, createdAt: now, expiresAt: now + lifetime };
  await ctx.records.grants.set(grant.grantId, record, lifetime);
  return record;
}

/** Mints an access token (and a refresh token when asked) inside `grant`. */
export async function issueTokens(
  ctx: AsContext,
  grant: GrantRecord,
  opts: { scopes: readonly string[]; refresh: boolean; refreshScopes?: readonly string[]; generation?: number }
): Promise<IssuedTokens> {
  const now = ctx.now();
  const setKey = ctx.records.grantTokensKey(grant.grantId);
  const setTtl = ttlUntil(grant.expiresAt, now);

  const accessToken = randomToken();
  const accessHash = sha256(accessToken);
  const access: TokenRecord = {
    grantId: grant.grantId,
    clientId: grant.clientId,
    subject: grant.subject,
    scopes: [...opts.scopes],
    resource: grant.resource,
    issuedAt: now,
    expiresAt: Math.min(now + ctx.config.tokens.accessTtl * 1000, grant.expiresAt)
  };
  await ctx.store.addToSet(setKey, `a:${accessHash}`, setTtl);
  await ctx.records.accessTokens.set(accessHash, access, ttlUntil(access.expiresAt, now));

  const issued: IssuedTokens = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: Math.max(0, seconds(access.expiresAt - now)),
    scope: opts.scopes.join(' ')
  };

  if (opts.refresh) {
    const refreshToken = randomToken();
    const refreshHash = sha256(refreshToken);
    const refresh: TokenRecord = { ...access, scopes: [...(opts.refreshScopes ?? opts.scopes)], expiresAt: grant.expiresAt, generation: opts.generation ?? 0 };
    await ctx.store.addToSet(setKey, `r:${refreshHash}`, setTtl);
    await ctx.records.refreshTokens.set(refreshHash, refresh, ttlUntil(refresh.expiresAt, now));
    issued.refresh_token = refreshToken;
  }
  // The client is about to rely on these: on the replicas before the answer
  // (docs/operations.md "Redis: single, Sentinel or Cluster").
  await ctx.store.replicate([
    ctx.records.grants.key(grant.grantId),
    setKey,
    ctx.records.accessTokens.key(accessHash),
    ...(issued.refresh_token ? [ctx.records.refreshTokens.key(sha256(issued.refresh_token))] : [])
  ]);
  return issued;
}

/** What revocation needs: also used by the troubleshooting CLI (src/cli), which has no full AS context. */
export type RevocationContext = Pick<AsContext, 'store' | 'records' | 'log'>;

/** Ends a grant and every token it issued. Idempotent. */
export async function revokeGrant(ctx: RevocationContext, grantId: string, reason: string): Promise<void> {
  await ctx.records.grants.delete(grantId);
  const setKey = ctx.records.grantTokensKey(grantId);
  const members = await ctx.store.members(setKey);
  const keys = members.flatMap(m => {
    const hash = m.slice(2);
    if (m.startsWith('a:')) return [ctx.records.accessTokens.key(hash)];
    if (m.startsWith('r:')) return [ctx.records.refreshTokens.key(hash), ctx.records.rotations.key(hash)];
    if (m.startsWith('l:')) return [ctx.records.lines.key(`${grantId}:${hash}`)];
    return [];
  });
  if (keys.length) await ctx.store.delete(...keys);
  await ctx.store.delete(setKey);
  // The identity provider's tokens end with the grant they were bound to.
  await ctx.records.upstreamTokens.delete(grantId);
  // A revocation that a failover could undo would bring the tokens back.
  await ctx.store.replicate([ctx.records.grants.key(grantId), setKey, ...keys, ctx.records.upstreamTokens.key(grantId)]);
  ctx.log.info({ event: 'grant_revoked', grantId, reason, tokens: members.length }, 'grant revoked');
}

/** Revokes one access token (RFC 7009 on an access token leaves its grant alone). */
export async function revokeAccessToken(ctx: RevocationContext, tokenHash: string, grantId: string): Promise<void> {
  await ctx.records.accessTokens.delete(tokenHash);
  await ctx.store.removeFromSet(ctx.records.grantTokensKey(grantId), `a:${tokenHash}`);
  await ctx.store.replicate([ctx.records.accessTokens.key(tokenHash)]);
}

/** Our tokens are 43 base64url characters; anything else is not worth a store round trip. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function looksLikeToken(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** A live access token's record and grant, or undefined. */
export async function findActiveAccessToken(ctx: AsContext, token: string): Promise<{ record: TokenRecord; grant: GrantRecord } | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const record = await ctx.records.accessTokens.get(sha256(token));
  if (!record || record.expiresAt <= ctx.now()) return undefined;
  const grant = await ctx.records.grants.get(record.grantId);
  if (!grant) return undefined;
  return { record, grant };
}

/**
 * RFC 7662 §2.2 for access tokens, starting from the failing default. Used
 * by `POST /introspect` and, in internal mode, by the in-process validator.
 * Refresh tokens are never reported active here (a resource server must not
 * accept one as an access token).
 */
export async function introspectToken(ctx: AsContext, token: string): Promise<IntrospectionResponse> {
  const found = await findActiveAccessToken(ctx, token);
  if (!found) return { active: false };
  const { record } = found;
  return {
    active: true,
    sub: record.subject,
    client_id: record.clientId,
    scope: record.scopes.join(' '),
    aud: record.resource,
    iss: ctx.issuer,
    exp: seconds(record.expiresAt),
    iat: seconds(record.issuedAt),
    token_type: 'Bearer'
  };
}
