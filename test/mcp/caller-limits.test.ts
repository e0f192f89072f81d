/**
 * Limits on what one caller can hold (src/mcp/caller-limits.ts): one token
 * opening sessions past its limit closes its own least recently used
 * session, never anyone else's, and another user still gets in; a client's
 * limit answers 429 + Retry-After; the instance's ceiling answers 503 +
 * Retry-After (legacy /sse too); streams per user answer 429. Every refusal
 * is a JSON-RPC error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { ACCEPT, LEGACY, modernHeaders, modernRequest, SseStream } from './helpers/http.js';

const auth = (subject: string) => ({ authorization: `Bearer test:${subject}` });

async function initialize(app: McpTestApp, subject: string) {
  const res = await fetch(app.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...auth(subject) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'limits', version: '1' } } })
  });
  const text = await res.text();
  return { status: res.status, sessionId: res.headers.get('mcp-session-id') ?? undefined, retryAfter: res.headers.get('retry-after'), text };
}

async function ping(app: McpTestApp, subject: string, sessionId: string) {
  const res = await fetch(app.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY, ...auth(subject) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
  });
  await res.text();
  return res.status;
}

const jsonRpcError = (text: string) => (JSON.parse(text) as { jsonrpc: string; error: { code: number; message: string } }).error;

describe('sessions per user: the caller’s own least recently used session makes room', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ env: { MAX_SESSIONS_PER_SUBJECT: '3' } });
  });
  after(() => app.close());

  it('alice opens five sessions: each beyond three closes her least recently used one; bob still gets in and keeps his', async () => {
    const bob = await initialize(app, 'bob');
    assert.equal(bob.status, 200);
    const alice: string[] = [];
    for (let i = 0; i < 3; i++) alice.push((await initialize(app, 'alice')).sessionId!);
    // Use the first one, so the second is now the least recently used.
    assert.equal(await ping(app, 'alice', alice[0]!), 200);
    const fourth = await initialize(app, 'alice');
    assert.equal(fourth.status, 200);
    assert.equal(await ping(app, 'alice', alice[1]!), 404, 'the least recently used one was closed');
    assert.equal(await ping(app, 'alice', alice[0]!), 200);
    const fifth = await initialize(app, 'alice');
    assert.equal(fifth.status, 200);
    assert.equal(await ping(app, 'alice', alice[2]!), 404);
    for (const id of [alice[0]!, fourth.sessionId!, fifth.sessionId!]) assert.equal(await ping(app, 'alice', id), 200);
    assert.equal(await ping(app, 'bob', bob.sessionId!), 200, 'another user’s session is never touched');
    assert.equal((await initialize(app, 'bob')).status, 200, 'and another user still gets in');
  });
});

describe('sessions per client: 429 with Retry-After (other users of the client are never closed)', () => {
  let app: McpTestApp;
  before(async () => {
    // The test gate gives every subject the same client id.
    app = await startMcpApp({ env: { MAX_SESSIONS_PER_CLIENT: '2' } });
  });
  after(() => app.close());

  it('the third session of one client is refused, whoever asks', async () => {
    const a = await initialize(app, 'alice');
    const b = await initialize(app, 'bob');
    assert.deepEqual([a.status, b.status], [200, 200]);
    const c = await initialize(app, 'carol');
    assert.equal(c.status, 429);
    assert.equal(c.retryAfter, '10');
    assert.equal(jsonRpcError(c.text).code, -32000);
    assert.equal(await ping(app, 'alice', a.sessionId!), 200);
    assert.equal(await ping(app, 'bob', b.sessionId!), 200);
  });
});

describe('the instance’s ceiling: 503 with Retry-After, for /mcp and legacy /sse', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ env: { MAX_SESSIONS: '4' } });
  });
  after(() => app.close());

  it('once four sessions are open, anyone’s next one is 503 until one ends', async () => {
    const open = [await initialize(app, 'alice'), await initialize(app, 'alice'), await initialize(app, 'bob'), await initialize(app, 'bob')];
    assert.deepEqual(
      open.map(o => o.status),
      [200, 200, 200, 200]
    );
    const full = await initialize(app, 'carol');
    assert.equal(full.status, 503);
    assert.equal(full.retryAfter, '10');
    assert.equal(jsonRpcError(full.text).code, -32000);

    const sse = await fetch(`${app.url}/sse`, { headers: { accept: 'text/event-stream', ...auth('carol') } });
    assert.equal(sse.status, 503);
    assert.equal(jsonRpcError(await sse.text()).code, -32000);

    const del = await fetch(app.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': open[0]!.sessionId!, 'mcp-protocol-version': LEGACY, ...auth('alice') } });
    assert.equal(del.status, 200);
    assert.equal((await initialize(app, 'carol')).status, 200);
  });
});

describe('streams per user: 429 with Retry-After', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ env: { MAX_STREAMS_PER_SUBJECT: '2' } });
  });
  after(() => app.close());

  const listen = (subject: string) =>
    new SseStream(app.mcpUrl, {
      method: 'POST',
      headers: { ...modernHeaders('subscriptions/listen'), ...auth(subject) },
      body: JSON.stringify(modernRequest(7, 'subscriptions/listen', { notifications: { toolsListChanged: true } }))
    });

  it('a third subscriptions/listen stream of one user is refused; another user still gets one; closing one makes room', async () => {
    const held = [listen('alice'), listen('alice')];
    try {
      for (const s of held) {
        await s.opened;
        assert.equal(s.status, 200);
      }
      const third = await fetch(app.mcpUrl, {
        method: 'POST',
        headers: { ...modernHeaders('subscriptions/listen'), ...auth('alice') },
        body: JSON.stringify(modernRequest(8, 'subscriptions/listen', { notifications: { toolsListChanged: true } }))
      });
      assert.equal(third.status, 429);
      assert.equal(third.headers.get('retry-after'), '10');
      assert.equal(jsonRpcError(await third.text()).code, -32000);

      const bob = listen('bob');
      try {
        await bob.opened;
        assert.equal(bob.status, 200);
      } finally {
        bob.close();
      }

      held.shift()!.close();
      // The slot comes back when the server sees the stream close: poll (bounded) for it.
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        const again = listen('alice');
        await again.opened;
        status = again.status;
        held.push(again);
        if (status !== 200) await new Promise(r => setTimeout(r, 50));
      }
      assert.equal(status, 200);
    } finally {
      for (const s of held) s.close();
    }
  });
});
