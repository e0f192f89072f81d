/**
 * Resumable 2025-era streams (SEP-1699): a POST stream starts with a priming
 * event (id + retry), the server may close it mid-call, and the client gets
 * the rest by GET with Last-Event-ID, replayed from the store-backed event
 * log. Event ids only resolve inside the session that owns them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { streamLogKey } from '../../src/store/event-store.js';
import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { ACCEPT, LEGACY, openLegacySession, parseSse, SseStream, type SseEvent } from './helpers/http.js';

/** Reads SSE events from a GET until `done` says stop (or timeout). */
async function readStream(url: string, headers: Record<string, string>, done: (events: SseEvent[]) => boolean, timeoutMs = 5000) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const res = await fetch(url, { headers, signal: abort.signal });
  let text = '';
  const events = () => parseSse(text);
  try {
    if (res.status !== 200) return { status: res.status, events: [] as SseEvent[] };
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    while (!done(events())) {
      const { value, done: end } = await reader.read();
      if (end) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { status: res.status, events: events() };
}

describe('resumable streams', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ timing: { sseRetryMs: 250 } });
  });
  after(() => app.close());

  it('primes the stream, closes it mid-call and replays the result after Last-Event-ID', async () => {
    const s = await openLegacySession(app.mcpUrl, 'Bearer test:alice');
    const call = await s.post({ jsonrpc: '2.0', id: 42, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } });
    assert.equal(call.status, 200);
    const first = parseSse(call.body);
    assert.equal(first[0]!.data, '');
    assert.equal(first[0]!.retry, 250);
    assert.match(first[0]!.id!, /::/);
    assert.equal(first.some(e => e.data.includes('"id":42')), false, 'result must not be on the closed stream');

    await new Promise(r => setTimeout(r, 300));
    const replay = await readStream(
      app.mcpUrl,
      { authorization: 'Bearer test:alice', accept: 'text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY, 'last-event-id': first[0]!.id! },
      events => events.some(e => e.data.includes('"id":42'))
    );
    assert.equal(replay.status, 200);
    const result = replay.events.map(e => (e.data ? JSON.parse(e.data) : undefined)).find(m => m?.id === 42);
    assert.equal(
      result.result.content[0].text,
      'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.'
    );
  });

  it('does not replay one session\'s events into another session', async () => {
    const a = await openLegacySession(app.mcpUrl, 'Bearer test:alice');
    const call = await a.post({ jsonrpc: '2.0', id: 43, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } });
    const primingId = parseSse(call.body)[0]!.id!;
    await new Promise(r => setTimeout(r, 300));

    const b = await openLegacySession(app.mcpUrl, 'Bearer test:alice');
    const replay = await readStream(
      app.mcpUrl,
      { authorization: 'Bearer test:alice', accept: ACCEPT.split(', ')[1]!, 'mcp-session-id': b.sessionId, 'mcp-protocol-version': LEGACY, 'last-event-id': primingId },
      events => events.some(e => e.data.includes('"id":43')),
      800
    );
    assert.equal(replay.events.some(e => e.data.includes('"id":43')), false);
  });
});

describe('the standalone GET stream\'s log', () => {
  let app: McpTestApp;
  before(async () => {
    // The periodic log message goes to every 2025-era session, on its standalone stream.
    app = await startMcpApp({ timing: { logIntervalMs: 50 } });
  });
  after(() => app.close());

  it('is written only for a session whose client opened that stream (nobody can resume the others)', async () => {
    const idle = await openLegacySession(app.mcpUrl, 'Bearer test:alice');
    const listening = await openLegacySession(app.mcpUrl, 'Bearer test:alice');
    const stream = new SseStream(app.mcpUrl, {
      headers: { authorization: 'Bearer test:alice', accept: 'text/event-stream', 'mcp-session-id': listening.sessionId, 'mcp-protocol-version': LEGACY }
    });
    try {
      // The timer sends to the sessions in the order they were created: by the time the
      // listening one's message arrives, the idle one's has been handed to its event store.
      const received = await stream.waitFor(s => s.events.find(e => e.data.includes('notifications/message')));
      assert.equal(stream.status, 200);
      const logged = await app.store.readAfter(streamLogKey(listening.sessionId, '_GET_stream'), undefined);
      assert.ok(logged.some(e => received.id === `_GET_stream::${e.id}`), 'the open stream is logged, under the id the client received');
      assert.deepEqual(await app.store.readAfter(streamLogKey(idle.sessionId, '_GET_stream'), undefined), [], 'no log for a session without a GET stream');
      assert.equal(await app.store.ttl(streamLogKey(idle.sessionId, '_GET_stream')), undefined);
    } finally {
      stream.close();
    }
  });
});
