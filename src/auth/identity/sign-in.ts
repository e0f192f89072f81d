/**
 * The AS's side of the identity-provider seam: what happens around
 * `IdentityProvider.begin` and `complete`, the same for every provider.
 *
 *   POST /authorize/consent (approve) ──► `startSignIn`:
 *       provider.begin ──► interaction saved at stage `identity` ──► 303 to the provider
 *   the provider's answer (our callback, or the mock's own page) ──► `finish`:
 *       takeInteraction (single use) ──► checkAllowed (UPSTREAM_ALLOWED_*)
 *       ──► mintCode (our code; the person's identity rides on it) ──► 303 to the MCP client
 *
 * Errors after consent go back to the MCP client's proven redirect URI with
 * the OAuth error code (`access_denied`, `temporarily_unavailable`,
 * `server_error`), `state` and `iss`.
 */
import type { Response } from 'express';

import type { UpstreamConfig } from '../../config.js';
import { findClient, wantsRefreshToken } from '../clients.js';
import { clientRedirect, denyUrl } from '../consent.js';
import type { AsContext } from '../context.js';
import { randomToken, sha256 } from '../crypto.js';
import { errorRedirectParams, OAuthError, PageError } from '../errors.js';
import { newGrantId } from '../grants.js';
import { saveInteraction, takeInteraction } from '../interaction.js';
import type { InteractionRecord, UpstreamIdentityRecord } from '../records.js';
import { UpstreamError, type SignInCompletion, type SignInResult, type UpstreamIdentity } from './provider.js';

/**
 * Our `sub` for a person: stable per (provider issuer, provider subject), so
 * the same person at the same provider is always the same user here, and two
 * providers' subjects never collide. The demo IdP keeps its readable
 * `demo-user:{name}` subjects.
 */
export function ourSubject(identity: Pick<UpstreamIdentity, 'provider' | 'issuer' | 'subject'>): string {
  if (identity.provider === 'mock') return identity.subject;
  return `idp:${sha256(`${identity.issuer}\n${identity.subject}`)}`;
}

/**
 * `UPSTREAM_ALLOWED_DOMAINS` / `UPSTREAM_ALLOWED_USERS`: undefined when the
 * person may sign in, else the reason (for the audit line). Only verified
 * emails count (Google's `hd` counts as a domain); a GitHub login counts as a user.
 * With both lists set, matching either is enough.
 */
export function checkAllowed(config: Pick<UpstreamConfig, 'allowedDomains' | 'allowedUsers'>, identity: UpstreamIdentity): string | undefined {
  const { allowedDomains, allowedUsers } = config;
  if (allowedDomains.length === 0 && allowedUsers.length === 0) return undefined;
  const email = identity.emailVerified === true && identity.email ? identity.email.toLowerCase() : undefined;
  const domain = email?.slice(email.lastIndexOf('@') + 1);
  if (allowedUsers.length) {
    if (email && allowedUsers.includes(email)) return undefined;
    if (identity.provider === 'github' && identity.login && allowedUsers.includes(identity.login.toLowerCase())) return undefined;
  }
  if (allowedDomains.length) {
    if (domain && allowedDomains.includes(domain)) return undefined;
    if (identity.hostedDomain && allowedDomains.includes(identity.hostedDomain.toLowerCase())) return undefined;
  }
  if (!email) return identity.email ? 'email not verified by the provider' : 'provider gave no email';
  return 'not in UPSTREAM_ALLOWED_DOMAINS / UPSTREAM_ALLOWED_USERS';
}

/** The identity as the grant keeps it (no token, no hosted-domain detail). */
export function identityRecord(identity: UpstreamIdentity): UpstreamIdentityRecord {
  const { provider, issuer, subject, email, emailVerified, name, login } = identity;
  return { provider, issuer, subject, email, emailVerified, name, login };
}

/** Where an upstream failure sends the person: back to the MCP client with the error's code. */
export function upstreamFailureUrl(ctx: AsContext, interaction: InteractionRecord, err: UpstreamError): string {
  const code = err.code === 'invalid_token' ? 'server_error' : err.code;
  const oauth = new OAuthError(code, { reason: err.reason, ...(code === 'temporarily_unavailable' ? { retryAfter: 5 } : {}) });
  return clientRedirect(ctx, interaction, errorRedirectParams(oauth, interaction.state, ctx.issuer));
}

/** After our consent: hands the person to the provider. Nothing is saved when the provider cannot start. */
export async function startSignIn(ctx: AsContext, res: Response, handle: string, interaction: Omit<InteractionRecord, 'csrfHash'>): Promise<void> {
  const client = await findClient(ctx, interaction.clientId).catch(() => undefined);
  const state = randomToken();
  let begun;
  try {
    begun = await ctx.idp.begin({ handle, state, clientId: interaction.clientId, clientName: client?.client_name?.trim() || 'the application' });
  } catch (err) {
    const e = err instanceof UpstreamError ? err : new UpstreamError('server_error', 'provider begin failed', { cause: err });
    ctx.log.warn({ event: 'upstream_unavailable', provider: ctx.idp.kind, clientId: interaction.clientId, reason: e.reason }, 'identity provider could not start the sign-in');
    res.redirect(303, upstreamFailureUrl(ctx, { ...interaction, csrfHash: '' }, e));
    return;
  }
  await saveInteraction(ctx, handle, { ...interaction, stage: 'identity' });
  if (begun.checks) await ctx.upstreamStates.save(state, handle, interaction, begun.checks);
  res.set('Referrer-Policy', 'no-referrer').redirect(303, begun.redirectTo);
}

export function createCompletion(ctx: AsContext): SignInCompletion {
  return {
    async cancel(res, handle, reason) {
      const taken = await takeInteraction(ctx, handle);
      ctx.log.info({ event: 'sign_in_cancelled', provider: ctx.idp.kind, clientId: taken.clientId, reason }, 'sign-in cancelled at the identity provider');
      res.redirect(303, denyUrl(ctx, taken, reason));
    },

    async finish(res: Response, handle: string, result: SignInResult) {
      const taken = await takeInteraction(ctx, handle);
      const { identity } = result;
      const subject = ourSubject(identity);
      const refused = checkAllowed(ctx.config.upstream, identity);
      if (refused) {
        ctx.log.warn({ event: 'sign_in_refused', provider: identity.provider, clientId: taken.clientId, subject, reason: refused }, 'sign-in refused by the allow-list');
        res.redirect(303, denyUrl(ctx, taken, refused));
        return;
      }
      const client = await findClient(ctx, taken.clientId);
      if (!client) throw new PageError(new OAuthError('invalid_client', { reason: 'client vanished during the interaction' }), 'Unknown application', 'This application is no longer registered.');

      const code = randomToken();
      const grantId = newGrantId();
      const now = ctx.now();
      const ttl = ctx.config.tokens.codeTtl * 1000;
      // The provider's tokens first, under the grant id the code will create: a
      // code never exists without them, and unredeemed ones expire with the code.
      if (result.tokens) await ctx.upstreamTokens.save(grantId, identity, result.tokens, ttl);
      await ctx.records.codes.set(
        sha256(code),
        {
          clientId: taken.clientId,
          redirectUri: taken.redirectUri,
          redirectUriProvided: taken.redirectUriProvided,
          codeChallenge: taken.codeChallenge,
          scopes: taken.scopes,
          resource: taken.resource,
          subject,
          grantId,
          issueRefreshToken: wantsRefreshToken(client, taken.scopes),
          upstream: identityRecord(identity),
          expiresAt: now + ttl
        },
        ttl
      );
      ctx.log.info(
        { event: 'code_issued', clientId: taken.clientId, subject, provider: identity.provider, upstreamTokens: !!result.tokens, scopes: taken.scopes },
        'authorization code issued'
      );
      const params = new URLSearchParams({ code });
      if (taken.state !== undefined) params.set('state', taken.state);
      params.set('iss', ctx.issuer);
      res.set('Referrer-Policy', 'no-referrer').redirect(303, clientRedirect(ctx, taken, params));
    }
  };
}
