/**
 * What the server pushes: resource-update notifications (2025
 * `resources/subscribe`; 2026-07-28 `subscriptions/listen`), logging
 * (2025 `logging/setLevel` with periodic messages; 2026-07-28 the per-request
 * `_meta` log level), and cache hints on 2026-07-28 results.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { LOG_LEVEL_META_KEY, type CallToolResult } from '@modelcontextprotocol/client';

import { connect, KIND_LABEL, PERIODIC_WAIT_MS, sleep, startTestServer, waitFor, type Connection, type Kind, type TestServer } from '../helpers/mcp-harness.js';

const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
const TOOL_LOGS = ['Tool execution started', 'Tool processing data', 'Tool execution completed'];

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ name: 'notifications' });
});
after(async () => {
  await ts?.close();
});

const SESSION_KINDS: Kind[] = ['2025', 'sse'];

for (const kind of SESSION_KINDS) {
  describe(`resource subscriptions and logging over ${KIND_LABEL[kind]}`, () => {
    let c: Connection;
    before(async () => {
      c = await connect(ts, kind);
    });
    after(async () => {
      await c?.close();
    });

    it('resources/subscribe brings periodic notifications/resources/updated for that URI only; unsubscribe stops them', { timeout: 3 * PERIODIC_WAIT_MS }, async () => {
      const uri = 'test://static/resource/3';
      await c.client.subscribeResource({ uri });
      await waitFor(() => c.recorder.resourceUpdates.includes(uri), PERIODIC_WAIT_MS, `notifications/resources/updated for ${uri}`);
      assert.deepEqual([...new Set(c.recorder.resourceUpdates)], [uri]);
      await c.client.unsubscribeResource({ uri });
      await sleep(100); // an update already in flight
      const count = c.recorder.resourceUpdates.length;
      const other = await connect(ts, kind, { name: `watcher-${kind}` });
      try {
        // Another session's subscription proves the timer still runs while this one hears nothing.
        await other.client.subscribeResource({ uri });
        await waitFor(() => other.recorder.resourceUpdates.length >= 2, 2 * PERIODIC_WAIT_MS, 'updates on the other session');
        assert.equal(c.recorder.resourceUpdates.length, count, 'updates kept arriving after unsubscribe');
      } finally {
        await other.close();
      }
    });

    it('logging/setLevel gates what a tool logs', async () => {
      await c.client.setLoggingLevel('info');
      let from = c.recorder.logs.length;
      assert.deepEqual(texts(await c.client.callTool({ name: 'test_tool_with_logging', arguments: {} })), ['Tool with logging executed successfully']);
      await sleep(50);
      const infos = c.recorder.logs.slice(from).filter(l => TOOL_LOGS.includes(String(l.data)));
      assert.deepEqual(
        infos.map(l => [l.level, l.data]),
        TOOL_LOGS.map(m => ['info', m])
      );
      await c.client.setLoggingLevel('warning');
      from = c.recorder.logs.length;
      await c.client.callTool({ name: 'test_tool_with_logging', arguments: {} });
      await sleep(50);
      assert.deepEqual(
        c.recorder.logs.slice(from).filter(l => TOOL_LOGS.includes(String(l.data))),
        [],
        'info messages below the warning threshold were delivered'
      );
    });

    it('sends periodic log messages that honour the level', { timeout: 5 * PERIODIC_WAIT_MS }, async () => {
      await c.client.setLoggingLevel('debug');
      const from = c.recorder.logs.length;
      const periodic = () => c.recorder.logs.slice(from).filter(l => /^Periodic \w+-level message #\d+$/.test(String(l.data)));
      await waitFor(() => periodic().length >= 1, PERIODIC_WAIT_MS, 'a periodic log message');
      const first = periodic()[0]!;
      assert.equal(first.logger, 'reference-server');
      assert.match(String(first.data), new RegExp(`^Periodic ${first.level}-level message #\\d+$`));
      // Raise the threshold: from now on only notice and above (the messages cycle through the levels,
      // so one at notice or above comes within three periods).
      await c.client.setLoggingLevel('notice');
      await sleep(50);
      const after = c.recorder.logs.length;
      const later = () => c.recorder.logs.slice(after).filter(l => /^Periodic /.test(String(l.data)));
      await waitFor(() => later().length >= 2, 4 * PERIODIC_WAIT_MS, 'two periodic messages at notice level or above');
      for (const l of later()) assert.ok(LEVELS.indexOf(l.level) >= LEVELS.indexOf('notice'), `got a ${l.level} message after setLevel(notice)`);
    });

    it('2025-era results carry no cache hints', async () => {
      const listed = (await c.client.listTools(undefined, { cacheMode: 'bypass' })) as Record<string, unknown>;
      assert.equal(listed.ttlMs, undefined);
      const read = (await c.client.readResource({ uri: 'test://static/resource/1' }, { cacheMode: 'bypass' })) as Record<string, unknown>;
      assert.equal(read.ttlMs, undefined);
    });
  });
}

describe(`subscriptions, logging and caching over ${KIND_LABEL['2026']}`, () => {
  let c: Connection;
  before(async () => {
    c = await connect(ts, '2026');
  });
  after(async () => {
    await c?.close();
  });

  it('subscriptions/listen delivers periodic updates for the followed resource; closing ends them', { timeout: 3 * PERIODIC_WAIT_MS }, async () => {
    const uri = 'test://static/resource/5';
    const sub = await c.client.listen({ resourceSubscriptions: [uri] });
    assert.deepEqual(sub.honoredFilter.resourceSubscriptions, [uri]);
    await waitFor(() => c.recorder.resourceUpdates.includes(uri), PERIODIC_WAIT_MS, `notifications/resources/updated for ${uri} on the listen stream`);
    assert.deepEqual([...new Set(c.recorder.resourceUpdates)], [uri]);
    await sub.close();
    assert.equal(await sub.closed, 'local');
  });

  it('subscriptions/listen honours list-change filters the server advertises', async () => {
    const sub = await c.client.listen({ toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true });
    assert.deepEqual(sub.honoredFilter, { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true });
    await sub.close();
  });

  it('resources/subscribe and logging/setLevel do not exist on 2026-07-28', async () => {
    await assert.rejects(c.client.subscribeResource({ uri: 'test://static/resource/1' }));
    await assert.rejects(c.client.setLoggingLevel('debug'));
  });

  it('a tool logs only when the request carries a log level in _meta, and only at or above it', async () => {
    const run = async (level?: string) => {
      const from = c.recorder.logs.length;
      const result = (await c.client.callTool({
        name: 'test_tool_with_logging',
        arguments: {},
        ...(level ? { _meta: { [LOG_LEVEL_META_KEY]: level } } : {})
      })) as CallToolResult;
      assert.deepEqual(texts(result), ['Tool with logging executed successfully']);
      await sleep(50);
      return c.recorder.logs.slice(from).map(l => [l.level, l.data]);
    };
    assert.deepEqual(await run('debug'), TOOL_LOGS.map(m => ['info', m]));
    assert.deepEqual(await run('info'), TOOL_LOGS.map(m => ['info', m]));
    assert.deepEqual(await run('warning'), []);
    assert.deepEqual(await run(undefined), []);
  });

  it('cacheable results carry cache hints (ttlMs, cacheScope)', async () => {
    const expectHint = (result: Record<string, unknown>, ttlMs: number, scope: string, what: string) => {
      assert.equal(result.ttlMs, ttlMs, `${what}: ttlMs`);
      assert.equal(result.cacheScope, scope, `${what}: cacheScope`);
    };
    expectHint((await c.client.listTools(undefined, { cacheMode: 'refresh' })) as Record<string, unknown>, 300_000, 'public', 'tools/list');
    expectHint((await c.client.listPrompts(undefined, { cacheMode: 'refresh' })) as Record<string, unknown>, 300_000, 'public', 'prompts/list');
    expectHint((await c.client.listResources(undefined, { cacheMode: 'refresh' })) as Record<string, unknown>, 60_000, 'public', 'resources/list');
    expectHint((await c.client.listResourceTemplates(undefined, { cacheMode: 'refresh' })) as Record<string, unknown>, 300_000, 'public', 'resources/templates/list');
    // A per-resource hint wins over the resources/read default.
    expectHint((await c.client.readResource({ uri: 'test://static/resource/2' }, { cacheMode: 'refresh' })) as Record<string, unknown>, 60_000, 'public', 'resources/read (static)');
    expectHint(
      (await c.client.readResource({ uri: 'ui://reference-server/primes-app.html' }, { cacheMode: 'refresh' })) as Record<string, unknown>,
      3_600_000,
      'public',
      'resources/read (app)'
    );
    const discover = await c.client.discover();
    expectHint(discover as unknown as Record<string, unknown>, 300_000, 'public', 'server/discover');
  });

  it('a fresh cached result is served without a round trip', async () => {
    let requests = 0;
    const counting = await connect(ts, '2026', { name: 'cache-counter' });
    try {
      const original = counting.transport.send.bind(counting.transport);
      counting.transport.send = async (message, options) => {
        if ('method' in message && message.method === 'tools/list') requests++;
        return original(message, options);
      };
      await counting.client.listTools();
      await counting.client.listTools();
      assert.equal(requests, 1);
    } finally {
      await counting.close();
    }
  });
});

function texts(result: { content?: unknown }): string[] {
  return ((result.content as Array<{ type: string; text?: string }>) ?? []).filter(b => b.type === 'text').map(b => b.text ?? '');
}
