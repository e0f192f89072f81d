/**
 * The server a gallery app's caller talks to: an SDK `Server` of this
 * project's SDK, built per request (2026-07-28) or per connection, whose
 * handlers forward to the app's backend client (./backend.ts). It declares
 * the app's own name, version, instructions and capabilities (tools,
 * resources, prompts, completions), so a client sees the app, served in
 * whichever protocol revision it speaks.
 *
 * Forwarded: tools/list, tools/call, resources/list, resources/templates/list,
 * resources/read, prompts/list, prompts/get, completion/complete. Not
 * forwarded: notifications from the app (progress, list changes, logs) and
 * requests from the app to the client (the backend client declares no
 * capability, so the apps send none).
 */
import { Server, type CallToolRequest, type ServerCapabilities } from '@modelcontextprotocol/server';

import type { GalleryBackend } from './backend.js';
import type { ToolCallRule } from './host-privacy.js';

export function buildGalleryServer(backend: GalleryBackend, rule: ToolCallRule | undefined): Server {
  const caps = backend.capabilities;
  const capabilities: ServerCapabilities = {
    ...(caps.tools ? { tools: {} } : {}),
    ...(caps.resources ? { resources: {} } : {}),
    ...(caps.prompts ? { prompts: {} } : {}),
    ...(caps.completions ? { completions: {} } : {})
  };
  const server = new Server(
    { ...backend.serverInfo },
    {
      capabilities,
      ...(backend.instructions ? { instructions: backend.instructions } : {}),
      // The apps' lists and files change only with a new package version.
      cacheHints: {
        'tools/list': { ttlMs: 300_000, cacheScope: 'public' },
        'resources/list': { ttlMs: 300_000, cacheScope: 'public' },
        'resources/templates/list': { ttlMs: 300_000, cacheScope: 'public' },
        'prompts/list': { ttlMs: 300_000, cacheScope: 'public' },
        'server/discover': { ttlMs: 300_000, cacheScope: 'public' }
      }
    }
  );
  const { client } = backend;
  const signal = (ctx: { mcpReq: { signal: AbortSignal } }) => ({ signal: ctx.mcpReq.signal });

  if (caps.tools) {
    server.setRequestHandler('tools/list', (request, ctx) => client.listTools(request.params, signal(ctx)));
    server.setRequestHandler('tools/call', async (request: CallToolRequest, ctx) => {
      const own = rule?.(request.params.name, request.params.arguments ?? {});
      if (own) return own;
      return client.callTool(request.params, signal(ctx));
    });
  }
  if (caps.resources) {
    server.setRequestHandler('resources/list', (request, ctx) => client.listResources(request.params, signal(ctx)));
    server.setRequestHandler('resources/templates/list', (request, ctx) => client.listResourceTemplates(request.params, signal(ctx)));
    server.setRequestHandler('resources/read', (request, ctx) => client.readResource(request.params, signal(ctx)));
  }
  if (caps.prompts) {
    server.setRequestHandler('prompts/list', (request, ctx) => client.listPrompts(request.params, signal(ctx)));
    server.setRequestHandler('prompts/get', (request, ctx) => client.getPrompt(request.params, signal(ctx)));
  }
  if (caps.completions) {
    server.setRequestHandler('completion/complete', (request, ctx) => client.complete(request.params, signal(ctx)));
  }
  return server;
}
