/**
 * GitHub and GitHub Enterprise Server (`UPSTREAM_IDP=github`): OAuth 2.0
 * without OpenID Connect, as a relying party built on `openid-client` v6
 * with the endpoints GitHub documents (there is no discovery document):
 *
 *   authorize   {UPSTREAM_GITHUB_URL}/login/oauth/authorize
 *               code + PKCE S256 (GitHub supports it) + `state` from the AS
 *   token       {UPSTREAM_GITHUB_URL}/login/oauth/access_token
 *               also the refresh grant, for GitHub Apps with expiring user tokens
 *   identity    {api}/user: `id` (numeric, never reassigned) is the subject,
 *               `login` and `name` are shown
 *   email       {api}/user/emails: only a `primary && verified` address counts
 *               as verified (the public `email` of /user is unverified)
 *
 * `{api}` is https://api.github.com for github.com and `{url}/api/v3` for an
 * Enterprise Server. No ID token exists, so the identity comes from the API
 * with the access token the code exchange returned; GitHub never sends `iss`
 * on the redirect (RFC 9207), so none is expected.
 *
 * GitHub's quirk: the token endpoint answers errors with HTTP 200 and an
 * `error` member. `githubFetch` turns those into 400s, so openid-client's own
 * error handling (`ResponseBodyError`) applies.
 *
 * Every call is bounded by UPSTREAM_TIMEOUT.
 */
import * as client from 'openid-client';

import type { UpstreamConfig } from '../../config.js';
import type { Logger } from '../../logger.js';
import { classify, clientAuthentication, tokensOf } from './oidc.js';
import { UpstreamError, type IdentityProvider, type UpstreamIdentity, type UpstreamTokens } from './provider.js';

export interface GithubProviderOptions {
  config: UpstreamConfig;
  /** Our redirect URI at GitHub: `{issuer}/upstream-idp/callback` (the OAuth app's "Authorization callback URL"). */
  redirectUri: string;
  log: Logger;
}

/** GitHub's REST API root for a GitHub base URL. */
export function githubApiUrl(githubUrl: string): string {
  const url = new URL(githubUrl);
  return url.hostname === 'github.com' ? 'https://api.github.com' : `${url.origin}${url.pathname.replace(/\/+$/, '')}/api/v3`;
}

/** The documented REST headers (GitHub rejects API calls without a User-Agent). */
const API_HEADERS = {
  accept: 'application/vnd.github+json',
  'x-github-api-version': '2022-11-28',
  'user-agent': 'mcp-feature-reference-server'
};

/** Token-endpoint error codes GitHub sends with HTTP 200. */
const GITHUB_REFUSALS = new Set(['bad_refresh_token', 'unauthorized_client']);

/** A fetch that maps GitHub's `200 {error}` token responses to 400, leaving everything else untouched. */
export function githubFetch(tokenEndpoint: string): client.CustomFetch {
  return async (url, options) => {
    const res = await fetch(url, options as RequestInit);
    if (url !== tokenEndpoint || res.status !== 200) return res;
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const isError = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
    return new Response(text, { status: isError ? 400 : 200, headers: res.headers });
  };
}

interface GithubUser {
  id: number;
  login: string;
  name?: string | null;
  email?: string | null;
}

interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

function mapGithubError(err: unknown, during: string): UpstreamError {
  if (err instanceof client.ResponseBodyError && during === 'refresh' && GITHUB_REFUSALS.has(err.error)) {
    return new UpstreamError('access_denied', `GitHub refused the refresh token: ${err.error}`, { cause: err });
  }
  return classify(err, during);
}

export function createGithubIdentityProvider(options: GithubProviderOptions): IdentityProvider {
  const { config, redirectUri, log } = options;
  const base = config.githubUrl;
  const api = githubApiUrl(base);
  const enterprise = new URL(base).hostname !== 'github.com';
  const metadata: client.ServerMetadata = {
    issuer: base,
    authorization_endpoint: `${base}/login/oauth/authorize`,
    token_endpoint: `${base}/login/oauth/access_token`
  };
  const rp = new client.Configuration(metadata, config.clientId!, { client_secret: config.clientSecret, redirect_uris: [redirectUri], response_types: ['code'] }, clientAuthentication(config));
  rp.timeout = config.timeoutMs / 1000;
  rp[client.customFetch] = githubFetch(metadata.token_endpoint!);
  // http is refused in production by src/config.ts (UPSTREAM_GITHUB_URL); allowed for a local stand-in.
  if (base.startsWith('http:')) client.allowInsecureRequests(rp);

  /** GET {api}{path} with the person's token; undefined for the statuses in `absent`. */
  async function apiGet<T>(accessToken: string, path: string, during: string, absent: number[] = []): Promise<T | undefined> {
    let res: Response;
    try {
      res = await client.fetchProtectedResource(rp, accessToken, new URL(`${api}${path}`), 'GET', undefined, new Headers(API_HEADERS));
    } catch (err) {
      throw classify(err, during);
    }
    if (absent.includes(res.status)) return undefined;
    if (res.status === 401) throw new UpstreamError('invalid_token', `${during}: GitHub refused the access token`);
    if (res.status >= 500) throw new UpstreamError('temporarily_unavailable', `${during}: GitHub HTTP ${res.status}`);
    if (res.status !== 200) throw new UpstreamError('server_error', `${during}: GitHub HTTP ${res.status}`);
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw new UpstreamError('server_error', `${during}: GitHub sent no JSON`, { cause: err });
    }
  }

  async function user(accessToken: string, during: string): Promise<GithubUser> {
    const u = await apiGet<GithubUser>(accessToken, '/user', during);
    if (!u || typeof u.id !== 'number' || typeof u.login !== 'string') throw new UpstreamError('server_error', `${during}: GitHub /user has no id or login`);
    return u;
  }

  let readyUntil = 0;
  // The consent page's CSP (form-action) must allow the redirect to GitHub that follows its form post.
  const authorizeOrigin = new URL(metadata.authorization_endpoint!).origin;

  return {
    kind: 'github',
    displayName: enterprise ? 'GitHub Enterprise Server' : 'GitHub',

    async begin(pending) {
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: redirectUri,
        scope: config.scopes.join(' '),
        state: pending.state,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        // Signing up mid-authorization would land a brand-new account here; keep it a sign-in.
        allow_signup: 'false'
      });
      return { redirectTo: url.href, checks: { verifier, state: pending.state } };
    },

    async complete({ url, checks }) {
      let tokens: UpstreamTokens;
      try {
        const response = await client.authorizationCodeGrant(rp, url, {
          pkceCodeVerifier: checks.verifier,
          expectedState: checks.state,
          idTokenExpected: false
        });
        tokens = tokensOf(response);
      } catch (err) {
        throw mapGithubError(err, 'code exchange');
      }
      const u = await user(tokens.accessToken, 'GitHub /user');
      // 404 (OAuth app token without user:email) or 403 (GitHub App without the email permission): no verified address.
      const emails = await apiGet<GithubEmail[]>(tokens.accessToken, '/user/emails', 'GitHub /user/emails', [403, 404]);
      const verified = Array.isArray(emails) ? emails.find(e => e.primary && e.verified) ?? emails.find(e => e.verified) : undefined;
      const identity: UpstreamIdentity = {
        provider: 'github',
        issuer: base,
        subject: String(u.id),
        login: u.login,
        name: u.name || u.login,
        email: verified?.email ?? u.email ?? undefined,
        emailVerified: verified ? true : u.email ? false : undefined
      };
      if (!verified) log.info({ event: 'upstream_email_unverified', provider: 'github' }, 'GitHub gave no verified email (scope user:email missing?)');
      return { identity, tokens };
    },

    async refresh(tokens) {
      try {
        return tokensOf(await client.refreshTokenGrant(rp, tokens.refreshToken!));
      } catch (err) {
        throw mapGithubError(err, 'refresh');
      }
    },

    async userinfo(accessToken, subject) {
      const u = await user(accessToken, 'userinfo');
      if (String(u.id) !== subject) throw new UpstreamError('server_error', 'GitHub token belongs to another account');
      return { ...u };
    },

    navigationOrigins: () => [authorizeOrigin],

    async ready() {
      // GET {api}/meta is unauthenticated and documented on github.com and GHES; cached a minute so /ready probes stay cheap.
      if (Date.now() < readyUntil) return;
      let res: Response;
      try {
        res = await fetch(`${api}/meta`, { headers: API_HEADERS, signal: AbortSignal.timeout(config.timeoutMs) });
      } catch (err) {
        throw classify(err, 'readiness');
      }
      await res.body?.cancel();
      if (res.status >= 500) throw new UpstreamError('temporarily_unavailable', `GitHub /meta HTTP ${res.status}`);
      readyUntil = Date.now() + 60_000;
    }
  };
}
