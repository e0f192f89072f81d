/**
 * The `state` we send to the identity provider (the confused-deputy and CSRF
 * defence on OUR callback): unguessable, single use, bound to the browser
 * that approved our consent page, and short-lived.
 *
 * `auth:upstream-state:{sha256(state)}` holds the interaction handle and the
 * provider's checks (PKCE verifier, nonce), sealed. The callback:
 *   find (unknown or expired: error page, nothing changes)
 *   -> same browser? (no: error page, the record stays for its owner)
 *   -> consume atomically (a replay or a concurrent second callback finds nothing)
 *   -> open.
 */
import type { Request } from 'express';

import type { AsContext } from '../context.js';
import { matchesHash, sha256 } from '../crypto.js';
import { OAuthError, PageError } from '../errors.js';
import { readBrowserCookie } from '../interaction.js';
import type { InteractionRecord } from '../records.js';
import type { Sealer } from './seal.js';

/** Upper bound on the time between our redirect and the provider's callback. */
export const UPSTREAM_STATE_TTL_MS = 10 * 60 * 1000;

export interface PendingUpstream {
  handle: string;
  checks: Record<string, string>;
}

const STATE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export const noSignInInProgress = (reason: string) =>
  new PageError(
    new OAuthError('invalid_request', { reason }),
    'No sign-in in progress',
    'This sign-in answer does not match a sign-in started in this browser (it expired, was already used, or belongs to another browser). Nothing was changed; start again from your application.'
  );

export interface UpstreamStates {
  save(state: string, handle: string, interaction: Pick<InteractionRecord, 'browserHash' | 'clientId' | 'expiresAt'>, checks: Record<string, string>): Promise<void>;
  /** Takes the state for this browser, or throws the error page. */
  take(req: Request, state: string | undefined): Promise<PendingUpstream & { clientId: string }>;
}

export function createUpstreamStates(ctx: Pick<AsContext, 'records' | 'now' | 'log' | 'issuer'>, sealer: Sealer): UpstreamStates {
  return {
    async save(state, handle, interaction, checks) {
      const now = ctx.now();
      const expiresAt = Math.min(interaction.expiresAt, now + UPSTREAM_STATE_TTL_MS);
      const key = sha256(state);
      const sealed = await sealer.seal({ handle, checks } satisfies PendingUpstream, `state:${key}`);
      await ctx.records.upstreamStates.set(key, { sealed, browserHash: interaction.browserHash, clientId: interaction.clientId, expiresAt }, expiresAt - now);
    },

    async take(req, state) {
      if (!state || !STATE_SHAPE.test(state)) throw noSignInInProgress('callback without a well-formed state');
      const key = sha256(state);
      const record = await ctx.records.upstreamStates.get(key);
      if (!record || record.expiresAt <= ctx.now()) throw noSignInInProgress('unknown, used or expired upstream state');
      const cookie = readBrowserCookie(ctx, req);
      if (!cookie || !matchesHash(cookie, record.browserHash)) {
        ctx.log.warn({ event: 'upstream_state_foreign', clientId: record.clientId }, 'upstream callback from another browser refused');
        throw noSignInInProgress('upstream state belongs to another browser');
      }
      const taken = await ctx.records.upstreamStates.consume(key);
      if (!taken) throw noSignInInProgress('upstream state used concurrently');
      const pending = await sealer.open<PendingUpstream>(taken.sealed, `state:${key}`);
      return { ...pending, clientId: taken.clientId };
    }
  };
}
