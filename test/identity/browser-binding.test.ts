/**
 * The browser-binding cookie that ties our consent and the upstream `state`
 * to one browser: `__Host-` prefixed wherever the server is reached over
 * https (no Domain, Secure, Path=/), HttpOnly and SameSite=Lax always.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { startAs } from '../auth/server.js';
import { freePort } from '../helpers/free-port.js';
import { authorizationUrl, OAuthBrowser, pkcePair } from '../helpers/oauth.js';

async function firstCookie(env: Record<string, string>, port: number) {
  const as = await startAs({ AUTH_MODE: 'internal', PORT: String(port), ...env });
  try {
    // The server believes it is https://localhost:<port> (a TLS proxy in front); the test talks plain http to it.
    const local = `http://localhost:${port}`;
    const reg = await fetch(`${local}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'cookie test', redirect_uris: ['http://127.0.0.1:45678/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] })
    });
    const { client_id } = (await reg.json()) as { client_id: string };
    const metadata = { authorization_endpoint: `${local}/authorize` } as Parameters<typeof authorizationUrl>[0];
    const url = new URL(authorizationUrl(metadata, { clientId: client_id, redirectUri: 'http://127.0.0.1:45678/callback', challenge: pkcePair().challenge, state: 's' }));
    const res = await fetch(`${local}${url.pathname}${url.search}`, { redirect: 'manual' });
    await res.text();
    assert.equal(res.status, 200);
    const cookie = res.headers.getSetCookie()[0]!;
    // The consent POST works with the cookie under that name (the binding is read back).
    const browser = new OAuthBrowser(local);
    const { fields } = await browser.openConsent(`${local}${url.pathname}${url.search}`);
    const next = await browser.decide(fields, 'approve');
    return { cookie, next };
  } finally {
    await as.close();
  }
}

describe('browser-binding cookie', () => {
  it('is __Host-mcp_as_browser, Secure, Path=/, no Domain, HttpOnly, SameSite=Lax when the server is https', async () => {
    const port = await freePort();
    const { cookie, next } = await firstCookie({ BASE_URI: `https://localhost:${port}` }, port);
    assert.match(cookie, /^__Host-mcp_as_browser=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /; Path=\//);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.doesNotMatch(cookie, /Domain=/i);
    assert.match(next, /\/mock-upstream-idp\/authorize\?interaction=/, 'the binding is read back under the prefixed name');
  });

  it('is mcp_as_browser (a __Host- cookie needs https) on a plain-http development origin', async () => {
    const port = await freePort();
    const { cookie } = await firstCookie({}, port);
    assert.match(cookie, /^mcp_as_browser=/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
  });
});
