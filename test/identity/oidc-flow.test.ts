/**
 * UPSTREAM_IDP=oidc against a real OpenID provider (panva's oidc-provider in
 * its own process), driven over HTTP with cookie jars: our consent first,
 * then the provider's sign-in, our callback, our code, our tokens. One test
 * per confused-deputy case and per provider failure.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { authorizationUrl, fetchMetadata, obtainTokens, OAuthBrowser, pkcePair, refreshRequest, refreshTokens, registerClient, revokeToken, tokenRequest, type ClientCredentials } from '../helpers/oauth.js';
import { freePort } from '../helpers/free-port.js';
import { startAs } from '../auth/server.js';
import { startFederated, TOKEN_KEY, type FederatedSetup } from './support.js';

/** Registers a client, opens our consent page and approves: resolves with the redirect to the provider. */
async function approveConsent(baseUrl: string, client?: ClientCredentials) {
  const c = client ?? (await registerClient(baseUrl, { clientName: 'Federated test client' }));
  const metadata = await fetchMetadata(baseUrl);
  const browser = new OAuthBrowser(baseUrl);
  const { verifier, challenge } = pkcePair();
  const state = `client-state-${Math.random().toString(36).slice(2)}`;
  const { fields } = await browser.openConsent(authorizationUrl(metadata, { clientId: c.clientId, redirectUri: c.redirectUris[0], challenge, state, resource: `${metadata.issuer}/mcp` }));
  const upstream = await browser.decide(fields, 'approve');
  return { client: c, metadata, browser, verifier, state, upstream };
}

async function keys(s: FederatedSetup, pattern: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of s.as.server.store.scan(pattern)) out.push(k);
  return out;
}

/** The client's view of the answer at its redirect URI. */
function answer(location: string) {
  const u = new URL(location);
  return { url: u, code: u.searchParams.get('code'), error: u.searchParams.get('error'), state: u.searchParams.get('state'), iss: u.searchParams.get('iss') };
}

describe('sign-in through an OpenID Connect provider', () => {
  let s: FederatedSetup;
  before(async () => {
    s = await startFederated();
  });
  after(async () => {
    await s?.close();
  });
  afterEach(async () => {
    await s.op.control({ token: 'ok', userinfo: 'ok', refresh: 'ok' });
  });

  it('issues OUR tokens for the person the provider signed in, after a code exchange and userinfo at the provider', async () => {
    const before = await s.op.stats();
    const t = await obtainTokens(s.as.url, { identity: 'carol' });
    assert.match(t.accessToken, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(Object.keys(t.tokenResponse).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'], 'no id_token or provider token reaches the MCP client');
    const stats = await s.op.stats();
    assert.equal(stats.token - before.token, 1, 'one code exchange at the provider');
    assert.ok(stats.userinfo > before.userinfo, 'userinfo called: the ID token carried only sub');
    const issued = s.as.logs.filter(l => l.event === 'code_issued').at(-1);
    assert.equal(issued?.provider, 'oidc');
    assert.match(String(issued?.subject), /^idp:/);
  });

  it('the same person at the same provider gets the same subject each time; another person another', async () => {
    const subjects = [];
    for (const who of ['frank', 'frank', 'grace']) {
      await obtainTokens(s.as.url, { identity: who });
      subjects.push(s.as.logs.filter(l => l.event === 'code_issued').at(-1)?.subject);
    }
    assert.equal(subjects[0], subjects[1]);
    assert.notEqual(subjects[0], subjects[2]);
  });

  it('sends the person to the provider with PKCE S256, state, nonce and our callback, never the MCP client’s resource, PKCE challenge or state', async () => {
    const { upstream, state } = await approveConsent(s.as.url);
    const u = new URL(upstream);
    assert.equal(u.origin, new URL(s.op.issuer).origin);
    const p = u.searchParams;
    assert.equal(p.get('response_type'), 'code');
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.match(p.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(p.get('state')!, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(p.get('state'), state);
    assert.ok(p.get('nonce'));
    assert.equal(p.get('redirect_uri'), `${s.as.url}/upstream-idp/callback`);
    assert.equal(p.get('resource'), null, 'the MCP resource names OUR server: never forwarded (Entra refuses it)');
    assert.equal(p.get('scope'), 'openid email profile offline_access');
  });

  it('the start-up log and the landing page name the redirect URI to register at the provider', async () => {
    const line = s.as.logs.find(l => typeof l.redirectUri === 'string');
    assert.equal(line?.redirectUri, `${s.as.url}/upstream-idp/callback`);
    const landing = await (await fetch(`${s.as.url}/`)).text();
    assert.ok(landing.includes(`${s.as.url}/upstream-idp/callback`));
  });

  // ---- confused deputy ------------------------------------------------------

  it('a second client gets OUR consent page even though the provider already has a session and consent', async () => {
    const first = await approveConsent(s.as.url);
    const back = answer(await first.browser.signIn(first.upstream, 'heidi'));
    assert.ok(back.code);
    const before = await s.op.stats();
    // Same browser (its provider session is live), another client.
    const other = await registerClient(s.as.url, { clientName: 'Another client' });
    const metadata = await fetchMetadata(s.as.url);
    const { challenge } = pkcePair();
    const res = await first.browser.get(authorizationUrl(metadata, { clientId: other.clientId, redirectUri: other.redirectUris[0], challenge, state: 'x', resource: `${metadata.issuer}/mcp` }));
    assert.equal(res.status, 200, 'our consent page, not a redirect');
    assert.match(await res.text(), /Another client/);
    assert.equal((await s.op.stats()).authorization, before.authorization, 'nothing sent to the provider before consent');
  });

  it('a callback without a preceding authorization changes nothing, sends nothing upstream and shows an error page', async () => {
    const before = await s.op.stats();
    const stray = new OAuthBrowser(s.as.url);
    for (const q of ['code=abc&state=' + 'A'.repeat(43), 'code=abc', 'error=access_denied&state=' + 'B'.repeat(43)]) {
      const res = await stray.get(`/upstream-idp/callback?${q}`);
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await res.text(), /No sign-in in progress/);
    }
    assert.equal((await s.op.stats()).token, before.token, 'no code exchange attempted');
  });

  it('a replayed state is refused: the second callback changes nothing and sends nothing upstream', async () => {
    const f = await approveConsent(s.as.url);
    const callback = await f.browser.signInAtProvider(f.upstream, 'ivan');
    const first = await f.browser.get(callback);
    assert.equal(first.status, 303);
    assert.ok(answer(first.headers.get('location')!).code);
    const before = await s.op.stats();
    const replay = await f.browser.get(callback);
    assert.equal(replay.status, 400);
    assert.match(await replay.text(), /No sign-in in progress/);
    assert.equal((await s.op.stats()).token, before.token);
  });

  it('a foreign state (the callback opened in another browser) is refused and leaves the sign-in to its own browser', async () => {
    const f = await approveConsent(s.as.url);
    const callback = await f.browser.signInAtProvider(f.upstream, 'judy');
    const before = await s.op.stats();
    const attacker = new OAuthBrowser(s.as.url);
    await attacker.get('/authorize?client_id=nobody'); // gets its own binding cookie
    const res = await attacker.get(callback);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /No sign-in in progress/);
    assert.equal((await s.op.stats()).token, before.token, 'nothing sent upstream');
    assert.ok(s.as.logs.some(l => l.event === 'upstream_state_foreign'));
    // The rightful browser still completes.
    const own = await f.browser.get(callback);
    assert.equal(own.status, 303);
    assert.ok(answer(own.headers.get('location')!).code);
  });

  // ---- failures -------------------------------------------------------------

  it('the person refusing at the provider: access_denied at the client with its state and our iss', async () => {
    const f = await approveConsent(s.as.url);
    const callback = await f.browser.signInAtProvider(f.upstream, 'x', { cancel: true });
    const res = await f.browser.get(callback);
    assert.equal(res.status, 303);
    const a = answer(res.headers.get('location')!);
    assert.equal(a.error, 'access_denied');
    assert.equal(a.state, f.state);
    assert.equal(a.iss, s.as.url);
    assert.equal(a.code, null);
  });

  for (const [mode, expected] of [
    ['fail', 'temporarily_unavailable'],
    ['reject', 'server_error'],
    ['slow', 'temporarily_unavailable'],
    ['tamper', 'access_denied'],
    ['wrong-nonce', 'access_denied']
  ] as const) {
    it(`the provider's token endpoint ${mode === 'fail' ? 'failing (HTTP 500)' : mode === 'reject' ? 'refusing our code exchange (HTTP 400)' : mode === 'slow' ? 'not answering within UPSTREAM_TIMEOUT' : mode === 'tamper' ? 'returning an ID token with a broken signature' : 'returning an ID token for another nonce'}: ${expected} at the client, no code`, async () => {
      const f = await approveConsent(s.as.url);
      const callback = await f.browser.signInAtProvider(f.upstream, 'kim');
      await s.op.control({ token: mode });
      const codesBefore = (await keys(s, 'auth:pending:*')).length;
      const res = await f.browser.get(callback);
      assert.equal(res.status, 303);
      const a = answer(res.headers.get('location')!);
      assert.equal(a.error, expected);
      assert.equal(a.state, f.state);
      assert.equal(a.code, null);
      assert.equal((await keys(s, 'auth:pending:*')).length, codesBefore, 'no code written');
      const audit = s.as.logs.filter(l => l.event === 'upstream_sign_in_failed').at(-1);
      assert.equal(audit?.error, expected);
      if (expected === 'access_denied') assert.match(String(audit?.reason), /ID token|JWS|JWT|signature|nonce/i);
    });
  }

  it('userinfo failing during sign-in: temporarily_unavailable at the client', async () => {
    const f = await approveConsent(s.as.url);
    const callback = await f.browser.signInAtProvider(f.upstream, 'leo');
    await s.op.control({ userinfo: 'fail' });
    const res = await f.browser.get(callback);
    assert.equal(answer(res.headers.get('location')!).error, 'temporarily_unavailable');
  });

  it('a code replayed at OUR token endpoint revokes the grant and deletes the provider tokens bound to it', async () => {
    const f = await approveConsent(s.as.url);
    const back = answer(await f.browser.signIn(f.upstream, 'mia'));
    const params = { grant_type: 'authorization_code', code: back.code!, redirect_uri: f.client.redirectUris[0]!, code_verifier: f.verifier };
    const before = (await keys(s, 'auth:upstream-token:*')).length;
    assert.equal((await tokenRequest(f.metadata, f.client, params)).status, 200);
    assert.equal((await keys(s, 'auth:upstream-token:*')).length, before);
    assert.equal((await tokenRequest(f.metadata, f.client, params)).status, 400);
    assert.equal((await keys(s, 'auth:upstream-token:*')).length, before - 1);
  });

  it('a key rotation at the provider: the new kid is fetched from its JWKS at once and sign-in keeps working', async () => {
    await obtainTokens(s.as.url, { identity: 'olga' }); // the JWKS with the first key is cached now
    await s.op.control({ rotateKeys: true });
    const t = await obtainTokens(s.as.url, { identity: 'olga' });
    assert.ok(t.accessToken);
  });

  it('revoking our refresh token ends the grant and deletes the provider tokens bound to it', async () => {
    const t = await obtainTokens(s.as.url, { identity: 'paul' });
    const before = (await keys(s, 'auth:upstream-token:*')).length;
    assert.equal((await revokeToken(t, t.refreshToken!, 'refresh_token')).status, 200);
    assert.equal((await keys(s, 'auth:upstream-token:*')).length, before - 1);
  });

  it('a refresh token of ours reused after rotation revokes the grant and deletes the provider tokens bound to it', async () => {
    const t0 = await obtainTokens(s.as.url, { identity: 'rita' });
    const t1 = await refreshTokens(s.as.url, t0);
    await refreshTokens(s.as.url, t1);
    const before = (await keys(s, 'auth:upstream-token:*')).length;
    assert.equal((await refreshRequest(t0, t0.refreshToken!)).status, 400);
    assert.equal((await keys(s, 'auth:upstream-token:*')).length, before - 1);
  });

  it('the provider tokens are sealed at rest: no record holds them in clear', async () => {
    await obtainTokens(s.as.url, { identity: 'nina' });
    const found = await keys(s, 'auth:upstream-token:*');
    assert.ok(found.length > 0);
    for (const key of found) {
      const raw = (await s.as.server.store.get(key))!;
      const record = JSON.parse(raw) as { sealed: string };
      assert.equal(record.sealed.split('.').length, 5, 'a compact JWE');
      assert.doesNotMatch(raw, /accessToken|refreshToken/);
    }
  });
});

describe('who may sign in (UPSTREAM_ALLOWED_DOMAINS / UPSTREAM_ALLOWED_USERS)', () => {
  let s: FederatedSetup;
  before(async () => {
    s = await startFederated({ UPSTREAM_ALLOWED_DOMAINS: 'example.com', UPSTREAM_ALLOWED_USERS: 'boss@elsewhere.example' });
  });
  after(async () => {
    await s?.close();
  });

  for (const [login, allowed, why] of [
    ['oscar', true, 'verified address at an allowed domain'],
    ['boss@elsewhere.example', true, 'a listed user'],
    ['mallory@evil.example', false, 'another domain'],
    ['unverified-pat', false, 'an address the provider did not verify']
  ] as const) {
    it(`${allowed ? 'admits' : 'refuses with access_denied and an audit line'} ${login} (${why})`, async () => {
      const f = await approveConsent(s.as.url);
      const a = answer(await f.browser.signIn(f.upstream, login));
      if (allowed) {
        assert.ok(a.code);
        return;
      }
      assert.equal(a.error, 'access_denied');
      assert.equal(a.state, f.state);
      const audit = s.as.logs.filter(l => l.event === 'sign_in_refused').at(-1);
      assert.ok(audit, 'audit line written');
      assert.match(String(audit!.reason), /not verified|not in/);
    });
  }
});

describe('the provider unreachable at start-up', () => {
  it('starts anyway; /ready names it; authorize answers temporarily_unavailable without a consent page', async () => {
    const deadPort = await freePort();
    const as = await startAs({
      AUTH_MODE: 'internal',
      UPSTREAM_IDP: 'oidc',
      UPSTREAM_ISSUER: `http://127.0.0.1:${deadPort}`,
      UPSTREAM_CLIENT_ID: 'x',
      UPSTREAM_CLIENT_SECRET: 'y',
      UPSTREAM_TOKEN_KEY: TOKEN_KEY,
      UPSTREAM_TIMEOUT: '2'
    });
    try {
      const ready = await fetch(`${as.url}/ready`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { checks: Record<string, string> }).checks.identity_provider, 'unavailable');
      const client = await registerClient(as.url);
      const metadata = await fetchMetadata(as.url);
      const res = await new OAuthBrowser(as.url).get(authorizationUrl(metadata, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, state: 's1' }));
      assert.equal(res.status, 303, 'redirected to the client, no consent page');
      const a = answer(res.headers.get('location')!);
      assert.equal(a.error, 'temporarily_unavailable');
      assert.equal(a.state, 's1');
    } finally {
      await as.close();
    }
  });
});
