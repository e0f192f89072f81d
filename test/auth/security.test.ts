/**
 * The security suite: one test per attack on the authorization server, each
 * asserting the exact rejection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  authorizationUrl,
  authorizeCode,
  fetchMetadata,
  introspect,
  obtainTokens,
  OAuthBrowser,
  parseHiddenFields,
  pkcePair,
  refreshRequest,
  registerClient,
  revokeToken,
  tokenRequest,
  type AsMetadata
} from '../helpers/oauth.js';
import { form, startAs, type TestAs } from './server.js';

const RS = { clientId: 'rs', clientSecret: 'rs-secret-0123456789abcdef0123456789', authMethod: 'client_secret_basic' as const };

let as: TestAs;
let md: AsMetadata;
before(async () => {
  as = await startAs({ INTROSPECTION_CLIENT_ID: RS.clientId, INTROSPECTION_CLIENT_SECRET: RS.clientSecret, REFRESH_GRACE_SECONDS: '0' });
  md = await fetchMetadata(as.url);
});
after(() => as.close());

const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
const active = async (token: string) => (await introspect(md, RS, token)).body.active;

async function codeFor(opts: { scope?: string } = {}) {
  const client = await registerClient(as.url);
  const { verifier, challenge } = pkcePair();
  const { code } = await authorizeCode(as.url, client, { challenge, scope: opts.scope });
  return { client, verifier, code, redirectUri: client.redirectUris[0]! };
}

describe('PKCE', () => {
  test('an authorization request without code_challenge is redirected back as invalid_request', async () => {
    const c = await registerClient(as.url);
    const res = await fetch(authorizationUrl(md, { clientId: c.clientId, redirectUri: c.redirectUris[0], method: '' }), { redirect: 'manual' });
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.match(loc.searchParams.get('error_description')!, /PKCE/);
  });

  test('the plain method is refused, and so is an absent method (which means plain)', async () => {
    const c = await registerClient(as.url);
    const { challenge } = pkcePair();
    for (const method of ['plain', '']) {
      const res = await fetch(authorizationUrl(md, { clientId: c.clientId, redirectUri: c.redirectUris[0], challenge, method }), { redirect: 'manual' });
      assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request', `method=${method}`);
    }
  });

  test('a wrong code_verifier is invalid_grant', async () => {
    const { client, code, redirectUri } = await codeFor();
    const res = await tokenRequest(md, client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: pkcePair().verifier });
    assert.equal(res.status, 400);
    assert.equal(await errorOf(res), 'invalid_grant');
  });

  test('a missing code_verifier is invalid_grant', async () => {
    const { client, code, redirectUri } = await codeFor();
    const res = await tokenRequest(md, client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri });
    assert.equal(res.status, 400);
    assert.equal(await errorOf(res), 'invalid_grant');
  });
});

describe('authorization codes', () => {
  test('a replayed code fails and revokes every token the first exchange issued (RFC 6749 §10.5)', async () => {
    const { client, code, verifier, redirectUri } = await codeFor();
    const params = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier };
    const first = await tokenRequest(md, client, params);
    assert.equal(first.status, 200);
    const tokens = (await first.json()) as { access_token: string; refresh_token: string };
    assert.equal(await active(tokens.access_token), true);
    const replay = await tokenRequest(md, client, params);
    assert.equal(replay.status, 400);
    assert.equal(await errorOf(replay), 'invalid_grant');
    assert.equal(await active(tokens.access_token), false);
    const refresh = await tokenRequest(md, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(await errorOf(refresh), 'invalid_grant');
    assert.ok(as.logs.some(l => l.event === 'code_replay_detected' && l.clientId === client.clientId));
  });

  test('a code redeemed by another client is invalid_grant', async () => {
    const { code, verifier, redirectUri } = await codeFor();
    const thief = await registerClient(as.url, { redirectUris: [redirectUri] });
    const res = await tokenRequest(md, thief, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    assert.equal(await errorOf(res), 'invalid_grant');
  });

  test('a made-up code is invalid_grant', async () => {
    const c = await registerClient(as.url);
    const res = await tokenRequest(md, c, { grant_type: 'authorization_code', code: 'A'.repeat(43), redirect_uri: c.redirectUris[0]!, code_verifier: pkcePair().verifier });
    assert.equal(await errorOf(res), 'invalid_grant');
  });

  test('a code for another resource cannot be exchanged for it (RFC 8707)', async () => {
    const { client, code, verifier, redirectUri } = await codeFor();
    const res = await tokenRequest(md, client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, resource: 'https://evil.example/mcp' });
    assert.equal(await errorOf(res), 'invalid_target');
  });
});

describe('redirect URIs and open redirects', () => {
  test('an unregistered redirect_uri gets an error page, never a redirect', async () => {
    const c = await registerClient(as.url);
    const res = await fetch(authorizationUrl(md, { clientId: c.clientId, redirectUri: 'https://evil.example/cb', challenge: pkcePair().challenge, state: 's' }), { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(res.headers.get('content-type')!, /text\/html/);
    assert.doesNotMatch(await res.text(), /evil\.example/);
  });

  test('altered registered redirect URIs (path, host, scheme, query, userinfo) are refused with an error page', async () => {
    const c = await registerClient(as.url, { redirectUris: ['https://app.example/cb'] });
    for (const altered of ['https://app.example/cb/../evil', 'https://app.example/cb2', 'https://app.example.evil.com/cb', 'http://app.example/cb', 'https://app.example/cb?x=1', 'https://evil@app.example/cb', 'https://app.example/cb#f']) {
      const res = await fetch(authorizationUrl(md, { clientId: c.clientId, redirectUri: altered, challenge: pkcePair().challenge }), { redirect: 'manual' });
      assert.equal(res.status, 400, altered);
      assert.equal(res.headers.get('location'), null, altered);
    }
  });

  test('an unknown client gets a 400 error page (a browser cannot answer a 401; found by the fuzzer), never a redirect to the given redirect_uri', async () => {
    const res = await fetch(authorizationUrl(md, { clientId: 'no-such-client', redirectUri: 'https://evil.example/cb', challenge: pkcePair().challenge }), { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.equal(res.headers.get('location'), null);
  });

  test('a missing client_id or a repeated redirect_uri gets an error page', async () => {
    const c = await registerClient(as.url);
    let res = await fetch(`${md.authorization_endpoint}?response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/')}`, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    res = await fetch(`${authorizationUrl(md, { clientId: c.clientId, redirectUri: c.redirectUris[0], challenge: pkcePair().challenge })}&redirect_uri=${encodeURIComponent('https://evil.example/')}`, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });

  test('the loopback port exception does not extend to another loopback host or path', async () => {
    const c = await registerClient(as.url, { redirectUris: ['http://127.0.0.1/callback'] });
    for (const altered of ['http://localhost:5000/callback', 'http://127.0.0.1:5000/other', 'https://127.0.0.1:5000/callback']) {
      const res = await fetch(authorizationUrl(md, { clientId: c.clientId, redirectUri: altered, challenge: pkcePair().challenge }), { redirect: 'manual' });
      assert.equal(res.status, 400, altered);
    }
  });

  test('the token request must repeat the exact redirect_uri of the authorization request', async () => {
    const client = await registerClient(as.url, { redirectUris: ['http://127.0.0.1/callback'] });
    const { verifier, challenge } = pkcePair();
    const { code } = await authorizeCode(as.url, client, { challenge, redirectUri: 'http://127.0.0.1:40001/callback' });
    const res = await tokenRequest(md, client, { grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:40002/callback', code_verifier: verifier });
    assert.equal(await errorOf(res), 'invalid_grant');
  });

  test('the consent, IdP and error pages never redirect anywhere but the proven redirect URI or this server', async () => {
    const c = await registerClient(as.url);
    const browser = new OAuthBrowser(as.url);
    const { fields } = await browser.openConsent(authorizationUrl(md, { clientId: c.clientId, redirectUri: c.redirectUris[0], challenge: pkcePair().challenge, extra: { return_to: 'https://evil.example/' } }));
    // Extra fields an attacker adds to the consent POST are ignored.
    const res = await browser.post('/authorize/consent', { ...fields, decision: 'approve', redirect_uri: 'https://evil.example/', next: 'https://evil.example/' });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location')!, /^\/mock-upstream-idp\/authorize\?interaction=/);
    const idpHtml = await (await browser.get(res.headers.get('location')!)).text();
    const idpFields = parseHiddenFields(idpHtml);
    const done = await browser.post('/mock-upstream-idp/authorize', { ...idpFields, action: 'select', identity: 'alice', redirect_uri: 'https://evil.example/' });
    assert.ok(done.headers.get('location')!.startsWith(c.redirectUris[0]!));
    // An IdP URL with no valid interaction is an error page.
    const stray = await browser.get('/mock-upstream-idp/authorize?interaction=https://evil.example/');
    assert.equal(stray.status, 400);
    assert.equal(stray.headers.get('location'), null);
  });
});

describe('tokens at introspection', () => {
  test('an expired access token is inactive', async () => {
    const short = await startAs({ ACCESS_TOKEN_TTL: '1', INTROSPECTION_CLIENT_ID: RS.clientId, INTROSPECTION_CLIENT_SECRET: RS.clientSecret });
    try {
      const t = await obtainTokens(short.url);
      const smd = await fetchMetadata(short.url);
      assert.equal((await introspect(smd, RS, t.accessToken)).body.active, true);
      await new Promise(r => setTimeout(r, 1100));
      assert.deepEqual((await introspect(smd, RS, t.accessToken)).body, { active: false });
    } finally {
      await short.close();
    }
  });

  test('a revoked access token is inactive', async () => {
    const t = await obtainTokens(as.url);
    await revokeToken(t, t.accessToken);
    assert.deepEqual((await introspect(md, RS, t.accessToken)).body, { active: false });
  });

  test('malformed tokens are inactive and never an error', async () => {
    for (const token of ['', 'x', 'A'.repeat(43), 'A'.repeat(5000), '../../etc/passwd', 'auth:client:*', '\u0000\u0001']) {
      const res = await fetch(md.introspection_endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${RS.clientId}:${RS.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ token }).toString()
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (token === '') {
        assert.equal(res.status, 400);
        assert.equal(body.error, 'invalid_request');
      } else {
        assert.equal(res.status, 200, JSON.stringify(token.slice(0, 10)));
        assert.deepEqual(body, { active: false });
      }
    }
  });
});

describe('refresh tokens', () => {
  test('reusing a rotated refresh token revokes the whole grant', async () => {
    const t = await obtainTokens(as.url);
    const first = await refreshRequest(t, t.refreshToken!);
    assert.equal(first.status, 200);
    const rotated = (await first.json()) as { access_token: string; refresh_token: string };
    const reuse = await refreshRequest(t, t.refreshToken!);
    assert.equal(reuse.status, 400);
    assert.equal(await errorOf(reuse), 'invalid_grant');
    assert.equal(await active(rotated.access_token), false);
    assert.equal(await active(t.accessToken), false);
    assert.equal(await errorOf(await refreshRequest(t, rotated.refresh_token)), 'invalid_grant');
    assert.ok(as.logs.some(l => l.event === 'refresh_reuse_detected' && l.clientId === t.clientId));
  });

  test('a refresh token presented by another client is invalid_grant', async () => {
    const t = await obtainTokens(as.url);
    const other = await registerClient(as.url);
    const res = await tokenRequest(md, other, { grant_type: 'refresh_token', refresh_token: t.refreshToken! });
    assert.equal(await errorOf(res), 'invalid_grant');
  });
});

describe('revocation across clients', () => {
  test('client A cannot revoke client B’s token: refused with invalid_grant and the token stays active', async () => {
    const b = await obtainTokens(as.url);
    const a = await obtainTokens(as.url);
    for (const token of [b.accessToken, b.refreshToken!]) {
      const res = await revokeToken(a, token);
      assert.equal(res.status, 400);
      assert.equal(await errorOf(res), 'invalid_grant');
    }
    assert.equal(await active(b.accessToken), true);
    assert.equal((await refreshRequest(b, b.refreshToken!)).status, 200);
  });
});

describe('consent CSRF and browser binding', () => {
  async function consentFields() {
    const c = await registerClient(as.url);
    const browser = new OAuthBrowser(as.url);
    const { fields } = await browser.openConsent(authorizationUrl(md, { clientId: c.clientId, redirectUri: c.redirectUris[0], challenge: pkcePair().challenge, state: 's' }));
    return { browser, fields };
  }

  test('a consent POST without the CSRF token is refused with 403 and approves nothing', async () => {
    const { browser, fields } = await consentFields();
    const res = await browser.post('/authorize/consent', { interaction: fields.interaction!, decision: 'approve' });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('location'), null);
    // The legitimate form still works afterwards.
    assert.equal((await browser.post('/authorize/consent', { ...fields, decision: 'approve' })).status, 303);
  });

  test('a consent POST with a forged CSRF token is refused with 403', async () => {
    const { browser, fields } = await consentFields();
    const res = await browser.post('/authorize/consent', { ...fields, csrf_token: 'A'.repeat(43), decision: 'approve' });
    assert.equal(res.status, 403);
  });

  test('a cross-site POST (no browser cookie) is refused with 403 even with the right fields', async () => {
    const { fields } = await consentFields();
    const res = await fetch(`${as.url}/authorize/consent`, { ...form({ ...fields, decision: 'approve' }), redirect: 'manual' });
    assert.equal(res.status, 403);
  });

  test('an IdP link opened in another browser is refused (no session fixation)', async () => {
    const { browser, fields } = await consentFields();
    const idp = await browser.decide(fields, 'approve');
    const victim = new OAuthBrowser(as.url);
    const res = await victim.get(idp);
    assert.equal(res.status, 403);
  });

  test('a consent form cannot be submitted twice', async () => {
    const { browser, fields } = await consentFields();
    assert.equal((await browser.post('/authorize/consent', { ...fields, decision: 'approve' })).status, 303);
    assert.equal((await browser.post('/authorize/consent', { ...fields, decision: 'approve' })).status, 400);
  });

  test('the IdP POST requires its own CSRF token', async () => {
    const { browser, fields } = await consentFields();
    const idp = await browser.decide(fields, 'approve');
    await browser.get(idp);
    const res = await browser.post('/mock-upstream-idp/authorize', { interaction: fields.interaction!, csrf_token: fields.csrf_token!, action: 'select', identity: 'alice' });
    assert.equal(res.status, 403, 'the consent page’s token is not valid on the IdP page');
  });
});

describe('script injection', () => {
  const payload = `"><script>alert(1)</script><img src=x onerror=alert(1)>'`;

  test('a client name, client_uri and every reflected authorization parameter are escaped on the consent page', async () => {
    const c = await registerClient(as.url, { clientName: payload, redirectUris: [`https://app.example/cb`] });
    const browser = new OAuthBrowser(as.url);
    const { html } = await browser.openConsent(
      authorizationUrl(md, { clientId: c.clientId, redirectUri: 'https://app.example/cb', challenge: pkcePair().challenge, state: payload, scope: 'mcp', extra: { nonce: payload, prompt: payload } })
    );
    assert.ok(!html.includes('<script>alert'), 'no raw script');
    assert.ok(!html.includes('<img src=x'), 'no raw img');
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  test('a redirect URI with markup in its path is escaped, and the state is URL-encoded in the redirect', async () => {
    const evilPath = `https://app.example/cb/%22%3E%3Cscript%3Ealert(1)%3C/script%3E`;
    const c = await registerClient(as.url, { redirectUris: [evilPath] });
    const browser = new OAuthBrowser(as.url);
    const { html, fields } = await browser.openConsent(authorizationUrl(md, { clientId: c.clientId, redirectUri: evilPath, challenge: pkcePair().challenge, state: payload }));
    assert.ok(!html.includes('<script>'));
    const back = await browser.decide(fields, 'deny');
    assert.ok(!back.includes('<script>'));
    assert.equal(new URL(back).searchParams.get('state'), payload);
  });

  test('a display name with markup is refused at the IdP and the error page escapes nothing back', async () => {
    const c = await registerClient(as.url);
    const browser = new OAuthBrowser(as.url);
    const { fields } = await browser.openConsent(authorizationUrl(md, { clientId: c.clientId, redirectUri: c.redirectUris[0], challenge: pkcePair().challenge }));
    const idp = await browser.decide(fields, 'approve');
    const f = parseHiddenFields(await (await browser.get(idp)).text());
    const res = await browser.post('/mock-upstream-idp/authorize', { ...f, action: 'create', display_name: payload });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.ok(!html.includes('<script>alert'));
  });

  test('a refused display name changes nothing stored: the form comes back with the same CSRF token, which still works (found by the fuzzer)', async () => {
    const c = await registerClient(as.url);
    const browser = new OAuthBrowser(as.url);
    const { fields } = await browser.openConsent(authorizationUrl(md, { clientId: c.clientId, redirectUri: c.redirectUris[0], challenge: pkcePair().challenge }));
    const idp = await browser.decide(fields, 'approve');
    const f = parseHiddenFields(await (await browser.get(idp)).text());
    const refused = await browser.post('/mock-upstream-idp/authorize', { ...f, action: 'create', display_name: '' });
    assert.equal(refused.status, 400);
    assert.equal(parseHiddenFields(await refused.text()).csrf_token, f.csrf_token);
    const accepted = await browser.post('/mock-upstream-idp/authorize', { ...f, action: 'create', display_name: 'Carol' });
    assert.equal(accepted.status, 303);
    assert.ok(new URL(accepted.headers.get('location')!).searchParams.get('code'));
  });

  test('error pages reflect nothing from the request', async () => {
    const res = await fetch(`${md.authorization_endpoint}?client_id=${encodeURIComponent(payload)}&redirect_uri=${encodeURIComponent(payload)}`);
    const html = await res.text();
    assert.ok(!html.includes('alert(1)'));
    assert.match(res.headers.get('content-security-policy')!, /default-src 'none'/);
  });

  test('JSON error descriptions never echo request input', async () => {
    const c = await registerClient(as.url);
    const res = await tokenRequest(md, c, { grant_type: payload });
    const body = JSON.stringify(await res.json());
    assert.ok(!body.includes('alert'));
  });
});

describe('oversized bodies', () => {
  test('an oversized token request is 413 invalid_request', async () => {
    const res = await fetch(md.token_endpoint, form({ grant_type: 'authorization_code', code: 'x'.repeat(100_000) }));
    assert.equal(res.status, 413);
    assert.equal(await errorOf(res), 'invalid_request');
  });

  test('an oversized registration is 413', async () => {
    const res = await fetch(md.registration_endpoint!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://a.example/cb'], client_name: 'x'.repeat(100_000) }) });
    assert.equal(res.status, 413);
  });

  test('an oversized consent form is 413 with an HTML page', async () => {
    const res = await fetch(`${as.url}/authorize/consent`, form({ interaction: 'x'.repeat(100_000) }));
    assert.equal(res.status, 413);
    assert.match(res.headers.get('content-type')!, /text\/html/);
  });
});

describe('rate limits', () => {
  test('each AS endpoint answers 429 with Retry-After past the limit', async () => {
    const limited = await startAs({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '60' });
    try {
      const lmd = await fetchMetadata(limited.url);
      const endpoints: Array<[string, () => Promise<Response>]> = [
        ['register', () => fetch(lmd.registration_endpoint!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })],
        ['authorize', () => fetch(lmd.authorization_endpoint, { redirect: 'manual' })],
        ['token', () => fetch(lmd.token_endpoint, form({ grant_type: 'x' }))],
        ['introspect', () => fetch(lmd.introspection_endpoint!, form({ token: 'x' }))],
        ['revoke', () => fetch(lmd.revocation_endpoint!, form({ token: 'x' }))],
        ['idp', () => fetch(`${limited.url}/mock-upstream-idp/authorize`)]
      ];
      for (const [name, call] of endpoints) {
        for (let i = 0; i < 3; i++) assert.notEqual((await call()).status, 429, `${name} #${i}`);
        const res = await call();
        assert.equal(res.status, 429, name);
        assert.ok(Number(res.headers.get('retry-after')) >= 1, name);
      }
    } finally {
      await limited.close();
    }
  });
});

describe('log hygiene', () => {
  test('no token, code, secret or verifier ever reaches a log line', async () => {
    const secrets: string[] = [];
    const t = await obtainTokens(as.url, { authMethod: 'client_secret_post' });
    secrets.push(t.accessToken, t.refreshToken!, t.clientSecret!);
    const { client, code, verifier } = await codeFor();
    secrets.push(code, verifier);
    await tokenRequest(md, client, { grant_type: 'authorization_code', code, redirect_uri: client.redirectUris[0]!, code_verifier: 'bad'.repeat(15) });
    await refreshRequest(t, t.refreshToken!);
    await refreshRequest(t, t.refreshToken!);
    const text = as.logText();
    for (const s of secrets) assert.ok(!text.includes(s), 'a secret leaked into the log');
  });
});
