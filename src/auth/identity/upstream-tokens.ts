/**
 * The identity provider's tokens, kept for tools that act for the person
 * (no token passthrough: MCP clients only ever get OUR tokens, and ours never
 * go upstream).
 *
 * `auth:upstream-token:{grantId}`: sealed (AES-256-GCM, bound to the grant
 * id), written when our code is minted (code lifetime), extended to the
 * grant's lifetime when the code is redeemed, deleted with the grant
 * (revocation, refresh-token reuse, code replay) or when it expires.
 *
 * Refresh: when the access token is expired (or about to be), one instance
 * at a time (`auth:upstream-refresh:{grantId}`, SET NX) exchanges the
 * refresh token and writes the new pair; the others wait for its result.
 */
import type { AsContext } from '../context.js';
import type { UpstreamTokenRecord } from '../records.js';
import { UpstreamError, type IdentityProvider, type UpstreamIdentity, type UpstreamTokens } from './provider.js';
import type { Sealer } from './seal.js';

/** Refresh this long before the provider's stated expiry. */
const EXPIRY_MARGIN_MS = 30_000;
const LOCK_MS = 15_000;
const WAIT_STEP_MS = 100;

export interface UpstreamTokenStore {
  save(grantId: string, identity: UpstreamIdentity, tokens: UpstreamTokens, ttlMs: number): Promise<void>;
  /** At code redemption: the record lives as long as the grant. No-op when there is none. */
  extend(grantId: string, expiresAt: number): Promise<void>;
  /**
   * A usable access token for the grant, refreshed first when it has expired
   * (`force`: the provider just refused it). Throws UpstreamError:
   * `access_denied` when there is none (or it cannot be refreshed), or the
   * provider's failure.
   */
  accessToken(grantId: string, options?: { force?: boolean }): Promise<string>;
}

export function createUpstreamTokenStore(ctx: Pick<AsContext, 'records' | 'store' | 'now' | 'log'>, idp: IdentityProvider, sealer: Sealer): UpstreamTokenStore {
  const binding = (grantId: string) => `grant:${grantId}`;

  async function write(grantId: string, base: Pick<UpstreamTokenRecord, 'provider' | 'issuer' | 'subject'>, tokens: UpstreamTokens, expiresAt: number): Promise<void> {
    const now = ctx.now();
    const record: UpstreamTokenRecord = {
      ...base,
      sealed: await sealer.seal(tokens, binding(grantId)),
      accessExpiresAt: tokens.expiresAt,
      refreshable: !!tokens.refreshToken && !!idp.refresh,
      updatedAt: now,
      expiresAt
    };
    await ctx.records.upstreamTokens.set(grantId, record, Math.max(1, expiresAt - now));
  }

  async function load(grantId: string): Promise<{ record: UpstreamTokenRecord; tokens: UpstreamTokens }> {
    const record = await ctx.records.upstreamTokens.get(grantId);
    if (!record || record.expiresAt <= ctx.now()) throw new UpstreamError('access_denied', 'no provider token for this grant');
    try {
      return { record, tokens: await sealer.open<UpstreamTokens>(record.sealed, binding(grantId)) };
    } catch {
      // Another key (restart with a generated development key, a mismatched UPSTREAM_TOKEN_KEY) or a swapped record.
      ctx.log.error({ event: 'upstream_token_unsealable', grantId }, 'provider token could not be unsealed (UPSTREAM_TOKEN_KEY differs?)');
      throw new UpstreamError('access_denied', 'provider token cannot be unsealed');
    }
  }

  const fresh = (t: UpstreamTokens) => t.expiresAt === undefined || t.expiresAt - EXPIRY_MARGIN_MS > ctx.now();

  async function refresh(grantId: string, seen: UpstreamTokenRecord): Promise<string> {
    const lockKey = ctx.records.upstreamRefreshLockKey(grantId);
    const deadline = ctx.now() + LOCK_MS;
    for (;;) {
      if (await ctx.store.setIfAbsent(lockKey, '1', LOCK_MS)) break;
      // Another instance is refreshing: use its result once it is written.
      await new Promise(r => setTimeout(r, WAIT_STEP_MS));
      const now = await load(grantId);
      if (now.record.updatedAt !== seen.updatedAt) return now.tokens.accessToken;
      if (ctx.now() > deadline) throw new UpstreamError('temporarily_unavailable', 'provider token refresh in progress elsewhere');
    }
    try {
      const { record, tokens } = await load(grantId);
      if (record.updatedAt !== seen.updatedAt) return tokens.accessToken;
      if (!tokens.refreshToken || !idp.refresh) throw new UpstreamError('access_denied', 'provider token expired and cannot be refreshed');
      const next = await idp.refresh(tokens);
      const merged: UpstreamTokens = { ...next, refreshToken: next.refreshToken ?? tokens.refreshToken };
      await write(grantId, record, merged, record.expiresAt);
      ctx.log.info({ event: 'upstream_token_refreshed', provider: record.provider, grantId }, 'provider token refreshed');
      return merged.accessToken;
    } catch (err) {
      if (err instanceof UpstreamError && err.code === 'access_denied') {
        // The provider refused the refresh token (revoked, expired): it is useless now.
        await ctx.records.upstreamTokens.delete(grantId);
        ctx.log.warn({ event: 'upstream_token_refresh_refused', grantId, reason: err.reason }, 'provider refused the refresh; provider token deleted');
      }
      throw err;
    } finally {
      await ctx.store.delete(lockKey).catch(() => undefined);
    }
  }

  return {
    async save(grantId, identity, tokens, ttlMs) {
      await write(grantId, { provider: identity.provider, issuer: identity.issuer, subject: identity.subject }, tokens, ctx.now() + ttlMs);
    },

    async extend(grantId, expiresAt) {
      const record = await ctx.records.upstreamTokens.get(grantId);
      if (!record) return;
      await ctx.records.upstreamTokens.set(grantId, { ...record, expiresAt }, Math.max(1, expiresAt - ctx.now()));
    },

    async accessToken(grantId, options = {}) {
      const { record, tokens } = await load(grantId);
      if (!options.force && fresh(tokens)) return tokens.accessToken;
      return refresh(grantId, record);
    }
  };
}
