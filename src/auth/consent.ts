/**
 * The consent page (rendered by GET /authorize) and `POST /authorize/consent`.
 *
 * The page shows who is asking (client name, how it is identified), where the
 * person will be sent back (the redirect host, with a warning for localhost
 * per the MCP security considerations), and what is asked (scopes, resource).
 * Approve hands the person to the identity provider (identity/sign-in.ts); Deny sends
 * `access_denied` back to the client. The POST steps:
 * `loadInteraction` (browser binding) -> `checkCsrf` -> `takeInteraction` -> decide.
 */
import { Router, type ErrorRequestHandler, type Response } from 'express';

import { PATHS, SCOPE_DESCRIPTIONS, type AsContext } from './context.js';
import { errorRedirectParams, OAuthError, PageError } from './errors.js';
import { html, sendPage } from '../http/html.js';
import { form, markPage, noStore, parseForm, wrap, type Step } from './http.js';
import { startSignIn } from './identity/sign-in.js';
import { checkCsrf, loadInteraction, takeInteraction } from './interaction.js';
import { rateLimit } from './rate-limit.js';
import type { ClientRecord, InteractionRecord } from './records.js';
import { isLoopbackRedirect } from './redirect-uri.js';
import { oauthSpan } from '../observability/oauth-spans.js';

export interface ConsentView {
  client: ClientRecord;
  /** Where approving may send the browser besides the client (the identity provider), for the CSP form-action. */
  navigationOrigins?: string[];
  redirectUri: string;
  scopes: string[];
  resource: string;
  handle: string;
  csrf: string;
}

export function renderConsent(res: Response, v: ConsentView): void {
  const redirect = new URL(v.redirectUri);
  const name = v.client.client_name?.trim() || 'An unnamed application';
  const identified =
    v.client.source === 'metadata_document'
      ? html`Identified by its metadata document at <span class="host">${new URL(v.client.client_id).host}</span>.`
      : html`This application registered itself with this server; its name is self-declared and not verified.`;
  const body = html`<span class="badge">Authorization request</span>
<h1><span class="client">${name}</span> wants to access your MCP server</h1>
<p class="muted">${identified}</p>
<h2 id="scopes-heading">It will be able to</h2>
<ul class="scopes" aria-labelledby="scopes-heading">
${v.scopes.map(s => html`<li><code>${s}</code> — ${SCOPE_DESCRIPTIONS[s] ?? s}</li>`)}
</ul>
<p class="muted">Resource: <span class="host">${v.resource}</span></p>
<p>If you approve, you will be sent back to <span class="host">${redirect.host}</span>.</p>
${
  isLoopbackRedirect(v.redirectUri)
    ? html`<p class="notice" role="note"><strong>This application runs on your own computer</strong> (it receives the answer on <span class="host">${redirect.host}</span>). Only continue if you just started it yourself.</p>`
    : ''
}
<form method="post" action="${PATHS.consent}">
<input type="hidden" name="interaction" value="${v.handle}">
<input type="hidden" name="csrf_token" value="${v.csrf}">
<div class="actions">
<button type="submit" name="decision" value="approve" class="primary">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`;
  sendPage(res, { title: `Authorize ${name}`, body, formTargets: [redirect.origin, ...(v.navigationOrigins ?? [])] });
}

/** Where the person goes after deciding. */
export function clientRedirect(ctx: AsContext, interaction: Pick<InteractionRecord, 'redirectUri' | 'state'>, params: URLSearchParams): string {
  const url = new URL(interaction.redirectUri);
  for (const [k, v] of params) url.searchParams.append(k, v);
  return url.href;
}

export function denyUrl(ctx: AsContext, interaction: InteractionRecord, reason: string): string {
  const err = new OAuthError('access_denied', { reason });
  return clientRedirect(ctx, interaction, errorRedirectParams(err, interaction.state, ctx.issuer));
}

export function consentRouter(ctx: AsContext, onError: ErrorRequestHandler): Router {
  const router = Router();

  const decide: Step = async (req, res) => {
    const f = form(res);
    const interaction = await loadInteraction(ctx, req, f.interaction, 'consent');
    checkCsrf(interaction, f.csrf_token);
    const decision = f.decision;
    if (decision !== 'approve' && decision !== 'deny') {
      throw new PageError(new OAuthError('invalid_request', { reason: 'no decision' }), 'No decision', 'Please choose Approve or Deny.');
    }
    const taken = await takeInteraction(ctx, f.interaction!);
    const audit = { clientId: taken.clientId, scopes: taken.scopes };
    if (decision === 'deny') {
      ctx.log.info({ event: 'consent_denied', ...audit }, 'consent denied');
      res.redirect(303, denyUrl(ctx, taken, 'consent denied'));
      return;
    }
    const { csrfHash: _old, ...rest } = taken;
    ctx.log.info({ event: 'consent_granted', ...audit, provider: ctx.idp.kind }, 'consent granted');
    // Our consent comes first; only now does the person go to the identity provider.
    await startSignIn(ctx, res, f.interaction!, rest);
  };

  router.post(PATHS.consent, oauthSpan(ctx.tracer, 'consent'), markPage, rateLimit(ctx, 'authorize'), noStore, parseForm, wrap(decide), onError);
  return router;
}
