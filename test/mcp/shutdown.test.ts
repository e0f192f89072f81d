/**
 * Graceful shutdown: closing the MCP component ends every session and every
 * open stream (2025 GET streams, legacy SSE streams, 2026 listen streams),
 * and the sessions are gone afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { LEGACY, modernHeaders, modernRequest, openLegacySession, SseStream } from './helpers/http.js';

describe('graceful shutdown', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp();
  });
  after(() => app.close());

  it('ends sessions and streams of every era', async () => {
    const s = await openLegacySession(app.mcpUrl);
    const get = new SseStream(app.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY } });
    const sse = new SseStream(`${app.url}/sse`, { headers: { accept: 'text/event-stream' } });
    const listen = new SseStream(app.mcpUrl, {
      method: 'POST',
      headers: modernHeaders('subscriptions/listen'),
      body: JSON.stringify(modernRequest(5, 'subscriptions/listen', { notifications: { toolsListChanged: true } }))
    });
    await Promise.all([get.opened, sse.opened, listen.opened]);
    await sse.waitFor(x => x.events.find(e => e.event === 'endpoint'));
    await listen.waitFor(x => x.messages().find(m => m.method === 'notifications/subscriptions/acknowledged'));

    await app.closeMcp();

    for (const [name, stream] of [['GET stream', get], ['legacy SSE', sse], ['listen', listen]] as const) {
      await stream.waitFor(x => x.ended || undefined, 3000).catch(() => assert.fail(`${name} was not ended`));
    }
    // The listen stream ends gracefully: its request is answered before the close.
    assert.ok(listen.messages().some(m => m.id === 5 && m.result !== undefined));
    assert.equal(await app.store.get(`session:{${s.sessionId}}:owner`), undefined);
  });
});
