/**
 * The server a gallery app's caller talks to: an SDK `Server` of this
 * project's SDK, built per request (2026-07-28) or per connection, whose
 * handlers forward to the app's backend client (./backend.ts). It declares
 * the app's own name, version, instructions and capabilities (tools,
 * resources, prompts, completions), so a client sees the app, served in
 * whichever protocol revision it speaks.
 *
 * Forwarded: tools/list, tools/call, resources/list, resources/templates/list,
 * resources/read, prompts/list, prompts/get, completion/complete, and the
 * app's notifications:
 *
 * - progress of a `tools/call`: when the caller's request carries a
 *   `progressToken`, the backend call asks the app for progress and each
 *   report goes to the caller under the caller's token, on the caller's own
 *   stream (its session, or the 2026-07-28 request's SSE answer);
 * - list changes (tools, resources, prompts): the app is shared, so a change
 *   goes to every session of the app on this instance (`forwardListChanges`);
 *   2026-07-28 clients are stateless and see it on their next list.
 *
 * Not forwarded: the app's log messages (not tied to one caller) and requests
 * from the app to the client (the backend client declares no capability, so
 * the apps send none).
 */
import { Server, type CallToolRequest, type Notification, type ServerCapabilities } from '@modelcontextprotocol/server';

import type { GalleryBackend } from './backend.js';
import type { ToolCallRule } from './host-privacy.js';

export function buildGalleryServer(backend: GalleryBackend, rule: ToolCallRule | undefined): Server {
  const caps = backend.capabilities;
  const capabilities: ServerCapabilities = {
    ...(caps.tools ? { tools: caps.tools.listChanged ? { listChanged: true } : {} } : {}),
    ...(caps.resources ? { resources: caps.resources.listChanged ? { listChanged: true } : {} } : {}),
    ...(caps.prompts ? { prompts: caps.prompts.listChanged ? { listChanged: true } : {} } : {}),
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
      const token = ctx.mcpReq._meta?.progressToken;
      if (token === undefined) return client.callTool(request.params, signal(ctx));
      // The backend client puts its own token on the call; reports go out under the caller's.
      return client.callTool(request.params, {
        ...signal(ctx),
        onprogress: progress => {
          const report: Notification = { method: 'notifications/progress', params: { ...progress, progressToken: token } };
          ctx.mcpReq.notify(report).catch(() => undefined);
        }
      });
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

export type ListKind = 'tools' | 'resources' | 'prompts';

/**
 * Passes the app's `notifications/{tools,resources,prompts}/list_changed`
 * to every server `sessions()` returns (the app's sessions on this instance).
 */
export function forwardListChanges(backend: GalleryBackend, sessions: () => Iterable<Server>, onError: (err: unknown) => void): void {
  const send = (kind: ListKind) => () => {
    for (const server of sessions()) {
      const sent = kind === 'tools' ? server.sendToolListChanged() : kind === 'resources' ? server.sendResourceListChanged() : server.sendPromptListChanged();
      sent.catch(onError);
    }
  };
  backend.client.setNotificationHandler('notifications/tools/list_changed', send('tools'));
  backend.client.setNotificationHandler('notifications/resources/list_changed', send('resources'));
  backend.client.setNotificationHandler('notifications/prompts/list_changed', send('prompts'));
}
