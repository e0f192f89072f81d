/**
 * Fixed-window rate limits on the AS endpoints, shared by every instance
 * through `Store.increment`. Keyed on `req.ip`, which is the socket peer
 * unless `TRUST_PROXY` tells Express which proxies may set X-Forwarded-For.
 * Over the limit: 429 with Retry-After (seconds to the end of the window).
 */
import type { RequestHandler } from 'express';

import type { AsContext } from './context.js';
import { rateLimited } from './errors.js';

export type RateLimitBucket = 'register' | 'authorize' | 'token' | 'introspect' | 'revoke' | 'idp';

export function rateLimit(ctx: AsContext, bucket: RateLimitBucket): RequestHandler {
  const windowMs = ctx.config.rateLimit.windowSeconds * 1000;
  const max = ctx.config.rateLimit.max;
  return async (req, _res, next) => {
    try {
      const now = ctx.now();
      const window = Math.floor(now / windowMs);
      const peer = req.ip ?? req.socket.remoteAddress ?? 'unknown';
      const count = await ctx.store.increment(`ratelimit:as:${bucket}:${peer}:${window}`, windowMs);
      if (count > max) {
        const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
        ctx.log.warn({ event: 'rate_limited', bucket, peer }, 'rate limit exceeded');
        throw rateLimited(retryAfter);
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}
