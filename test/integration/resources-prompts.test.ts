/**
 * Resources (paging, reading, templates, completion, not-found) and prompts
 * (simple, with arguments and completion, with an embedded resource), in each
 * way a client reaches the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ProtocolError, type Resource } from '@modelcontextprotocol/client';

import { connect, KIND_LABEL, KINDS, startTestServer, type Connection, type TestServer } from '../helpers/mcp-harness.js';
import { TINY_PNG_BASE64 } from '../../src/mcp/features/content.js';

const STATIC_IDS = Array.from({ length: 100 }, (_, i) => i + 1);

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ name: 'resources-prompts' });
});
after(async () => {
  await ts?.close();
});

for (const kind of KINDS) {
  describe(`resources and prompts over ${KIND_LABEL[kind]}`, () => {
    let c: Connection;
    before(async () => {
      c = await connect(ts, kind);
    });
    after(async () => {
      await c?.close();
    });

    it('advertises resources (subscribe, listChanged), prompts and completions', () => {
      const caps = c.client.getServerCapabilities()!;
      assert.deepEqual(caps.resources, { subscribe: true, listChanged: true });
      assert.ok(caps.prompts);
      assert.ok(caps.completions);
    });

    it('resources/list pages 10 at a time through every page, ending with the 100 static resources', async () => {
      const pages: Resource[][] = [];
      let cursor: string | undefined;
      do {
        // client.listResources() without a cursor walks every page itself; ask for raw pages instead.
        const page = (await c.client.request({ method: 'resources/list', params: cursor === undefined ? {} : { cursor } })) as { resources: Resource[]; nextCursor?: string };
        pages.push(page.resources);
        cursor = page.nextCursor;
        assert.ok(pages.length <= 20, 'pagination does not terminate');
      } while (cursor !== undefined);
      const all = pages.flat();
      for (const [i, page] of pages.entries()) {
        if (i < pages.length - 1) assert.equal(page.length, 10, `page ${i + 1} has ${page.length} resources`);
        else assert.ok(page.length >= 1 && page.length <= 10);
      }
      assert.equal(pages.length, Math.ceil(all.length / 10));
      const statics = all.filter(r => r.uri.startsWith('test://static/resource/'));
      assert.deepEqual(
        statics.map(r => r.uri),
        STATIC_IDS.map(id => `test://static/resource/${id}`)
      );
      assert.deepEqual(statics[0], {
        uri: 'test://static/resource/1',
        name: 'Resource 1',
        title: 'Static resource 1',
        description: 'A plaintext resource',
        mimeType: 'text/plain'
      });
      assert.equal(statics[1]!.mimeType, 'application/octet-stream');
      assert.equal(new Set(all.map(r => r.uri)).size, all.length, 'a resource appears on two pages');
      assert.ok(all.some(r => r.uri === 'ui://reference-server/primes-app.html'));
      // The SDK's aggregate walk sees the same list.
      assert.deepEqual((await c.client.listResources()).resources.map(r => r.uri), all.map(r => r.uri));
    });

    it('an invalid cursor is -32602', async () => {
      await assert.rejects(c.client.listResources({ cursor: 'not-a-cursor' }), (err: unknown) => err instanceof ProtocolError && err.code === -32602);
    });

    it('reads a text and a binary static resource', async () => {
      assert.deepEqual((await c.client.readResource({ uri: 'test://static/resource/1' })).contents, [
        { uri: 'test://static/resource/1', mimeType: 'text/plain', text: 'Resource 1: This is a plaintext resource' }
      ]);
      assert.deepEqual((await c.client.readResource({ uri: 'test://static/resource/100' })).contents, [
        { uri: 'test://static/resource/100', mimeType: 'application/octet-stream', blob: Buffer.from('Resource 100: This is a base64 blob').toString('base64') }
      ]);
    });

    it('an unknown resource is -32602', async () => {
      for (const uri of ['test://static/resource/101', 'test://static/resource/0', 'test://nowhere/1']) {
        await assert.rejects(c.client.readResource({ uri }), (err: unknown) => err instanceof ProtocolError && err.code === -32602, uri);
      }
    });

    it('lists the resource template and completes its argument', async () => {
      const { resourceTemplates } = await c.client.listResourceTemplates();
      const template = resourceTemplates.find(t => t.uriTemplate === 'test://static/resource/{id}');
      assert.ok(template, `templates: ${resourceTemplates.map(t => t.uriTemplate).join(', ')}`);
      assert.equal(template.name, 'static-resource');
      const { completion } = await c.client.complete({ ref: { type: 'ref/resource', uri: 'test://static/resource/{id}' }, argument: { name: 'id', value: '9' } });
      assert.deepEqual(completion.values, ['9', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99']);
      const one = await c.client.complete({ ref: { type: 'ref/resource', uri: 'test://static/resource/{id}' }, argument: { name: 'id', value: '1' } });
      assert.deepEqual(one.completion.values, ['1', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '100']);
    });

    it('lists the three catalogue prompts', async () => {
      const { prompts } = await c.client.listPrompts();
      const byName = new Map(prompts.map(p => [p.name, p]));
      assert.ok(byName.has('simple_prompt') && byName.has('complex_prompt') && byName.has('resource_prompt'), [...byName.keys()].join(', '));
      assert.deepEqual(byName.get('simple_prompt')!.arguments ?? [], []);
      assert.deepEqual(
        byName.get('complex_prompt')!.arguments!.map(a => [a.name, a.required ?? false]),
        [
          ['temperature', true],
          ['style', false]
        ]
      );
      assert.deepEqual(byName.get('resource_prompt')!.arguments!.map(a => a.name), ['resourceId']);
    });

    it('simple_prompt', async () => {
      assert.deepEqual((await c.client.getPrompt({ name: 'simple_prompt' })).messages, [
        { role: 'user', content: { type: 'text', text: 'This is a simple prompt without arguments.' } }
      ]);
    });

    it('complex_prompt with arguments', async () => {
      assert.deepEqual((await c.client.getPrompt({ name: 'complex_prompt', arguments: { temperature: '0.7', style: 'formal' } })).messages, [
        { role: 'user', content: { type: 'text', text: 'This is a complex prompt with arguments: temperature=0.7, style=formal' } },
        {
          role: 'assistant',
          content: { type: 'text', text: 'I understand. You have provided a complex prompt with temperature and style arguments. How would you like me to proceed?' }
        },
        { role: 'user', content: { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' } }
      ]);
    });

    it('complex_prompt without its required argument is -32602', async () => {
      await assert.rejects(c.client.getPrompt({ name: 'complex_prompt', arguments: {} }), (err: unknown) => err instanceof ProtocolError && err.code === -32602);
    });

    it('completes complex_prompt arguments', async () => {
      const ref = { type: 'ref/prompt' as const, name: 'complex_prompt' };
      assert.deepEqual((await c.client.complete({ ref, argument: { name: 'temperature', value: '0' } })).completion.values, ['0', '0.3', '0.5', '0.7']);
      assert.deepEqual((await c.client.complete({ ref, argument: { name: 'style', value: 'F' } })).completion.values, ['formal', 'friendly']);
      assert.deepEqual((await c.client.complete({ ref, argument: { name: 'style', value: 'x' } })).completion.values, []);
    });

    it('resource_prompt embeds the resource', async () => {
      assert.deepEqual((await c.client.getPrompt({ name: 'resource_prompt', arguments: { resourceId: '3' } })).messages, [
        { role: 'user', content: { type: 'text', text: 'This prompt includes Resource 3. Please analyze the following resource:' } },
        { role: 'user', content: { type: 'resource', resource: { uri: 'test://static/resource/3', mimeType: 'text/plain', text: 'Resource 3: This is a plaintext resource' } } }
      ]);
      await assert.rejects(c.client.getPrompt({ name: 'resource_prompt', arguments: { resourceId: '101' } }), (err: unknown) => err instanceof ProtocolError && err.code === -32602);
    });
  });
}
