/**
 * A server's close (src/mcp/sdk-close.ts): with nothing pending, the SDK's
 * teardown runs without capturing the stack of its unused "Connection
 * closed" error; with a handler still running, the handler is aborted with
 * that error, stack and all, as before. Real SDK server and client on
 * in-memory transports, so an SDK upgrade that renames the fields fails here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, McpServer, SdkError } from '@modelcontextprotocol/server';
import { z } from 'zod';

import '../../src/mcp/sdk-close.js';

async function connected(server: McpServer) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'sdk-close-test', version: '1.0.0' });
  await server.connect(serverSide);
  await client.connect(clientSide);
  return client;
}

/** Error.stackTraceLimit as the server's onclose callback sees it. */
function limitAtClose(server: McpServer): Promise<number> {
  return new Promise(resolve => {
    server.server.onclose = () => resolve(Error.stackTraceLimit);
  });
}

describe('server close', () => {
  it('with nothing pending, builds its unused error without a stack, and restores the limit', async () => {
    const server = new McpServer({ name: 't', version: '1' });
    server.registerTool('quick', { inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
    const client = await connected(server);
    await client.callTool({ name: 'quick', arguments: {} });
    const before = Error.stackTraceLimit;
    const seen = limitAtClose(server);
    await server.close();
    assert.equal(await seen, 0);
    assert.equal(Error.stackTraceLimit, before);
    assert.ok(before > 0);
  });

  it('with a handler still running, aborts it with the error and its stack, as the SDK does', async () => {
    const server = new McpServer({ name: 't', version: '1' });
    let started!: () => void;
    const running = new Promise<void>(resolve => (started = resolve));
    const reason = new Promise<unknown>(resolve => {
      server.registerTool('slow', { inputSchema: z.object({}) }, async (_args, ctx) => {
        started();
        await new Promise<void>(done => ctx.mcpReq.signal.addEventListener('abort', () => done(), { once: true }));
        resolve(ctx.mcpReq.signal.reason);
        return { content: [{ type: 'text', text: 'aborted' }] };
      });
    });
    const client = await connected(server);
    const call = client.callTool({ name: 'slow', arguments: {} }).catch((e: unknown) => e);
    await running;
    const before = Error.stackTraceLimit;
    const seen = limitAtClose(server);
    await server.close();
    assert.equal(await seen, before);
    const error = await reason;
    assert.ok(error instanceof SdkError, `aborted with the SDK's error (${String(error)})`);
    assert.match(error.stack ?? '', /\n\s+at /);
    await call;
    await client.close();
  });
});
