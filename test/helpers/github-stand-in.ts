/**
 * A GitHub-shaped OAuth server for the `UPSTREAM_IDP=github` tests, in the
 * shape of GitHub Enterprise Server (`{url}/login/oauth/*`, API under
 * `{url}/api/v3`), implementing the documented endpoints the github
 * provider uses, with GitHub's own behaviours:
 *
 *   GET  /login/oauth/authorize      the "Authorize application" page (a form)
 *   POST /login/oauth/authorize      Authorize -> redirect_uri?code&state;
 *                                    Cancel -> error=access_denied&error_description&error_uri&state
 *   POST /login/oauth/access_token   code (single use, PKCE S256 when a challenge was sent,
 *                                    exact redirect_uri) and refresh_token grants; client
 *                                    credentials in the body or Basic; errors as HTTP 200
 *                                    with `error` (bad_verification_code, bad_refresh_token,
 *                                    incorrect_client_credentials, redirect_uri_mismatch);
 *                                    form-encoded unless Accept: application/json
 *   GET  /api/v3/user                401 {"message":"Bad credentials"} for an unknown/expired token
 *   GET  /api/v3/user/emails         404 without the user:email (or user) scope
 *   GET  /api/v3/meta                unauthenticated
 *
 * `expiringTokens` makes it behave like a GitHub App with expiring user
 * tokens (expires_in + a rotating refresh_token). Tests steer it through
 * `failNext`, `revokeAll`, `expireAccessTokens` and read `calls`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInUser {
  id: number;
  login: string;
  name: string | null;
  /** The public profile email (unverified as far as the API says). */
  email: string | null;
  emails: { email: string; primary: boolean; verified: boolean; visibility: string | null }[];
}

export interface GithubStandInOptions {
  clientId: string;
  clientSecret: string;
  /** The one registered callback URL (GitHub OAuth apps have exactly one). Can be set after start. */
  callbackUrl?: string;
  users?: StandInUser[];
  /** GitHub App behaviour: access tokens expire after this many seconds, with rotating refresh tokens. */
  expiringTokens?: number;
}

export const OCTOCAT: StandInUser = {
  id: 583231,
  login: 'octocat',
  name: 'The Octocat',
  email: 'octocat@public.example',
  emails: [
    { email: 'octocat@github.example', primary: true, verified: true, visibility: 'private' },
    { email: 'old@github.example', primary: false, verified: false, visibility: null }
  ]
};

export const HUBOT: StandInUser = { id: 8675309, login: 'hubot', name: null, email: null, emails: [{ email: 'hubot@elsewhere.example', primary: true, verified: false, visibility: null }] };

interface Grant {
  userId: number;
  scope: string;
}

type Endpoint = 'token' | 'user' | 'emails' | 'meta';

export interface GithubStandIn {
  url: string;
  options: GithubStandInOptions;
  /** Requests received, by endpoint (tokens never recorded). */
  calls: Record<Endpoint | 'authorize', number>;
  /** The next request to `endpoint` gets this HTTP status (or hangs `delayMs` first). */
  failNext(endpoint: Endpoint, status: number, delayMs?: number): void;
  /** Every token issued so far stops working (the person revoked the app). */
  revokeAll(): void;
  /** Access tokens issued so far are expired (refresh tokens still work). */
  expireAccessTokens(): void;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', c => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });

const esc = (s: string) => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
const token = (prefix: string) => `${prefix}_${randomBytes(20).toString('base64url')}`;

export async function startGithubStandIn(options: GithubStandInOptions): Promise<GithubStandIn> {
  const users = options.users ?? [OCTOCAT, HUBOT];
  const codes = new Map<string, Grant & { redirectUri: string; challenge?: string; expiresAt: number }>();
  const access = new Map<string, Grant & { expiresAt?: number }>();
  const refresh = new Map<string, Grant>();
  const calls: GithubStandIn['calls'] = { authorize: 0, token: 0, user: 0, emails: 0, meta: 0 };
  const failures = new Map<Endpoint, { status: number; delayMs: number }>();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  };

  const issue = (res: ServerResponse, req: IncomingMessage, grant: Grant) => {
    const at = token(options.expiringTokens ? 'ghu' : 'gho');
    access.set(at, { ...grant, expiresAt: options.expiringTokens ? Date.now() + options.expiringTokens * 1000 : undefined });
    const body: Record<string, string | number> = { access_token: at, token_type: 'bearer', scope: grant.scope.split(' ').join(',') };
    if (options.expiringTokens) {
      const rt = token('ghr');
      refresh.set(rt, grant);
      Object.assign(body, { expires_in: options.expiringTokens, refresh_token: rt, refresh_token_expires_in: 15897600 });
    }
    tokenAnswer(res, req, body);
  };

  /** GitHub answers form-encoded unless asked for JSON, and errors with 200. */
  const tokenAnswer = (res: ServerResponse, req: IncomingMessage, body: Record<string, string | number>) => {
    if ((req.headers.accept ?? '').includes('application/json')) return json(res, 200, body);
    res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString());
  };
  const tokenError = (res: ServerResponse, req: IncomingMessage, error: string, description: string) =>
    tokenAnswer(res, req, { error, error_description: description, error_uri: 'https://docs.github.com/apps/troubleshooting' });

  const bearer = (req: IncomingMessage): (Grant & { expiresAt?: number }) | undefined => {
    const m = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? '');
    const grant = m ? access.get(m[1]!) : undefined;
    if (!grant || (grant.expiresAt !== undefined && grant.expiresAt <= Date.now())) return undefined;
    return grant;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in.invalid');
    const path = url.pathname;

    if (path === '/login/oauth/authorize' && req.method === 'GET') {
      calls.authorize++;
      const q = url.searchParams;
      if (q.get('client_id') !== options.clientId) return void res.writeHead(404).end('Not Found');
      if (q.get('redirect_uri') !== options.callbackUrl) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>The redirect_uri is not associated with this application.</h1>');
        return;
      }
      const hidden = [...q].map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
      const choices = users.map((u, i) => `<label><input type="radio" name="user" value="${u.id}"${i === 0 ? ' checked' : ''}> ${esc(u.login)}</label>`).join('<br>');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
        `<!doctype html><title>Authorize application</title><h1>Authorize application</h1><form method="post" action="/login/oauth/authorize">${hidden}${choices}<button type="submit" name="authorize" value="1" id="js-oauth-authorize-btn">Authorize</button><button type="submit" name="authorize" value="0">Cancel</button></form>`
      );
      return;
    }

    if (path === '/login/oauth/authorize' && req.method === 'POST') {
      const f = new URLSearchParams(await readBody(req));
      const redirect = new URL(f.get('redirect_uri')!);
      const state = f.get('state');
      if (f.get('authorize') !== '1') {
        redirect.searchParams.set('error', 'access_denied');
        redirect.searchParams.set('error_description', 'The user has denied your application access.');
        redirect.searchParams.set('error_uri', 'https://docs.github.com/apps/troubleshooting');
      } else {
        const code = randomBytes(10).toString('hex');
        const challenge = f.get('code_challenge') ?? undefined;
        if (challenge && f.get('code_challenge_method') !== 'S256') return void res.writeHead(400).end('code_challenge_method must be S256');
        codes.set(code, { userId: Number(f.get('user')), scope: f.get('scope') ?? '', redirectUri: f.get('redirect_uri')!, challenge, expiresAt: Date.now() + 600_000 });
        redirect.searchParams.set('code', code);
      }
      if (state !== null) redirect.searchParams.set('state', state);
      res.writeHead(302, { location: redirect.href }).end();
      return;
    }

    const endpoint: Endpoint | undefined =
      path === '/login/oauth/access_token' ? 'token' : path === '/api/v3/user' ? 'user' : path === '/api/v3/user/emails' ? 'emails' : path === '/api/v3/meta' ? 'meta' : undefined;
    if (!endpoint) return json(res, 404, { message: 'Not Found' });
    calls[endpoint]++;
    const failure = failures.get(endpoint);
    if (failure) {
      failures.delete(endpoint);
      if (failure.delayMs) await new Promise(r => setTimeout(r, failure.delayMs));
      if (res.destroyed) return;
      return json(res, failure.status, { message: 'Stand-in failure' });
    }

    if (endpoint === 'token') {
      if (req.method !== 'POST') return json(res, 404, { message: 'Not Found' });
      const f = new URLSearchParams(await readBody(req));
      let id = f.get('client_id');
      let secret = f.get('client_secret');
      const basic = /^Basic (\S+)$/i.exec(req.headers.authorization ?? '');
      if (basic) {
        const [u, p] = Buffer.from(basic[1]!, 'base64').toString().split(':');
        id = decodeURIComponent(u ?? '');
        secret = decodeURIComponent(p ?? '');
      }
      if (id !== options.clientId || secret !== options.clientSecret) return tokenError(res, req, 'incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
      if (f.get('grant_type') === 'refresh_token') {
        const old = f.get('refresh_token') ?? '';
        const grant = refresh.get(old);
        if (!grant) return tokenError(res, req, 'bad_refresh_token', 'The refresh token passed is incorrect or expired.');
        refresh.delete(old);
        return issue(res, req, grant);
      }
      const code = f.get('code') ?? '';
      const pending = codes.get(code);
      codes.delete(code);
      if (!pending || pending.expiresAt <= Date.now()) return tokenError(res, req, 'bad_verification_code', 'The code passed is incorrect or expired.');
      if (f.get('redirect_uri') !== null && f.get('redirect_uri') !== pending.redirectUri) return tokenError(res, req, 'redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
      if (pending.challenge) {
        const verifier = f.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) return tokenError(res, req, 'bad_verification_code', 'The code_verifier does not match the code_challenge.');
      }
      return issue(res, req, pending);
    }

    if (endpoint === 'meta') return json(res, 200, { verifiable_password_authentication: false });

    const grant = bearer(req);
    if (!grant) return json(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const user = users.find(u => u.id === grant.userId)!;
    if (endpoint === 'user') {
      return json(res, 200, { login: user.login, id: user.id, node_id: `U_${user.id}`, type: 'User', name: user.name, email: user.email, html_url: `https://github.example/${user.login}` });
    }
    const scopes = grant.scope.split(/[ ,]+/);
    if (!scopes.includes('user:email') && !scopes.includes('user')) return json(res, 404, { message: 'Not Found' });
    return json(res, 200, user.emails);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    options,
    calls,
    failNext: (endpoint, status, delayMs = 0) => void failures.set(endpoint, { status, delayMs }),
    revokeAll: () => {
      access.clear();
      refresh.clear();
    },
    expireAccessTokens: () => {
      for (const g of access.values()) g.expiresAt = Date.now() - 1;
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}
