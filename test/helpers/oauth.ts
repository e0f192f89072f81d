/**
 * Obtains tokens from a running server through the real OAuth flow, over
 * plain HTTP, the way a person with a browser would:
 *
 *   metadata -> DCR (or a given client) -> PKCE -> GET /authorize (consent
 *   page) -> parse the form + CSRF token -> Approve -> demo IdP page ->
 *   pick or create an identity -> capture the redirect to the client
 *   (never followed) -> POST /token.
 *
 * Used by the AS tests, the integration tests and the conformance runner.
 *
 *   const t = await obtainTokens(server.url);                      // alice, scope "mcp", refresh token
 *   const t = await obtainTokens(url, { scope: 'mcp mcp:admin', identity: 'Dana' });
 *   const t2 = await refreshTokens(url, t);                         // rotation
 *
 * Lower-level steps are exported too (`registerClient`, `pkcePair`,
 * `OAuthBrowser`), so tests can stop anywhere in the flow or tamper with it.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface AsMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint?: string;
  introspection_endpoint?: string;
  revocation_endpoint?: string;
  scopes_supported?: string[];
  [k: string]: unknown;
}

export type ClientAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
  authMethod: ClientAuthMethod;
  redirectUris: string[];
}

export interface ObtainTokensOptions {
  /** Space-separated scopes; default: none sent (the AS grants "mcp"). */
  scope?: string;
  /** A demo identity id ("alice", "bob") or a display name to create. Default "alice". */
  identity?: string;
  /** Redirect URI to register and use. Default `http://127.0.0.1:<random port>/callback` (nothing needs to listen). */
  redirectUri?: string;
  /** Reuse a client instead of registering one. */
  client?: ClientCredentials;
  /** Registration: token endpoint auth method. Default "none". */
  authMethod?: ClientAuthMethod;
  /** Registration: grant types. Default ["authorization_code", "refresh_token"]. */
  grantTypes?: string[];
  clientName?: string;
  /** RFC 8707 resource; default `${issuer}/mcp`; `null` sends none. */
  resource?: string | null;
  state?: string;
}

export interface ObtainedTokens {
  clientId: string;
  clientSecret?: string;
  authMethod: ClientAuthMethod;
  redirectUri: string;
  issuer: string;
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
  scope: string;
  tokenType: string;
  /** The raw token endpoint JSON. */
  tokenResponse: Record<string, unknown>;
  metadata: AsMetadata;
}

const trim = (u: string) => u.replace(/\/+$/, '');

export async function fetchMetadata(baseUrl: string): Promise<AsMetadata> {
  const res = await fetch(`${trim(baseUrl)}/.well-known/oauth-authorization-server`);
  if (!res.ok) throw new Error(`AS metadata: HTTP ${res.status}`);
  return (await res.json()) as AsMetadata;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function randomLoopbackRedirect(): string {
  return `http://127.0.0.1:${20000 + Math.floor(Math.random() * 40000)}/callback`;
}

export async function registerClient(
  baseUrl: string,
  opts: { redirectUris?: string[]; authMethod?: ClientAuthMethod; grantTypes?: string[]; clientName?: string; extra?: Record<string, unknown> } = {}
): Promise<ClientCredentials> {
  const metadata = await fetchMetadata(baseUrl);
  const redirectUris = opts.redirectUris ?? [randomLoopbackRedirect()];
  const authMethod = opts.authMethod ?? 'none';
  const res = await fetch(metadata.registration_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: opts.clientName ?? 'Test client',
      redirect_uris: redirectUris,
      token_endpoint_auth_method: authMethod,
      grant_types: opts.grantTypes ?? ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...opts.extra
    })
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 201) throw new Error(`registration failed: HTTP ${res.status} ${JSON.stringify(body)}`);
  return { clientId: String(body.client_id), clientSecret: body.client_secret as string | undefined, authMethod, redirectUris };
}

/** Adds client authentication to a token/introspect/revoke request. */
export function withClientAuth(client: Pick<ClientCredentials, 'clientId' | 'clientSecret' | 'authMethod'>, form: URLSearchParams): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.authMethod === 'client_secret_basic') {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret ?? '')}`).toString('base64')}`;
  } else {
    form.set('client_id', client.clientId);
    if (client.authMethod === 'client_secret_post') form.set('client_secret', client.clientSecret ?? '');
  }
  return headers;
}

const decodeEntities = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#96;/g, '`').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The hidden fields of the first form on an AS page. */
export function parseHiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (!(m[1]! in out)) out[m[1]!] = decodeEntities(m[2]!);
  }
  return out;
}

/**
 * A minimal browser: keeps the AS's cookies, never follows redirects, and
 * walks the consent and IdP pages.
 */
export class OAuthBrowser {
  /** Cookies of the AS's origin. */
  readonly cookies = new Map<string, string>();
  /** Cookies of other origins (an upstream identity provider), by origin. */
  private readonly foreign = new Map<string, Map<string, string>>();

  constructor(readonly baseUrl: string) {}

  private jar(url: URL): Map<string, string> {
    if (url.origin === new URL(this.baseUrl).origin) return this.cookies;
    let jar = this.foreign.get(url.origin);
    if (!jar) this.foreign.set(url.origin, (jar = new Map()));
    return jar;
  }

  private cookieHeader(url: URL): string | undefined {
    const jar = this.jar(url);
    return jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  private remember(url: URL, res: Response): void {
    const jar = this.jar(url);
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1).trim();
      // An expired / emptied cookie is deleted.
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(pair!.slice(0, eq).trim());
      else jar.set(pair!.slice(0, eq).trim(), value);
    }
  }

  async get(url: string): Promise<Response> {
    const target = new URL(url, this.baseUrl);
    const headers: Record<string, string> = {};
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(target, { redirect: 'manual', headers });
    this.remember(target, res);
    return res;
  }

  async post(url: string, fields: Record<string, string>): Promise<Response> {
    const target = new URL(url, this.baseUrl);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(target, { method: 'POST', redirect: 'manual', headers, body: new URLSearchParams(fields).toString() });
    this.remember(target, res);
    return res;
  }

  /** GET /authorize; resolves with the consent page's form fields (throws unless a 200 page). */
  async openConsent(authorizeUrl: string): Promise<{ fields: Record<string, string>; html: string; response: Response }> {
    const response = await this.get(authorizeUrl);
    const html = await response.text();
    if (response.status !== 200) throw new Error(`authorize: HTTP ${response.status} ${response.headers.get('location') ?? html.slice(0, 300)}`);
    return { fields: parseHiddenFields(html), html, response };
  }

  /** Approve or deny on the consent page; resolves with the redirect Location. */
  async decide(fields: Record<string, string>, decision: 'approve' | 'deny'): Promise<string> {
    const res = await this.post('/authorize/consent', { ...fields, decision });
    if (res.status !== 303) throw new Error(`consent: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res.headers.get('location')!;
  }

  /**
   * Opens the IdP and signs in; resolves with the redirect to the client.
   * The demo IdP (our own page): picks (or creates) `identity`. An upstream
   * provider on another origin (the test OpenID provider): signs in there as
   * `identity`, then brings the answer to our callback.
   */
  async signIn(idpUrl: string, identity = 'alice'): Promise<string> {
    if (new URL(idpUrl, this.baseUrl).origin !== new URL(this.baseUrl).origin) {
      const res = await this.get(await this.signInAtProvider(idpUrl, identity));
      if (res.status !== 303) throw new Error(`upstream callback: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
      return res.headers.get('location')!;
    }
    const page = await this.get(idpUrl);
    const html = await page.text();
    if (page.status !== 200) throw new Error(`idp: HTTP ${page.status} ${html.slice(0, 300)}`);
    const fields = parseHiddenFields(html);
    const known = [...html.matchAll(/name="identity" value="([^"]+)"/g)].map(m => m[1]);
    const choice: Record<string, string> = known.includes(identity) ? { action: 'select', identity } : { action: 'create', display_name: identity };
    const res = await this.post('/mock-upstream-idp/authorize', { ...fields, ...choice });
    if (res.status !== 303) throw new Error(`idp: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res.headers.get('location')!;
  }

  /**
   * Drives the test OpenID provider's pages over HTTP (its login form: any
   * login, any password; or its Cancel button) from the authorization URL
   * the AS redirected to, following redirects with the provider's cookies,
   * until the provider sends the browser back to our callback. Resolves with
   * that callback URL, not yet requested.
   */
  async signInAtProvider(authorizationUrl: string, login: string, opts: { cancel?: boolean } = {}): Promise<string> {
    const ours = new URL(this.baseUrl).origin;
    let next = new URL(authorizationUrl, this.baseUrl).href;
    let res = await this.get(next);
    for (let hop = 0; hop < 20; hop++) {
      if (res.status >= 300 && res.status < 400) {
        next = new URL(res.headers.get('location')!, next).href;
        if (new URL(next).origin === ours) return next;
        res = await this.get(next);
        continue;
      }
      const html = await res.text();
      if (res.status !== 200) throw new Error(`provider: HTTP ${res.status} ${html.slice(0, 300)}`);
      const actions = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map(m => m[1]!);
      const target = actions.find(a => (opts.cancel ? a.endsWith('/abort') : a.endsWith('/login')));
      if (!target) throw new Error(`provider page without the expected form: ${html.slice(0, 300)}`);
      next = new URL(target, next).href;
      res = await this.post(next, opts.cancel ? {} : { login, password: 'any' });
    }
    throw new Error('provider: too many redirects');
  }
}

export function authorizationUrl(
  metadata: AsMetadata,
  p: { clientId: string; redirectUri?: string; challenge?: string; method?: string; scope?: string; state?: string; resource?: string | null; extra?: Record<string, string> }
): string {
  const url = new URL(metadata.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  if (p.redirectUri) url.searchParams.set('redirect_uri', p.redirectUri);
  if (p.challenge) url.searchParams.set('code_challenge', p.challenge);
  if (p.method !== '') url.searchParams.set('code_challenge_method', p.method ?? 'S256');
  if (p.scope) url.searchParams.set('scope', p.scope);
  if (p.state) url.searchParams.set('state', p.state);
  if (p.resource) url.searchParams.set('resource', p.resource);
  for (const [k, v] of Object.entries(p.extra ?? {})) url.searchParams.set(k, v);
  return url.href;
}

/** Runs the browser part of the flow and returns the authorization code (and the full callback URL). */
export async function authorizeCode(
  baseUrl: string,
  client: ClientCredentials,
  opts: { scope?: string; identity?: string; redirectUri?: string; resource?: string | null; state?: string; challenge: string }
): Promise<{ code: string; callback: URL; metadata: AsMetadata; browser: OAuthBrowser }> {
  const metadata = await fetchMetadata(baseUrl);
  const browser = new OAuthBrowser(baseUrl);
  const redirectUri = opts.redirectUri ?? client.redirectUris[0]!;
  const state = opts.state ?? randomBytes(16).toString('base64url');
  const resource = opts.resource === undefined ? `${metadata.issuer}/mcp` : opts.resource;
  const { fields } = await browser.openConsent(
    authorizationUrl(metadata, { clientId: client.clientId, redirectUri, challenge: opts.challenge, scope: opts.scope, state, resource })
  );
  const idp = await browser.decide(fields, 'approve');
  const callback = new URL(await browser.signIn(idp, opts.identity ?? 'alice'));
  const error = callback.searchParams.get('error');
  if (error) throw new Error(`authorization failed: ${error}`);
  if (callback.searchParams.get('state') !== state) throw new Error('state mismatch in callback');
  if (callback.searchParams.get('iss') !== metadata.issuer) throw new Error('iss mismatch in callback');
  return { code: callback.searchParams.get('code')!, callback, metadata, browser };
}

export async function tokenRequest(metadata: AsMetadata, client: Pick<ClientCredentials, 'clientId' | 'clientSecret' | 'authMethod'>, params: Record<string, string>): Promise<Response> {
  const form = new URLSearchParams(params);
  const headers = withClientAuth(client, form);
  return fetch(metadata.token_endpoint, { method: 'POST', headers, body: form.toString() });
}

/** The whole flow. */
export async function obtainTokens(baseUrl: string, opts: ObtainTokensOptions = {}): Promise<ObtainedTokens> {
  const client =
    opts.client ??
    (await registerClient(baseUrl, {
      redirectUris: [opts.redirectUri ?? randomLoopbackRedirect()],
      authMethod: opts.authMethod,
      grantTypes: opts.grantTypes,
      clientName: opts.clientName
    }));
  const { verifier, challenge } = pkcePair();
  const redirectUri = opts.redirectUri ?? client.redirectUris[0]!;
  const { code, metadata } = await authorizeCode(baseUrl, client, { scope: opts.scope, identity: opts.identity, redirectUri, resource: opts.resource, state: opts.state, challenge });
  const resource = opts.resource === undefined ? `${metadata.issuer}/mcp` : opts.resource;
  const res = await tokenRequest(metadata, client, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
    ...(resource ? { resource } : {})
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`token: HTTP ${res.status} ${JSON.stringify(body)}`);
  return {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    authMethod: client.authMethod,
    redirectUri,
    issuer: metadata.issuer,
    accessToken: String(body.access_token),
    refreshToken: body.refresh_token as string | undefined,
    expiresIn: Number(body.expires_in),
    scope: String(body.scope ?? ''),
    tokenType: String(body.token_type),
    tokenResponse: body,
    metadata
  };
}

/** grant_type=refresh_token with the client of `tokens`. Resolves with the raw response. */
export async function refreshRequest(tokens: Pick<ObtainedTokens, 'metadata' | 'clientId' | 'clientSecret' | 'authMethod'>, refreshToken: string, extra: Record<string, string> = {}): Promise<Response> {
  return tokenRequest(tokens.metadata, tokens, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

/** Refreshes and returns the new token set (throws on error). */
export async function refreshTokens(baseUrl: string, tokens: ObtainedTokens): Promise<ObtainedTokens> {
  if (!tokens.refreshToken) throw new Error('no refresh token');
  const res = await refreshRequest(tokens, tokens.refreshToken);
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`refresh at ${baseUrl}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return {
    ...tokens,
    accessToken: String(body.access_token),
    refreshToken: body.refresh_token as string | undefined,
    expiresIn: Number(body.expires_in),
    scope: String(body.scope ?? ''),
    tokenType: String(body.token_type),
    tokenResponse: body
  };
}

/** POST /revoke as the client of `tokens`. */
export async function revokeToken(tokens: Pick<ObtainedTokens, 'metadata' | 'clientId' | 'clientSecret' | 'authMethod'>, token: string, hint?: string): Promise<Response> {
  const form = new URLSearchParams({ token });
  if (hint) form.set('token_type_hint', hint);
  const headers = withClientAuth(tokens, form);
  return fetch(tokens.metadata.revocation_endpoint!, { method: 'POST', headers, body: form.toString() });
}

/** POST /introspect with the given (confidential) credentials. */
export async function introspect(
  metadata: AsMetadata,
  caller: Pick<ClientCredentials, 'clientId' | 'clientSecret' | 'authMethod'>,
  token: string
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams({ token });
  const headers = withClientAuth(caller, form);
  const res = await fetch(metadata.introspection_endpoint!, { method: 'POST', headers, body: form.toString() });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
