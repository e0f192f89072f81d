/** Pure units of the AS: PKCE, redirect URI matching, HTML escaping, the error mapping. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeError, OAuthError, rateLimited, storeUnavailable, toOAuthError } from '../../src/auth/errors.js';
import { escapeHtml, html } from '../../src/http/html.js';
import { challengeFor, isValidChallenge, verifierMatches } from '../../src/auth/pkce.js';
import { redirectUriMatches, redirectUriProblem } from '../../src/auth/redirect-uri.js';
import { StoreUnavailableError } from '../../src/store/store.js';

test('PKCE S256 verifies the RFC 7636 appendix B example and nothing else', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  assert.equal(challengeFor(verifier), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  assert.ok(verifierMatches(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
  assert.ok(!verifierMatches(`${verifier}x`, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
  assert.ok(!verifierMatches(undefined, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
  assert.ok(!verifierMatches('short', challengeFor('short')), 'verifiers under 43 characters are malformed');
  assert.ok(!isValidChallenge('plain-challenge'));
});

test('redirect URIs: exact match, loopback port freedom only', () => {
  assert.ok(redirectUriMatches('https://a.example/cb', 'https://a.example/cb'));
  assert.ok(!redirectUriMatches('https://a.example/cb', 'https://a.example/cb/'));
  assert.ok(!redirectUriMatches('https://a.example:8443/cb', 'https://a.example:9443/cb'));
  assert.ok(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb'));
  assert.ok(redirectUriMatches('http://[::1]:1/cb', 'http://[::1]:2/cb'));
  assert.ok(!redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb?x=1'));
  assert.ok(!redirectUriMatches('http://127.0.0.1/cb', 'http://localhost:5000/cb'));
  assert.equal(redirectUriProblem('http://localhost:3000/cb'), undefined);
  assert.ok(redirectUriProblem('http://example.com/cb'));
  assert.ok(redirectUriProblem('javascript:alert(1)'));
});

test('html escapes every interpolation unless it is already safe markup', () => {
  assert.equal(escapeHtml(`<a href="x">'&\``), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#96;');
  const name = '<b>x</b>';
  assert.equal(html`<p>${name}</p>${html`<i>${name}</i>`}`.value, '<p>&lt;b&gt;x&lt;/b&gt;</p><i>&lt;b&gt;x&lt;/b&gt;</i>');
});

test('one mapping: status, challenge, no-store and generic body for every error', () => {
  const basic = describeError(new OAuthError('invalid_client', { reason: 'wrong secret for client X' }));
  assert.equal(basic.status, 401);
  assert.match(basic.headers['WWW-Authenticate']!, /^Basic/);
  assert.equal(basic.headers['Cache-Control'], 'no-store');
  assert.ok(!JSON.stringify(basic.body).includes('client X'), 'the reason stays in the log');
  assert.equal(describeError(new OAuthError('invalid_grant')).status, 400);
  assert.equal(describeError(new OAuthError('invalid_grant')).headers['WWW-Authenticate'], undefined);
  // Shown to a person's browser, a failed client check is 400 and carries no challenge.
  const page = describeError(new OAuthError('invalid_client'), 'page');
  assert.equal(page.status, 400);
  assert.equal(page.headers['WWW-Authenticate'], undefined);
  assert.equal(describeError(rateLimited(7)).status, 429);
  assert.equal(describeError(rateLimited(7)).headers['Retry-After'], '7');
  assert.equal(describeError(storeUnavailable()).status, 503);
  assert.equal(toOAuthError(new StoreUnavailableError()).status, 503);
  assert.equal(toOAuthError(new Error('boom')).code, 'server_error');
  assert.equal(toOAuthError({ type: 'entity.too.large', status: 413 }).status, 413);
});
