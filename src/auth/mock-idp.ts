/**
 * The demo identity provider step, `/mock-upstream-idp/authorize`.
 *
 * In production the AS would send the person to a real IdP (OIDC, SAML…)
 * here; this page stands in for one and says so. The person picks a demo
 * identity or creates one by name. The chosen identity is bound server-side
 * to the interaction (the page posts back the handle + CSRF token; the
 * identity never travels in a URL a client could pre-fill), and only then
 * is the authorization code minted and the person sent back to the client
 * with `code`, `state` and `iss` (RFC 9207).
 */
import { Router, type ErrorRequestHandler, type Response } from 'express';

import { findClient, wantsRefreshToken } from './clients.js';
import { clientRedirect, denyUrl } from './consent.js';
import { PATHS, type AsContext } from './context.js';
import { randomToken, sha256 } from './crypto.js';
import { OAuthError, PageError } from './errors.js';
import { newGrantId } from './grants.js';
import { html, sendPage } from '../http/html.js';
import { form, markPage, noStore, parseForm, wrap, type Step } from './http.js';
import { checkCsrf, loadInteraction, saveInteraction, takeInteraction } from './interaction.js';
import { rateLimit } from './rate-limit.js';
import type { InteractionRecord } from './records.js';

export interface DemoIdentity {
  id: string;
  name: string;
  email: string;
}

export const DEMO_IDENTITIES: readonly DemoIdentity[] = [
  { id: 'alice', name: 'Alice Example', email: 'alice@example.com' },
  { id: 'bob', name: 'Bob Example', email: 'bob@example.com' }
];

/** The subject (`sub`) of a demo identity: stable per name, so the same name is the same user. */
export function subjectFor(idOrName: string): string {
  const slug = idOrName
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `demo-user:${slug || 'anonymous'}`;
}

const NAME = /^[\p{L}\p{N} .'_-]{1,40}$/u;

function renderIdentityPage(res: Response, interaction: InteractionRecord, handle: string, csrf: string, clientName: string, problem?: string): void {
  const redirectOrigin = new URL(interaction.redirectUri).origin;
  const body = html`<span class="badge">Demo identity provider</span>
<h1>Sign in to continue to <span class="client">${clientName}</span></h1>
<p class="notice" role="note">This page stands in for a real identity provider (your company’s single sign-on, Google, GitHub…). No password is asked: pick a demo identity, or create one.</p>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<form method="post" action="${PATHS.idp}">
<input type="hidden" name="interaction" value="${handle}">
<input type="hidden" name="csrf_token" value="${csrf}">
<fieldset>
<legend>Choose an identity</legend>
${DEMO_IDENTITIES.map(
  (idn, i) => html`<label class="identity"><input type="radio" name="identity" value="${idn.id}"${i === 0 ? html` checked` : ''}><span><strong>${idn.name}</strong><br><span class="muted">${idn.email}</span></span></label>`
)}
</fieldset>
<div class="actions">
<button type="submit" name="action" value="select" class="primary">Continue as selected identity</button>
</div>
</form>
<h2>Or create a demo identity</h2>
<form method="post" action="${PATHS.idp}">
<input type="hidden" name="interaction" value="${handle}">
<input type="hidden" name="csrf_token" value="${csrf}">
<label class="field" for="display_name">Display name</label>
<input type="text" id="display_name" name="display_name" maxlength="40" autocomplete="off" required>
<div class="actions">
<button type="submit" name="action" value="create" class="primary">Create and continue</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel sign-in</button>
</div>
</form>`;
  sendPage(res, { title: 'Demo identity provider', body, status: problem ? 400 : 200, formTargets: [redirectOrigin] });
}

export function mockIdpRouter(ctx: AsContext, onError: ErrorRequestHandler): Router {
  const router = Router();

  const clientNameOf = async (clientId: string) => {
    const client = await findClient(ctx, clientId).catch(() => undefined);
    return client?.client_name?.trim() || 'the application';
  };

  const showIdentityPage: Step = async (req, res) => {
    const handle = typeof req.query.interaction === 'string' ? req.query.interaction : undefined;
    const interaction = await loadInteraction(ctx, req, handle, 'identity');
    const { csrfHash: _old, ...rest } = interaction;
    const csrf = await saveInteraction(ctx, handle!, rest);
    renderIdentityPage(res, interaction, handle!, csrf, await clientNameOf(interaction.clientId));
  };

  const chooseIdentity: Step = async (req, res) => {
    const f = form(res);
    const interaction = await loadInteraction(ctx, req, f.interaction, 'identity');
    checkCsrf(interaction, f.csrf_token);

    let subject: string;
    let idpReason: string;
    if (f.action === 'cancel') {
      const taken = await takeInteraction(ctx, f.interaction!);
      ctx.log.info({ event: 'sign_in_cancelled', clientId: taken.clientId }, 'sign-in cancelled at the demo IdP');
      res.redirect(303, denyUrl(ctx, taken, 'sign-in cancelled'));
      return;
    } else if (f.action === 'select') {
      const idn = DEMO_IDENTITIES.find(i => i.id === f.identity);
      if (!idn) throw new PageError(new OAuthError('invalid_request', { reason: 'unknown demo identity' }), 'Unknown identity', 'Please pick one of the listed identities.');
      subject = subjectFor(idn.id);
      idpReason = 'selected';
    } else if (f.action === 'create') {
      const name = (f.display_name ?? '').trim();
      if (!NAME.test(name)) {
        const { csrfHash: _old, ...rest } = interaction;
        const csrf = await saveInteraction(ctx, f.interaction!, rest);
        renderIdentityPage(res, interaction, f.interaction!, csrf, await clientNameOf(interaction.clientId), 'Use 1 to 40 letters, digits, spaces, dots, apostrophes, hyphens or underscores.');
        return;
      }
      subject = subjectFor(name);
      idpReason = 'created';
    } else {
      throw new PageError(new OAuthError('invalid_request', { reason: 'no IdP action' }), 'No choice made', 'Please choose an identity.');
    }

    const taken = await takeInteraction(ctx, f.interaction!);
    const client = await findClient(ctx, taken.clientId);
    if (!client) throw new PageError(new OAuthError('invalid_client', { reason: 'client vanished during the interaction' }), 'Unknown application', 'This application is no longer registered.');

    const code = randomToken();
    const now = ctx.now();
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
        grantId: newGrantId(),
        issueRefreshToken: wantsRefreshToken(client, taken.scopes),
        expiresAt: now + ctx.config.tokens.codeTtl * 1000
      },
      ctx.config.tokens.codeTtl * 1000
    );
    ctx.log.info({ event: 'code_issued', clientId: taken.clientId, subject, identity: idpReason, scopes: taken.scopes }, 'authorization code issued');
    const params = new URLSearchParams({ code });
    if (taken.state !== undefined) params.set('state', taken.state);
    params.set('iss', ctx.issuer);
    res.set('Referrer-Policy', 'no-referrer').redirect(303, clientRedirect(ctx, taken, params));
  };

  router.get(PATHS.idp, markPage, rateLimit(ctx, 'idp'), noStore, wrap(showIdentityPage), onError);
  router.post(PATHS.idp, markPage, rateLimit(ctx, 'idp'), noStore, parseForm, wrap(chooseIdentity), onError);
  return router;
}
