/**
 * Periodic notifications: `notifications/resources/updated` for subscribed
 * URIs (2025 resources/subscribe on the GET stream; 2026-07-28 through
 * subscriptions/listen), log messages that honour logging/setLevel, and
 * change events raised by a tool reaching listen streams.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { LEGACY, modernHeaders, modernRequest, openLegacySession, postModern, SseStream } from './helpers/http.js';

describe('periodic notifications', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ timing: { resourceUpdateIntervalMs: 100, logIntervalMs: 100 } });
  });
  after(() => app.close());

  it('sends resources/updated for subscribed URIs only, and stops after unsubscribe (2025)', async () => {
    const s = await openLegacySession(app.mcpUrl);
    const stream = new SseStream(app.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY } });
    try {
      await stream.opened;
      assert.equal(stream.status, 200);
      const sub = await s.post({ jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'test://static/resource/7' } });
      assert.deepEqual(sub.messages[0]!.result, {});
      const updated = await stream.waitFor(x => x.messages().find(m => m.method === 'notifications/resources/updated'));
      assert.deepEqual(updated.params, { uri: 'test://static/resource/7' });
      assert.ok(stream.messages().filter(m => m.method === 'notifications/resources/updated').every(m => m.params.uri === 'test://static/resource/7'));

      await s.post({ jsonrpc: '2.0', id: 2, method: 'resources/unsubscribe', params: { uri: 'test://static/resource/7' } });
      await new Promise(r => setTimeout(r, 150));
      const before = stream.messages().filter(m => m.method === 'notifications/resources/updated').length;
      await new Promise(r => setTimeout(r, 400));
      assert.equal(stream.messages().filter(m => m.method === 'notifications/resources/updated').length, before);
    } finally {
      stream.close();
    }
  });

  it('sends periodic log messages at or above the level set with logging/setLevel (2025)', async () => {
    const s = await openLegacySession(app.mcpUrl);
    const stream = new SseStream(app.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY } });
    try {
      await stream.opened;
      await s.post({ jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'error' } });
      const since = stream.messages().length;
      await stream.waitFor(x => x.messages().slice(since).filter(m => m.method === 'notifications/message').length >= 3 || undefined, 6000);
      const levels = stream
        .messages()
        .slice(since)
        .filter(m => m.method === 'notifications/message')
        .map(m => m.params.level as string);
      assert.ok(levels.every(l => ['error', 'critical', 'alert', 'emergency'].includes(l)), levels.join(','));
    } finally {
      stream.close();
    }
  });

  it('delivers resources/updated and list_changed on subscriptions/listen (2026-07-28)', async () => {
    const stream = new SseStream(app.mcpUrl, {
      method: 'POST',
      headers: modernHeaders('subscriptions/listen'),
      body: JSON.stringify(modernRequest(77, 'subscriptions/listen', { notifications: { toolsListChanged: true, resourceSubscriptions: ['test://static/resource/3'] } }))
    });
    try {
      await stream.opened;
      assert.equal(stream.status, 200);
      const ack = await stream.waitFor(x => x.messages().find(m => m.method === 'notifications/subscriptions/acknowledged'));
      assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], 77);
      const updated = await stream.waitFor(x => x.messages().find(m => m.method === 'notifications/resources/updated'));
      assert.equal(updated.params.uri, 'test://static/resource/3');

      const trigger = await postModern(app.mcpUrl, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      assert.equal(trigger.messages[0]!.result.content[0].text, 'tools_list_changed published');
      await stream.waitFor(x => x.messages().find(m => m.method === 'notifications/tools/list_changed'));
      assert.equal(stream.messages().some(m => m.method === 'notifications/prompts/list_changed'), false);
    } finally {
      stream.close();
    }
  });

  it('bridges a tool-raised change event to 2025 sessions as an unsolicited notification', async () => {
    const s = await openLegacySession(app.mcpUrl);
    const stream = new SseStream(app.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY } });
    try {
      await stream.opened;
      await postModern(app.mcpUrl, 'tools/call', { name: 'test_trigger_prompt_change', arguments: {} });
      await stream.waitFor(x => x.messages().find(m => m.method === 'notifications/prompts/list_changed'));
    } finally {
      stream.close();
    }
  });
});
