/**
 * Zero-configuration scale-out: two server processes started with only
 * REDIS_URL (no INSTANCE_SECRET, no MCP_REQUEST_STATE_KEY) agree on both
 * through Redis, so a 2025-era session created on A is served through B
 * (forwarded to A) and a 2026-07-28 requestState sealed on A is opened on B.
 * Each process logs that it agreed, without the value.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePort } from '../helpers/free-port.js';
import { obtainTokens, type ObtainedTokens } from '../helpers/oauth.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { ACCEPT, LEGACY, postModern } from '../mcp/helpers/http.js';
import { ARTIFACTS, BACKEND_HEADER, startBalancer, startInstance, type Balancer, type Instance } from './support.js';

const TOOL = 'test_input_required_result_tampered_state';
const caps = { elicitation: { form: {} } };

describe('two instances started with only REDIS_URL', { timeout: 120_000 }, () => {
  let redis: TestRedis;
  let lb: Balancer;
  const backends = new Map<string, string>();
  const names = { a: `zero-config-a-${randomBytes(4).toString('hex')}`, b: `zero-config-b-${randomBytes(4).toString('hex')}` };
  const instances: Instance[] = [];
  let tokens: ObtainedTokens;
  let mcpUrl: string;

  before(async () => {
    redis = await startTestRedis();
    lb = await startBalancer(backends);
    mcpUrl = `${lb.url}/mcp`;
    const env = { NODE_ENV: 'test', AUTH_MODE: 'internal', BASE_URI: lb.url, REDIS_URL: redis.url, LOG_LEVEL: 'info', RESOURCE_UPDATE_INTERVAL: '3600', LOG_MESSAGE_INTERVAL: '3600' };
    const [pa, pb] = [await freePort(), await freePort()];
    const [a, b] = await Promise.all([startInstance(names.a, pa, env), startInstance(names.b, pb, env)]);
    instances.push(a, b);
    backends.set('a', a.directUrl).set('b', b.directUrl);
    tokens = await obtainTokens(lb.url, { identity: 'zero-config', scope: 'mcp' });
  });
  after(async () => {
    await Promise.all(instances.map(i => i.stop()));
    await lb?.close();
    await redis?.stop();
  });

  const post = (backend: 'a' | 'b', body: unknown, headers: Record<string, string> = {}) =>
    fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, authorization: `Bearer ${tokens.accessToken}`, [BACKEND_HEADER]: backend, ...headers },
      body: JSON.stringify(body)
    });

  it('a session created on A is used through B', async () => {
    const init = await post('a', { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'zero-config', version: '1' } } });
    await init.text();
    assert.equal(init.status, 200);
    const sessionId = init.headers.get('mcp-session-id')!;
    const session = { 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY };
    assert.equal((await post('a', { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).status, 202);

    const viaB = await post('b', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'through B' } } }, session);
    const text = await viaB.text();
    assert.equal(viaB.status, 200, text);
    assert.match(text, /Echo: through B/);
  });

  it('a requestState sealed on A is opened on B', async () => {
    const auth = { authorization: `Bearer ${tokens.accessToken}` };
    const first = await postModern(mcpUrl, 'tools/call', { name: TOOL, arguments: {} }, { capabilities: caps, headers: { ...auth, [BACKEND_HEADER]: 'a' } });
    const requestState = first.messages[0]!.result.requestState as string;
    assert.equal(typeof requestState, 'string');
    const retry = await postModern(
      mcpUrl,
      'tools/call',
      { name: TOOL, arguments: {}, requestState, inputResponses: { confirm: { action: 'accept', content: { ok: true } } } },
      { capabilities: caps, headers: { ...auth, [BACKEND_HEADER]: 'b' } }
    );
    assert.deepEqual(retry.messages[0]!.result?.content, [{ type: 'text', text: 'integrity-ok: requestState verified' }], JSON.stringify(retry.messages[0]));
  });

  it('each instance logs that it agreed through Redis, one created each value, and no log line holds a value', async () => {
    const logs = Object.values(names).map(n => readFileSync(join(ARTIFACTS, `${n}.log`), 'utf8'));
    const agreed = logs.map(text => text.split('\n').filter(l => l.includes('"shared_secret_agreed"')).map(l => JSON.parse(l) as { variable: string; created: boolean }));
    for (const lines of agreed) assert.deepEqual(lines.map(l => l.variable).sort(), ['INSTANCE_SECRET', 'MCP_REQUEST_STATE_KEY']);
    for (const variable of ['INSTANCE_SECRET', 'MCP_REQUEST_STATE_KEY']) {
      assert.equal(agreed.flat().filter(l => l.variable === variable && l.created).length, 1, `${variable} created exactly once`);
    }
    const { RedisStore } = await import('../../src/store/redis.js');
    const { createLogger } = await import('../../src/logger.js');
    const store = new RedisStore({ url: redis.url, logger: createLogger('silent') });
    await store.connect();
    try {
      for (const key of ['config:instance-secret', 'config:mcp-request-state-key']) {
        const value = await store.get(key);
        assert.ok(value && value.length >= 43, key);
        for (const text of logs) assert.ok(!text.includes(value), `${key} value in a log`);
      }
    } finally {
      await store.close();
    }
  });
});
