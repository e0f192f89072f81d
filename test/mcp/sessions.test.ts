/**
 * 2025-era sessions: DELETE ends a session (then 404), a session belongs to
 * the subject that created it (anyone else gets 404 as for an unknown id, on
 * POST, the GET stream and DELETE), the owner is recorded in the store, and
 * idle sessions are closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { ACCEPT, LEGACY, openLegacySession, raw } from './helpers/http.js';

const ALICE = 'Bearer test:alice';
const BOB = 'Bearer test:bob';
const toolsList = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

describe('2025-era sessions', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ timing: { sessionIdleMs: 60_000 } });
  });
  after(() => app.close());

  it('serves requests on the session, then 404 after DELETE', async () => {
    const s = await openLegacySession(app.mcpUrl, ALICE);
    const ok = await s.post(toolsList);
    assert.equal(ok.status, 200);
    assert.ok(ok.messages[0]!.result.tools.some((t: { name: string }) => t.name === 'echo'));

    const del = await raw(app.mcpUrl, { method: 'DELETE', headers: { authorization: ALICE, 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY } });
    assert.equal(del.status, 200);

    const gone = await s.post(toolsList);
    assert.equal(gone.status, 404);
    assert.deepEqual(JSON.parse(gone.body), { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    assert.equal(await app.store.get(`session:{${s.sessionId}}:owner`), undefined);
  });

  it("deletes the session's stream logs when the session ends", async () => {
    const s = await openLegacySession(app.mcpUrl, ALICE);
    assert.equal((await s.post(toolsList)).status, 200);
    const logs = async () => {
      const keys: string[] = [];
      for await (const key of app.store.scan(`mcp:session:{${s.sessionId}}:stream:*`)) keys.push(key);
      return keys;
    };
    assert.ok((await logs()).length >= 2, 'the initialize and tools/list streams were logged');
    const del = await raw(app.mcpUrl, { method: 'DELETE', headers: { authorization: ALICE, 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY } });
    assert.equal(del.status, 200);
    for (let i = 0; i < 50 && (await logs()).length > 0; i++) await new Promise(r => setTimeout(r, 20));
    assert.deepEqual(await logs(), []);
  });

  it('records the owner as session:{<id>}:owner (the id as hash tag) with a TTL', async () => {
    const s = await openLegacySession(app.mcpUrl, ALICE);
    assert.equal(await app.store.get(`session:{${s.sessionId}}:owner`), 'alice');
    const ttl = await app.store.ttl(`session:{${s.sessionId}}:owner`);
    assert.ok(ttl !== undefined && ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`);
  });

  it("answers another subject's POST, GET stream and DELETE with 404, and leaves the session working for its owner", async () => {
    const s = await openLegacySession(app.mcpUrl, ALICE);
    const foreign = await s.post(toolsList, { authorization: BOB });
    assert.equal(foreign.status, 404);
    assert.equal(JSON.parse(foreign.body).error.code, -32001);

    const anonymous = await fetch(app.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY },
      body: JSON.stringify(toolsList)
    });
    assert.equal(anonymous.status, 404);

    const get = await raw(app.mcpUrl, { headers: { authorization: BOB, accept: 'text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY } });
    assert.equal(get.status, 404);

    const del = await raw(app.mcpUrl, { method: 'DELETE', headers: { authorization: BOB, 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY } });
    assert.equal(del.status, 404);

    const mine = await s.post(toolsList);
    assert.equal(mine.status, 200);
  });

  it('answers an unknown session id exactly like a foreign one', async () => {
    const s = await openLegacySession(app.mcpUrl, ALICE);
    const foreign = await s.post(toolsList, { authorization: BOB });
    const unknown = await s.post(toolsList, { 'mcp-session-id': '00000000-0000-4000-8000-000000000000' });
    assert.equal(unknown.status, foreign.status);
    assert.equal(unknown.body, foreign.body);
  });
});

describe('idle sessions', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ timing: { sessionIdleMs: 400 } });
  });
  after(() => app.close());

  it('closes a session idle for longer than sessionIdleMs', async () => {
    const s = await openLegacySession(app.mcpUrl, ALICE);
    assert.equal((await s.post(toolsList)).status, 200);
    await new Promise(r => setTimeout(r, 1000));
    assert.equal((await s.post(toolsList)).status, 404);
  });

  it('keeps a session that is used', async () => {
    const s = await openLegacySession(app.mcpUrl, ALICE);
    for (let i = 0; i < 5; i++) {
      await new Promise(r => setTimeout(r, 150));
      assert.equal((await s.post(toolsList)).status, 200, `round ${i}`);
    }
  });
});
