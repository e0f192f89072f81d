/**
 * ALLOWED_CLIENT_REDIRECT_URIS at the endpoints: dynamic registration
 * (POST /register) and client ID metadata documents (GET /authorize with a
 * URL client_id, and POST /token) refuse a client whose redirect URIs leave
 * the operator's list, with `invalid_redirect_uri` and an audit line, and
 * store nothing; unset, today's rules apply unchanged.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { MemoryStore } from '../../src/store/memory.js';
import { authorizationUrl, fetchMetadata, obtainTokens, pkcePair } from '../helpers/oauth.js';
import { startAs, type TestAs } from './server.js';

let docs: http.Server;
let docsBase: string;
const documents = new Map<string, unknown>();

before(async () => {
  docs = http.createServer((req, res) => {
    const doc = documents.get(req.url!);
    if (!doc) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(JSON.stringify(doc));
  });
  await new Promise<void>(resolve => docs.listen(0, '127.0.0.1', resolve));
  docsBase = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
});
after(() => new Promise<void>(resolve => docs.close(() => resolve())));

function serveDocument(path: string, redirectUris: string[]): string {
  const id = `${docsBase}${path}`;
  documents.set(path, { client_id: id, client_name: 'CIMD client', redirect_uris: redirectUris, grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' });
  return id;
}

const register = async (as: TestAs, redirectUris: string[]) => {
  const md = await fetchMetadata(as.url);
  const res = await fetch(md.registration_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'allowlist test', redirect_uris: redirectUris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] })
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function countClients(store: MemoryStore): Promise<number> {
  let n = 0;
  for await (const _ of store.scan('auth:client:*')) n++;
  return n;
}

const refusals = (as: TestAs) => as.logs.filter(l => l.event === 'client_redirect_uri_refused');

describe('with ALLOWED_CLIENT_REDIRECT_URIS set', () => {
  let as: TestAs;
  const store = new MemoryStore();
  before(async () => {
    as = await startAs({ ALLOWED_CLIENT_REDIRECT_URIS: 'http://127.0.0.1:*, https://*.example.com/callback https://exact.test/cb', CIMD_ALLOW_LOOPBACK: 'true' }, store);
  });
  after(() => as.close());

  test('registration with every redirect URI inside the list succeeds', async () => {
    const res = await register(as, ['http://127.0.0.1:4567/callback', 'https://team.example.com/callback', 'https://exact.test/cb']);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  test('registration with one redirect URI outside the list: 400 invalid_redirect_uri, an audit line, nothing stored', async () => {
    const before = await countClients(store);
    for (const outside of ['https://evil.test/callback', 'https://a.b.example.com/callback', 'https://team.example.com/other', 'http://localhost:4567/callback', 'https://exact.test/cb/']) {
      const res = await register(as, ['http://127.0.0.1:4567/callback', outside]);
      assert.equal(res.status, 400, outside);
      assert.equal(res.body.error, 'invalid_redirect_uri');
      assert.ok(refusals(as).some(l => l.source === 'dynamic_registration' && l.redirectUri === outside), `audit line for ${outside}`);
    }
    assert.equal(await countClients(store), before);
  });

  test('a metadata document whose redirect URIs are inside the list completes the flow', async () => {
    const id = serveDocument('/inside.json', ['http://127.0.0.1:33333/callback']);
    const t = await obtainTokens(as.url, { client: { clientId: id, authMethod: 'none', redirectUris: ['http://127.0.0.1:33333/callback'] } });
    assert.ok(t.accessToken);
  });

  test('a metadata document with a redirect URI outside the list is refused at /authorize (a page, never a redirect) and at /token, with an audit line', async () => {
    const id = serveDocument('/outside.json', ['http://127.0.0.1:33333/callback', 'https://evil.test/callback']);
    const md = await fetchMetadata(as.url);
    const res = await fetch(authorizationUrl(md, { clientId: id, redirectUri: 'http://127.0.0.1:33333/callback', challenge: pkcePair().challenge }), { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /not accept the addresses/);
    assert.ok(refusals(as).some(l => l.source === 'metadata_document' && l.clientId === id && l.redirectUri === 'https://evil.test/callback'));

    const token = await fetch(md.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: id, code: 'c'.repeat(43), code_verifier: 'v'.repeat(43) }).toString()
    });
    assert.equal(token.status, 401);
    assert.equal(((await token.json()) as { error: string }).error, 'invalid_client');
  });
});

describe('without ALLOWED_CLIENT_REDIRECT_URIS', () => {
  let as: TestAs;
  before(async () => {
    as = await startAs();
  });
  after(() => as.close());

  test('today’s rules apply: any https or loopback redirect URI registers', async () => {
    const res = await register(as, ['https://evil.test/callback', 'http://localhost:4567/callback']);
    assert.equal(res.status, 201);
    assert.equal(refusals(as).length, 0);
  });
});

test('a malformed entry stops start-up with a message naming the variable', async () => {
  await assert.rejects(startAs({ ALLOWED_CLIENT_REDIRECT_URIS: 'https://ex*ample.com/cb' }), /ALLOWED_CLIENT_REDIRECT_URIS/);
});
