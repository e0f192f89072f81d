/**
 * `GET /authorize` (OAuth 2.1 §4.1.1, RFC 7636, RFC 8707, RFC 9207).
 *
 * Two phases (STYLE.md habit 5):
 * 1. `identifyClient`, `proveRedirectUri`: until the client and its redirect
 *    URI are proven, every error is a page here, never a redirect (no open
 *    redirector).
 * 2. `checkResponseType`, `checkPkce`, `checkResource`, `checkScopes`: errors
 *    go back to the proven redirect URI with `error`, `state` and `iss`.
 * Then `startInteraction` stores the request server-side and the consent page
 * is shown. No code exists until consent and the demo IdP step are done.
 */
import { Router, type ErrorRequestHandler, type Request } from 'express';

import { findClient } from './clients.js';
import { renderConsent } from './consent.js';
import { DEFAULT_SCOPES, PATHS, SCOPES_SUPPORTED, type AsContext } from './context.js';
import { randomToken, sha256 } from './crypto.js';
import { OAuthError, PageError, RedirectToClient } from './errors.js';
import { markPage, noStore, wrap, type Step } from './http.js';
import { browserBinding, saveInteraction } from './interaction.js';
import { isValidChallenge } from './pkce.js';
import { rateLimit } from './rate-limit.js';
import type { ClientRecord } from './records.js';
import { findRedirectUri } from './redirect-uri.js';
import { oauthSpan } from '../observability/oauth-spans.js';

/** Every parameter, as sent (repeated ones stay visible). */
function queryOf(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://as.invalid').searchParams;
}

/** RFC 6749 §3.1: parameters MUST NOT be included more than once. */
function single(q: URLSearchParams, name: string): string | undefined {
  const all = q.getAll(name);
  if (all.length > 1) throw new OAuthError('invalid_request', { reason: `parameter repeated: ${name}` });
  return all[0] === '' ? undefined : all[0];
}

const page = (code: 'invalid_request' | 'invalid_client', reason: string, title: string, message: string) =>
  new PageError(new OAuthError(code, { reason }), title, message);


// ---- phase 1 ---------------------------------------------------------------

export async function identifyClient(ctx: AsContext, q: URLSearchParams): Promise<ClientRecord> {
  let clientId: string | undefined;
  try {
    clientId = single(q, 'client_id');
  } catch {
    throw page('invalid_request', 'client_id repeated', 'Invalid authorization request', 'The request names more than one application.');
  }
  if (!clientId) throw page('invalid_request', 'client_id missing', 'Invalid authorization request', 'The request does not say which application is asking.');
  let client: ClientRecord | undefined;
  try {
    client = await findClient(ctx, clientId);
  } catch (err) {
    if (err instanceof OAuthError && err.code === 'invalid_redirect_uri') {
      throw new PageError(err, 'Application not allowed', 'This server does not accept the addresses this application wants to send you back to.');
    }
    if (err instanceof OAuthError) {
      throw new PageError(err, 'Unknown application', 'The application’s metadata document could not be retrieved or is invalid.');
    }
    throw err;
  }
  if (!client) throw page('invalid_client', 'unknown client_id', 'Unknown application', 'This application is not registered with this server (its registration may have expired).');
  return client;
}

/** The redirect URI to use: the presented one when it matches a registered one, or the only registered one. */
export function proveRedirectUri(client: ClientRecord, q: URLSearchParams): { redirectUri: string; provided: boolean } {
  let presented: string | undefined;
  try {
    presented = single(q, 'redirect_uri');
  } catch {
    throw page('invalid_request', 'redirect_uri repeated', 'Invalid authorization request', 'The request carries more than one redirect address.');
  }
  if (presented === undefined) {
    // OAuth 2.1 §4.1.1: optional only when exactly one is registered.
    if (client.redirect_uris.length === 1) return { redirectUri: client.redirect_uris[0]!, provided: false };
    throw page('invalid_request', 'redirect_uri missing', 'Invalid authorization request', 'The request does not say where to send you back.');
  }
  if (!findRedirectUri(client.redirect_uris, presented)) {
    throw page('invalid_request', 'redirect_uri not registered', 'Invalid redirect address', 'The address this request wants to send you back to is not registered for this application.');
  }
  return { redirectUri: presented, provided: true };
}

// ---- phase 2 ---------------------------------------------------------------

export function checkResponseType(q: URLSearchParams): void {
  const type = single(q, 'response_type');
  if (type === undefined) throw new OAuthError('invalid_request', { reason: 'response_type missing' });
  if (type !== 'code') throw new OAuthError('unsupported_response_type', { reason: 'response_type is not code' });
}

/** RFC 7636 + OAuth 2.1: a challenge is required and the method must be S256 (absent means plain, refused). */
export function checkPkce(q: URLSearchParams): string {
  const challenge = single(q, 'code_challenge');
  const method = single(q, 'code_challenge_method');
  if (challenge === undefined) throw new OAuthError('invalid_request', { reason: 'PKCE code_challenge missing', description: 'PKCE with S256 is required.' });
  if (method !== 'S256') throw new OAuthError('invalid_request', { reason: `PKCE method ${method ?? 'absent (plain)'}`, description: 'PKCE with S256 is required.' });
  if (!isValidChallenge(challenge)) throw new OAuthError('invalid_request', { reason: 'malformed code_challenge', description: 'PKCE with S256 is required.' });
  return challenge;
}

/**
 * RFC 8707: defaults to the canonical MCP URL; otherwise must be one of the
 * URLs of this MCP server (`ctx.resources`: the MCP URL or the legacy
 * HTTP+SSE URL), compared exactly. A token has one audience, so a request
 * naming two different resources is refused too.
 */
export function checkResource(ctx: AsContext, q: URLSearchParams): string {
  const resources = [...new Set(q.getAll('resource').filter(r => r !== ''))];
  if (resources.some(r => !ctx.resources.includes(r))) throw new OAuthError('invalid_target', { reason: 'resource is not this MCP server' });
  if (resources.length > 1) throw new OAuthError('invalid_target', { reason: 'more than one resource requested' });
  return resources[0] ?? ctx.resource;
}

export function parseScopes(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const scopes = [...new Set(raw.split(' ').filter(Boolean))];
  return scopes.length ? scopes : undefined;
}

export function checkScopes(q: URLSearchParams): string[] {
  const scopes = parseScopes(single(q, 'scope')) ?? DEFAULT_SCOPES;
  if (scopes.some(s => !(SCOPES_SUPPORTED as readonly string[]).includes(s))) throw new OAuthError('invalid_scope', { reason: 'unknown scope requested' });
  // offline_access alone grants nothing at the resource: add the default scope.
  if (scopes.every(s => s === 'offline_access')) return [...DEFAULT_SCOPES, ...scopes];
  return scopes;
}

/**
 * The identity provider must be reachable (a real provider's discovery;
 * the demo IdP always is) before we show a consent page that cannot lead
 * anywhere: otherwise `temporarily_unavailable` back to the client.
 */
export async function checkIdentityProvider(ctx: AsContext): Promise<void> {
  if (!ctx.idp.ready) return;
  try {
    await ctx.idp.ready();
  } catch (err) {
    const reason = (err as { reason?: string }).reason ?? 'identity provider unreachable';
    throw new OAuthError('temporarily_unavailable', { reason: `identity provider: ${reason}`, retryAfter: 5 });
  }
}

// ---- the endpoint ----------------------------------------------------------

export function authorizeRouter(ctx: AsContext, onError: ErrorRequestHandler): Router {
  const router = Router();

  const authorize: Step = async (req, res) => {
    const q = queryOf(req);
    const client = await identifyClient(ctx, q);
    const { redirectUri, provided } = proveRedirectUri(client, q);
    let state: string | undefined;
    let checked: { codeChallenge: string; resource: string; scopes: string[] };
    try {
      state = single(q, 'state');
      checkResponseType(q);
      checked = { codeChallenge: checkPkce(q), resource: checkResource(ctx, q), scopes: checkScopes(q) };
      await checkIdentityProvider(ctx);
    } catch (err) {
      if (err instanceof OAuthError) {
        ctx.log.info({ event: 'authorization_rejected', clientId: client.client_id, reason: err.reason }, 'authorization request refused');
        throw new RedirectToClient(err, redirectUri, state ?? q.getAll('state')[0]);
      }
      throw err;
    }

    const handle = randomToken();
    const browser = browserBinding(ctx, req, res);
    const csrf = await saveInteraction(ctx, handle, {
      clientId: client.client_id,
      redirectUri,
      redirectUriProvided: provided,
      state,
      codeChallenge: checked.codeChallenge,
      scopes: checked.scopes,
      resource: checked.resource,
      browserHash: sha256(browser),
      stage: 'consent',
      expiresAt: ctx.now() + ctx.config.tokens.codeTtl * 1000
    });
    renderConsent(res, { client, redirectUri, scopes: checked.scopes, resource: checked.resource, handle, csrf, navigationOrigins: ctx.idp.navigationOrigins?.() });
  };

  router.get(PATHS.authorize, oauthSpan(ctx.tracer, 'authorize'), markPage, rateLimit(ctx, 'authorize'), noStore, wrap(authorize), onError);
  return router;
}
