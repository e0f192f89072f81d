/**
 * Issue 4, "Several instances", "Restart" and "Redis failure", end to end:
 * two server processes (AUTH_MODE=internal, child processes) on their own
 * ports share one real redis-server and sit behind one test load balancer
 * (./support.ts). Tokens come from the real OAuth flow; MCP traffic from the
 * SDK v2 client and raw fetch. Each request names the instance it must reach
 * (`x-backend: a|b`), so every "created on A, used on B" is exact.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

import { createLogger } from '../../src/logger.js';
import { instanceKey, ownerKey } from '../../src/mcp/http/sessions.js';
import { streamLogKey } from '../../src/store/event-store.js';
import { RedisStore } from '../../src/store/redis.js';
import { freePort } from '../helpers/free-port.js';
import { obtainTokens, refreshTokens, type ObtainedTokens } from '../helpers/oauth.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { ACCEPT, LEGACY, modernHeaders, modernRequest, parseSse, SseStream, type SseEvent } from '../mcp/helpers/http.js';
import { ARTIFACTS, BACKEND_HEADER, routedFetch, secondsLeftInWindow, sharedInstanceEnv, startBalancer, startInstance, type Balancer, type Instance } from './support.js';

const RATE_LIMIT_MAX = 40;
const RATE_LIMIT_WINDOW = 3600;
const RECONNECTION_TEXT = 'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.';
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

type Backend = 'a' | 'b';

describe('several instances sharing one Redis', { timeout: 240_000 }, () => {
  let redis: TestRedis;
  let lb: Balancer;
  const backends = new Map<string, string>();
  const instances: Record<Backend, Instance | undefined> = { a: undefined, b: undefined };
  const ports: Record<Backend, number> = { a: 0, b: 0 };
  let env: Record<string, string>;
  let store: RedisStore;
  let alice: ObtainedTokens;
  let bob: ObtainedTokens;
  let mcpUrl: string;
  let aliceFlow: Balancer['served'] = [];
  /** Every token this suite was issued: none may ever appear in a log. */
  const issued: string[] = [];
  const keep = (t: ObtainedTokens) => {
    issued.push(t.accessToken, ...(t.refreshToken ? [t.refreshToken] : []));
    return t;
  };

  const start = async (name: Backend) => {
    instances[name] = await startInstance(name, ports[name], env);
    backends.set(name, instances[name]!.directUrl);
  };

  // --- small raw helpers ------------------------------------------------------
  const bearer = (t: ObtainedTokens) => `Bearer ${t.accessToken}`;

  async function rawPost(backend: Backend, token: ObtainedTokens, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, authorization: bearer(token), [BACKEND_HEADER]: backend, ...headers },
      body: JSON.stringify(body)
    });
    const text = await res.text();
    const ct = res.headers.get('content-type') ?? '';
    const messages = ct.includes('text/event-stream') ? parseSse(text).filter(e => e.data).map(e => JSON.parse(e.data)) : text ? [JSON.parse(text)] : [];
    return { status: res.status, headers: res.headers, text, messages: messages as Array<Record<string, any>>, events: ct.includes('text/event-stream') ? parseSse(text) : [] };
  }

  /** initialize + notifications/initialized on `backend`; returns the session id. */
  async function openSession(backend: Backend, token: ObtainedTokens): Promise<string> {
    const init = await rawPost(backend, token, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'multi-instance', version: '1.0.0' } }
    });
    assert.equal(init.status, 200, init.text);
    const sessionId = init.headers.get('mcp-session-id')!;
    assert.match(sessionId, /^[0-9a-f-]{36}$/);
    const ready = await rawPost(backend, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY });
    assert.equal(ready.status, 202);
    return sessionId;
  }

  const inSession = (backend: Backend, token: ObtainedTokens, sessionId: string, id: number, method: string, params: Record<string, unknown> = {}) =>
    rawPost(backend, token, { jsonrpc: '2.0', id, method, params }, { 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY });

  /** A 2026-07-28 (stateless) tools/call on `backend`. */
  async function modernCall(backend: Backend, token: ObtainedTokens, name: string, args: Record<string, unknown> = {}) {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: modernHeaders('tools/call', name, { authorization: bearer(token), [BACKEND_HEADER]: backend }),
      body: JSON.stringify(modernRequest(1, 'tools/call', { name, arguments: args }))
    });
    const text = await res.text();
    const ct = res.headers.get('content-type') ?? '';
    const messages = ct.includes('text/event-stream') ? parseSse(text).filter(e => e.data).map(e => JSON.parse(e.data)) : text ? [JSON.parse(text)] : [];
    return { status: res.status, text, message: messages.find(m => m.id === 1) as Record<string, any> | undefined };
  }

  function sdkClient(token: () => string, pick: () => Backend) {
    const client = new Client({ name: 'multi-instance-sdk', version: '1.0.0' }, { capabilities: { sampling: {} }, versionNegotiation: { mode: 'legacy' } });
    client.setRequestHandler('sampling/createMessage', async request => {
      const last = request.params.messages.at(-1)?.content;
      const prompt = last && !Array.isArray(last) && last.type === 'text' ? last.text : '';
      return { model: 'multi-instance-model', role: 'assistant', content: { type: 'text', text: `sampled on the client: ${prompt}` }, stopReason: 'endTurn' };
    });
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: { token: async () => token() }, fetch: routedFetch(pick) });
    return { client, transport };
  }

  before(async () => {
    redis = await startTestRedis();
    lb = await startBalancer(backends);
    mcpUrl = `${lb.url}/mcp`;
    [ports.a, ports.b] = [await freePort(), await freePort()];
    // No periodic demo updates (sharedInstanceEnv): every resources/updated seen below was raised on purpose.
    env = sharedInstanceEnv(lb.url, redis.url, { LOG_LEVEL: 'debug', RATE_LIMIT_MAX: String(RATE_LIMIT_MAX), RATE_LIMIT_WINDOW: String(RATE_LIMIT_WINDOW) });
    await Promise.all([start('a'), start('b')]);
    store = new RedisStore({ url: redis.url, logger: createLogger('silent') });
    await store.connect();
    const flowStart = lb.served.length;
    alice = keep(await obtainTokens(lb.url, { identity: 'alice', scope: 'mcp', clientName: 'multi-instance alice' }));
    aliceFlow = lb.served.slice(flowStart);
    bob = keep(await obtainTokens(lb.url, { identity: 'bob', scope: 'mcp', clientName: 'multi-instance bob' }));
  });

  after(async () => {
    await Promise.all([instances.a?.stop(), instances.b?.stop()]);
    await lb?.close();
    await store?.close();
    await redis?.stop();
  });

  it('serves one OAuth flow across both instances, and the token validates on each', async () => {
    // The balancer alternated the flow's requests (metadata, registration, authorize, consent,
    // IdP, token): consecutive steps, each needing what the previous one stored, ran on different instances.
    assert.ok(aliceFlow.length >= 5, JSON.stringify(aliceFlow));
    for (let i = 1; i < aliceFlow.length; i++) assert.notEqual(aliceFlow[i]!.backend, aliceFlow[i - 1]!.backend);
    assert.ok(aliceFlow.some(s => s.path === '/token'));

    const onA = await modernCall('a', alice, 'whoami');
    const onB = await modernCall('b', alice, 'whoami');
    assert.equal(onA.status, 200, onA.text);
    assert.equal(onB.status, 200, onB.text);
    assert.equal(onA.message!.result.structuredContent.clientId, alice.clientId);
    assert.equal(onA.message!.result.structuredContent.authenticated, true);
    assert.deepEqual(onB.message!.result.structuredContent, onA.message!.result.structuredContent);
    assert.equal(onB.message!.result.content[0].text, `You are ${onA.message!.result.structuredContent.subject} via client ${alice.clientId}.`);
  });

  it('uses a 2025 session created on A through B (requests, server-to-client sampling, DELETE)', async () => {
    let backend: Backend = 'a';
    const { client, transport } = sdkClient(() => alice.accessToken, () => backend);
    await client.connect(transport);
    const sessionId = transport.sessionId!;
    // A holds it: the location record names A.
    const location = JSON.parse((await store.get(instanceKey(sessionId)))!);
    assert.equal(location.url, instances.a!.directUrl);
    assert.equal(location.kind, 'streamable');
    const subject = (await store.get(ownerKey(sessionId)))!;

    backend = 'b';
    const servedBefore = lb.served.length;
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'through B' } });
    assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: through B' }]);
    // A server-to-client request travels back through B, and the client's answer is forwarded to A.
    const sampled = await client.callTool({ name: 'sampleLLM', arguments: { prompt: 'hello' } });
    assert.deepEqual(sampled.content, [{ type: 'text', text: 'LLM sampling result: sampled on the client: Resource sampleLLM context: hello' }]);
    assert.ok(lb.served.slice(servedBefore).length >= 3);
    assert.ok(lb.served.slice(servedBefore).every(s => s.backend === 'b'));

    // Ownership holds across instances: bob's token with alice's session id is 404 on both.
    for (const b of ['a', 'b'] as const) {
      const foreign = await inSession(b, bob, sessionId, 5, 'tools/list');
      assert.equal(foreign.status, 404);
      assert.deepEqual(foreign.messages[0]!.error, { code: -32001, message: 'Session not found' });
    }
    assert.equal(await store.get(ownerKey(sessionId)), subject, 'a foreign request leaves the session alone');

    // DELETE through B ends the session on A: at once it is 404 everywhere, and its
    // records go right after (A deletes them as the transport closes, without
    // holding the DELETE response for the store's answer).
    await transport.terminateSession();
    await client.close();
    for (const b of ['a', 'b'] as const) assert.equal((await inSession(b, alice, sessionId, 6, 'tools/list')).status, 404);
    const recordsLeft = async () => [await store.get(ownerKey(sessionId)), await store.get(instanceKey(sessionId))].filter(v => v !== undefined);
    for (let i = 0; i < 100 && (await recordsLeft()).length > 0; i++) await new Promise(r => setTimeout(r, 20));
    assert.deepEqual(await recordsLeft(), []);
  });

  it('uses a gallery app\'s 2025 session created on A through B; its records carry the app\'s scope, and /mcp does not know it', async () => {
    const appUrl = `${lb.url}/basic-vanillajs/mcp`;
    const token = keep(await obtainTokens(lb.url, { identity: 'alice', scope: 'mcp', resource: appUrl, clientName: 'multi-instance gallery' }));
    let backend: Backend = 'a';
    const transport = new StreamableHTTPClientTransport(new URL(appUrl), { authProvider: { token: async () => token.accessToken }, fetch: routedFetch(() => backend) });
    const client = new Client({ name: 'multi-instance-gallery', version: '1.0.0' }, { versionNegotiation: { mode: 'legacy' } });
    await client.connect(transport);
    const sessionId = transport.sessionId!;
    const location = JSON.parse((await store.get(instanceKey(sessionId)))!);
    assert.equal(location.url, instances.a!.directUrl);
    assert.equal(location.scope, 'gallery:basic-vanillajs');

    backend = 'b';
    const servedBefore = lb.served.length;
    const result = await client.callTool({ name: 'get-time', arguments: {} });
    assert.ok(!Number.isNaN(Date.parse((result.content as Array<{ text: string }>)[0]!.text)));
    assert.ok(lb.served.slice(servedBefore).every(s => s.backend === 'b'));
    // The same id at /mcp (with a /mcp token of the same person) is unknown there, on both instances, and left alone.
    for (const b of ['a', 'b'] as const) assert.equal((await inSession(b, alice, sessionId, 7, 'tools/list')).status, 404);
    assert.ok(await store.get(instanceKey(sessionId)), 'the app session\'s records are still there');

    await transport.terminateSession();
    await client.close();
  });

  it('resumes on B, with Last-Event-ID, a stream A wrote', async () => {
    const sessionId = await openSession('a', alice);
    const call = await inSession('a', alice, sessionId, 42, 'tools/call', { name: 'test_reconnection', arguments: {} });
    assert.equal(call.status, 200);
    const priming = call.events[0]!;
    assert.equal(priming.data, '');
    assert.equal(call.messages.some(m => m.id === 42), false, 'the result is not on the closed stream');
    const [streamId] = priming.id!.split('::');

    // The result lands in the shared event log after the stream closed.
    let logged: Array<{ id: string; value: string }> = [];
    for (let i = 0; i < 50 && !logged.some(e => e.value.includes('"id":42')); i++) {
      await sleep(50);
      logged = await store.readAfter(streamLogKey(sessionId, streamId!), undefined);
    }
    const resultEntry = logged.find(e => e.value.includes('"id":42'))!;
    assert.ok(resultEntry, 'result recorded in Redis');

    const abort = new AbortController();
    const res = await fetch(mcpUrl, {
      headers: {
        accept: 'text/event-stream',
        authorization: bearer(alice),
        'mcp-session-id': sessionId,
        'mcp-protocol-version': LEGACY,
        'last-event-id': priming.id!,
        [BACKEND_HEADER]: 'b'
      },
      signal: abort.signal
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let events: SseEvent[] = [];
    const deadline = Date.now() + 5000;
    while (!events.some(e => e.data.includes('"id":42')) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      events = parseSse(text);
    }
    abort.abort();
    const replayed = events.find(e => e.data.includes('"id":42'))!;
    assert.equal(replayed.id, `${streamId}::${resultEntry.id}`);
    assert.deepEqual(JSON.parse(replayed.data), { jsonrpc: '2.0', id: 42, result: { content: [{ type: 'text', text: RECONNECTION_TEXT }] } });
  });

  it('delivers list-changed and resource-updated events raised on A to subscriptions/listen on B', async () => {
    const listen = new SseStream(mcpUrl, {
      method: 'POST',
      headers: modernHeaders('subscriptions/listen', undefined, { authorization: bearer(alice), [BACKEND_HEADER]: 'b' }),
      body: JSON.stringify(
        modernRequest(9, 'subscriptions/listen', { notifications: { toolsListChanged: true, promptsListChanged: true, resourceSubscriptions: ['test://watched-resource'] } })
      )
    });
    // A 2025 session on B that subscribed to the same URI gets it too (bridged to session notifications).
    const sessionId = await openSession('b', alice);
    const session = new SseStream(mcpUrl, {
      headers: { accept: 'text/event-stream', authorization: bearer(alice), 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY, [BACKEND_HEADER]: 'b' }
    });
    try {
      await listen.opened;
      assert.equal(listen.status, 200);
      const ack = await listen.waitFor(s => s.messages().find(m => m.method === 'notifications/subscriptions/acknowledged'));
      assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], 9);
      await session.opened;
      assert.equal(session.status, 200);
      assert.deepEqual((await inSession('b', alice, sessionId, 1, 'resources/subscribe', { uri: 'test://watched-resource' })).messages[0]!.result, {});

      const tools = await modernCall('a', alice, 'test_trigger_tool_change');
      assert.equal(tools.message!.result.content[0].text, 'tools_list_changed published');
      const changed = await listen.waitFor(s => s.messages().find(m => m.method === 'notifications/tools/list_changed'));
      assert.equal(changed.jsonrpc, '2.0');
      await session.waitFor(s => s.messages().find(m => m.method === 'notifications/tools/list_changed'));

      // An update for a URI nobody on B follows, then one for the followed URI.
      await modernCall('a', alice, 'test_trigger_resource_updated', { uri: 'test://static/resource/9' });
      const updated = await modernCall('a', alice, 'test_trigger_resource_updated', { uri: 'test://watched-resource' });
      assert.equal(updated.message!.result.content[0].text, 'resource_updated published for test://watched-resource');
      const onListen = await listen.waitFor(s => s.messages().find(m => m.method === 'notifications/resources/updated'));
      assert.equal(onListen.params.uri, 'test://watched-resource');
      const onSession = await session.waitFor(s => s.messages().find(m => m.method === 'notifications/resources/updated'));
      assert.deepEqual(onSession.params, { uri: 'test://watched-resource' });
      await sleep(200);
      const uris = [...listen.messages(), ...session.messages()].filter(m => m.method === 'notifications/resources/updated').map(m => m.params.uri);
      assert.deepEqual(uris, ['test://watched-resource', 'test://watched-resource']);
      assert.equal(listen.messages().some(m => m.method === 'notifications/prompts/list_changed'), false);
    } finally {
      listen.close();
      session.close();
    }
  });

  it('shares rate limits: the counter of one endpoint spans both instances', async () => {
    const left = secondsLeftInWindow(RATE_LIMIT_WINDOW);
    if (left < 30) await sleep(left * 1000 + 500); // never straddle a window boundary
    const revoke = (backend: Backend) =>
      fetch(`${lb.url}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', [BACKEND_HEADER]: backend },
        body: 'token=not-a-token'
      });
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT_MAX; i++) {
      const res = await revoke(i % 2 === 0 ? 'a' : 'b');
      await res.body?.cancel();
      statuses.push(res.status);
    }
    assert.equal(statuses.filter(s => s === 429).length, 0, statuses.join(','));
    for (const backend of ['a', 'b'] as const) {
      const limited = await revoke(backend);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.deepEqual(await limited.json(), { error: 'temporarily_unavailable', error_description: 'Too many requests; retry later.' });
    }
    // One counter in Redis for the endpoint, whichever instance counted.
    const keys: string[] = [];
    for await (const key of store.scan('ratelimit:as:revoke:*')) keys.push(key);
    assert.equal(keys.length, 1);
    assert.equal(await store.get(keys[0]!), String(RATE_LIMIT_MAX + 2));
  });

  it('keeps clients and tokens across a restart; a session whose instance stopped or died answers 404', async () => {
    const before = await modernCall('a', alice, 'whoami');
    assert.equal(before.status, 200);
    const gracefulSession = await openSession('a', alice);
    const crashedSession = await openSession('b', alice);

    // Graceful stop of A: it ends its sessions and removes their records.
    await instances.a!.stop();
    assert.equal(await store.get(ownerKey(gracefulSession)), undefined);
    assert.equal((await inSession('b', alice, gracefulSession, 1, 'tools/list')).status, 404);
    await start('a');

    // The client registration, the access token and the refresh token all survived.
    const after = await modernCall('a', alice, 'whoami');
    assert.equal(after.status, 200, after.text);
    assert.deepEqual(after.message!.result.structuredContent, before.message!.result.structuredContent);
    const refreshed = keep(await refreshTokens(lb.url, alice));
    assert.notEqual(refreshed.accessToken, alice.accessToken);
    assert.notEqual(refreshed.refreshToken, alice.refreshToken);
    for (const b of ['a', 'b'] as const) assert.equal((await modernCall(b, refreshed, 'whoami')).status, 200);
    alice = refreshed;
    const old = await inSession('a', alice, gracefulSession, 2, 'tools/list');
    assert.equal(old.status, 404);
    assert.deepEqual(old.messages[0]!.error, { code: -32001, message: 'Session not found' });

    // B dies without cleaning up: its records remain until someone asks for the session.
    assert.ok(await store.get(ownerKey(crashedSession)));
    await instances.b!.kill();
    const orphan = await inSession('a', alice, crashedSession, 3, 'tools/list');
    assert.equal(orphan.status, 404);
    assert.deepEqual(orphan.messages[0]!.error, { code: -32001, message: 'Session not found' });
    assert.equal(await store.get(ownerKey(crashedSession)), undefined, 'records of the dead session removed');
    assert.equal(await store.get(instanceKey(crashedSession)), undefined);
    await start('b');

    // A dies and comes back at the same address: its previous process's session is gone too.
    const diedSession = await openSession('a', alice);
    await instances.a!.kill();
    await start('a');
    assert.equal((await inSession('b', alice, diedSession, 4, 'tools/list')).status, 404);
    assert.equal(await store.get(ownerKey(diedSession)), undefined);

    // The client re-initializes and carries on, through either instance.
    const fresh = await openSession('a', alice);
    const listed = await inSession('b', alice, fresh, 5, 'tools/call', { name: 'echo', arguments: { message: 'again' } });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.messages.find(m => m.id === 5)!.result.content, [{ type: 'text', text: 'Echo: again' }]);
  });

  it('answers 503 with a JSON error within a bounded time while Redis is down, and recovers by itself', { skip: !process.env.REDIS_URL ? false : 'external REDIS_URL cannot be stopped' }, async () => {
    const sessionId = await openSession('a', alice);
    await redis.stop();
    try {
      const timed = async <T>(fn: () => Promise<T>) => {
        const t0 = Date.now();
        const value = await fn();
        return { value, ms: Date.now() - t0 };
      };
      // /mcp: the bearer gate cannot check the token (the AS state is in Redis).
      const init = await timed(() =>
        rawPost('a', alice, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'x', version: '1' } } })
      );
      assert.equal(init.value.status, 503);
      assert.ok(init.ms < 5000, `answered in ${init.ms} ms`);
      assert.ok(Number(init.value.headers.get('retry-after')) >= 1);
      assert.equal(init.value.messages[0]!.error, 'temporarily_unavailable');
      assert.doesNotMatch(init.value.text, /at \w+ \(|node_modules|Error:/);

      const inSessionOnB = await timed(() => inSession('b', alice, sessionId, 1, 'tools/list'));
      assert.equal(inSessionOnB.value.status, 503);
      assert.ok(inSessionOnB.ms < 5000);

      const modern = await timed(() => modernCall('b', alice, 'echo', { message: 'x' }));
      assert.equal(modern.value.status, 503);
      assert.ok(modern.ms < 5000);

      // The AS: 503 with an OAuth error body.
      const token = await fetch(`${lb.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', [BACKEND_HEADER]: 'b' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: alice.refreshToken!, client_id: alice.clientId })
      });
      assert.equal(token.status, 503);
      assert.equal(((await token.json()) as { error: string }).error, 'temporarily_unavailable');

      const ready = await fetch(`${lb.url}/ready`, { headers: { [BACKEND_HEADER]: 'a' } });
      await ready.body?.cancel();
      assert.equal(ready.status, 503);
      assert.equal(instances.a!.exited() || instances.b!.exited(), false, 'no instance crashed');
    } finally {
      await redis.start();
    }

    // Recovery without a restart: the test Redis keeps no data, so the OAuth flow starts over.
    let status = 503;
    for (let i = 0; i < 100 && status === 503; i++) {
      const probe = await fetch(`${lb.url}/ready`, { headers: { [BACKEND_HEADER]: i % 2 ? 'a' : 'b' } });
      await probe.body?.cancel();
      status = probe.status;
      if (status === 503) await sleep(100);
    }
    assert.equal(status, 200);
    alice = keep(await obtainTokens(lb.url, { identity: 'alice', scope: 'mcp', clientName: 'multi-instance after outage' }));
    const fresh = await openSession('a', alice);
    const echo = await inSession('b', alice, fresh, 7, 'tools/call', { name: 'echo', arguments: { message: 'recovered' } });
    assert.equal(echo.status, 200);
    assert.deepEqual(echo.messages.find(m => m.id === 7)!.result.content, [{ type: 'text', text: 'Echo: recovered' }]);

    // Pub/sub came back on both instances: an event raised on A reaches a listen stream on B.
    const listen = new SseStream(mcpUrl, {
      method: 'POST',
      headers: modernHeaders('subscriptions/listen', undefined, { authorization: bearer(alice), [BACKEND_HEADER]: 'b' }),
      body: JSON.stringify(modernRequest(11, 'subscriptions/listen', { notifications: { promptsListChanged: true } }))
    });
    try {
      await listen.waitFor(s => s.messages().find(m => m.method === 'notifications/subscriptions/acknowledged'));
      let delivered: unknown;
      for (let i = 0; i < 20 && !delivered; i++) {
        await modernCall('a', alice, 'test_trigger_prompt_change');
        delivered = await listen.waitFor(s => s.messages().find(m => m.method === 'notifications/prompts/list_changed'), 500).catch(() => undefined);
      }
      assert.ok(delivered, 'prompts/list_changed from A reached B after the outage');
    } finally {
      listen.close();
    }
  });

  it('never writes a token or the instance secret to a log, on either instance', () => {
    const logs = ['a', 'b'].map(n => readFileSync(join(ARTIFACTS, `${n}.log`), 'utf8')).join('\n');
    assert.ok(logs.includes('forwarding a session request'), 'the suite did exercise forwarding');
    assert.ok(issued.length >= 6);
    for (const secret of [...issued, env.INSTANCE_SECRET!]) assert.equal(logs.includes(secret), false);
  });
});
