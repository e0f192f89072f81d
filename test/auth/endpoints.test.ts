/**
 * Per-endpoint behaviour of the authorization server, through the real app
 * on port 0 (AUTH_MODE=auth_server, memory store).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  authorizationUrl,
  fetchMetadata,
  introspect,
  obtainTokens,
  OAuthBrowser,
  pkcePair,
  refreshRequest,
  refreshTokens,
  registerClient,
  revokeToken,
  tokenRequest,
  type AsMetadata
} from '../helpers/oauth.js';
import { form, startAs, type TestAs } from './server.js';

const RS_ID = 'mcp-resource-server';
const RS_SECRET = 'rs-secret-for-tests-0123456789abcdef';

let as: TestAs;
let md: AsMetadata;

before(async () => {
  as = await startAs({ INTROSPECTION_CLIENT_ID: RS_ID, INTROSPECTION_CLIENT_SECRET: RS_SECRET });
  md = await fetchMetadata(as.url);
});
after(() => as.close());

const rsCaller = { clientId: RS_ID, clientSecret: RS_SECRET, authMethod: 'client_secret_basic' as const };

describe('metadata', () => {
  test('the RFC 8414 document names the issuer exactly as clients derive it and every endpoint', async () => {
    const res = await fetch(`${as.url}/.well-known/oauth-authorization-server`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.issuer, as.url);
    assert.ok(!String(body.issuer).endsWith('/'));
    assert.equal(body.authorization_endpoint, `${as.url}/authorize`);
    assert.equal(body.token_endpoint, `${as.url}/token`);
    assert.equal(body.registration_endpoint, `${as.url}/register`);
    assert.equal(body.introspection_endpoint, `${as.url}/introspect`);
    assert.equal(body.revocation_endpoint, `${as.url}/revoke`);
    assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(body.scopes_supported, ['mcp', 'mcp:admin', 'offline_access']);
    assert.equal(body.client_id_metadata_document_supported, true);
    assert.equal(body.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(body.response_types_supported, ['code']);
    assert.deepEqual(body.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
    assert.ok((body.token_endpoint_auth_methods_supported as string[]).includes('none'));
  });

  test('the OpenID discovery location serves the same document', async () => {
    const a = await (await fetch(`${as.url}/.well-known/oauth-authorization-server`)).json();
    const b = await (await fetch(`${as.url}/.well-known/openid-configuration`)).json();
    assert.deepEqual(a, b);
  });

  test('metadata answers CORS preflights and carries Access-Control-Allow-Origin', async () => {
    const pre = await fetch(`${as.url}/.well-known/oauth-authorization-server`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' }
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-headers')!, /MCP-Protocol-Version/i);
    const get = await fetch(`${as.url}/.well-known/openid-configuration`, { headers: { origin: 'https://app.example' } });
    assert.equal(get.headers.get('access-control-allow-origin'), '*');
  });
});

describe('registration', () => {
  test('a confidential client gets its secret once, and the store keeps only its hash', async () => {
    const res = await fetch(`${as.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Conf', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_post' })
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(typeof body.client_secret, 'string');
    assert.ok(String(body.client_secret).length >= 43);
    assert.equal(body.application_type, 'web');
    assert.ok(Number(body.client_secret_expires_at) > Number(body.client_id_issued_at));
    const stored = await as.server.store.get(`auth:client:${body.client_id}`);
    assert.ok(stored);
    assert.ok(!stored.includes(String(body.client_secret)), 'the secret is not stored');
    assert.ok(!('client_secret_hash' in body));
  });

  test('a public client with a loopback redirect URI is registered as native without a secret', async () => {
    const res = await fetch(`${as.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9999/cb'], token_endpoint_auth_method: 'none' })
    });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 201);
    assert.equal(body.client_secret, undefined);
    assert.equal(body.application_type, 'native');
  });

  test('the default authentication method is client_secret_basic (RFC 7591 §2)', async () => {
    const res = await fetch(`${as.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://a.example/cb'] }) });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(typeof body.client_secret, 'string');
  });

  for (const [what, uris] of [
    ['plain http on a public host', ['http://app.example/cb']],
    ['a custom scheme', ['myapp://cb']],
    ['a fragment', ['https://app.example/cb#x']],
    ['userinfo', ['https://user:pw@app.example/cb']],
    ['no redirect URI at all', []]
  ] as const) {
    test(`registration with ${what} is refused with invalid_redirect_uri`, async () => {
      const res = await fetch(`${as.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: uris }) });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_redirect_uri');
    });
  }

  test('unsupported auth methods, grant types and scopes are refused with invalid_client_metadata', async () => {
    for (const extra of [{ token_endpoint_auth_method: 'private_key_jwt' }, { grant_types: ['client_credentials'] }, { grant_types: ['refresh_token'] }, { scope: 'mcp root' }, { response_types: ['token'] }]) {
      const res = await fetch(`${as.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://a.example/cb'], ...extra }) });
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_client_metadata');
    }
  });

  test('malformed JSON is invalid_request, never a 500', async () => {
    const res = await fetch(`${as.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"redirect_uris": [' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  test('registration is audited without the secret', async () => {
    const c = await registerClient(as.url, { authMethod: 'client_secret_basic' });
    const line = as.logs.find(l => l.event === 'client_registered' && l.clientId === c.clientId);
    assert.ok(line);
    assert.ok(!as.logText().includes(c.clientSecret!));
  });
});

describe('authorization endpoint and pages', () => {
  test('a valid request shows the consent page with client name, redirect host and scopes', async () => {
    const client = await registerClient(as.url, { clientName: 'Consent Viewer' });
    const browser = new OAuthBrowser(as.url);
    const { html, response } = await browser.openConsent(
      authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, scope: 'mcp mcp:admin', state: 's1' })
    );
    assert.match(html, /Consent Viewer/);
    assert.match(html, new RegExp(new URL(client.redirectUris[0]!).host.replace('.', '\\.')));
    assert.match(html, /mcp:admin/);
    assert.match(html, /runs on your own computer/);
    assert.match(response.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.ok(browser.cookies.has('mcp_as_browser'));
  });

  test('approving leads to the demo IdP, which says it stands in for a real IdP, then to the client with code, state and iss', async () => {
    const client = await registerClient(as.url);
    const browser = new OAuthBrowser(as.url);
    const { fields } = await browser.openConsent(authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, state: 'xyz' }));
    const idp = await browser.decide(fields, 'approve');
    assert.match(idp, /^\/mock-upstream-idp\/authorize\?interaction=/);
    const page = await (await browser.get(idp)).text();
    assert.match(page, /stands in for a real identity provider/);
    const back = new URL(await browser.signIn(idp, 'bob'));
    assert.equal(back.origin + back.pathname, client.redirectUris[0]);
    assert.equal(back.searchParams.get('state'), 'xyz');
    assert.equal(back.searchParams.get('iss'), as.url);
    assert.ok(back.searchParams.get('code'));
    assert.equal(back.searchParams.getAll('code').length, 1);
  });

  test('denying sends access_denied with state and iss back to the client', async () => {
    const client = await registerClient(as.url);
    const browser = new OAuthBrowser(as.url);
    const { fields } = await browser.openConsent(authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, state: 'st' }));
    const back = new URL(await browser.decide(fields, 'deny'));
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 'st');
    assert.equal(back.searchParams.get('iss'), as.url);
    assert.equal(back.searchParams.get('code'), null);
  });

  test('cancelling at the IdP sends access_denied back to the client', async () => {
    const client = await registerClient(as.url);
    const browser = new OAuthBrowser(as.url);
    const { fields } = await browser.openConsent(authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, state: 'c' }));
    const idp = await browser.decide(fields, 'approve');
    const page = await (await browser.get(idp)).text();
    const hidden = Object.fromEntries([...page.matchAll(/name="(interaction|csrf_token)" value="([^"]+)"/g)].map(m => [m[1], m[2]]));
    const res = await browser.post('/mock-upstream-idp/authorize', { ...hidden, action: 'cancel' });
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'access_denied');
  });

  test('scope defaults to "mcp" and the resource to the canonical MCP URL', async () => {
    const t = await obtainTokens(as.url, { resource: null });
    assert.equal(t.scope, 'mcp');
    const info = await introspect(md, rsCaller, t.accessToken);
    assert.equal(info.body.aud, `${as.url}/mcp`);
  });

  test('an unknown scope is redirected back as invalid_scope', async () => {
    const client = await registerClient(as.url);
    const res = await fetch(authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, scope: 'mcp everything', state: 'q' }), { redirect: 'manual' });
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('error'), 'invalid_scope');
    assert.equal(loc.searchParams.get('state'), 'q');
    assert.equal(loc.searchParams.get('iss'), as.url);
  });

  test('a resource other than this MCP server is redirected back as invalid_target', async () => {
    const client = await registerClient(as.url);
    const res = await fetch(authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, resource: 'https://other.example/mcp' }), { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_target');
  });

  test('the legacy HTTP+SSE URL of the same server is accepted as resource and becomes the audience', async () => {
    const sseUrl = `${as.url}/sse`;
    const t = await obtainTokens(as.url, { resource: sseUrl });
    const info = await introspect(md, rsCaller, t.accessToken);
    assert.equal(info.body.active, true);
    assert.equal(info.body.aud, sseUrl);
    // Refresh keeps the audience; naming the other URL of the server at /token is not the grant's resource.
    const other = await refreshRequest(t, t.refreshToken!, { resource: `${as.url}/mcp` });
    assert.equal(other.status, 400);
    assert.equal(((await other.json()) as { error: string }).error, 'invalid_target');
    const refreshed = await refreshTokens(as.url, t);
    assert.equal((await introspect(md, rsCaller, refreshed.accessToken)).body.aud, sseUrl);
  });

  test('/authorize shows the consent page for resource=<issuer>/sse and refuses a look-alike or another server', async () => {
    const client = await registerClient(as.url);
    const url = (resource: string) => authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, state: 's', resource });
    const ok = await fetch(url(`${as.url}/sse`), { redirect: 'manual' });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), new RegExp(`Resource: <span class="host">${as.url}/sse</span>`));
    for (const resource of ['https://other.example/sse', `${as.url}/sse/`, `${as.url}/message`, `${as.url}/ssex`]) {
      const res = await fetch(url(resource), { redirect: 'manual' });
      assert.equal(res.status, 303, resource);
      assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_target', resource);
    }
  });

  test('two different resources in one request are invalid_target (a token has one audience)', async () => {
    const client = await registerClient(as.url);
    const url = new URL(authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge, resource: `${as.url}/mcp` }));
    url.searchParams.append('resource', `${as.url}/sse`);
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_target');
  });

  test('response_type other than code is unsupported_response_type', async () => {
    const client = await registerClient(as.url);
    const url = new URL(authorizationUrl(md, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge: pkcePair().challenge }));
    url.searchParams.set('response_type', 'token');
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'unsupported_response_type');
  });

  test('a loopback redirect URI matches whatever port the native app got (RFC 8252 §7.3)', async () => {
    const client = await registerClient(as.url, { redirectUris: ['http://127.0.0.1/callback'] });
    const t = await obtainTokens(as.url, { client, redirectUri: 'http://127.0.0.1:54321/callback' });
    assert.ok(t.accessToken);
  });

  test('redirect_uri may be omitted when exactly one is registered', async () => {
    const client = await registerClient(as.url);
    const { verifier, challenge } = pkcePair();
    const browser = new OAuthBrowser(as.url);
    const { fields } = await browser.openConsent(authorizationUrl(md, { clientId: client.clientId, challenge, state: 'o' }));
    const back = new URL(await browser.signIn(await browser.decide(fields, 'approve')));
    const res = await tokenRequest(md, client, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier });
    assert.equal(res.status, 200);
  });

  test('a demo identity created by name becomes a stable subject', async () => {
    const a = await obtainTokens(as.url, { identity: 'Dana Scully' });
    const b = await obtainTokens(as.url, { identity: 'Dana Scully' });
    const ia = await introspect(md, rsCaller, a.accessToken);
    const ib = await introspect(md, rsCaller, b.accessToken);
    assert.equal(ia.body.sub, 'demo-user:dana-scully');
    assert.equal(ia.body.sub, ib.body.sub);
  });

  test('consent and code issuance are audited', async () => {
    const t = await obtainTokens(as.url);
    assert.ok(as.logs.some(l => l.event === 'consent_granted' && l.clientId === t.clientId));
    assert.ok(as.logs.some(l => l.event === 'code_issued' && l.clientId === t.clientId));
    assert.ok(as.logs.some(l => l.event === 'token_issued' && l.clientId === t.clientId));
  });
});

describe('token endpoint', () => {
  test('the SDK-style request (offline_access, refresh_token grant type) gets a refresh token; responses are no-store JSON', async () => {
    const t = await obtainTokens(as.url, { scope: 'mcp offline_access' });
    assert.ok(t.refreshToken);
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(t.expiresIn, 3600);
    assert.ok(t.accessToken.length >= 43);
  });

  test('a client that registered only authorization_code and did not ask for offline_access gets no refresh token', async () => {
    const t = await obtainTokens(as.url, { grantTypes: ['authorization_code'] });
    assert.equal(t.refreshToken, undefined);
  });

  test('asking for offline_access alone is enough for a refresh token', async () => {
    const t = await obtainTokens(as.url, { grantTypes: ['authorization_code'], scope: 'mcp offline_access' });
    assert.ok(t.refreshToken);
  });

  for (const method of ['client_secret_post', 'client_secret_basic'] as const) {
    test(`a confidential client authenticates with ${method}`, async () => {
      const t = await obtainTokens(as.url, { authMethod: method });
      assert.ok(t.accessToken);
      assert.ok(t.clientSecret);
    });
  }

  test('refreshing rotates the refresh token and keeps the scope', async () => {
    const t = await obtainTokens(as.url, { scope: 'mcp mcp:admin offline_access' });
    const t2 = await refreshTokens(as.url, t);
    assert.notEqual(t2.refreshToken, t.refreshToken);
    assert.notEqual(t2.accessToken, t.accessToken);
    assert.equal(t2.scope, 'mcp mcp:admin offline_access');
    const t3 = await refreshTokens(as.url, t2);
    assert.ok(t3.accessToken);
  });

  test('a refresh may narrow the scope but never widen it', async () => {
    const t = await obtainTokens(as.url, { scope: 'mcp offline_access' });
    const narrow = await refreshRequest(t, t.refreshToken!, { scope: 'mcp' });
    assert.equal(narrow.status, 200);
    assert.equal(((await narrow.json()) as { scope: string }).scope, 'mcp');
    const t2 = await obtainTokens(as.url, { scope: 'mcp offline_access' });
    const wide = await refreshRequest(t2, t2.refreshToken!, { scope: 'mcp mcp:admin' });
    assert.equal(wide.status, 400);
    assert.equal(((await wide.json()) as { error: string }).error, 'invalid_scope');
  });

  test('within the grace window a concurrent retry of the same refresh token succeeds without revoking the grant', async () => {
    const t = await obtainTokens(as.url);
    const [a, b] = await Promise.all([refreshRequest(t, t.refreshToken!), refreshRequest(t, t.refreshToken!)]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const ta = (await a.json()) as { access_token: string };
    const tb = (await b.json()) as { access_token: string };
    assert.equal((await introspect(md, rsCaller, ta.access_token)).body.active, true);
    assert.equal((await introspect(md, rsCaller, tb.access_token)).body.active, true);
  });

  test('an unknown grant type is unsupported_grant_type; a missing one is invalid_request', async () => {
    const client = await registerClient(as.url);
    let res = await tokenRequest(md, client, { grant_type: 'password', username: 'a', password: 'b' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'unsupported_grant_type');
    res = await tokenRequest(md, client, {});
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  test('a wrong secret over Basic is 401 invalid_client with a Basic challenge', async () => {
    const c = await registerClient(as.url, { authMethod: 'client_secret_basic' });
    const res = await tokenRequest(md, { ...c, clientSecret: 'wrong' }, { grant_type: 'authorization_code', code: 'x'.repeat(43), code_verifier: 'v'.repeat(43) });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate')!, /^Basic /);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
    assert.ok(as.logs.some(l => l.event === 'client_auth_failed' && l.clientId === c.clientId && l.reason === 'wrong client secret'));
  });

  test('a wrong secret over client_secret_post is 401 invalid_client, with the challenge every 401 carries (RFC 9110 §15.5.2; found by the fuzzer)', async () => {
    const c = await registerClient(as.url, { authMethod: 'client_secret_post' });
    const res = await tokenRequest(md, { ...c, clientSecret: 'wrong' }, { grant_type: 'refresh_token', refresh_token: 'r'.repeat(43) });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate')!, /^Basic realm="oauth"/);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });

  test('a client cannot switch to an authentication method it did not register', async () => {
    const c = await registerClient(as.url, { authMethod: 'client_secret_basic' });
    const res = await tokenRequest(md, { ...c, authMethod: 'client_secret_post' }, { grant_type: 'refresh_token', refresh_token: 'r'.repeat(43) });
    assert.equal(res.status, 401);
    const pub = await registerClient(as.url, { authMethod: 'none' });
    const res2 = await tokenRequest(md, { ...pub, clientSecret: 'made-up', authMethod: 'client_secret_post' }, { grant_type: 'refresh_token', refresh_token: 'r'.repeat(43) });
    assert.equal(res2.status, 401);
  });

  test('two authentication methods in one request are invalid_request', async () => {
    const c = await registerClient(as.url, { authMethod: 'client_secret_basic' });
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r'.repeat(43), client_secret: c.clientSecret! });
    const res = await fetch(md.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}` },
      body: body.toString()
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  test('a repeated parameter is invalid_request (RFC 6749 §3.2)', async () => {
    const c = await registerClient(as.url);
    const res = await fetch(md.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&client_id=${c.clientId}&refresh_token=a&refresh_token=b` });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  test('a JSON body is refused: the token endpoint takes form encoding only', async () => {
    const res = await fetch(md.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"authorization_code"}' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  test('the token endpoint answers CORS preflights', async () => {
    const res = await fetch(md.token_endpoint, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });
});

describe('introspection', () => {
  test('the resource-server client sees every claim of an active token', async () => {
    const t = await obtainTokens(as.url, { scope: 'mcp mcp:admin' });
    const { status, body } = await introspect(md, rsCaller, t.accessToken);
    assert.equal(status, 200);
    assert.equal(body.active, true);
    assert.equal(body.sub, 'demo-user:alice');
    assert.equal(body.client_id, t.clientId);
    assert.equal(body.scope, 'mcp mcp:admin');
    assert.equal(body.aud, `${as.url}/mcp`);
    assert.equal(body.iss, as.url);
    assert.equal(body.token_type, 'Bearer');
    assert.ok(Number(body.exp) > Number(body.iat));
  });

  test('the in-process introspect function is the one behind /introspect', async () => {
    const t = await obtainTokens(as.url);
    const viaHttp = await introspect(md, rsCaller, t.accessToken);
    // The AS object is internal to the app; check the same answer over a second route: client_secret_post.
    const viaPost = await introspect(md, { ...rsCaller, authMethod: 'client_secret_post' }, t.accessToken);
    assert.deepEqual(viaHttp.body, viaPost.body);
  });

  test('a confidential client may introspect its own tokens but sees other clients’ tokens as inactive', async () => {
    const owner = await registerClient(as.url, { authMethod: 'client_secret_post' });
    const t = await obtainTokens(as.url, { client: owner });
    assert.equal((await introspect(md, owner, t.accessToken)).body.active, true);
    const other = await registerClient(as.url, { authMethod: 'client_secret_basic' });
    assert.deepEqual((await introspect(md, other, t.accessToken)).body, { active: false });
  });

  test('public clients and unauthenticated callers get 401 invalid_client', async () => {
    const t = await obtainTokens(as.url);
    const pub = await introspect(md, { clientId: t.clientId, authMethod: 'none' }, t.accessToken);
    assert.equal(pub.status, 401);
    assert.equal(pub.body.error, 'invalid_client');
    const anon = await fetch(md.introspection_endpoint!, form({ token: t.accessToken }));
    assert.equal(anon.status, 401);
  });

  test('a refresh token is never reported active', async () => {
    const t = await obtainTokens(as.url);
    assert.deepEqual((await introspect(md, rsCaller, t.refreshToken!)).body, { active: false });
  });
});

describe('revocation', () => {
  test('revoking an access token ends it and leaves the refresh token usable', async () => {
    const t = await obtainTokens(as.url);
    const res = await revokeToken(t, t.accessToken, 'access_token');
    assert.equal(res.status, 200);
    assert.equal((await introspect(md, rsCaller, t.accessToken)).body.active, false);
    assert.equal((await refreshRequest(t, t.refreshToken!)).status, 200);
  });

  test('revoking a refresh token ends its whole grant', async () => {
    const t = await obtainTokens(as.url);
    const t2 = await refreshTokens(as.url, t);
    assert.equal((await revokeToken(t2, t2.refreshToken!, 'refresh_token')).status, 200);
    assert.equal((await introspect(md, rsCaller, t.accessToken)).body.active, false);
    assert.equal((await introspect(md, rsCaller, t2.accessToken)).body.active, false);
    const again = await refreshRequest(t2, t2.refreshToken!);
    assert.equal(again.status, 400);
    assert.ok(as.logs.some(l => l.event === 'token_revoked' && l.clientId === t.clientId));
  });

  test('unknown and malformed tokens are answered 200', async () => {
    const c = await registerClient(as.url);
    const creds = { metadata: md, clientId: c.clientId, authMethod: 'none' as const };
    assert.equal((await revokeToken(creds, 'A'.repeat(43))).status, 200);
    assert.equal((await revokeToken(creds, 'not a token')).status, 200);
  });

  test('revocation requires a known client', async () => {
    const res = await fetch(md.revocation_endpoint!, form({ token: 'A'.repeat(43), client_id: 'nobody' }));
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });
});
