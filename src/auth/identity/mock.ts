/**
 * The demo identity provider (`UPSTREAM_IDP=mock`, the default): one
 * `IdentityProvider` like the real ones (provider.ts), serving its own page
 * at `/mock-upstream-idp/authorize` instead of redirecting to another site.
 *
 * The page stands in for a real IdP and says so. The person picks a demo
 * identity or creates one by name. The chosen identity is bound server-side
 * to the interaction (the page posts back the handle + CSRF token; the
 * identity never travels in a URL a client could pre-fill), and only then
 * does the shared sign-in completion (sign-in.ts) mint the authorization
 * code and send the person back to the client with `code`, `state` and `iss`.
 * It issues no upstream tokens, so `upstreamProfile` has nothing to call.
 */
import { Router, type ErrorRequestHandler, type Response } from 'express';

import { findClient } from '../clients.js';
import { PATHS, type AsContext } from '../context.js';
import { OAuthError, PageError } from '../errors.js';
import { html, sendPage } from '../../http/html.js';
import { form, markPage, noStore, parseForm, wrap, type Step } from '../http.js';
import { checkCsrf, loadInteraction, saveInteraction } from '../interaction.js';
import { rateLimit } from '../rate-limit.js';
import type { InteractionRecord } from '../records.js';
import { UpstreamError, type IdentityProvider, type SignInCompletion, type UpstreamIdentity } from './provider.js';
import { oauthSpan } from '../../observability/oauth-spans.js';

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


/** The demo identity for a listed id or a created display name. */
export function demoIdentity(ctx: Pick<AsContext, 'issuer'>, idOrName: string, known?: DemoIdentity): UpstreamIdentity {
  return {
    provider: 'mock',
    issuer: `${ctx.issuer}/mock-upstream-idp`,
    subject: subjectFor(idOrName),
    name: known?.name ?? idOrName,
    email: known?.email,
    emailVerified: known ? true : undefined,
    login: known?.id
  };
}

export function createMockIdentityProvider(ctx: AsContext, onError: ErrorRequestHandler): IdentityProvider {
  const clientNameOf = async (clientId: string) => {
    const client = await findClient(ctx, clientId).catch(() => undefined);
    return client?.client_name?.trim() || 'the application';
  };

  const routes = (completion: SignInCompletion): Router => {
    const router = Router();

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

      let identity: UpstreamIdentity;
      if (f.action === 'cancel') {
        await completion.cancel(res, f.interaction!, 'sign-in cancelled');
        return;
      } else if (f.action === 'select') {
        const idn = DEMO_IDENTITIES.find(i => i.id === f.identity);
        if (!idn) throw new PageError(new OAuthError('invalid_request', { reason: 'unknown demo identity' }), 'Unknown identity', 'Please pick one of the listed identities.');
        identity = demoIdentity(ctx, idn.id, idn);
      } else if (f.action === 'create') {
        const name = (f.display_name ?? '').trim();
        if (!NAME.test(name)) {
          // Shown again with the token it was just submitted with (checked
          // above): a refused form changes nothing stored (found by the fuzzer).
          renderIdentityPage(res, interaction, f.interaction!, f.csrf_token!, await clientNameOf(interaction.clientId), 'Use 1 to 40 letters, digits, spaces, dots, apostrophes, hyphens or underscores.');
          return;
        }
        identity = demoIdentity(ctx, name);
      } else {
        throw new PageError(new OAuthError('invalid_request', { reason: 'no IdP action' }), 'No choice made', 'Please choose an identity.');
      }
      await completion.finish(res, f.interaction!, { identity });
    };

    router.get(PATHS.idp, oauthSpan(ctx.tracer, 'idp'), markPage, rateLimit(ctx, 'idp'), noStore, wrap(showIdentityPage), onError);
    router.post(PATHS.idp, oauthSpan(ctx.tracer, 'idp'), markPage, rateLimit(ctx, 'idp'), noStore, parseForm, wrap(chooseIdentity), onError);
    return router;
  };

  return {
    kind: 'mock',
    displayName: 'Demo identity provider',
    // Our own page; the interaction handle (browser-bound, CSRF-protected) carries the request.
    begin: async pending => ({ redirectTo: `${PATHS.idp}?interaction=${encodeURIComponent(pending.handle)}` }),
    complete: async () => {
      throw new UpstreamError('server_error', 'the demo IdP finishes on its own page, never through the callback');
    },
    routes
  };
}
