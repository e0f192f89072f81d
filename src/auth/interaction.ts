/**
 * An interaction is one authorization request on its way from GET /authorize
 * through consent and the demo IdP to a code. It lives server-side
 * (`auth:interaction:{handle-hash}`); the browser holds only:
 *
 * - the handle (in the form / the IdP URL): an unguessable reference;
 * - a browser-binding cookie (`__Host-mcp_as_browser` on https, where the
 *   prefix forbids a Domain attribute and requires Secure and Path=/;
 *   `mcp_as_browser` on plain-http development origins; HttpOnly,
 *   SameSite=Lax): the interaction remembers its hash, so a handle copied to
 *   another browser (session fixation, a phished IdP link) is refused, and
 *   the upstream `state` is bound to the same cookie (identity/upstream-state.ts);
 * - a CSRF token in each form: the interaction remembers the hash of the
 *   token of the page it last rendered, and every POST must carry it.
 *
 * Each stage transition consumes the record atomically and writes the next
 * one, so a double submission is answered once.
 */
import type { Request, Response } from 'express';

import type { AsContext } from './context.js';
import { matchesHash, randomToken, sha256 } from './crypto.js';
import { OAuthError, PageError } from './errors.js';
import type { InteractionRecord } from './records.js';

export const BROWSER_COOKIE = 'mcp_as_browser';

/** The cookie's name for this issuer: `__Host-` prefixed wherever it can be (https). */
export function browserCookieName(ctx: Pick<AsContext, 'issuer'>): string {
  return ctx.issuer.startsWith('https://') ? `__Host-${BROWSER_COOKIE}` : BROWSER_COOKIE;
}

function readCookie(req: Request, name: string): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The browser-binding cookie as presented, if any. */
export function readBrowserCookie(ctx: Pick<AsContext, 'issuer'>, req: Request): string | undefined {
  return readCookie(req, browserCookieName(ctx));
}

/** The browser's binding secret, set on first sight. */
export function browserBinding(ctx: AsContext, req: Request, res: Response): string {
  const existing = readBrowserCookie(ctx, req);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const fresh = randomToken();
  res.cookie(browserCookieName(ctx), fresh, { httpOnly: true, sameSite: 'lax', secure: ctx.issuer.startsWith('https://'), path: '/' });
  return fresh;
}

const expired = () =>
  new PageError(
    new OAuthError('invalid_request', { reason: 'unknown or expired interaction' }),
    'This sign-in request has expired',
    'The authorization request is no longer valid (it expired, was already completed, or was opened in another browser).'
  );

const forgery = (reason: string) =>
  new PageError(
    new OAuthError('access_denied', { reason, description: 'The form submission could not be verified.' }),
    'This form could not be verified',
    'The submission did not come from the page this server showed you. Nothing was approved.'
  );

const HANDLE = /^[A-Za-z0-9_-]{43}$/;

/** Loads a live interaction at `stage` for this browser, or throws the page error. */
export async function loadInteraction(
  ctx: AsContext,
  req: Request,
  handle: string | undefined,
  stage: InteractionRecord['stage']
): Promise<InteractionRecord> {
  if (!handle || !HANDLE.test(handle)) throw expired();
  const interaction = await ctx.records.interactions.get(sha256(handle));
  if (!interaction || interaction.expiresAt <= ctx.now()) throw expired();
  const cookie = readBrowserCookie(ctx, req);
  if (!cookie || !matchesHash(cookie, interaction.browserHash)) throw forgery('interaction opened in another browser');
  if (interaction.stage !== stage) throw expired();
  return interaction;
}

export function checkCsrf(interaction: InteractionRecord, presented: string | undefined): void {
  if (!presented || !matchesHash(presented, interaction.csrfHash)) throw forgery('CSRF token missing or wrong');
}

/** Atomically takes the interaction for a transition; a concurrent second submission gets the expired page. */
export async function takeInteraction(ctx: AsContext, handle: string): Promise<InteractionRecord> {
  const taken = await ctx.records.interactions.consume(sha256(handle));
  if (!taken) throw expired();
  return taken;
}

/** Writes the interaction with a fresh CSRF token; returns the token for the page. */
export async function saveInteraction(ctx: AsContext, handle: string, interaction: Omit<InteractionRecord, 'csrfHash'>): Promise<string> {
  const csrf = randomToken();
  const ttl = interaction.expiresAt - ctx.now();
  if (ttl <= 0) throw expired();
  await ctx.records.interactions.set(sha256(handle), { ...interaction, csrfHash: sha256(csrf) }, ttl);
  return csrf;
}
