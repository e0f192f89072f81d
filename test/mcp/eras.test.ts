/**
 * One /mcp endpoint, two eras: 2026-07-28 requests (per-request `_meta`
 * envelope) are served statelessly with cache hints and the 2026 error
 * codes; 2025 requests get sessions. Features written once answer both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { openLegacySession, postModern } from './helpers/http.js';

describe('era routing on /mcp', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp();
  });
  after(() => app.close());

  it('answers server/discover for 2026-07-28 without a session', async () => {
    const res = await postModern(app.mcpUrl, 'server/discover');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('mcp-session-id'), null);
    const result = res.messages[0]!.result;
    assert.ok(result.supportedVersions.includes('2026-07-28'), JSON.stringify(result));
    assert.equal(result._meta['io.modelcontextprotocol/serverInfo'].name, 'mcp-feature-reference-server');
  });

  it('stamps the full identity on server/discover and name and version on every other 2026-07-28 result', async () => {
    const discover = (await postModern(app.mcpUrl, 'server/discover')).messages[0]!.result._meta['io.modelcontextprotocol/serverInfo'];
    assert.equal(discover.title, 'MCP Feature Reference Server');
    assert.ok(discover.icons.length > 0, 'icons on server/discover');
    for (const [method, params] of [
      ['tools/call', { name: 'echo', arguments: { message: 'hi' } }],
      ['tools/list', {}],
      ['resources/read', { uri: 'test://static/resource/1' }]
    ] as const) {
      const stamp = (await postModern(app.mcpUrl, method, params)).messages[0]!.result._meta['io.modelcontextprotocol/serverInfo'];
      assert.deepEqual(stamp, { name: 'mcp-feature-reference-server', version: discover.version }, method);
    }
  });

  it('serves the same tool to both eras', async () => {
    const modern = await postModern(app.mcpUrl, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } });
    assert.equal(modern.status, 200);
    assert.deepEqual(modern.messages[0]!.result.content, [{ type: 'text', text: 'The sum of 2 and 3 is 5.' }]);
    assert.equal(modern.messages[0]!.result.resultType, 'complete');

    const s = await openLegacySession(app.mcpUrl);
    const legacy = await s.post({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } });
    assert.deepEqual(legacy.messages[0]!.result.content, [{ type: 'text', text: 'The sum of 2 and 3 is 5.' }]);
    assert.equal(legacy.messages[0]!.result.resultType, undefined);
  });

  it('gives non-object structured output as an array on 2026-07-28 and wrapped on 2025', async () => {
    const modern = await postModern(app.mcpUrl, 'tools/call', { name: 'getPrimes', arguments: { count: 5 } });
    assert.deepEqual(modern.messages[0]!.result.structuredContent, [2, 3, 5, 7, 11]);
    const s = await openLegacySession(app.mcpUrl);
    const legacy = await s.post({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'getPrimes', arguments: { count: 5 } } });
    assert.deepEqual(legacy.messages[0]!.result.structuredContent, { primes: [2, 3, 5, 7, 11] });
    const list = await s.post({ jsonrpc: '2.0', id: 6, method: 'tools/list' });
    const tool = list.messages[0]!.result.tools.find((t: { name: string }) => t.name === 'getPrimes');
    assert.equal(tool.outputSchema.type, 'object');
  });

  it('puts cache hints on cacheable 2026 results only', async () => {
    const modern = await postModern(app.mcpUrl, 'tools/list');
    assert.equal(modern.messages[0]!.result.ttlMs, 300_000);
    assert.equal(modern.messages[0]!.result.cacheScope, 'public');
    const read = await postModern(app.mcpUrl, 'resources/read', { uri: 'test://static/resource/1' });
    assert.equal(read.messages[0]!.result.ttlMs, 60_000);
    assert.deepEqual(read.messages[0]!.result.contents, [{ uri: 'test://static/resource/1', mimeType: 'text/plain', text: 'Resource 1: This is a plaintext resource' }]);
    const s = await openLegacySession(app.mcpUrl);
    const legacy = await s.post({ jsonrpc: '2.0', id: 9, method: 'tools/list' });
    assert.equal('ttlMs' in legacy.messages[0]!.result, false);
  });

  it('answers an unknown resource with -32602 on 2026-07-28', async () => {
    const res = await postModern(app.mcpUrl, 'resources/read', { uri: 'test://static/resource/101' });
    assert.equal(res.messages[0]!.error.code, -32602);
    assert.equal(res.messages[0]!.error.data.uri, 'test://static/resource/101');
  });

  it('answers an unknown method with -32601 and HTTP 404 (2026-07-28)', async () => {
    const res = await postModern(app.mcpUrl, 'nope/nothing');
    assert.equal(res.status, 404);
    assert.equal(res.messages[0]!.error.code, -32601);
  });

  it('answers bad tool arguments with a JSON-RPC error or isError, never a crash', async () => {
    const res = await postModern(app.mcpUrl, 'tools/call', { name: 'add', arguments: { a: 'x' } });
    assert.equal(res.status, 200);
    const msg = res.messages[0]!;
    assert.ok(msg.error?.code === -32602 || msg.result?.isError === true, JSON.stringify(msg));
  });

  it('rejects a 2026 request whose Mcp-Method header disagrees with the body (-32020, HTTP 400)', async () => {
    const res = await postModern(app.mcpUrl, 'tools/list', {}, { headers: { 'mcp-method': 'prompts/list' } });
    assert.equal(res.status, 400);
    assert.equal(res.messages[0]!.error.code, -32020);
  });

  it('pages resources 10 at a time through all 108 entries (4 fixed, the bench icon resource, 3 skill manifests, 100 static)', async () => {
    const uris: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await postModern(app.mcpUrl, 'resources/list', cursor ? { cursor } : {});
      const result = res.messages[0]!.result;
      assert.ok(result.resources.length <= 10);
      uris.push(...result.resources.map((r: { uri: string }) => r.uri));
      cursor = result.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    assert.equal(pages, 11);
    assert.equal(uris.length, 108);
    assert.equal(new Set(uris).size, 108);
    assert.equal(uris.filter(u => u.startsWith('skill://')).length, 3);
    assert.ok(uris.includes('bench://icons'));
    assert.equal(uris.at(-1), 'test://static/resource/100');
  });

  it('answers an invalid cursor with -32602', async () => {
    const res = await postModern(app.mcpUrl, 'resources/list', { cursor: 'not-a-cursor' });
    assert.equal(res.messages[0]!.error.code, -32602);
  });

  it('completes resource template ids and prompt arguments', async () => {
    const ids = await postModern(app.mcpUrl, 'completion/complete', {
      ref: { type: 'ref/resource', uri: 'test://static/resource/{id}' },
      argument: { name: 'id', value: '9' }
    });
    assert.deepEqual(ids.messages[0]!.result.completion.values, ['9', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99']);
    const style = await postModern(app.mcpUrl, 'completion/complete', { ref: { type: 'ref/prompt', name: 'complex_prompt' }, argument: { name: 'style', value: 'f' } });
    assert.deepEqual(style.messages[0]!.result.completion.values, ['formal', 'friendly']);
  });
});
