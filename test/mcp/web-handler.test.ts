/**
 * The 2026-07-28 adapter between Node's request/response and the SDK's
 * web-standard handler (src/mcp/http/web-handler.ts), on a real `node:http`
 * server with a stand-in handler (the real one, `createMcpHandler`, is served
 * through it in test/mcp/eras.test.ts and the conformance suite): what the
 * handler receives, a handler that throws, a streamed answer, and a client
 * that goes away mid-stream.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';

import type { McpHttpHandler } from '@modelcontextprotocol/server';

import { nodeHandlerFor } from '../../src/mcp/http/web-handler.js';

type Fetch = McpHttpHandler['fetch'];

async function serve(fetch: Fetch, onerror: (e: Error) => void = () => undefined): Promise<{ url: string; server: Server }> {
  const handle = nodeHandlerFor({ fetch } as McpHttpHandler, { onerror });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      (req as typeof req & { auth?: unknown }).auth = { token: 't', clientId: 'c', scopes: ['mcp'] };
      void handle(req, res, text ? JSON.parse(text) : undefined);
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp?x=1`, server };
}

const servers: Server[] = [];
after(() => servers.forEach(s => s.close()));

describe('the 2026-07-28 node adapter', () => {
  it('hands over method, URL, the client’s headers, the parsed body and authInfo, and no request body', async () => {
    let seen: { request: Request; options: Parameters<Fetch>[1] } | undefined;
    const { url, server } = await serve(async (request, options) => {
      seen = { request, options };
      return Response.json({ jsonrpc: '2.0', id: 7, result: {} }, { status: 200, headers: { 'x-extra': 'yes' } });
    });
    servers.push(server);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'mcp-method': 'tools/call', 'x-many': 'a' }, body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call' }) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-extra'), 'yes');
    assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 7, result: {} });
    assert.ok(seen);
    assert.equal(seen.request.method, 'POST');
    assert.equal(new URL(seen.request.url).pathname + new URL(seen.request.url).search, '/mcp?x=1');
    assert.equal(seen.request.headers.get('mcp-method'), 'tools/call');
    assert.equal(seen.request.headers.get('content-type'), 'application/json');
    assert.equal(seen.request.headers.get('content-length'), null, 'no header describes a body the request does not carry');
    assert.equal(seen.request.body, null);
    assert.deepEqual(seen.options?.parsedBody, { jsonrpc: '2.0', id: 7, method: 'tools/call' });
    assert.equal(seen.options?.authInfo?.clientId, 'c');
  });

  it('answers a handler that throws with 500 and a JSON-RPC error echoing the id, and reports it', async () => {
    const errors: Error[] = [];
    const { url, server } = await serve(async () => {
      throw new Error('boom with a secret in it');
    }, e => errors.push(e));
    servers.push(server);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 'abc', method: 'ping' }) });
    assert.equal(res.status, 500);
    const body = (await res.json()) as { id: unknown; error: { code: number; message: string } };
    assert.equal(body.id, 'abc');
    assert.equal(body.error.code, -32603);
    assert.doesNotMatch(JSON.stringify(body), /secret/);
    assert.equal(errors.length, 1);
  });

  it('streams an SSE answer chunk by chunk, and aborts the handler’s signal when the client goes away', async () => {
    let signal: AbortSignal | undefined;
    let cancelled = false;
    const encoder = new TextEncoder();
    const { url, server } = await serve(async request => {
      signal = request.signal;
      let n = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise(r => setTimeout(r, 20));
          controller.enqueue(encoder.encode(`event: message\ndata: ${n++}\n\n`));
        },
        cancel() {
          cancelled = true;
        }
      });
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
    });
    servers.push(server);
    const controller = new AbortController();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('data: 2')) text += new TextDecoder().decode((await reader.read()).value);
    assert.match(text, /data: 0\n\n[\s\S]*data: 1\n\n/);
    assert.equal(signal?.aborted, false);
    controller.abort();
    for (let i = 0; i < 50 && !(signal?.aborted && cancelled); i++) await new Promise(r => setTimeout(r, 20));
    assert.equal(signal?.aborted, true, 'the handler’s signal aborts when the client goes away');
    assert.equal(cancelled, true, 'the answer’s stream is cancelled');
  });
});
