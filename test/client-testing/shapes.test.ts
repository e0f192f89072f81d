/**
 * The client test bench's read-only cases, with the SDK v2 client in every
 * era: mirror, every content shape, structured content of every JSON type,
 * icons on tools, prompts, resources and serverInfo, the instructions
 * marker, complex_prompt's image, large results, progress floods and
 * context-aware completion. Every value asserted is what a correct client
 * observes.
 */
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import type { CallToolResult, ProgressNotificationParams } from '@modelcontextprotocol/client';

import { CONTENT_SHAPES, IMAGE_SAMPLES, AUDIO_SAMPLES, LAST_MODIFIED, STRUCTURED_ARRAY, STRUCTURED_OBJECT, STRUCTURED_PRIMITIVE, UNICODE_SAMPLES } from '../../src/mcp/client-testing/content-shapes.js';
import { INSTRUCTIONS_MARKER } from '../../src/mcp/client-testing/index.js';
import { BENCH_ICONS, TINY_MP3_BASE64 } from '../../src/mcp/client-testing/media.js';
import { connect, KIND_LABEL, KINDS, startTestServer, texts, type Connection, type TestServer } from '../helpers/mcp-harness.js';
import { SseStream } from '../mcp/helpers/http.js';

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ name: 'client-testing-shapes', env: { CLIENT_TEST_MAX_RESULT_BYTES: String(3 * 1024 * 1024) } });
});
after(async () => {
  await ts?.close();
});

const BENCH_TOOLS = ['mirror', 'fault', 'contentShapes', 'structuredObject', 'structuredArray', 'structuredPrimitive', 'largeResult', 'progressFlood', 'catalogueChange'];

describe('the media files are valid', () => {
  const bytes = (b64: string) => Buffer.from(b64, 'base64');
  it('PNG, JPEG, GIF, WebP and SVG carry their signatures and structure', () => {
    const [png, jpeg, gif, webp, svg] = IMAGE_SAMPLES.map(i => bytes(i.data));
    assert.deepEqual([...png!.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual([...jpeg!.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assert.deepEqual([...jpeg!.subarray(-2)], [0xff, 0xd9]);
    assert.equal(gif!.subarray(0, 6).toString('ascii'), 'GIF89a');
    assert.equal(gif!.at(-1), 0x3b);
    assert.equal(webp!.subarray(0, 4).toString('ascii'), 'RIFF');
    assert.equal(webp!.readUInt32LE(4), webp!.length - 8, 'RIFF size');
    assert.equal(webp!.subarray(8, 16).toString('ascii'), 'WEBPVP8L');
    assert.match(svg!.toString('utf8'), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });
  it('WAV and MP3 carry their headers; the MP3 is whole 417-byte MPEG-1 Layer III frames', () => {
    const [wav, mp3] = AUDIO_SAMPLES.map(a => bytes(a.data));
    assert.equal(wav!.subarray(0, 4).toString('ascii'), 'RIFF');
    assert.equal(wav!.subarray(8, 12).toString('ascii'), 'WAVE');
    assert.equal(mp3!.length % 417, 0);
    for (let at = 0; at < mp3!.length; at += 417) assert.deepEqual([...mp3!.subarray(at, at + 4)], [0xff, 0xfb, 0x90, 0xc0]);
    assert.equal(TINY_MP3_BASE64, AUDIO_SAMPLES[1].data);
  });
  it('icon PNGs decode to the size they claim, in light and dark', () => {
    const themes = new Set(BENCH_ICONS.map(i => i.theme));
    assert.deepEqual([...themes].sort(), ['dark', 'light']);
    for (const icon of BENCH_ICONS.filter(i => i.mimeType === 'image/png')) {
      const png = bytes(icon.src.replace(/^data:image\/png;base64,/, ''));
      const size = png.readUInt32BE(16);
      assert.equal(icon.sizes[0], `${size}x${size}`);
      const idat = png.subarray(png.indexOf('IDAT') + 4, png.indexOf('IEND') - 8);
      assert.equal(inflateSync(idat).length, size * (1 + 3 * size));
    }
  });
});

for (const kind of KINDS) {
  describe(`client test bench shapes over ${KIND_LABEL[kind]}`, () => {
    let c: Connection;
    const call = (name: string, args: Record<string, unknown> = {}) => c.client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
    before(async () => {
      c = await connect(ts, kind);
    });
    after(async () => {
      await c?.close();
    });

    it('lists every bench tool with light and dark icons in several sizes', async () => {
      const tools = (await c.client.listTools()).tools;
      for (const name of BENCH_TOOLS) {
        const tool = tools.find(t => t.name === name);
        assert.ok(tool, `tools/list lacks ${name}`);
        assert.deepEqual(new Set(tool.icons?.map(i => i.theme)), new Set(['light', 'dark']));
        assert.ok(new Set(tool.icons?.flatMap(i => i.sizes ?? [])).size >= 3, `${name}: several sizes`);
      }
      const fault = tools.find(t => t.name === 'fault')!;
      assert.ok(((fault.inputSchema.properties as Record<string, { enum?: string[] }>).kind!.enum ?? []).includes('http-429'));
    });

    it('serverInfo carries light and dark icons, served from the server’s own origin; the instructions carry the marker', async () => {
      const info = c.client.getServerVersion();
      assert.deepEqual(new Set(info?.icons?.map(i => i.theme)), new Set(['light', 'dark']));
      assert.ok(c.client.getInstructions()?.includes(INSTRUCTIONS_MARKER), 'instructions marker');
      for (const icon of info!.icons!) {
        assert.ok(icon.src.startsWith(`${ts.baseUrl}/icons/`), `${icon.src} is a URL on the server's origin, not inline`);
        const res = await fetch(icon.src);
        assert.equal(res.status, 200, icon.src);
        assert.equal(res.headers.get('content-type')?.split(';')[0], icon.mimeType);
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*sandbox/);
        const bytes = Buffer.from(await res.arrayBuffer());
        if (icon.mimeType === 'image/png') assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
        else assert.match(bytes.toString('utf8'), /^<svg /);
      }
      assert.equal((await fetch(`${ts.baseUrl}/icons/..%2Fpackage.json`)).status, 404, 'only the icon files');
    });

    it('mirror reports what the server received', async () => {
      const r = await call('mirror');
      const m = r.structuredContent as Record<string, any>;
      assert.deepEqual(JSON.parse(texts(r)[0]!), m);
      assert.equal(m.clientInfo.name, `integration-${kind}`);
      assert.deepEqual(m.clientCapabilities.elicitation, { form: {}, url: {} });
      assert.equal(m.token.clientId, ts.oauthClientId);
      assert.deepEqual(m.token.scopes, ['mcp', 'mcp:admin']);
      assert.equal(m.token.subject, 'demo-user:alice');
      if (kind === '2026') {
        assert.equal(m.era, '2026-07-28');
        assert.equal(m.protocolVersion, '2026-07-28');
        assert.deepEqual(m.headers, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'mirror', 'mcp-session-id': null });
        assert.equal(m.meta['io.modelcontextprotocol/protocolVersion'], '2026-07-28');
        assert.equal(m.roots, null);
      } else {
        assert.equal(m.era, '2025');
        assert.equal(m.protocolVersion, '2025-11-25');
        assert.ok(m.sessionId, 'a session id');
        if (kind === '2025') assert.deepEqual(m.headers, { 'mcp-protocol-version': '2025-11-25', 'mcp-method': null, 'mcp-name': null, 'mcp-session-id': m.sessionId });
        // Legacy SSE: the headers of the POST /message; no session header (the id is in the URL).
        if (kind === 'sse') assert.deepEqual(m.headers, { 'mcp-protocol-version': '2025-11-25', 'mcp-method': null, 'mcp-name': null, 'mcp-session-id': null });
      }
    });

    it('mirror shows the _meta the client sent', async () => {
      const r = await c.client.callTool({ name: 'mirror', arguments: {}, _meta: { 'example.com/trace': 'abc' } });
      assert.equal((r.structuredContent as { meta: Record<string, unknown> }).meta['example.com/trace'], 'abc');
    });

    it('Unicode edge cases arrive unchanged', async () => {
      const r = await call('contentShapes', { shape: 'unicode-text' });
      assert.deepEqual(texts(r), UNICODE_SAMPLES.map(s => s.text));
      assert.deepEqual(
        r.content.map(b => b._meta?.['reference-server/block']),
        UNICODE_SAMPLES.map(s => ({ sample: s.label }))
      );
    });

    it('images in PNG, JPEG, GIF, WebP and SVG; audio in WAV and MP3', async () => {
      const images = await call('contentShapes', { shape: 'images' });
      assert.deepEqual(images.content, IMAGE_SAMPLES.map(i => ({ type: 'image', data: i.data, mimeType: i.mimeType })));
      const audio = await call('contentShapes', { shape: 'audio' });
      assert.deepEqual(audio.content, AUDIO_SAMPLES.map(a => ({ type: 'audio', data: a.data, mimeType: a.mimeType })));
    });

    it('embedded text and blob resources, and resource links with size, annotations and icons', async () => {
      const embedded = (await call('contentShapes', { shape: 'embedded-resources' })).content;
      assert.deepEqual(embedded.map(b => b.type), ['resource', 'resource']);
      const [textRes, blobRes] = embedded as unknown as Array<{ resource: Record<string, string>; annotations: Record<string, unknown> }>;
      assert.equal(textRes!.resource.text, '# Embedded\n\nAn embedded **text** resource.');
      assert.equal(blobRes!.resource.mimeType, 'image/png');
      assert.ok(blobRes!.resource.blob);
      assert.equal(textRes!.annotations.lastModified, LAST_MODIFIED);
      const links = (await call('contentShapes', { shape: 'resource-links' })).content as Array<Record<string, any>>;
      assert.equal(links[0]!.type, 'resource_link');
      assert.equal(links[0]!.size, 40);
      assert.deepEqual(links[0]!.annotations, { audience: ['assistant'], priority: 0.9, lastModified: LAST_MODIFIED });
      assert.equal(links[0]!.icons.length, BENCH_ICONS.length);
      const read = await c.client.readResource({ uri: links[0]!.uri });
      assert.equal((read.contents[0] as { text: string }).text.length, links[0]!.size);
    });

    it('_meta on content blocks, and `all` is every shape in order', async () => {
      const meta = (await call('contentShapes', { shape: 'block-meta' })).content;
      assert.deepEqual(meta.map(b => (b._meta?.['reference-server/block'] as { index: number }).index), [0, 1]);
      const all = (await call('contentShapes', { shape: 'all' })).content;
      let expected = 0;
      for (const shape of CONTENT_SHAPES.filter(s => s !== 'all')) expected += (await call('contentShapes', { shape })).content.length;
      assert.equal(all.length, expected);
    });

    it('structuredContent as an object, an array and a primitive (wrapped as {value} on 2025 revisions)', async () => {
      assert.deepEqual((await call('structuredObject')).structuredContent, STRUCTURED_OBJECT);
      const array = (await call('structuredArray')).structuredContent;
      const primitive = (await call('structuredPrimitive')).structuredContent;
      if (kind === '2026') {
        assert.deepEqual(array, STRUCTURED_ARRAY);
        assert.equal(primitive, STRUCTURED_PRIMITIVE);
      } else {
        assert.deepEqual(array, { value: STRUCTURED_ARRAY });
        assert.deepEqual(primitive, { value: STRUCTURED_PRIMITIVE });
      }
    });

    it('prompts and resources carry icons; complex_prompt carries its image', async () => {
      const prompts = (await c.client.listPrompts()).prompts;
      assert.deepEqual(new Set(prompts.find(p => p.name === 'trip_prompt')!.icons!.map(i => i.theme)), new Set(['light', 'dark']));
      const resources = (await c.client.listResources()).resources;
      const icons = resources.find(r => r.uri === 'bench://icons')!;
      assert.deepEqual(new Set(icons.icons!.map(i => i.theme)), new Set(['light', 'dark']));
      assert.equal(icons.annotations?.lastModified, LAST_MODIFIED);
      const messages = (await c.client.getPrompt({ name: 'complex_prompt', arguments: { temperature: '0.7' } })).messages;
      const image = messages.find(m => (m.content as { type: string }).type === 'image')!.content as { data: string; mimeType: string };
      assert.equal(image.mimeType, 'image/png');
      assert.deepEqual([...Buffer.from(image.data, 'base64').subarray(1, 4)], [0x50, 0x4e, 0x47]);
    });

    it('completion follows context.arguments', async () => {
      const japan = await c.client.complete({ ref: { type: 'ref/prompt', name: 'trip_prompt' }, argument: { name: 'city', value: '' }, context: { arguments: { country: 'Japan' } } });
      assert.deepEqual(japan.completion.values, ['Tokyo', 'Osaka', 'Kyoto', 'Sapporo']);
      const france = await c.client.complete({ ref: { type: 'ref/prompt', name: 'trip_prompt' }, argument: { name: 'city', value: 'l' }, context: { arguments: { country: 'France' } } });
      assert.deepEqual(france.completion.values, ['Lyon', 'Lille']);
    });

    it('large results: 2 MiB in 1,000 blocks, nested 100 deep; sizes above the maximum are clamped', async () => {
      const big = await call('largeResult', { sizeBytes: 2 * 1024 * 1024, blocks: 1000, depth: 100 });
      assert.equal(big.content.length, 1000);
      assert.equal(texts(big).reduce((n, t) => n + t.length, 0), 2 * 1024 * 1024);
      let node = big.structuredContent as Record<string, any>;
      let depth = 1;
      while (node.child) (node = node.child, depth++);
      assert.equal(depth, 100);
      assert.equal(node.leaf, true);
      const clamped = await call('largeResult', { sizeBytes: 50 * 1024 * 1024 });
      assert.equal(texts(clamped)[0]!.length, 3 * 1024 * 1024);
    });

    // Finding (SDK client): over the legacy HTTP+SSE transport, the SDK client loses some of the
    // progress notifications that precede the result on the stream (the server sends all of them
    // first: see the raw test below). A correct client observes all 500.
    it('a progress flood of 500 notifications, with and without total', { todo: kind === 'sse' ? 'SDK SSEClientTransport drops progress notifications that precede the result' : false }, async () => {
      for (const withTotal of [true, false]) {
        const seen: ProgressNotificationParams[] = [];
        const r = await c.client.callTool({ name: 'progressFlood', arguments: { count: 500, withTotal } }, { onprogress: p => void seen.push(p as ProgressNotificationParams) });
        assert.equal(texts(r)[0], `Sent 500 progress notifications${withTotal ? '' : ' without total'}.`);
        assert.equal(seen.length, 500);
        assert.deepEqual(seen.map(p => p.progress), Array.from({ length: 500 }, (_, i) => i + 1));
        assert.equal(seen.every(p => (withTotal ? p.total === 500 : p.total === undefined)), true);
      }
    });
  });
}

describe('progress flood on the wire of the legacy HTTP+SSE transport', () => {
  it('all 500 notifications precede the result on the stream', async () => {
    const stream = new SseStream(`${ts.baseUrl}/sse`, { headers: { authorization: `Bearer ${ts.token}`, accept: 'text/event-stream' } });
    try {
      await stream.opened;
      const endpoint = await stream.waitFor(s => s.events.find(e => e.event === 'endpoint')?.data);
      const post = (m: object) =>
        fetch(new URL(endpoint, ts.baseUrl), { method: 'POST', headers: { authorization: `Bearer ${ts.token}`, 'content-type': 'application/json' }, body: JSON.stringify(m) }).then(r => r.status);
      assert.equal(await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }), 202);
      assert.equal(await post({ jsonrpc: '2.0', method: 'notifications/initialized' }), 202);
      assert.equal(await post({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'progressFlood', arguments: { count: 500 }, _meta: { progressToken: 'p' } } }), 202);
      await stream.waitFor(s => s.messages().some(m => m.id === 5), 20_000);
      const messages = stream.messages();
      const before = messages.slice(0, messages.findIndex(m => m.id === 5)).filter(m => m.method === 'notifications/progress' && m.params.progressToken === 'p');
      assert.deepEqual(before.map(m => m.params.progress), Array.from({ length: 500 }, (_, i) => i + 1));
    } finally {
      stream.close();
    }
  });
});
