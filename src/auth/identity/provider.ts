/**
 * The identity-provider seam (DESIGN.md "The second seam: who signs the user in").
 *
 * The AS keeps speaking MCP's OAuth to MCP clients (DCR/CIMD, PKCE, `resource`,
 * our own tokens) whatever signs the person in. After OUR consent page (the
 * confused-deputy defence: consent first, per client), the AS hands the
 * person to one `IdentityProvider`:
 *
 *   consent approved ──► provider.begin(pending) ──► browser goes to `redirectTo`
 *                                                    (the provider's sign-in page)
 *   provider redirects to BASE_URI/upstream-idp/callback
 *        ──► the AS checks `state` (single use, this browser, short-lived)
 *        ──► provider.complete(callback) ──► identity + upstream tokens
 *        ──► the AS checks the allow-lists, mints OUR code, stores the
 *            upstream tokens sealed and bound to the grant.
 *
 * The authorize, consent, token and revoke steps never know which provider
 * runs; they see only this interface (`sign-in.ts` drives it).
 *
 * ## Writing a new provider (e.g. `github.ts`, OAuth 2.0 without OIDC)
 *
 * - `begin` receives a fresh single-use `state` (the AS generated it and will
 *   check it on the callback; send it upstream verbatim) and returns the URL
 *   to send the browser to, plus `checks`: whatever must survive until the
 *   callback (PKCE verifier, nonce). `checks` are stored server-side, sealed,
 *   next to the state record; they never reach the browser.
 * - `complete` receives the callback URL exactly as the browser brought it
 *   (the AS has already matched `state` to this browser) and the `checks`.
 *   It exchanges the code and returns the identity. It MUST throw an
 *   `UpstreamError` for every failure: `access_denied` (the person refused,
 *   an invalid ID token, no verified email), `temporarily_unavailable`
 *   (provider unreachable, timed out, 5xx), `server_error` (anything the
 *   provider answered that makes no sense). Bound every request with
 *   `config.upstream.timeoutMs` (`UPSTREAM_TIMEOUT`; e.g.
 *   `AbortSignal.timeout(timeoutMs)` on each fetch). Nothing is written
 *   before `complete` returns: the AS writes the code and the sealed tokens
 *   only after it. oidc.ts's `classify` shows one way to map failures.
 *   GitHub: send PKCE S256 anyway (GitHub supports it) and `state`; exchange
 *   the code at `{UPSTREAM_GITHUB_URL}/login/oauth/access_token` (ask for
 *   JSON with `Accept: application/json`; no ID token, so no nonce), read the
 *   identity from `GET /user` (`id` is the subject, `login`, `name`) and a
 *   verified address from `GET /user/emails` (`primary && verified`); set
 *   `emailVerified` only from that list. `identity.issuer` is the GitHub base
 *   URL (github.com, or the Enterprise Server), so the same numeric id at two
 *   GitHub installations is two people. The API base is
 *   `https://api.github.com` for github.com and `{UPSTREAM_GITHUB_URL}/api/v3`
 *   for Enterprise Server.
 * - Register it in the registry (index.ts, `kind === 'github'`); the
 *   configuration (`UPSTREAM_GITHUB_URL`, default scopes `read:user
 *   user:email`) is already validated in src/config.ts. Allow-lists match a
 *   GitHub `login` only when `identity.provider === 'github'` (sign-in.ts).
 * - `identity.subject` is the provider's stable identifier of the person
 *   (OIDC `sub`, GitHub's numeric `id`, never a login or email that can be
 *   reassigned); with `identity.issuer` it derives our `sub`.
 * - `refresh` (optional) exchanges the stored refresh token; GitHub apps
 *   with expiring user tokens support it, OAuth apps do not (their tokens
 *   carry no expiry: leave `expiresAt` undefined and they are used as they
 *   are). A refresh token the provider refuses is `access_denied`: the AS
 *   then deletes the stored tokens and `upstreamProfile` says so.
 * - `userinfo` calls the provider's profile endpoint (OIDC userinfo; GitHub
 *   `/user`) with the stored access token. A 401 from the provider is
 *   `UpstreamError('invalid_token')` so the AS can try a refresh once.
 * - `navigationOrigins` MUST name the origin of `redirectTo` (GitHub: its
 *   base URL's origin): the consent page's CSP `form-action` lists it, and
 *   browsers apply form-action to the redirect after the form post, so a
 *   provider missing here leaves the person stuck on our consent page.
 * - `ready` (optional) tells `/ready` and `/authorize` whether the provider
 *   can be reached; without it the AS assumes it can.
 * - `redirectTo` of the mock provider is one of our own pages: a provider
 *   may serve its own routes (`routes`) and finish there through the same
 *   `SignInCompletion` the callback uses.
 * - Never forward our tokens upstream, and never send the MCP client's
 *   `resource` parameter upstream (Entra v2 refuses it; it names OUR server).
 */
import type { Router } from 'express';

import type { UpstreamIdpKind } from '../../config.js';

/** The person as the provider asserted them. `issuer` + `subject` identify them; the rest is for display and allow-lists. */
export interface UpstreamIdentity {
  /** Which kind of provider (`mock`, `oidc`, `google`, …, `github`). */
  provider: UpstreamIdpKind;
  /** The provider's issuer identifier (OIDC `iss`; GitHub: its base URL; mock: our issuer + `/mock-upstream-idp`). */
  issuer: string;
  /** The provider's stable subject for the person (OIDC `sub`, GitHub numeric id). */
  subject: string;
  email?: string;
  /** True only when the provider says the address is verified (OIDC `email_verified`, GitHub `/user/emails` `verified`). */
  emailVerified?: boolean;
  name?: string;
  /** GitHub login; `preferred_username` elsewhere. */
  login?: string;
  /** Google Workspace hosted domain (`hd`). */
  hostedDomain?: string;
}

/** Tokens the provider issued to US. Stay on the server, sealed (see upstream-tokens.ts); never sent to an MCP client. */
export interface UpstreamTokens {
  accessToken: string;
  refreshToken?: string;
  /** ms since the epoch; undefined when the provider did not say. */
  expiresAt?: number;
  scope?: string;
}

export interface SignInResult {
  identity: UpstreamIdentity;
  /** Undefined for the mock provider (it issues none). */
  tokens?: UpstreamTokens;
}

/** What `begin` knows about the authorization in progress. Never the MCP client's PKCE challenge or tokens. */
export interface PendingSignIn {
  /** The interaction handle (only the mock uses it: its page is ours). */
  handle: string;
  /** Fresh, single-use, unguessable: send it upstream as `state`. */
  state: string;
  clientId: string;
  clientName: string;
}

export interface BeginResult {
  /** Where the browser goes next (303). */
  redirectTo: string;
  /** Kept server-side with the state until the callback (PKCE verifier, nonce). Undefined: no callback expected (mock). */
  checks?: Record<string, string>;
}

export interface CallbackInput {
  /** The callback URL as the browser requested it (code, state, iss, error…). */
  url: URL;
  checks: Record<string, string>;
}

export type UpstreamErrorCode = 'access_denied' | 'temporarily_unavailable' | 'server_error' | 'invalid_token';

/** Every provider failure. `reason` goes to the audit log only; the wire gets the code. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly code: UpstreamErrorCode,
    readonly reason: string,
    options?: { cause?: unknown }
  ) {
    super(reason, options);
  }
}

export interface IdentityProvider {
  readonly kind: UpstreamIdpKind;
  /** Shown to the person and in logs (e.g. "Google", "Demo identity provider"). */
  readonly displayName: string;
  /** Starts the sign-in after our consent. Throws UpstreamError('temporarily_unavailable') when the provider cannot be reached. */
  begin(pending: PendingSignIn): Promise<BeginResult>;
  /** Finishes it on the callback. Throws UpstreamError. */
  complete(callback: CallbackInput): Promise<SignInResult>;
  /** New tokens from the stored refresh token. Absent: the provider's tokens cannot be refreshed. */
  refresh?(tokens: UpstreamTokens): Promise<UpstreamTokens>;
  /** The provider's view of the person, with the stored access token. Absent: no profile endpoint. */
  userinfo?(accessToken: string, subject: string): Promise<Record<string, unknown>>;
  /**
   * Origins the browser is sent to right after our consent page (the
   * provider's authorization endpoint), so the page's CSP `form-action`
   * allows the redirect that follows the form post. Known once `ready`
   * resolved; empty for the mock (our own origin).
   */
  navigationOrigins?(): string[];
  /** For `/ready`: resolves when the provider can be reached. */
  ready?(): Promise<void>;
  /** Routes the provider serves itself (the mock's pages). */
  routes?(completion: SignInCompletion): Router;
  close?(): Promise<void>;
}

/**
 * How a provider that serves its own pages (the mock) finishes a sign-in:
 * the same path the callback takes (allow-lists, code, sealed tokens).
 */
export interface SignInCompletion {
  finish(res: import('express').Response, handle: string, result: SignInResult): Promise<void>;
  cancel(res: import('express').Response, handle: string, reason: string): Promise<void>;
}
