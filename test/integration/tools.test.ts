/**
 * The tool catalogue, with the SDK v2 client, in each way a client reaches
 * the server: 2025-11-25 (session), 2026-07-28 (stateless) and the legacy
 * HTTP+SSE transport. Every test asserts exact values.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { CallToolResult, Tool } from '@modelcontextprotocol/client';

import { CLIENT_ROOTS, connect, fillForm, KIND_LABEL, KINDS, SAMPLED_TEXT, sleep, startTestServer, texts, type Connection, type TestServer } from '../helpers/mcp-harness.js';

const TINY_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAGUlEQVR4nGMwTjvz/wwDhGSAs4zTkFjoMgCaghmBSZe/9QAAAABJRU5ErkJggg==';

const CATALOGUE = [
  'echo',
  'add',
  'longRunningOperation',
  'sampleLLM',
  'sampleLLMWithTools',
  'getTinyImage',
  'annotatedMessage',
  'getResourceReference',
  'getResourceLinks',
  'startElicitation',
  'elicitUrl',
  'listRoots',
  'structuredContent',
  'getPrimes',
  'createCounter',
  'incrementCounter',
  'getCounter',
  'showPrimesApp',
  'whoami',
  'upstreamProfile',
  'adminStats'
];

const APP_URI = 'ui://reference-server/primes-app.html';

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ name: 'tools' });
});
after(async () => {
  await ts?.close();
});

for (const kind of KINDS) {
  describe(`tools over ${KIND_LABEL[kind]}`, () => {
    let c: Connection;
    let tools: Tool[];
    const call = (name: string, args: Record<string, unknown> = {}) => c.client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

    before(async () => {
      c = await connect(ts, kind);
      tools = (await c.client.listTools()).tools;
    });
    after(async () => {
      await c?.close();
    });

    it('negotiated the expected protocol era', () => {
      assert.equal(c.client.getProtocolEra(), kind === '2026' ? 'modern' : 'legacy');
      assert.equal(c.client.getNegotiatedProtocolVersion(), kind === '2026' ? '2026-07-28' : '2025-11-25');
    });

    it('lists every catalogue tool, each with a title, annotations and (except the app tool) icons', () => {
      const names = tools.map(t => t.name);
      for (const name of CATALOGUE) assert.ok(names.includes(name), `tools/list lacks ${name} (has ${names.join(', ')})`);
      for (const name of CATALOGUE) {
        const tool = tools.find(t => t.name === name)!;
        assert.ok(tool.title, `${name} has no title`);
        assert.ok(tool.annotations, `${name} has no annotations`);
        if (name !== 'showPrimesApp') assert.ok(tool.icons?.length, `${name} has no icons`);
      }
      assert.deepEqual(tools.find(t => t.name === 'echo')!.annotations, { readOnlyHint: true, idempotentHint: true, openWorldHint: false });
    });

    it('labels the deprecated features (sampling, roots) as deprecated', () => {
      for (const [name, feature] of [
        ['sampleLLM', 'sampling'],
        ['sampleLLMWithTools', 'sampling'],
        ['listRoots', 'roots']
      ] as const) {
        const tool = tools.find(t => t.name === name)!;
        assert.match(tool.description ?? '', /Deprecated since MCP 2026-07-28 \(SEP-2577/);
        assert.deepEqual((tool._meta as Record<string, { feature: string; since: string }>)['reference-server/deprecated'], {
          since: '2026-07-28',
          sep: 'SEP-2577',
          feature,
          replacement: feature === 'sampling' ? 'call an LLM provider API directly' : 'pass directories or files as tool arguments or resource URIs'
        });
      }
    });

    it('echo', async () => {
      assert.deepEqual((await call('echo', { message: 'hello, world' })).content, [{ type: 'text', text: 'Echo: hello, world' }]);
    });

    it('add', async () => {
      assert.deepEqual((await call('add', { a: 2.5, b: -7 })).content, [{ type: 'text', text: 'The sum of 2.5 and -7 is -4.5.' }]);
    });

    it('echo with invalid arguments is a tool error, not a crash', async () => {
      const result = await call('echo', { message: 42 });
      assert.equal(result.isError, true);
    });

    it('longRunningOperation reports progress after each step', async () => {
      const updates: Array<{ progress: number; total?: number; message?: string }> = [];
      const errorsBefore = c.recorder.errors.length;
      const result = (await c.client.callTool(
        { name: 'longRunningOperation', arguments: { duration: 0.3, steps: 3 } },
        { onprogress: p => updates.push({ progress: p.progress, total: p.total, message: p.message }) }
      )) as CallToolResult;
      await sleep(20);
      // SDK client quirk (2.4.0): notifications are dispatched a microtask late while responses resolve at once,
      // so a progress notification that arrives in the same chunk as the response (the legacy SSE transport
      // delivers them together) reaches the client after its progress handler is gone and surfaces as an
      // "unknown token" error. The server sent it, in order, before the result: count it from there.
      for (const e of c.recorder.errors.slice(errorsBefore)) {
        const m = /^Received a progress notification for an unknown token: (.*)$/s.exec(e.message);
        if (m) {
          const p = (JSON.parse(m[1]!) as { params: { progress: number; total?: number; message?: string } }).params;
          updates.push({ progress: p.progress, total: p.total, message: p.message });
        }
      }
      assert.deepEqual(updates, [
        { progress: 1, total: 3, message: 'Step 1 of 3' },
        { progress: 2, total: 3, message: 'Step 2 of 3' },
        { progress: 3, total: 3, message: 'Step 3 of 3' }
      ]);
      assert.deepEqual(texts(result), ['Long running operation completed. Duration: 0.3 seconds, Steps: 3.']);
    });

    it('longRunningOperation stops when the request is cancelled', async () => {
      const ac = new AbortController();
      const seen: number[] = [];
      const errorsBefore = c.recorder.errors.length;
      const started = Date.now();
      const pending = c.client.callTool(
        { name: 'longRunningOperation', arguments: { duration: 3, steps: 10 } },
        {
          signal: ac.signal,
          onprogress: p => {
            seen.push(p.progress);
            if (p.progress === 1) ac.abort(new Error('test cancelled the operation'));
          }
        }
      );
      await assert.rejects(pending);
      assert.ok(Date.now() - started < 2000, 'the call did not end promptly on cancellation');
      assert.deepEqual(seen, [1]);
      // Had the server kept going, its later progress notifications (unknown token now) would surface as client errors.
      await sleep(1200);
      const late = c.recorder.errors.slice(errorsBefore).filter(e => /progress notification/.test(e.message));
      assert.deepEqual(late.map(e => e.message), []);
      // The connection still works afterwards.
      assert.deepEqual(texts(await call('echo', { message: 'after cancel' })), ['Echo: after cancel']);
    });

    it('sampleLLM asks the client LLM (sampling) and returns its answer', async () => {
      const before = c.recorder.sampling.length;
      const result = await call('sampleLLM', { prompt: 'What is MCP?', maxTokens: 64 });
      const requests = c.recorder.sampling.slice(before);
      assert.equal(requests.length, 1);
      assert.deepEqual(requests[0]!.messages, [{ role: 'user', content: { type: 'text', text: 'Resource sampleLLM context: What is MCP?' } }]);
      assert.equal(requests[0]!.maxTokens, 64);
      assert.equal(requests[0]!.systemPrompt, 'You are a helpful test server.');
      assert.deepEqual(texts(result), [`LLM sampling result: ${SAMPLED_TEXT('Resource sampleLLM context: What is MCP?')}`]);
    });

    it('sampleLLMWithTools offers the LLM a tool and reports its tool call', async () => {
      const before = c.recorder.sampling.length;
      const result = await call('sampleLLMWithTools', { prompt: 'Weather in Paris?' });
      const requests = c.recorder.sampling.slice(before);
      assert.equal(requests.length, 1);
      assert.deepEqual(
        requests[0]!.tools?.map(t => t.name),
        ['get_weather']
      );
      assert.deepEqual(requests[0]!.toolChoice, { mode: 'auto' });
      assert.deepEqual(texts(result), ['LLM sampling with tools result (stopReason=toolUse): [tool_use get_weather({"city":"Paris"})]']);
    });

    it('getTinyImage returns a PNG between two texts', async () => {
      const result = await call('getTinyImage');
      assert.deepEqual(result.content, [
        { type: 'text', text: 'This is a tiny image:' },
        { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' },
        { type: 'text', text: 'The image above is the MCP reference server tiny image.' }
      ]);
      assert.equal(Buffer.from(TINY_PNG_BASE64, 'base64').subarray(1, 4).toString(), 'PNG');
    });

    it('annotatedMessage carries audience and priority annotations', async () => {
      assert.deepEqual((await call('annotatedMessage', { messageType: 'error' })).content, [
        { type: 'text', text: 'Error: Operation failed', annotations: { priority: 1, audience: ['user', 'assistant'] } }
      ]);
      assert.deepEqual((await call('annotatedMessage', { messageType: 'debug', includeImage: true })).content, [
        { type: 'text', text: 'Debug: Cache hit ratio 0.95, latency 150ms', annotations: { priority: 0.3, audience: ['assistant'] } },
        { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png', annotations: { priority: 0.5, audience: ['user'] } }
      ]);
    });

    it('getResourceReference embeds the resource', async () => {
      const result = await call('getResourceReference', { resourceId: 7 });
      assert.deepEqual(result.content, [
        { type: 'text', text: 'Returning resource reference for Resource 7:' },
        { type: 'resource', resource: { uri: 'test://static/resource/7', mimeType: 'text/plain', text: 'Resource 7: This is a plaintext resource' } },
        { type: 'text', text: 'You can access this resource using the URI: test://static/resource/7' }
      ]);
      const blob = await call('getResourceReference', { resourceId: 8 });
      assert.deepEqual((blob.content as Array<{ resource?: unknown }>)[1]!.resource, {
        uri: 'test://static/resource/8',
        mimeType: 'application/octet-stream',
        blob: Buffer.from('Resource 8: This is a base64 blob').toString('base64')
      });
    });

    it('getResourceLinks returns resource_link blocks', async () => {
      const result = await call('getResourceLinks', { count: 2 });
      assert.deepEqual(result.content, [
        { type: 'text', text: 'Here are 2 resource links to resources available in this server:' },
        { type: 'resource_link', uri: 'test://static/resource/1', name: 'Resource 1', description: 'Resource 1: plaintext resource', mimeType: 'text/plain' },
        { type: 'resource_link', uri: 'test://static/resource/2', name: 'Resource 2', description: 'Resource 2: binary blob resource', mimeType: 'application/octet-stream' }
      ]);
    });

    it('startElicitation asks for a form with every field type and returns what the user entered', async () => {
      const before = c.recorder.elicitations.length;
      const result = await call('startElicitation');
      const requests = c.recorder.elicitations.slice(before);
      assert.equal(requests.length, 1);
      const req = requests[0]! as { mode?: string; message: string; requestedSchema: { properties: Record<string, Record<string, unknown>>; required?: string[] } };
      assert.notEqual(req.mode, 'url');
      const props = req.requestedSchema.properties;
      const kinds = Object.values(props).map(p =>
        p.type === 'string'
          ? p.enum
            ? 'enum'
            : p.oneOf
              ? 'titled-enum'
              : `string:${(p.format as string | undefined) ?? 'plain'}`
          : p.type === 'array'
            ? (p.items as { enum?: unknown }).enum
              ? 'multi-enum'
              : 'titled-multi-enum'
            : String(p.type)
      );
      assert.deepEqual(new Set(kinds), new Set(['string:plain', 'string:email', 'string:uri', 'string:date', 'string:date-time', 'integer', 'number', 'boolean', 'enum', 'titled-enum', 'multi-enum', 'titled-multi-enum']));
      assert.deepEqual(req.requestedSchema.required, ['name', 'email']);
      const entered = fillForm(req.requestedSchema);
      assert.deepEqual(texts(result), [`User provided: ${JSON.stringify(entered)}`]);
    });

    it('startElicitation reports a declined form', async () => {
      const declining = await connect(ts, kind, { elicitAction: 'decline', name: `decliner-${kind}` });
      try {
        assert.deepEqual(texts(await declining.client.callTool({ name: 'startElicitation', arguments: {} })), ['User declined the form.']);
        assert.equal(declining.recorder.elicitations.length, 1);
      } finally {
        await declining.close();
      }
    });

    it('elicitUrl asks the client to open a URL (URL-mode elicitation)', async () => {
      const before = c.recorder.elicitations.length;
      const result = await call('elicitUrl', { url: 'https://example.com/connect' });
      const requests = c.recorder.elicitations.slice(before) as Array<{ mode?: string; url?: string; message: string; elicitationId?: string }>;
      assert.equal(requests.length, 1);
      assert.equal(requests[0]!.mode, 'url');
      assert.equal(requests[0]!.url, 'https://example.com/connect');
      assert.equal(requests[0]!.message, 'Please open this page to continue (demo of URL-mode elicitation).');
      // 2025-11-25 URL elicitations carry an elicitationId; 2026-07-28 removed it (the request is embedded in input_required).
      if (kind === '2026') assert.equal(requests[0]!.elicitationId, undefined);
      else assert.match(requests[0]!.elicitationId ?? '', /.+/, 'a 2025 URL elicitation carries an elicitationId');
      assert.deepEqual(texts(result), ['The user completed the out-of-band step.']);
    });

    it('listRoots asks the client for its roots', async () => {
      const before = c.recorder.rootsRequests;
      const result = await call('listRoots');
      assert.equal(c.recorder.rootsRequests - before, 1);
      assert.deepEqual(texts(result), [`The client exposes 2 root(s):\n${CLIENT_ROOTS.map(r => `- ${r.name}: ${r.uri}`).join('\n')}`]);
    });

    it('structuredContent returns an object matching its outputSchema', async () => {
      const tool = tools.find(t => t.name === 'structuredContent')!;
      assert.equal(tool.outputSchema?.type, 'object');
      assert.deepEqual(Object.keys((tool.outputSchema as { properties: object }).properties).sort(), ['conditions', 'humidity', 'location', 'temperature']);
      const result = await call('structuredContent', { location: 'Paris' });
      const expected = { location: 'Paris', temperature: 15.3, conditions: 'Light rain', humidity: 33 };
      assert.deepEqual(result.structuredContent, expected);
      assert.deepEqual(texts(result), [JSON.stringify(expected)]);
    });

    it('getPrimes: a non-object structured result (array on 2026-07-28, wrapped on 2025)', async () => {
      const tool = tools.find(t => t.name === 'getPrimes')!;
      const result = await call('getPrimes', { count: 5 });
      if (kind === '2026') {
        assert.equal(tool.outputSchema?.type, 'array');
        assert.deepEqual(result.structuredContent, [2, 3, 5, 7, 11]);
        assert.deepEqual(texts(result), ['[2,3,5,7,11]']);
      } else {
        assert.equal(tool.outputSchema?.type, 'object');
        assert.deepEqual(result.structuredContent, { primes: [2, 3, 5, 7, 11] });
        assert.deepEqual(texts(result), ['{"primes":[2,3,5,7,11]}']);
      }
    });

    it('createCounter / incrementCounter / getCounter: state behind a server-minted handle (SEP-2567)', async () => {
      const created = await call('createCounter', { start: 5, label: kind });
      const { counterId, value } = created.structuredContent as { counterId: string; value: number };
      assert.match(counterId, /^ctr_[A-Za-z0-9_-]{22}$/);
      assert.equal(value, 5);
      assert.deepEqual((await call('incrementCounter', { counterId })).structuredContent, { counterId, value: 6, label: kind });
      assert.deepEqual((await call('incrementCounter', { counterId })).structuredContent, { counterId, value: 7, label: kind });
      assert.deepEqual((await call('getCounter', { counterId })).structuredContent, { counterId, value: 7, label: kind });
      const unknown = await call('incrementCounter', { counterId: 'ctr_AAAAAAAAAAAAAAAAAAAAAA' });
      assert.equal(unknown.isError, true);
      assert.deepEqual(texts(unknown), [
        'Counter ctr_AAAAAAAAAAAAAAAAAAAAAA does not exist or has expired (counters live 24 hours). Call createCounter to make a new one.'
      ]);
    });

    it('showPrimesApp points at its ui:// resource (MCP Apps) and the resource is the app page', async () => {
      const tool = tools.find(t => t.name === 'showPrimesApp')!;
      const meta = tool._meta as { ui?: { resourceUri?: string } } | undefined;
      assert.equal(meta?.ui?.resourceUri, APP_URI);
      const { contents } = await c.client.readResource({ uri: APP_URI });
      assert.equal(contents.length, 1);
      assert.equal(contents[0]!.uri, APP_URI);
      assert.equal(contents[0]!.mimeType, 'text/html;profile=mcp-app');
      assert.match((contents[0] as { text: string }).text, /^<!doctype html>/);
      assert.match((contents[0] as { text: string }).text, /ui\/initialize/);
      const result = await call('showPrimesApp', { count: 4 });
      assert.deepEqual(texts(result), ['The first 4 primes: 2, 3, 5, 7']);
      assert.deepEqual(result.structuredContent, { primes: [2, 3, 5, 7] });
    });

    it('whoami returns the caller identified by the OAuth token', async () => {
      const result = await call('whoami');
      const who = result.structuredContent as { authenticated: boolean; subject: string | null; clientId: string | null; scopes: string[]; expiresAt: number | null };
      assert.equal(ts.authOn, true, 'authorization must be on for the integration tests');
      assert.equal(who.authenticated, true);
      assert.equal(who.clientId, ts.oauthClientId);
      assert.deepEqual([...who.scopes].sort(), ['mcp', 'mcp:admin']);
      assert.ok(who.subject && who.subject.length > 0);
      assert.ok(who.expiresAt! > Date.now() / 1000);
      assert.deepEqual(texts(result), [`You are ${who.subject} via client ${ts.oauthClientId}.`]);
    });

    it('adminStats answers a token with the mcp:admin scope', async () => {
      const result = await call('adminStats');
      assert.notEqual(result.isError, true);
      const stats = result.structuredContent as { storage: string; uptimeSeconds: number };
      assert.equal(stats.storage, 'memory');
      assert.ok(stats.uptimeSeconds >= 0);
    });
  });
}
