/**
 * `fault`, every kind, with the SDK v2 client in every era, asserting what a
 * correct client observes (the error object, the HTTP status and headers,
 * the resumed stream); the raw wire where the SDK client cannot show it
 * (headers it does not expose, a stream it does not notice ending). Also:
 * another user's concurrent session is untouched, and faults are rate
 * limited per user.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ProtocolError, SdkError, SdkHttpError, UrlElicitationRequiredError, type CallToolResult } from '@modelcontextprotocol/client';

import { connect, KIND_LABEL, KINDS, startTestServer, texts, type Connection, type Kind, type TestServer } from '../helpers/mcp-harness.js';
import { obtainTokens } from '../helpers/oauth.js';
import { startMcpApp, type McpTestApp } from '../mcp/helpers/app.js';
import { LEGACY, messagesOf, modernHeaders, modernRequest, openLegacySession, parseSse } from '../mcp/helpers/http.js';

let ts: TestServer;
let bobToken: string;
before(async () => {
  ts = await startTestServer({ name: 'client-testing-faults', env: { CLIENT_TEST_FAULTS_PER_MINUTE: '10000' } });
  bobToken = (await obtainTokens(ts.baseUrl, { scope: 'mcp', identity: 'bob', clientName: 'Bob client' })).accessToken;
});
after(async () => {
  await ts?.close();
});

const auth = () => ({ authorization: `Bearer ${ts.token}` });

/** The HTTP status a failed call reports: SdkHttpError on Streamable HTTP; the message on the legacy SSE transport. */
function httpStatusOf(err: unknown): number | undefined {
  if (err instanceof SdkHttpError) return err.status;
  const m = /\(HTTP (\d{3})\)/.exec(err instanceof Error ? err.message : '');
  return m ? Number(m[1]) : undefined;
}

/** A raw 2026-07-28 or 2025-session POST of `fault`, for what the SDK client does not expose (headers, bodies). */
async function rawFault(kind: Kind, args: Record<string, unknown>, progressToken?: string) {
  const params = { name: 'fault', arguments: args, ...(progressToken ? { _meta: { progressToken } } : {}) };
  if (kind === '2026') {
    const res = await fetch(ts.mcpUrl, { method: 'POST', headers: modernHeaders('tools/call', 'fault', auth()), body: JSON.stringify(modernRequest(7, 'tools/call', params)) });
    return { status: res.status, headers: res.headers, body: await res.text(), session: undefined };
  }
  const s = await openLegacySession(ts.mcpUrl, `Bearer ${ts.token}`);
  const res = await fetch(ts.mcpUrl, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': LEGACY },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params })
  });
  return { status: res.status, headers: res.headers, body: await res.text(), session: s };
}

const JSONRPC_CODES = [-32700, -32600, -32601, -32602, -32603, -32002, -32042, -32000, 12345];

for (const kind of KINDS) {
  describe(`fault over ${KIND_LABEL[kind]}`, () => {
    let c: Connection;
    const fault = (args: Record<string, unknown>, timeout?: number) => c.client.callTool({ name: 'fault', arguments: args }, timeout ? { timeout } : undefined) as Promise<CallToolResult>;
    before(async () => {
      c = await connect(ts, kind);
      await c.client.listTools(); // the client learns fault's outputSchema
    });
    after(async () => {
      await c?.close();
    });

    it('jsonrpc-error: the error object exactly as asked, with and without data', async () => {
      for (const code of JSONRPC_CODES) {
        for (const data of [undefined, { reason: 'injected', code }]) {
          await assert.rejects(fault({ kind: 'jsonrpc-error', code, message: `injected ${code}`, ...(data ? { data } : {}) }), (err: unknown) => {
            assert.ok(err instanceof ProtocolError, `code ${code}: ${String(err)}`);
            assert.equal(err.code, code);
            assert.equal(err.message, `injected ${code}`);
            assert.deepEqual(err.data, data);
            return true;
          });
        }
      }
      await assert.rejects(fault({ kind: 'jsonrpc-error' }), (err: unknown) => err instanceof ProtocolError && err.code === -32603 && err.message === 'Internal error');
      // -32042 with its URL elicitations in data is the typed error.
      const elicitations = [{ mode: 'url', elicitationId: 'e1', url: 'https://example.com/sign-in', message: 'Sign in' }];
      await assert.rejects(fault({ kind: 'jsonrpc-error', code: -32042, data: { elicitations } }), (err: unknown) => err instanceof UrlElicitationRequiredError && err.elicitations[0]!.url === 'https://example.com/sign-in');
      // The session (or the connection) is still usable.
      assert.equal(((await fault({ kind: 'delay', delayMs: 1 })).structuredContent as { kind: string }).kind, 'delay');
    });

    it('url-elicitation-required: -32042 (2025) or input_required (2026-07-28), then the retry succeeds', async () => {
      if (kind === '2026') {
        const r = await fault({ kind: 'url-elicitation-required' });
        assert.equal(texts(r)[0], 'Retried after the URL elicitation; the client answered "accept".');
        const asked = c.recorder.elicitations.at(-1)!;
        assert.equal(asked.mode, 'url');
        assert.match((asked as { url: string }).url, /client-testing-elicitation=/);
        return;
      }
      await assert.rejects(fault({ kind: 'url-elicitation-required' }), (err: unknown) => {
        assert.ok(err instanceof UrlElicitationRequiredError, String(err));
        assert.equal(err.code, -32042);
        assert.equal(err.elicitations[0]!.mode, 'url');
        assert.match(err.elicitations[0]!.url, /^http:\/\/localhost:\d+\/\?client-testing-elicitation=/);
        return true;
      });
      const retried = await fault({ kind: 'url-elicitation-required' });
      assert.equal(texts(retried)[0], 'Retried after the URL elicitation: the call succeeds now.');
    });

    it('tool-error: a result with isError', async () => {
      const r = await fault({ kind: 'tool-error', message: 'the disk is full' });
      assert.equal(r.isError, true);
      assert.deepEqual(texts(r), ['the disk is full']);
    });

    it('invalid-result: the client rejects structuredContent that breaks the outputSchema', async () => {
      await assert.rejects(fault({ kind: 'invalid-result' }), (err: unknown) => err instanceof ProtocolError && /output schema/i.test(err.message));
    });

    for (const status of [429, 500, 502, 503]) {
      it(`http-${status}: the call fails with HTTP ${status}`, async () => {
        await assert.rejects(fault({ kind: `http-${status}`, delayMs: 3000 }), (err: unknown) => {
          assert.equal(httpStatusOf(err), status, String(err));
          return true;
        });
        // The connection survives an HTTP error.
        assert.equal((await fault({ kind: 'delay', delayMs: 1 })).isError, undefined);
      });
    }

    it('delay: the result after the delay', async () => {
      const r = await fault({ kind: 'delay', delayMs: 200 });
      assert.deepEqual(r.structuredContent, { kind: 'delay', injected: true, detail: 'Answered after 200 ms.' });
    });

    it('slow-drip: the result arrives whole, however it is cut', async () => {
      const r = await fault({ kind: 'slow-drip', sizeBytes: 100, delayMs: 10 });
      assert.deepEqual(texts(r), ['x'.repeat(100)]);
      assert.deepEqual(r.structuredContent, { kind: 'slow-drip', injected: true, detail: '100 bytes dripped' });
    });

    it('notification-after-result: the client takes the result and ignores what follows', async () => {
      const errors = c.recorder.errors.length;
      const r = await fault({ kind: 'notification-after-result' });
      assert.equal(texts(r)[0], 'Notifications for this request follow its result.');
      assert.equal(((await fault({ kind: 'delay', delayMs: 1 })).structuredContent as { kind: string }).kind, 'delay');
      assert.deepEqual(c.recorder.errors.slice(errors), []);
    });
  });
}

describe('HTTP statuses and headers on the wire', () => {
  for (const kind of ['2025', '2026'] as const) {
    it(`${kind}: 429 and 503 carry Retry-After and a JSON-RPC error; 502 is an HTML page; 500 a JSON-RPC error`, async () => {
      const r429 = await rawFault(kind, { kind: 'http-429', delayMs: 2500 });
      assert.equal(r429.status, 429);
      assert.equal(r429.headers.get('retry-after'), '3');
      assert.deepEqual(JSON.parse(r429.body), { jsonrpc: '2.0', id: 7, error: { code: -32000, message: 'Too Many Requests (injected fault)' } });
      const r503 = await rawFault(kind, { kind: 'http-503' });
      assert.equal(r503.status, 503);
      assert.equal(r503.headers.get('retry-after'), '1');
      const r502 = await rawFault(kind, { kind: 'http-502' });
      assert.equal(r502.status, 502);
      assert.match(r502.headers.get('content-type')!, /^text\/html/);
      const r500 = await rawFault(kind, { kind: 'http-500' });
      assert.equal(r500.status, 500);
      assert.equal(JSON.parse(r500.body).error.code, -32603);
    });
  }

  it('jsonrpc-error on the wire: the error object as asked, also -32002 with data.uri (which the SDK client reports as -32602)', async () => {
    for (const kind of ['2025', '2026'] as const) {
      const r = await rawFault(kind, { kind: 'jsonrpc-error', code: -32002, message: 'Resource not found', data: { uri: 'bench://missing' } });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { jsonrpc: '2.0', id: 7, error: { code: -32002, message: 'Resource not found', data: { uri: 'bench://missing' } } });
    }
  });

  it('stream-drop without resumability: an SSE stream that ends with no result and no event id', async () => {
    for (const kind of ['2025', '2026'] as const) {
      const r = await rawFault(kind, { kind: 'stream-drop', resumable: false });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type')!, /^text\/event-stream/);
      assert.deepEqual(parseSse(r.body), [], `${kind}: no event at all`);
    }
  });

  it('stream-drop on a 2025 session: the stream closes after its priming event and the result is replayed after Last-Event-ID', async () => {
    const r = await rawFault('2025', { kind: 'stream-drop' });
    const events = parseSse(r.body);
    assert.equal(events[0]!.data, '');
    assert.ok(events[0]!.id, 'priming event id');
    assert.equal(events.some(e => e.data.includes('"id":7')), false, 'the result is not on the dropped stream');
    const replay = await fetch(ts.mcpUrl, {
      headers: { ...auth(), accept: 'text/event-stream', 'mcp-session-id': r.session!.sessionId, 'mcp-protocol-version': LEGACY, 'last-event-id': events[0]!.id! }
    });
    const reader = replay.body!.getReader();
    let text = '';
    while (!text.includes('"id":7')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const result = messagesOf({ headers: replay.headers, body: text.slice(0, text.lastIndexOf('\n\n') + 2) }).find(m => m.id === 7)!;
    assert.equal(result.result.structuredContent.kind, 'stream-drop');
  });

  it('slow-drip on the wire: one SSE event, the result', async () => {
    const r = await rawFault('2026', { kind: 'slow-drip', sizeBytes: 64, delayMs: 5 });
    const messages = messagesOf(r);
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.result.content[0].text, 'x'.repeat(64));
  });

  it('notification-after-result on the wire: the result, then progress and a log message', async () => {
    const r = await rawFault('2026', { kind: 'notification-after-result' }, 'tok');
    assert.deepEqual(
      messagesOf(r).map(m => m.method ?? `result ${m.id}`),
      ['result 7', 'notifications/progress', 'notifications/message']
    );
  });
});

describe('stream-drop and session-expired with the SDK client', () => {
  it('2025: a resumable drop is resumed by the client, which gets the result', async () => {
    const c = await connect(ts, '2025');
    try {
      const r = (await c.client.callTool({ name: 'fault', arguments: { kind: 'stream-drop' } })) as CallToolResult;
      assert.equal((r.structuredContent as { kind: string }).kind, 'stream-drop');
    } finally {
      await c.close();
    }
  });

  // Finding (SDK client): when a response stream ends without the result and cannot be resumed
  // (2026-07-28; a 2025 stream without event ids; the legacy SSE stream), the call is not failed
  // at once: it stays pending until the request timeout. A correct client fails it when the
  // stream ends. Here the call must at least settle, with the timeout error.
  for (const [kind, args] of [
    ['2026', { kind: 'stream-drop' }],
    ['2025', { kind: 'stream-drop', resumable: false }],
    ['sse', { kind: 'stream-drop' }]
  ] as const) {
    it(`${kind}: an unresumable drop fails the call (the SDK client waits for its request timeout)`, async () => {
      const c = await connect(ts, kind);
      try {
        await assert.rejects(c.client.callTool({ name: 'fault', arguments: args }, { timeout: 1500 }), (err: unknown) => err instanceof SdkError);
      } finally {
        await c.close().catch(() => undefined);
      }
    });
  }

  it('2026-07-28 has no session: session-expired is not injected, and says why', async () => {
    const c = await connect(ts, '2026');
    try {
      const r = (await c.client.callTool({ name: 'fault', arguments: { kind: 'session-expired' } })) as CallToolResult;
      assert.equal(r.isError, true);
      assert.match(texts(r)[0]!, /2026-07-28 requests have no session/);
    } finally {
      await c.close();
    }
  });

  for (const kind of ['2025', 'sse'] as const) {
    it(`${kind}: session-expired answers 404 and the session is gone; a new session works`, async () => {
      const c = await connect(ts, kind);
      try {
        await assert.rejects(c.client.callTool({ name: 'fault', arguments: { kind: 'session-expired' } }), (err: unknown) => httpStatusOf(err) === 404);
        // Finding (SDK client): the spec says a client receiving 404 for its session MUST start a
        // new one; the SDK client keeps the dead session id, so the next call fails too.
        if (kind === '2025') await assert.rejects(c.client.callTool({ name: 'mirror', arguments: {} }), (err: unknown) => httpStatusOf(err) === 404);
        const fresh = await connect(ts, kind);
        assert.equal(((await fresh.client.callTool({ name: 'mirror', arguments: {} })).structuredContent as { era: string }).era, '2025');
        await fresh.close();
      } finally {
        await c.close().catch(() => undefined);
      }
    });
  }
});

describe("faults never touch another user's session", () => {
  it("alice's faults leave bob's concurrent 2025 session, 2026 requests and legacy SSE session working", async () => {
    const bob = { s2025: await connect(ts, '2025', { token: bobToken, name: 'bob-2025' }), s2026: await connect(ts, '2026', { token: bobToken, name: 'bob-2026' }), sse: await connect(ts, 'sse', { token: bobToken, name: 'bob-sse' }) };
    const alice = { s2025: await connect(ts, '2025'), sse: await connect(ts, 'sse') };
    try {
      const bobSession = bob.s2025.transport.sessionId;
      // Bob's calls are in flight while Alice's faults land.
      const inFlight = Object.values(bob).map(b => b.client.callTool({ name: 'fault', arguments: { kind: 'delay', delayMs: 300 } }));
      await Promise.allSettled([
        alice.s2025.client.callTool({ name: 'fault', arguments: { kind: 'http-500' } }),
        alice.s2025.client.callTool({ name: 'fault', arguments: { kind: 'slow-drip', sizeBytes: 32 } }),
        alice.sse.client.callTool({ name: 'fault', arguments: { kind: 'slow-drip', sizeBytes: 32 } }),
        alice.s2025.client.callTool({ name: 'fault', arguments: { kind: 'session-expired' } }),
        alice.sse.client.callTool({ name: 'fault', arguments: { kind: 'session-expired' } })
      ]);
      for (const r of await Promise.all(inFlight)) assert.deepEqual((r as CallToolResult).structuredContent, { kind: 'delay', injected: true, detail: 'Answered after 300 ms.' });
      for (const b of Object.values(bob)) {
        const m = (await b.client.callTool({ name: 'mirror', arguments: {} })).structuredContent as { token: { subject: string } };
        assert.equal(m.token.subject, 'demo-user:bob');
        assert.deepEqual(b.recorder.errors, []);
      }
      assert.equal(bob.s2025.transport.sessionId, bobSession);
    } finally {
      for (const c of [...Object.values(bob), ...Object.values(alice)]) await c.close().catch(() => undefined);
    }
  });
});

describe('faults are rate limited per user', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ env: { CLIENT_TEST_FAULTS_PER_MINUTE: '3' } });
  });
  after(() => app.close());

  const call = (who: string, args: Record<string, unknown>) =>
    fetch(app.mcpUrl, { method: 'POST', headers: modernHeaders('tools/call', 'fault', { authorization: `Bearer test:${who}` }), body: JSON.stringify(modernRequest(1, 'tools/call', { name: 'fault', arguments: args })) });

  it('the fourth fault in a minute is not injected (a tool error says why); other users keep their budget', async () => {
    // The budget is a fixed one-minute window: start well inside one.
    const toBoundary = 60_000 - (Date.now() % 60_000);
    if (toBoundary < 10_000) await new Promise(resolve => setTimeout(resolve, toBoundary + 100));
    for (let i = 0; i < 3; i++) assert.equal((await call('carol', { kind: 'http-500' })).status, 500);
    const refused = await call('carol', { kind: 'http-500' });
    assert.equal(refused.status, 200);
    const result = messagesOf({ headers: refused.headers, body: await refused.text() })[0]!.result;
    assert.equal(result.isError, true);
    assert.match(result.content[0].text, /fault budget \(3 per minute\) is used up/);
    const handlerKind = messagesOf({ headers: new Headers({ 'content-type': 'application/json' }), body: await (await call('carol', { kind: 'tool-error' })).text() })[0]!.result;
    assert.match(handlerKind.content[0].text, /fault budget/);
    const large = await fetch(app.mcpUrl, { method: 'POST', headers: modernHeaders('tools/call', 'largeResult', { authorization: 'Bearer test:carol' }), body: JSON.stringify(modernRequest(1, 'tools/call', { name: 'largeResult', arguments: { sizeBytes: 1024 } })) });
    const largeResult = messagesOf({ headers: large.headers, body: await large.text() })[0]!.result;
    assert.equal(largeResult.isError, true);
    assert.match(largeResult.content[0].text, /largeResult not run: this user's budget/);
    assert.equal((await call('dave', { kind: 'http-500' })).status, 500);
  });

  it('durations are clamped to CLIENT_TEST_MAX_DURATION', async () => {
    const quick = await startMcpApp({ env: { CLIENT_TEST_MAX_DURATION: '0.05' } });
    try {
      const res = await fetch(quick.mcpUrl, { method: 'POST', headers: modernHeaders('tools/call', 'fault', { authorization: 'Bearer test:erin' }), body: JSON.stringify(modernRequest(1, 'tools/call', { name: 'fault', arguments: { kind: 'delay', delayMs: 600_000 } })) });
      assert.equal(messagesOf({ headers: res.headers, body: await res.text() })[0]!.result.structuredContent.detail, 'Answered after 50 ms.');
    } finally {
      await quick.close();
    }
  });
});
