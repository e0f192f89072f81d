/**
 * A real OpenID provider for the tests: panva's `oidc-provider` in its own
 * process (real discovery, JWKS, signed ID tokens, userinfo, refresh tokens).
 * Started by ./index.ts; prints one JSON line `{"issuer": …}` when listening.
 *
 * Env: OP_PORT, OP_CLIENTS (JSON array of client metadata).
 *
 * The sign-in pages are minimal and its own (no external fonts): a login form
 * (any login, any password; the login becomes the account id) with a Cancel
 * button (→ access_denied), then consent is granted automatically.
 * Accounts: `sub` = the login; `email` = the login when it contains '@',
 * else `<login>@example.com`; `email_verified` true unless the login starts
 * with `unverified`; `name` = "Test <login>". With conformIdTokenClaims the
 * ID token carries only `sub`, so the relying party must call userinfo.
 *
 * `POST /__control` (JSON) changes behaviour for failure tests:
 *   token:    'ok' | 'fail' (HTTP 500) | 'reject' (400 invalid_grant) | 'slow' (answers after 60 s) | 'tamper' (ID token signature broken)
 *                  | 'wrong-nonce' (ID token signed correctly with another nonce)
 *   userinfo: 'ok' | 'fail' (500) | 'refuse' (401)
 *   refresh:  'ok' | 'refuse' (invalid_grant)
 *   accessTtl: seconds for new access tokens (default 3600)
 *   rotateKeys: true -> sign with a new key from now on (old one unpublished)
 * `GET /__stats` -> counts of token, refresh and userinfo requests.
 * `GET /__issued` -> every access, refresh and ID token it issued (to search logs and answers for them).
 */
import http from 'node:http';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT ?? 0);
const clients = JSON.parse(process.env.OP_CLIENTS ?? '[]');

const control = { token: 'ok', userinfo: 'ok', refresh: 'ok', accessTtl: 3600 };
const stats = { token: 0, refresh: 0, userinfo: 0, authorization: 0 };
/** Every token value this provider issued (GET /__issued): tests search logs and answers for them. */
const issued: string[] = [];

async function newKey(kid: string) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

const server = http.createServer();
await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://localhost:${(server.address() as { port: number }).port}`;

let generation = 1;
let signingKey: Record<string, any> & { kid: string };
async function buildProvider() {
  signingKey = await newKey(`key-${generation}`);
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingKey] },
    // Shared between provider instances (key rotation keeps sessions and grants).
    adapter: SharedMemoryAdapter,
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({
        sub: id,
        email: id.includes('@') ? id : `${id}@example.com`,
        email_verified: !id.startsWith('unverified'),
        name: `Test ${id}`,
        preferred_username: id
      })
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: () => control.accessTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 24 * 3600
    },
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Error</title><h1>${escape(out.error ?? 'error')}</h1>`;
    }
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => console.error(JSON.stringify({ server_error: err.message })));

  // Failure modes and counters, around the provider's own endpoints.
  provider.use(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.path === '/token' && ctx.method === 'POST') {
      if (control.token === 'fail') {
        ctx.status = 500;
        ctx.body = { error: 'server_error' };
        return;
      }
      if (control.token === 'reject') {
        ctx.status = 400;
        ctx.body = { error: 'invalid_grant', error_description: 'rejected by test control' };
        return;
      }
      if (control.token === 'slow') await new Promise(r => setTimeout(r, 60_000));
      await next();
      for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof ctx.body?.[k] === 'string') issued.push(ctx.body[k]);
      const grantType = ctx.oidc?.params?.grant_type;
      if (grantType === 'refresh_token') {
        stats.refresh++;
        if (control.refresh === 'refuse') {
          ctx.status = 400;
          ctx.body = { error: 'invalid_grant', error_description: 'refused by test control' };
        }
        return;
      }
      stats.token++;
      if (ctx.status === 200 && ctx.body?.id_token) {
        if (control.token === 'tamper') {
          const [h, p, s] = ctx.body.id_token.split('.');
          ctx.body = { ...ctx.body, id_token: `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}` };
        } else if (control.token === 'wrong-nonce') {
          const claims = decodeJwt(ctx.body.id_token);
          const signed = await new SignJWT({ ...claims, nonce: 'not-the-nonce' }).setProtectedHeader({ alg: 'RS256', kid: signingKey.kid }).sign(await importJWK(signingKey, 'RS256'));
          ctx.body = { ...ctx.body, id_token: signed };
        }
      }
      return;
    }
    if (ctx.path === '/me') {
      stats.userinfo++;
      if (control.userinfo === 'fail') {
        ctx.status = 500;
        ctx.body = { error: 'server_error' };
        return;
      }
      if (control.userinfo === 'refuse') {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
        ctx.body = { error: 'invalid_token' };
        return;
      }
    }
    if (ctx.path === '/auth') stats.authorization++;
    await next();
  });
  return provider;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}

/** oidc-provider's memory adapter is per instance; this one is shared so a key rotation keeps every session. */
const storage = new Map<string, { value: any; expires: number }>();
class SharedMemoryAdapter {
  constructor(private readonly model: string) {}
  key(id: string) {
    return `${this.model}:${id}`;
  }
  async upsert(id: string, payload: any, expiresIn?: number) {
    storage.set(this.key(id), { value: payload, expires: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) {
      const g = `grant:${payload.grantId}`;
      const list = storage.get(g)?.value ?? [];
      list.push(this.key(id));
      storage.set(g, { value: list, expires: Infinity });
    }
    if (payload.userCode) storage.set(`userCode:${payload.userCode}`, { value: id, expires: Infinity });
    if (payload.uid) storage.set(`uid:${payload.uid}`, { value: id, expires: Infinity });
  }
  async find(id: string) {
    const e = storage.get(this.key(id));
    if (!e || e.expires < Date.now()) return undefined;
    return e.value;
  }
  async findByUid(uid: string) {
    const id = storage.get(`uid:${uid}`)?.value;
    return id ? this.find(id) : undefined;
  }
  async findByUserCode(code: string) {
    const id = storage.get(`userCode:${code}`)?.value;
    return id ? this.find(id) : undefined;
  }
  async consume(id: string) {
    const e = storage.get(this.key(id));
    if (e) e.value.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    storage.delete(this.key(id));
  }
  async revokeByGrantId(grantId: string) {
    for (const k of storage.get(`grant:${grantId}`)?.value ?? []) storage.delete(k);
    storage.delete(`grant:${grantId}`);
  }
}

let provider = await buildProvider();

function page(res: http.ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Test OpenID Provider</title></head><body>${body}</body></html>`);
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

server.on('request', async (req, res) => {
  const url = new URL(req.url ?? '/', issuer);
  try {
    if (url.pathname === '/__control' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      Object.assign(control, Object.fromEntries(Object.entries(body).filter(([k]) => k in control)));
      if (body.rotateKeys) {
        generation++;
        provider = await buildProvider();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ control, generation }));
      return;
    }
    if (url.pathname === '/__issued') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issued));
      return;
    }
    if (url.pathname === '/__stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return;
    }
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/(login|abort))?$/.exec(url.pathname);
    if (m) {
      const details = await provider.interactionDetails(req, res);
      if (m[3] === 'abort' && req.method === 'POST') {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
        return;
      }
      if (m[3] === 'login' && req.method === 'POST') {
        const form = await readForm(req);
        const login = (form.get('login') ?? '').trim();
        if (!login) return page(res, 400, '<p>Login required</p>');
        await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
        return;
      }
      if (details.prompt.name === 'login') {
        const uid = m[1];
        return page(
          res,
          200,
          `<h1>Sign in to the test provider</h1>
<form method="post" action="/interaction/${uid}/login">
<label>Login <input type="text" name="login" required autofocus></label>
<label>Password <input type="password" name="password" required></label>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`
        );
      }
      // consent: granted automatically (the consent that matters is OUR page, before the redirect here).
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant!.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    provider.callback()(req, res);
  } catch (err) {
    console.error(JSON.stringify({ error: (err as Error).message }));
    if (!res.headersSent) page(res, 500, '<p>error</p>');
  }
});

console.log(JSON.stringify({ issuer }));
