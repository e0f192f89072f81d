/**
 * The gallery proxy passes an app's notifications on (src/gallery/proxy.ts).
 * No published example app sends progress or changes its lists, so the app
 * here is a small real SDK server (this project's SDK) standing in for one,
 * connected exactly as startGalleryBackend connects a package (linked
 * in-process transports, a Client of our SDK); the caller is the SDK client.
 *
 * - a tools/call with a progressToken: each progress report of the app
 *   reaches the caller under the caller's own token;
 * - without a token the app is not asked for progress;
 * - the app's tools/list_changed reaches every session of the app.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/client';
import { McpServer, type Server, type ServerContext } from '@modelcontextprotocol/server';

import type { GalleryBackend } from '../../src/gallery/backend.js';
import { linkedTransports } from '../../src/gallery/in-memory-transport.js';
import { buildGalleryServer, forwardListChanges } from '../../src/gallery/proxy.js';

/** A stand-in app: `work` reports three steps of progress when asked; `grow` adds a tool (tools/list_changed). */
async function startApp(): Promise<{ backend: GalleryBackend; seenTokens: unknown[] }> {
  const app = new McpServer({ name: 'stand-in-app', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  const seenTokens: unknown[] = [];
  app.registerTool('work', { description: 'reports progress' }, async (ctx: ServerContext) => {
    const token = ctx.mcpReq._meta?.progressToken;
    seenTokens.push(token);
    if (token !== undefined) {
      for (let i = 1; i <= 3; i++) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: 3, message: `step ${i}` } });
    }
    return { content: [{ type: 'text', text: 'done' }] };
  });
  let grown = 0;
  app.registerTool('grow', { description: 'adds a tool' }, async () => {
    app.registerTool(`extra-${++grown}`, { description: 'added later' }, async () => ({ content: [] }));
    return { content: [{ type: 'text', text: 'grown' }] };
  });
  const [clientSide, serverSide] = linkedTransports();
  await app.connect(serverSide);
  const client = new Client({ name: 'backend', version: '1' }, { capabilities: {}, versionNegotiation: { mode: 'legacy' } });
  await client.connect(clientSide);
  const backend: GalleryBackend = {
    app: { slug: 'stand-in', packageName: 'stand-in', title: 'Stand-in', offline: 'full' },
    client,
    serverInfo: client.getServerVersion()!,
    capabilities: client.getServerCapabilities() ?? {},
    startMs: 0,
    close: async () => {
      await client.close();
      await app.close();
    }
  };
  return { backend, seenTokens };
}

/** A caller connected to the proxy (one 2025-era session). */
async function connectCaller(server: Server): Promise<Client> {
  const [clientSide, serverSide] = linkedTransports();
  await server.connect(serverSide);
  const caller = new Client({ name: 'caller', version: '1' }, { versionNegotiation: { mode: 'legacy' } });
  await caller.connect(clientSide);
  return caller;
}

describe('gallery proxy: the app’s notifications reach the caller', () => {
  it('progress of a tools/call, under the caller’s token; none asked for without one', async () => {
    const { backend, seenTokens } = await startApp();
    const caller = await connectCaller(buildGalleryServer(backend, undefined));
    const reports: Array<{ progress: number; total?: number; message?: string }> = [];
    const result = await caller.callTool({ name: 'work', arguments: {} }, { onprogress: p => reports.push(p) });
    assert.deepEqual((result.content as Array<{ text: string }>)[0]!.text, 'done');
    assert.deepEqual(
      reports.map(r => [r.progress, r.total, r.message]),
      [
        [1, 3, 'step 1'],
        [2, 3, 'step 2'],
        [3, 3, 'step 3']
      ]
    );
    // Without a token from the caller, the app gets none either.
    await caller.callTool({ name: 'work', arguments: {} });
    assert.equal(seenTokens.length, 2);
    assert.notEqual(seenTokens[0], undefined);
    assert.equal(seenTokens[1], undefined);
    await caller.close();
    await backend.close();
  });

  it('tools/list_changed goes to every session of the app', async () => {
    const { backend } = await startApp();
    const sessions = new Set<Server>();
    forwardListChanges(backend, () => sessions, err => assert.fail(String(err)));
    const callers: Client[] = [];
    const changed: number[] = [];
    for (let i = 0; i < 2; i++) {
      const server = buildGalleryServer(backend, undefined);
      sessions.add(server);
      const caller = await connectCaller(server);
      assert.equal(caller.getServerCapabilities()?.tools?.listChanged, true);
      const seen = new Promise<void>(resolve =>
        caller.setNotificationHandler('notifications/tools/list_changed', () => {
          changed.push(i);
          resolve();
        })
      );
      callers.push(caller);
      callers[i] = Object.assign(caller, { seen });
    }
    await callers[0]!.callTool({ name: 'grow', arguments: {} });
    await Promise.all(callers.map(c => (c as Client & { seen: Promise<void> }).seen));
    assert.deepEqual(changed.sort(), [0, 1]);
    const tools = (await callers[1]!.listTools()).tools.map(t => t.name);
    assert.ok(tools.includes('extra-1'), tools.join(', '));
    for (const c of callers) await c.close();
    await backend.close();
  });
});
