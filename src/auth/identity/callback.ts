/**
 * `GET /upstream-idp/callback`: where the identity provider sends the person
 * back (register `BASE_URI/upstream-idp/callback` at the provider).
 *
 * Steps: rateLimit -> noStore -> `takeState` (single use, this browser,
 * unexpired; otherwise an error page and nothing changes, nothing is sent
 * upstream) -> `loadInteraction` (stage `identity`, this browser) ->
 * provider.complete (code exchange, ID token, userinfo; bounded) ->
 * `finish` (allow-lists, our code) or, on an UpstreamError, the MCP client's
 * redirect URI with `access_denied` / `temporarily_unavailable` / `server_error`.
 */
import { Router, type ErrorRequestHandler } from 'express';

import { PATHS, type AsContext } from '../context.js';
import { markPage, noStore, wrap, type Step } from '../http.js';
import { loadInteraction, takeInteraction } from '../interaction.js';
import { rateLimit } from '../rate-limit.js';
import { UpstreamError, type SignInCompletion } from './provider.js';
import { upstreamFailureUrl } from './sign-in.js';
import { oauthSpan } from '../../observability/oauth-spans.js';

export function callbackRouter(ctx: AsContext, completion: SignInCompletion, onError: ErrorRequestHandler): Router {
  const router = Router();

  const callback: Step = async (req, res) => {
    const url = new URL(req.originalUrl, ctx.issuer);
    const states = url.searchParams.getAll('state');
    const pending = await ctx.upstreamStates.take(req, states.length === 1 ? states[0] : undefined);
    await loadInteraction(ctx, req, pending.handle, 'identity');
    let result;
    try {
      result = await ctx.idp.complete({ url, checks: pending.checks });
    } catch (err) {
      const e = err instanceof UpstreamError ? err : new UpstreamError('server_error', 'provider completion failed', { cause: err });
      const taken = await takeInteraction(ctx, pending.handle);
      const level = e.code === 'access_denied' && /refused|cancel/.test(e.reason) ? 'info' : 'warn';
      ctx.log[level]({ event: 'upstream_sign_in_failed', provider: ctx.idp.kind, clientId: taken.clientId, error: e.code, reason: e.reason }, 'sign-in at the identity provider failed');
      res.set('Referrer-Policy', 'no-referrer').redirect(303, upstreamFailureUrl(ctx, taken, e));
      return;
    }
    await completion.finish(res, pending.handle, result);
  };

  router.get(PATHS.upstreamCallback, oauthSpan(ctx.tracer, 'idp_callback'), markPage, rateLimit(ctx, 'idp'), noStore, wrap(callback), onError);
  return router;
}
