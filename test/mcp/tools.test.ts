/**
 * Catalogue tools whose behaviour is ours (not the SDK's): server-minted
 * counter handles bound to their owner, the identity and admin tools, and
 * the interactive tools in both eras (input_required on 2026-07-28, real
 * server-to-client requests through the SDK legacy shim on 2025).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

import { TOOL_REQUIRED_SCOPES } from '../../src/mcp/features/scopes.js';
import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { postModern } from './helpers/http.js';

const call = (app: McpTestApp, name: string, args: Record<string, unknown>, auth?: string, capabilities?: Record<string, unknown>) =>
  postModern(app.mcpUrl, 'tools/call', { name, arguments: args }, { headers: auth ? { authorization: auth } : {}, capabilities }).then(r => r.messages[0]!);

describe('catalogue tools', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp();
  });
  after(() => app.close());

  it('mints opaque counter handles that only their owner can use', async () => {
    const created = await call(app, 'createCounter', { start: 40, label: 'demo' }, 'Bearer test:alice');
    const { counterId, value } = created.result.structuredContent;
    assert.match(counterId, /^ctr_[A-Za-z0-9_-]{22}$/);
    assert.equal(value, 40);

    assert.equal((await call(app, 'incrementCounter', { counterId }, 'Bearer test:alice')).result.structuredContent.value, 41);
    assert.equal((await call(app, 'incrementCounter', { counterId }, 'Bearer test:alice')).result.structuredContent.value, 42);
    assert.equal((await call(app, 'getCounter', { counterId }, 'Bearer test:alice')).result.structuredContent.value, 42);

    const stolen = await call(app, 'incrementCounter', { counterId }, 'Bearer test:bob');
    assert.equal(stolen.result.isError, true);
    assert.match(stolen.result.content[0].text, /does not exist or has expired/);
    assert.equal((await call(app, 'getCounter', { counterId }, 'Bearer test:alice')).result.structuredContent.value, 42);

    const keys: string[] = [];
    for await (const k of app.store.scan('mcp:counter:*')) keys.push(k);
    assert.ok(keys.length >= 1);
    assert.ok(keys.every(k => !k.includes(counterId)), 'store keys must hold a hash of the handle');
  });

  it('answers an unknown handle with an error that says how to recover', async () => {
    const res = await call(app, 'incrementCounter', { counterId: 'ctr_AAAAAAAAAAAAAAAAAAAAAA' });
    assert.equal(res.result.isError, true);
    assert.equal(res.result.content[0].text, 'Counter ctr_AAAAAAAAAAAAAAAAAAAAAA does not exist or has expired (counters live 24 hours). Call createCounter to make a new one.');
  });

  it('whoami reports the subject and client from the validated token', async () => {
    const me = await call(app, 'whoami', {}, 'Bearer test:alice:mcp mcp:admin');
    assert.deepEqual(me.result.structuredContent, {
      authenticated: true,
      subject: 'alice',
      clientId: 'test-client',
      scopes: ['mcp', 'mcp:admin'],
      expiresAt: me.result.structuredContent.expiresAt,
      upstream: null
    });
    const anon = await call(app, 'whoami', {});
    assert.equal(anon.result.structuredContent.authenticated, false);
    assert.equal(anon.result.structuredContent.subject, null);
  });

  it('adminStats requires mcp:admin (the map the bearer gate reads, and the SDK scope challenge)', async () => {
    assert.deepEqual(TOOL_REQUIRED_SCOPES, { adminStats: ['mcp:admin'] });
    const denied = await postModern(app.mcpUrl, 'tools/call', { name: 'adminStats', arguments: {} }, { headers: { authorization: 'Bearer test:alice:mcp' } });
    assert.equal(denied.status, 403);
    assert.match(denied.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    assert.match(denied.headers.get('www-authenticate') ?? '', /scope="mcp:admin"/);
    const allowed = await call(app, 'adminStats', {}, 'Bearer test:alice:mcp mcp:admin');
    assert.equal(allowed.result.structuredContent.storage, 'memory');
    assert.equal(typeof allowed.result.structuredContent.uptimeSeconds, 'number');
  });

  it('returns input_required for elicitation on 2026-07-28 with every field type', async () => {
    const res = await call(app, 'startElicitation', {}, undefined, { elicitation: { form: {} } });
    assert.equal(res.result.resultType, 'input_required');
    const req = res.result.inputRequests.form;
    assert.equal(req.method, 'elicitation/create');
    const props = req.params.requestedSchema.properties;
    assert.deepEqual(
      Object.fromEntries(Object.entries(props).map(([k, v]: [string, any]) => [k, v.format ?? v.type])),
      { name: 'string', email: 'email', website: 'uri', birthday: 'date', meeting: 'date-time', age: 'integer', rating: 'number', newsletter: 'boolean', color: 'string', size: 'string', toppings: 'array', languages: 'array' }
    );
    const done = await postModern(app.mcpUrl, 'tools/call', { name: 'startElicitation', arguments: {}, inputResponses: { form: { action: 'decline' } } }, { capabilities: { elicitation: { form: {} } } });
    assert.deepEqual(done.messages[0]!.result.content, [{ type: 'text', text: 'User declined the form.' }]);
  });

  it('serves sampling, roots and elicitation to a 2025 client through real server-to-client requests', async () => {
    const client = new Client({ name: 'shim-test', version: '1.0.0' }, { capabilities: { sampling: {}, roots: {}, elicitation: { form: {}, url: {} } } });
    const seen: string[] = [];
    client.setRequestHandler('sampling/createMessage', async req => {
      seen.push(`sampling:${(req.params.messages[0]!.content as { text: string }).text}`);
      return { role: 'assistant', content: { type: 'text', text: 'forty-two' }, model: 'test-model', stopReason: 'endTurn' };
    });
    client.setRequestHandler('roots/list', async () => {
      seen.push('roots');
      return { roots: [{ uri: 'file:///work', name: 'work' }] };
    });
    client.setRequestHandler('elicitation/create', async req => {
      seen.push(`elicit:${req.params.mode ?? 'form'}`);
      return { action: 'accept', content: req.params.mode === 'url' ? undefined : { name: 'Ada', email: 'ada@example.com' } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(app.mcpUrl)));
    try {
      const sample = await client.callTool({ name: 'sampleLLM', arguments: { prompt: 'meaning of life', maxTokens: 10 } });
      assert.deepEqual(sample.content, [{ type: 'text', text: 'LLM sampling result: forty-two' }]);
      const roots = await client.callTool({ name: 'listRoots', arguments: {} });
      assert.deepEqual(roots.content, [{ type: 'text', text: 'The client exposes 1 root(s):\n- work: file:///work' }]);
      const form = await client.callTool({ name: 'startElicitation', arguments: {} });
      assert.deepEqual(form.content, [{ type: 'text', text: 'User provided: {"name":"Ada","email":"ada@example.com"}' }]);
      const url = await client.callTool({ name: 'elicitUrl', arguments: {} });
      assert.deepEqual(url.content, [{ type: 'text', text: 'The user completed the out-of-band step.' }]);
      assert.deepEqual(seen, ['sampling:Resource sampleLLM context: meaning of life', 'roots', 'elicit:form', 'elicit:url']);
    } finally {
      await client.close();
    }
  });
});
