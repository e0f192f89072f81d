/**
 * The MCP layer over a shared Redis, in-process and without the OAuth side
 * (the stand-in bearer gate of test/mcp/helpers/app.ts accepts
 * `Bearer test:<subject>`), so that what is tested here is src/mcp alone:
 *
 * - the deprecated HTTP+SSE transport: a `POST /message` reaching another
 *   instance is forwarded to the one holding the stream;
 * - without `INSTANCE_SECRET` nothing is forwarded (404, records untouched);
 * - Redis down: what needs it answers 503 with a JSON-RPC error within a
 *   bounded time; what does not (a session held here, stateless 2026-07-28
 *   requests) keeps working; everything recovers when Redis returns.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { createLogger } from '../../src/logger.js';
import { instanceKey, ownerKey } from '../../src/mcp/http/sessions.js';
import { RedisStore } from '../../src/store/redis.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { startMcpApp, type McpTestApp } from '../mcp/helpers/app.js';
import { ACCEPT, LEGACY, openLegacySession, postModern, SseStream } from '../mcp/helpers/http.js';

const ALICE = 'Bearer test:alice';
const BOB = 'Bearer test:bob';
const UNAVAILABLE = { jsonrpc: '2.0', error: { code: -32000, message: 'Service unavailable: session storage is unreachable; retry shortly' }, id: null };

const newStore = async (url: string) => {
  const store = new RedisStore({ url, logger: createLogger('silent') });
  await store.connect();
  return store;
};

describe('MCP layer on a shared Redis', { timeout: 120_000 }, () => {
  let redis: TestRedis;
  let a: McpTestApp;
  let b: McpTestApp;
  let noSecret: McpTestApp;
  let probe: RedisStore;

  before(async () => {
    redis = await startTestRedis();
    const secret = randomBytes(32).toString('base64url');
    a = await startMcpApp({ store: await newStore(redis.url), env: { INSTANCE_SECRET: secret } });
    b = await startMcpApp({ store: await newStore(redis.url), env: { INSTANCE_SECRET: secret } });
    noSecret = await startMcpApp({ store: await newStore(redis.url) });
    probe = await newStore(redis.url);
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close(), noSecret?.close()]);
    await probe?.close();
    await redis?.stop();
  });

  const post = async (url: string, auth: string, sessionId: string, body: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, authorization: auth, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY },
      body: JSON.stringify(body)
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  it('forwards a legacy POST /message to the instance holding the SSE stream', async () => {
    const stream = new SseStream(`${a.url}/sse`, { headers: { accept: 'text/event-stream', authorization: ALICE } });
    try {
      await stream.opened;
      assert.equal(stream.status, 200);
      const endpoint = await stream.waitFor(s => s.events.find(e => e.event === 'endpoint'));
      const path = endpoint.data;
      const sessionId = new URL(path, a.url).searchParams.get('sessionId')!;
      assert.equal(JSON.parse((await probe.get(instanceKey(sessionId)))!).kind, 'sse');

      const send = (base: string, auth: string, message: unknown) =>
        fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(message) });
      const init = await send(b.url, ALICE, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'legacy', version: '1' } } });
      assert.equal(init.status, 202);
      assert.equal(await init.text(), 'Accepted');
      const initialized = await stream.waitFor(s => s.messages().find(m => m.id === 1));
      assert.equal(initialized.result.protocolVersion, '2024-11-05');
      assert.equal((await send(b.url, ALICE, { jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202);
      assert.equal((await send(b.url, ALICE, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'via B' } } })).status, 202);
      const echoed = await stream.waitFor(s => s.messages().find(m => m.id === 2));
      assert.deepEqual(echoed.result.content, [{ type: 'text', text: 'Echo: via B' }]);

      const foreign = await send(b.url, BOB, { jsonrpc: '2.0', id: 3, method: 'tools/list' });
      assert.equal(foreign.status, 404);
      assert.deepEqual(await foreign.json(), { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    } finally {
      stream.close();
    }
  });

  it('does not forward without INSTANCE_SECRET: 404, and the session stays intact on its instance', async () => {
    const s = await openLegacySession(a.mcpUrl, ALICE);
    const elsewhere = await post(noSecret.mcpUrl, ALICE, s.sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(elsewhere.status, 404);
    assert.deepEqual(JSON.parse(elsewhere.text), { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    assert.equal(await probe.get(ownerKey(s.sessionId)), 'alice');
    const home = await s.post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'still here' } } });
    assert.deepEqual(home.messages.find(m => m.id === 2)!.result.content, [{ type: 'text', text: 'Echo: still here' }]);
  });

  it('rejects a forged forwarding header: treated as a client request, never trusted', async () => {
    const s = await openLegacySession(a.mcpUrl, ALICE);
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: ACCEPT,
        authorization: ALICE,
        'mcp-session-id': s.sessionId,
        'mcp-protocol-version': LEGACY,
        'x-mcp-instance-secret': 'not-the-secret-not-the-secret-not-the-secret'
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { message: 'forged' } } })
    });
    // Forwarded with B's own secret (the forged value is replaced), served by A.
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Echo: forged/);
  });

  it('answers 503 (JSON-RPC) within a bounded time while Redis is down, keeps serving what needs no Redis, and recovers', { skip: process.env.REDIS_URL ? 'external REDIS_URL cannot be stopped' : false }, async () => {
    const local = await openLegacySession(a.mcpUrl, ALICE);
    await redis.stop();
    try {
      const t0 = Date.now();
      // A new session needs its records written.
      const init = await fetch(a.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ACCEPT, authorization: ALICE },
        body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'x', version: '1' } } })
      });
      assert.equal(init.status, 503);
      assert.equal(init.headers.get('retry-after'), '2');
      assert.deepEqual(await init.json(), UNAVAILABLE);

      // B must look the session up to forward it.
      const remote = await post(b.mcpUrl, ALICE, local.sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      assert.equal(remote.status, 503);
      assert.deepEqual(JSON.parse(remote.text), UNAVAILABLE);

      // Resuming needs the event log.
      const resume = await fetch(a.mcpUrl, {
        headers: { accept: 'text/event-stream', authorization: ALICE, 'mcp-session-id': local.sessionId, 'mcp-protocol-version': LEGACY, 'last-event-id': '_GET_stream::1-0' }
      });
      assert.equal(resume.status, 503);
      assert.deepEqual(await resume.json(), UNAVAILABLE);

      // A legacy SSE session needs its records too.
      const sse = await fetch(`${a.url}/sse`, { headers: { accept: 'text/event-stream', authorization: ALICE } });
      assert.equal(sse.status, 503);
      assert.deepEqual(await sse.json(), UNAVAILABLE);
      assert.ok(Date.now() - t0 < 10_000, `four refusals took ${Date.now() - t0} ms`);

      // What needs no Redis keeps working: the session held here (events not resumable meanwhile) ...
      const echo = await local.post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'during the outage' } } });
      assert.equal(echo.status, 200);
      assert.deepEqual(echo.messages.find(m => m.id === 2)!.result.content, [{ type: 'text', text: 'Echo: during the outage' }]);
      // ... and stateless 2026-07-28 requests.
      const modern = await postModern(a.mcpUrl, 'tools/call', { name: 'echo', arguments: { message: 'stateless' } }, { headers: { authorization: ALICE } });
      assert.equal(modern.status, 200);
      assert.deepEqual(modern.messages[0]!.result.content, [{ type: 'text', text: 'Echo: stateless' }]);
    } finally {
      await redis.start();
    }

    // Recovery, without restarting anything (bounded: reconnect backoff is at most 2 s,
    // the rest is slack for a loaded CI machine).
    let status = 0;
    const deadline = Date.now() + 30_000;
    while (status !== 200 && Date.now() < deadline) {
      const res = await fetch(a.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ACCEPT, authorization: ALICE },
        body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'x', version: '1' } } })
      });
      await res.body?.cancel();
      status = res.status;
      if (status !== 200) await new Promise(r => setTimeout(r, 100));
    }
    assert.equal(status, 200, 'the server did not recover within 30 s of Redis coming back');
    const fresh = await openLegacySession(a.mcpUrl, ALICE);
    // B reconnects on its own backoff schedule: it may answer 503 a little longer than A.
    let viaB = await post(b.mcpUrl, ALICE, fresh.sessionId, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { message: 'back' } } });
    while (viaB.status === 503 && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 100));
      viaB = await post(b.mcpUrl, ALICE, fresh.sessionId, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { message: 'back' } } });
    }
    assert.equal(viaB.status, 200);
    assert.match(viaB.text, /Echo: back/);
  });
});
