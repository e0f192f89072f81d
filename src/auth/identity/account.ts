/**
 * The AS's implementation of `UpstreamAccount` (src/shared/upstream-account.ts),
 * the RS's only way to the person's provider account.
 */
import type { UpstreamAccount } from '../../shared/upstream-account.js';
import { isStoreUnavailable } from '../../store/store.js';
import type { AsContext } from '../context.js';
import { findActiveAccessToken } from '../grants.js';
import { UpstreamError } from './provider.js';

export function createUpstreamAccount(ctx: AsContext): UpstreamAccount {
  return {
    async identity(accessToken) {
      const found = await findActiveAccessToken(ctx, accessToken);
      return found?.grant.upstream;
    },

    async profile(accessToken) {
      const found = await findActiveAccessToken(ctx, accessToken);
      const idp = ctx.idp;
      if (!found) return { ok: false, error: 'no_upstream_token', message: 'The access token is not active.' };
      if (!idp.userinfo) return { ok: false, error: 'no_upstream_token', message: `The ${idp.displayName} has no profile endpoint to call.` };
      const { grant } = found;
      const subject = grant.upstream?.subject ?? '';
      const call = async (force: boolean) => idp.userinfo!(await ctx.upstreamTokens.accessToken(grant.grantId, { force }), subject);
      try {
        let profile: Record<string, unknown>;
        try {
          profile = await call(false);
        } catch (err) {
          // The provider refused the token (revoked or expired early): refresh once and retry.
          if (!(err instanceof UpstreamError && err.code === 'invalid_token')) throw err;
          profile = await call(true);
        }
        return { ok: true, provider: idp.kind, profile };
      } catch (err) {
        if (isStoreUnavailable(err)) return { ok: false, error: 'unavailable', message: 'Storage is unreachable; retry shortly.' };
        const e = err instanceof UpstreamError ? err : new UpstreamError('server_error', 'unexpected userinfo failure', { cause: err });
        ctx.log.warn({ event: 'upstream_profile_failed', provider: idp.kind, grantId: grant.grantId, error: e.code, reason: e.reason }, 'provider profile call failed');
        if (e.code === 'access_denied') return { ok: false, error: 'no_upstream_token', message: 'No usable token from the identity provider for this sign-in (none was issued, or it was refused or revoked). Sign in again.' };
        if (e.code === 'invalid_token') return { ok: false, error: 'refused', message: 'The identity provider refused the stored token. Sign in again.' };
        if (e.code === 'temporarily_unavailable') return { ok: false, error: 'unavailable', message: 'The identity provider could not be reached; retry shortly.' };
        return { ok: false, error: 'refused', message: 'The identity provider answered with an error.' };
      }
    }
  };
}
