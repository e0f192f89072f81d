/**
 * The deprecated 2024-11-05 HTTP+SSE transport: GET /sse announces the
 * message endpoint, POST /message is answered 202 and the responses arrive
 * on the stream; the session belongs to its creator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { SseStream } from './helpers/http.js';

describe('legacy HTTP+SSE transport', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp();
  });
  after(() => app.close());

  const postMessage = (endpoint: string, body: unknown, auth = 'Bearer test:alice') =>
    fetch(new URL(endpoint, app.url), { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body) });

  it('announces /message?sessionId= and answers initialize and tools/call on the stream', async () => {
    const sse = new SseStream(`${app.url}/sse`, { headers: { accept: 'text/event-stream', authorization: 'Bearer test:alice' } });
    try {
      await sse.opened;
      assert.equal(sse.status, 200);
      const endpoint = await sse.waitFor(s => s.events.find(e => e.event === 'endpoint')?.data);
      assert.match(endpoint, /^\/message\?sessionId=[0-9a-f-]{36}$/);

      const init = await postMessage(endpoint, {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '1' } }
      });
      assert.equal(init.status, 202);
      const initResult = await sse.waitFor(s => s.messages().find(m => m.id === 1));
      assert.equal(initResult.result.protocolVersion, '2024-11-05');
      assert.equal((await postMessage(endpoint, { jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202);

      assert.equal((await postMessage(endpoint, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } })).status, 202);
      const echo = await sse.waitFor(s => s.messages().find(m => m.id === 2));
      assert.deepEqual(echo.result.content, [{ type: 'text', text: 'Echo: hi' }]);

      const foreign = await postMessage(endpoint, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, 'Bearer test:bob');
      assert.equal(foreign.status, 404);
      assert.deepEqual(await foreign.json(), { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });

      const notRpc = await postMessage(endpoint, { hello: 'world' });
      assert.equal(notRpc.status, 400);
      assert.equal(((await notRpc.json()) as { error: { code: number } }).error.code, -32600);
    } finally {
      sse.close();
    }
  });

  it('answers 404 for an unknown sessionId', async () => {
    const res = await postMessage('/message?sessionId=00000000-0000-4000-8000-000000000000', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(res.status, 404);
  });

  it('forgets the session when the stream closes', async () => {
    const sse = new SseStream(`${app.url}/sse`, { headers: { accept: 'text/event-stream', authorization: 'Bearer test:alice' } });
    await sse.opened;
    const endpoint = await sse.waitFor(s => s.events.find(e => e.event === 'endpoint')?.data);
    sse.close();
    await new Promise(r => setTimeout(r, 200));
    const res = await postMessage(endpoint, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(res.status, 404);
  });
});
