/**
 * Client ID metadata documents: the flow with a document served by the test,
 * the draft's validation rules, caching, and the SSRF guards.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { cacheSeconds, clientIdUrlProblem, DEFAULT_METADATA_DOCUMENT_OPTIONS, isPublicAddress, validateMetadataDocument } from '../../src/auth/client-metadata-document.js';
import { authorizationUrl, fetchMetadata, obtainTokens, OAuthBrowser, pkcePair } from '../helpers/oauth.js';
import { startAs, type TestAs } from './server.js';

interface Served {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

let docs: http.Server;
let docsBase: string;
const routes = new Map<string, Served>();
const hits = new Map<string, number>();

before(async () => {
  docs = http.createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const r = routes.get(req.url!);
    if (!r) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
    res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  });
  await new Promise<void>(resolve => docs.listen(0, '127.0.0.1', resolve));
  docsBase = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
});
after(() => new Promise<void>(resolve => docs.close(() => resolve())));

function serve(path: string, doc: (id: string) => unknown, extra: Omit<Served, 'body'> = {}): string {
  const id = `${docsBase}${path}`;
  routes.set(path, { body: doc(id), ...extra });
  return id;
}

const goodDoc = (id: string) => ({
  client_id: id,
  client_name: 'Metadata Document Client',
  redirect_uris: ['http://127.0.0.1:33333/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'none'
});

describe('with the loopback development switch', () => {
  let as: TestAs;
  before(async () => {
    as = await startAs({ CIMD_ALLOW_LOOPBACK: 'true' });
  });
  after(() => as.close());

  test('a client identified by its metadata document completes the whole flow and gets a refresh token', async () => {
    const id = serve('/good/client.json', goodDoc, { headers: { 'cache-control': 'max-age=600' } });
    const t = await obtainTokens(as.url, { client: { clientId: id, authMethod: 'none', redirectUris: ['http://127.0.0.1:33333/callback'] } });
    assert.ok(t.accessToken);
    assert.ok(t.refreshToken);
    assert.equal(hits.get('/good/client.json'), 1, 'fetched once, then served from the cache');
  });

  test('the consent page says how the client is identified', async () => {
    const id = serve('/named/client.json', goodDoc);
    const md = await fetchMetadata(as.url);
    const { html } = await new OAuthBrowser(as.url).openConsent(authorizationUrl(md, { clientId: id, redirectUri: 'http://127.0.0.1:33333/callback', challenge: pkcePair().challenge }));
    assert.match(html, /Metadata Document Client/);
    assert.match(html, /Identified by its metadata document at/);
  });

  test('a no-store document is fetched again every time', async () => {
    const id = serve('/nostore/client.json', goodDoc, { headers: { 'cache-control': 'no-store' } });
    const md = await fetchMetadata(as.url);
    for (let i = 0; i < 2; i++) {
      await new OAuthBrowser(as.url).openConsent(authorizationUrl(md, { clientId: id, redirectUri: 'http://127.0.0.1:33333/callback', challenge: pkcePair().challenge }));
    }
    assert.equal(hits.get('/nostore/client.json'), 2);
  });

  const refused: Array<[string, string, (id: string) => unknown, Omit<Served, 'body'>?]> = [
    ['a client_id that differs from the document URL', '/mismatch/client.json', id => ({ ...goodDoc(id), client_id: `${id}x` })],
    ['a document carrying a client secret', '/secret/client.json', id => ({ ...goodDoc(id), client_secret: 'shh' })],
    ['a shared-secret authentication method', '/basic/client.json', id => ({ ...goodDoc(id), token_endpoint_auth_method: 'client_secret_basic' })],
    ['a document without redirect_uris', '/noredirect/client.json', id => ({ client_id: id, client_name: 'x' })],
    ['a document without client_name', '/noname/client.json', id => ({ client_id: id, redirect_uris: ['http://127.0.0.1:33333/callback'] })],
    ['a non-JSON document', '/notjson/client.json', () => 'not json'],
    ['a document larger than 5 KB', '/large/client.json', id => ({ ...goodDoc(id), client_uri: `https://x.example/${'a'.repeat(6000)}` })],
    ['a redirect to another document', '/redirect/client.json', () => '', { status: 302, headers: { location: '/good/client.json' } }],
    ['a 404', '/missing-doc/client.json', () => ({}), { status: 404 }]
  ];
  for (const [what, path, doc, extra] of refused) {
    test(`${what} is refused with an error page and no redirect`, async () => {
      const id = serve(path, doc, extra);
      const md = await fetchMetadata(as.url);
      const res = await fetch(authorizationUrl(md, { clientId: id, redirectUri: 'http://127.0.0.1:33333/callback', challenge: pkcePair().challenge }), { redirect: 'manual' });
      // A page: 400, not a 401 the browser could not answer (describeError, 'page').
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /metadata document could not be retrieved or is invalid/);
    });
  }

  test('a redirect URI absent from the document is refused', async () => {
    const id = serve('/strict/client.json', goodDoc);
    const md = await fetchMetadata(as.url);
    const res = await fetch(authorizationUrl(md, { clientId: id, redirectUri: 'http://127.0.0.1:33333/other', challenge: pkcePair().challenge }), { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });
});

describe('without the development switch', () => {
  let as: TestAs;
  before(async () => {
    as = await startAs();
  });
  after(() => as.close());

  test('loopback, private and link-local documents are never fetched', async () => {
    const md = await fetchMetadata(as.url);
    const before = hits.get('/good/client.json') ?? 0;
    for (const id of [`${docsBase}/good/client.json`, 'https://127.0.0.1/client.json', 'https://10.0.0.1/client.json', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/client.json', 'https://localhost/client.json', 'https://[::ffff:127.0.0.1]/c.json']) {
      const res = await fetch(authorizationUrl(md, { clientId: id, redirectUri: 'http://127.0.0.1:33333/callback', challenge: pkcePair().challenge }), { redirect: 'manual' });
      assert.equal(res.status, 400, id);
      assert.equal(res.headers.get('location'), null, id);
    }
    assert.equal(hits.get('/good/client.json') ?? 0, before, 'the document server was never contacted');
  });
});

describe('rules (unit)', () => {
  test('address classification refuses every non-public range, including IPv4 hidden in IPv6', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1']) {
      assert.equal(isPublicAddress(a), false, a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPublicAddress(a), true, a);
  });

  test('client_id URLs must be https with a path, without fragment, userinfo or dot segments', () => {
    assert.equal(clientIdUrlProblem('https://app.example/client.json', false), undefined);
    for (const bad of ['http://app.example/c.json', 'https://app.example', 'https://app.example/', 'https://app.example/c.json#f', 'https://u:p@app.example/c.json', 'https://app.example/a/../c.json', 'https://app.example/./c.json', 'https://APP.example/c.json']) {
      assert.ok(clientIdUrlProblem(bad, false), bad);
    }
    assert.equal(clientIdUrlProblem('http://localhost:8080/c.json', true), undefined);
    assert.ok(clientIdUrlProblem('http://localhost:8080/c.json', false));
  });

  test('cache lifetime follows Cache-Control and Expires, within bounds', () => {
    const o = DEFAULT_METADATA_DOCUMENT_OPTIONS;
    assert.equal(cacheSeconds({ cacheControl: 'public, max-age=120' }, o, 0), 120);
    assert.equal(cacheSeconds({ cacheControl: 'no-store' }, o, 0), 0);
    assert.equal(cacheSeconds({ cacheControl: 'no-cache' }, o, 0), 0);
    assert.equal(cacheSeconds({ cacheControl: 'max-age=99999999' }, o, 0), o.maxCacheSeconds);
    assert.equal(cacheSeconds({}, o, 0), o.defaultCacheSeconds);
    assert.equal(cacheSeconds({ expires: 'Thu, 01 Jan 1970 00:01:00 GMT', date: 'Thu, 01 Jan 1970 00:00:00 GMT' }, o, 0), 60);
  });

  test('document validation requires the exact client_id and public-client authentication', () => {
    const url = 'https://app.example/c.json';
    const ok = validateMetadataDocument(url, { client_id: url, client_name: 'A', redirect_uris: ['https://app.example/cb'] }, 0);
    assert.equal(ok.token_endpoint_auth_method, 'none');
    assert.throws(() => validateMetadataDocument(url, { client_id: url, client_name: 'A', redirect_uris: ['http://evil.example/cb'] }, 0));
    assert.throws(() => validateMetadataDocument(url, { client_id: url, client_name: 'A', redirect_uris: ['https://a.example/cb'], client_secret_expires_at: 0 }, 0));
  });
});
