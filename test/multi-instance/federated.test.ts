/**
 * Federated sign-in on several instances: two server processes share one real
 * redis-server behind the test load balancer, signing people in at the test
 * OpenID provider (its own process). The grant is made entirely through
 * instance A (consent, callback, code exchange); the provider token is then
 * refreshed and used through instance B, which never saw the sign-in: the
 * sealed record (same UPSTREAM_TOKEN_KEY) and the refresh lock live in Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createLogger } from '../../src/logger.js';
import { RedisStore } from '../../src/store/redis.js';
import { freePort } from '../helpers/free-port.js';
import { obtainTokens, type ObtainedTokens } from '../helpers/oauth.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider/index.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { modernHeaders, modernRequest, parseSse } from '../mcp/helpers/http.js';
import { ARTIFACTS, BACKEND_HEADER, sharedInstanceEnv, startBalancer, startInstance, type Balancer, type Instance } from './support.js';

type Backend = 'a' | 'b';

describe('federated sign-in on two instances sharing one Redis', { timeout: 180_000 }, () => {
  let redis: TestRedis;
  let lb: Balancer;
  let op: TestProvider;
  let store: RedisStore;
  const backends = new Map<string, string>();
  const instances: Instance[] = [];
  let tokens: ObtainedTokens;

  async function call(backend: Backend, name: string) {
    const res = await fetch(`${lb.url}/mcp`, {
      method: 'POST',
      headers: modernHeaders('tools/call', name, { authorization: `Bearer ${tokens.accessToken}`, [BACKEND_HEADER]: backend }),
      body: JSON.stringify(modernRequest(1, 'tools/call', { name, arguments: {} }))
    });
    const text = await res.text();
    const ct = res.headers.get('content-type') ?? '';
    const messages = ct.includes('text/event-stream') ? parseSse(text).filter(e => e.data).map(e => JSON.parse(e.data)) : [JSON.parse(text)];
    return messages.find(m => m.id === 1)?.result as { isError?: boolean; structuredContent?: Record<string, any> };
  }

  before(async () => {
    redis = await startTestRedis();
    lb = await startBalancer(backends);
    op = await startTestProvider({ redirectUris: [`${lb.url}/upstream-idp/callback`] });
    const env = sharedInstanceEnv(lb.url, redis.url, { UPSTREAM_TOKEN_KEY: randomBytes(32).toString('base64url'), ...op.env() });
    for (const name of ['a', 'b'] as const) {
      const instance = await startInstance(`federated-${name}`, await freePort(), env);
      instances.push(instance);
      backends.set(name, instance.directUrl);
    }
    store = new RedisStore({ url: redis.url, logger: createLogger('silent') });
    await store.connect();
    // Provider access tokens always inside the refresh margin: the first use refreshes.
    await op.control({ accessTtl: 20 });
  });

  after(async () => {
    await store?.close();
    for (const i of instances) await i.stop();
    await lb?.close();
    await op?.stop();
    await redis?.stop();
  });

  it('a grant made through A; its provider token refreshed and used through B', async () => {
    // Every request of the browser flow to our public address goes to A.
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.origin !== new URL(lb.url).origin) return realFetch(input, init);
      const headers = new Headers(init?.headers);
      headers.set(BACKEND_HEADER, 'a');
      return realFetch(input, { ...init, headers });
    };
    const from = lb.served.length;
    try {
      tokens = await obtainTokens(lb.url, { identity: 'quinn' });
    } finally {
      globalThis.fetch = realFetch;
    }
    const flow = lb.served.slice(from);
    for (const path of ['/authorize', '/authorize/consent', '/upstream-idp/callback', '/token']) {
      assert.deepEqual([...new Set(flow.filter(r => r.path === path).map(r => r.backend))], ['a'], `${path} served by A`);
    }
    const sealed: string[] = [];
    for await (const key of store.scan('auth:upstream-token:*')) sealed.push(key);
    assert.equal(sealed.length, 1, 'the sealed provider tokens are in Redis');

    const refreshesBefore = (await op.stats()).refresh;
    const bLogPath = join(ARTIFACTS, 'federated-b.log');
    const bLogStart = readFileSync(bLogPath, 'utf8').length;
    const who = await call('b', 'whoami');
    assert.equal(who.structuredContent!.upstream.subject, 'quinn');
    const profile = await call('b', 'upstreamProfile');
    assert.notEqual(profile.isError, true, JSON.stringify(profile));
    assert.equal(profile.structuredContent!.profile.sub, 'quinn');
    assert.equal((await op.stats()).refresh, refreshesBefore + 1, 'one refresh at the provider');
    // B's log is a child process's file, written asynchronously: wait (bounded) for the line.
    const refreshedOnB = () => /"event":"upstream_token_refreshed"/.test(readFileSync(bLogPath, 'utf8').slice(bLogStart));
    for (const deadline = Date.now() + 10_000; !refreshedOnB() && Date.now() < deadline; ) await new Promise(r => setTimeout(r, 50));
    assert.ok(refreshedOnB(), 'B refreshed it');
    // A continues from the tokens B wrote in Redis (a provider that rotates refresh tokens refuses the old one).
    const onA = await call('a', 'upstreamProfile');
    assert.notEqual(onA.isError, true, JSON.stringify(onA));
    assert.equal(onA.structuredContent!.profile.sub, 'quinn');
  });
});
