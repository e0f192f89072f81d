/**
 * The per-caller dynamic catalogue, with the SDK v2 client in every era:
 * items appear and disappear for the caller only, with real list changes
 * (list_changed on 2025 sessions and legacy SSE, on subscriptions/listen for
 * 2026-07-28), from any session of the user to all of them; a generated
 * catalogue of 1,000 tools and prompts is paginated; roots/list_changed is
 * answered with roots/list.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { CallToolResult } from '@modelcontextprotocol/client';

import { LIST_PAGE_SIZE } from '../../src/mcp/client-testing/dynamic-catalogue.js';
import { CLIENT_ROOTS, connect, KIND_LABEL, KINDS, startTestServer, texts, waitFor, type Connection, type TestServer } from '../helpers/mcp-harness.js';
import { obtainTokens } from '../helpers/oauth.js';
import { LEGACY, messagesOf, modernHeaders, modernRequest, openLegacySession } from '../mcp/helpers/http.js';

let ts: TestServer;
let tokens: Record<string, string>;
before(async () => {
  ts = await startTestServer({ name: 'client-testing-dynamic' });
  tokens = {};
  for (const who of ['carol', 'dave', 'erin', 'bob']) tokens[who] = (await obtainTokens(ts.baseUrl, { scope: 'mcp', identity: who, clientName: `${who} client` })).accessToken;
});
after(async () => {
  await ts?.close();
});

const LISTS = ['tools', 'prompts', 'resources'] as const;

/** Records the list_changed notifications a connection receives. */
function watch(c: Connection): string[] {
  const seen: string[] = [];
  for (const list of LISTS) c.client.setNotificationHandler(`notifications/${list}/list_changed`, async () => void seen.push(list));
  return seen;
}

for (const kind of KINDS) {
  describe(`dynamic catalogue over ${KIND_LABEL[kind]}`, () => {
    const user = { '2025': 'carol', '2026': 'dave', sse: 'erin' }[kind];
    let me: Connection;
    let mine: string[];
    let other: Connection;
    let theirs: string[];
    let listen: { close(): Promise<unknown> } | undefined;
    // Bob, on a 2025 session and on a 2026-07-28 listen stream, must hear none of it.
    let otherModern: Connection;
    let theirsModern: string[];
    let otherListen: { close(): Promise<unknown> };
    const everything = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true };
    before(async () => {
      me = await connect(ts, kind, { token: tokens[user], name: `${user}-${kind}` });
      other = await connect(ts, '2025', { token: tokens['bob'], name: `bob-${kind}` });
      otherModern = await connect(ts, '2026', { token: tokens['bob'], name: `bob-listen-${kind}` });
      mine = watch(me);
      theirs = watch(other);
      theirsModern = watch(otherModern);
      otherListen = await otherModern.client.listen(everything);
      if (kind === '2026') listen = await me.client.listen(everything);
    });
    after(async () => {
      await me.client.callTool({ name: 'catalogueChange', arguments: { action: 'reset' } }).catch(() => undefined);
      await listen?.close();
      await otherListen?.close();
      await me?.close();
      await other?.close();
      await otherModern?.close();
    });

    it('an added tool, prompt and resource appear for the caller only, announced to the caller only', async () => {
      await me.client.listTools(); // fill the client's list cache: list_changed must invalidate it
      for (const [k, name] of [['tool', 'alpha'], ['prompt', 'beta'], ['resource', 'gamma']] as const) {
        await me.client.callTool({ name: 'catalogueChange', arguments: { action: 'add', kind: k, name } });
      }
      await waitFor(() => LISTS.every(l => mine.includes(l)), 5000, 'list_changed for tools, prompts and resources');
      assert.ok((await me.client.listTools()).tools.some(t => t.name === 'dynamic_alpha'), 'the client re-listed after list_changed');
      assert.ok((await me.client.listPrompts()).prompts.some(p => p.name === 'dynamic_beta'));
      const resources = (await me.client.listResources()).resources;
      assert.equal(resources[0]!.uri, 'bench://dynamic/gamma');
      assert.deepEqual(texts((await me.client.callTool({ name: 'dynamic_alpha', arguments: {} })) as CallToolResult), ['dynamic_alpha called']);
      assert.equal(((await me.client.getPrompt({ name: 'dynamic_beta' })).messages[0]!.content as { text: string }).text, 'dynamic_beta prompt');
      assert.equal(((await me.client.readResource({ uri: 'bench://dynamic/gamma' })).contents[0] as { text: string }).text, 'bench://dynamic/gamma contents');

      // Bob sees none of it and heard nothing.
      assert.equal((await other.client.listTools(undefined, { cacheMode: 'bypass' })).tools.some(t => t.name.startsWith('dynamic_')), false);
      assert.equal((await other.client.listResources()).resources.some(r => r.uri.startsWith('bench://dynamic/')), false);
      assert.deepEqual(theirs, []);
      assert.deepEqual(theirsModern, []);
    });

    it('a removed tool disappears, with a list change; calling it is an error', async () => {
      const from = mine.length;
      await me.client.callTool({ name: 'catalogueChange', arguments: { action: 'remove', kind: 'tool', name: 'alpha' } });
      await waitFor(() => mine.slice(from).includes('tools'), 5000, 'tools/list_changed');
      assert.equal((await me.client.listTools()).tools.some(t => t.name === 'dynamic_alpha'), false);
      const r = (await me.client.callTool({ name: 'dynamic_alpha', arguments: {} }).catch((err: Error) => ({ isError: true, content: [{ type: 'text', text: err.message }] }))) as CallToolResult;
      assert.equal(r.isError, true);
    });

    it("another session of the same user hears the change and sees the user's catalogue", async () => {
      const second = await connect(ts, kind === '2026' ? '2025' : kind, { token: tokens[user], name: `${user}-second` });
      try {
        const heard = watch(second);
        await me.client.callTool({ name: 'catalogueChange', arguments: { action: 'add', kind: 'tool', name: 'delta' } });
        await waitFor(() => heard.includes('tools'), 5000, 'tools/list_changed on the second session');
        assert.ok((await second.client.listTools()).tools.some(t => t.name === 'dynamic_delta'));
      } finally {
        await second.close();
      }
    });

    it('a generated catalogue of 1,000 tools and prompts: the client follows nextCursor through every page', async () => {
      const from = mine.length;
      await me.client.callTool({ name: 'catalogueChange', arguments: { action: 'generate', count: 1000 } });
      await waitFor(() => mine.slice(from).includes('tools') && mine.slice(from).includes('prompts'), 5000, 'list_changed for the generated catalogue');
      const tools = (await me.client.listTools()).tools.map(t => t.name);
      assert.equal(tools.filter(n => n.startsWith('generated_')).length, 1000);
      assert.equal(new Set(tools).size, tools.length);
      assert.equal((await me.client.listPrompts()).prompts.filter(p => p.name.startsWith('generated_')).length, 1000);
      assert.deepEqual(texts((await me.client.callTool({ name: 'generated_0777', arguments: {} })) as CallToolResult), ['generated_0777 called']);
      await me.client.callTool({ name: 'catalogueChange', arguments: { action: 'generate', count: 0 } });
    });
  });
}

describe('pagination and cache scope on the wire', () => {
  it('2026-07-28 and 2025: pages of 100 with an opaque cursor; lists are private while the caller has a catalogue; a bad cursor is -32602', async () => {
    const token = (await obtainTokens(ts.baseUrl, { scope: 'mcp', identity: 'frank', clientName: 'frank' })).accessToken;
    const bearer = `Bearer ${token}`;
    const change = (args: Record<string, unknown>) =>
      fetch(ts.mcpUrl, { method: 'POST', headers: modernHeaders('tools/call', 'catalogueChange', { authorization: bearer }), body: JSON.stringify(modernRequest(1, 'tools/call', { name: 'catalogueChange', arguments: args })) }).then(r => r.text());
    const modernList = async (cursor?: string) => {
      const res = await fetch(ts.mcpUrl, { method: 'POST', headers: modernHeaders('tools/list', undefined, { authorization: bearer }), body: JSON.stringify(modernRequest(1, 'tools/list', cursor ? { cursor } : {})) });
      return messagesOf({ headers: res.headers, body: await res.text() })[0]!;
    };
    const before = (await modernList()).result;
    assert.equal(before.nextCursor, undefined);
    assert.equal(before.cacheScope, 'public');
    await change({ action: 'generate', count: 250 });
    try {
      const names: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = (await modernList(cursor)).result;
        assert.ok(page.tools.length <= LIST_PAGE_SIZE);
        assert.equal(page.cacheScope, 'private');
        names.push(...page.tools.map((t: { name: string }) => t.name));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      assert.equal(names.filter(n => n.startsWith('generated_')).length, 250);
      assert.equal(pages, Math.ceil(names.length / LIST_PAGE_SIZE));
      assert.equal((await modernList('bm90LWEtY3Vyc29y')).error.code, -32602);

      const session = await openLegacySession(ts.mcpUrl, bearer);
      const first = (await session.post({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, { 'mcp-protocol-version': LEGACY })).messages.find(m => m.id === 2)!.result;
      assert.equal(first.tools.length, LIST_PAGE_SIZE);
      assert.ok(first.nextCursor);
    } finally {
      await change({ action: 'reset' });
    }
  });
});

describe('roots/list_changed', () => {
  for (const kind of ['2025', 'sse'] as const) {
    it(`${kind}: the server asks for roots/list again, and mirror shows what it got`, async () => {
      const c = await connect(ts, kind);
      try {
        const asked = c.recorder.rootsRequests;
        await c.client.sendRootsListChanged();
        await waitFor(() => c.recorder.rootsRequests > asked, 5000, 'roots/list after list_changed');
        const roots = ((await c.client.callTool({ name: 'mirror', arguments: {} })).structuredContent as { roots: { changes: number; roots: unknown[] } }).roots;
        assert.equal(roots.changes, 1);
        assert.deepEqual(roots.roots, CLIENT_ROOTS);
      } finally {
        await c.close();
      }
    });
  }
});
