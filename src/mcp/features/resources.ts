/**
 * Resources: 100 static test resources (odd ids text, even ids binary),
 * listed 10 per page with an opaque cursor; the template
 * `test://static/resource/{id}` with argument completion; subscriptions
 * (2025 `resources/subscribe`; the periodic `notifications/resources/updated`
 * are sent by ../activity.ts, and on 2026-07-28 delivered through
 * `subscriptions/listen`). Reading an unknown resource answers -32602
 * (2026-07-28 server/resources "Error Handling"; the SDK emits the same code
 * toward 2025 clients).
 */
import type { ListResourcesResult, McpServer, Resource } from '@modelcontextprotocol/server';
import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError, ResourceTemplate } from '@modelcontextprotocol/server';

import { completeResourceId } from './completions.js';
import type { FeatureEnv } from './env.js';

import { STATIC_RESOURCE_COUNT } from './content.js';

export { STATIC_RESOURCE_COUNT };
export const RESOURCE_PAGE_SIZE = 10;
export const STATIC_RESOURCE_TEMPLATE = 'test://static/resource/{id}';

export const staticResourceUri = (id: number) => `test://static/resource/${id}`;

export function staticResourceContents(id: number): { uri: string; mimeType: string; text: string } | { uri: string; mimeType: string; blob: string } {
  const uri = staticResourceUri(id);
  return id % 2 === 1
    ? { uri, mimeType: 'text/plain', text: `Resource ${id}: This is a plaintext resource` }
    : { uri, mimeType: 'application/octet-stream', blob: Buffer.from(`Resource ${id}: This is a base64 blob`).toString('base64') };
}

export function staticResourceDescriptor(id: number): Resource {
  return {
    uri: staticResourceUri(id),
    name: `Resource ${id}`,
    title: `Static resource ${id}`,
    description: id % 2 === 1 ? 'A plaintext resource' : 'A binary (base64 blob) resource',
    mimeType: id % 2 === 1 ? 'text/plain' : 'application/octet-stream'
  };
}

/** The static resources' descriptors, in id order (built once). */
const STATIC_DESCRIPTORS: readonly Resource[] = Object.freeze(Array.from({ length: STATIC_RESOURCE_COUNT }, (_, i) => Object.freeze(staticResourceDescriptor(i + 1))));

/**
 * Everything `resources/list` shows, in a stable order. Feature modules add
 * their fixed resources; the static resources come last. One directory per
 * era is built with the shared catalogue; each server instance reads it
 * through a `view`, which copies the entries the first time that instance
 * adds or removes one of its own (the client-testing kit's dynamic resources).
 */
export class ResourceDirectory {
  private entries: Resource[] = [];
  /** The entries are another directory's: copy before writing. */
  private borrowed = false;

  /** A directory that reads this one's entries until it changes its own. */
  view(): ResourceDirectory {
    const view = new ResourceDirectory();
    view.entries = this.entries;
    view.borrowed = true;
    return view;
  }
  /** Lists `resource` after the fixed resources added so far, or before them (`'front'`). */
  add(resource: Resource, where: 'end' | 'front' = 'end'): void {
    this.own();
    if (where === 'front') this.entries.unshift(resource);
    else this.entries.push(resource);
  }
  remove(uri: string): void {
    const at = this.entries.findIndex(r => r.uri === uri);
    if (at === -1) return;
    this.own();
    this.entries.splice(at, 1);
  }
  all(): Resource[] {
    return [...this.entries, ...STATIC_DESCRIPTORS];
  }
  private own(): void {
    if (!this.borrowed) return;
    this.entries = [...this.entries];
    this.borrowed = false;
  }
}

const encodeCursor = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');

function decodeCursor(cursor: string | undefined, total: number): number {
  if (cursor === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o > 0 && parsed.o < total) return parsed.o;
  } catch {
    // fall through
  }
  // MCP pagination: an invalid cursor SHOULD be answered with -32602.
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor');
}

/** One page of the directory (MCP server/utilities/pagination). */
export function pageOfResources(directory: ResourceDirectory, cursor: string | undefined, pageSize = RESOURCE_PAGE_SIZE): ListResourcesResult {
  const all = directory.all();
  const offset = decodeCursor(cursor, all.length);
  const next = offset + pageSize;
  return { resources: all.slice(offset, next), ...(next < all.length ? { nextCursor: encodeCursor(next) } : {}) };
}

export function registerResources(server: McpServer): void {
  server.registerResource(
    'static-resource',
    new ResourceTemplate(STATIC_RESOURCE_TEMPLATE, {
      // Listing is served by the paged resources/list handler (attachResourceHandlers).
      list: undefined,
      complete: {
        id: value => completeResourceId(value)
      }
    }),
    {
      title: 'Static resource',
      description: `Static test resources 1-${STATIC_RESOURCE_COUNT}: odd ids are text/plain, even ids application/octet-stream.`,
      cacheHint: { ttlMs: 60_000, cacheScope: 'public' }
    },
    async (uri, variables) => {
      const raw = Array.isArray(variables['id']) ? variables['id'][0] : variables['id'];
      const id = /^\d{1,3}$/.test(String(raw)) ? Number(raw) : NaN;
      if (!(id >= 1 && id <= STATIC_RESOURCE_COUNT)) throw new ResourceNotFoundError(uri.href);
      return { contents: [staticResourceContents(id)] };
    }
  );
}

/** One server instance's resource handlers: the paged directory, and on 2025-era sessions subscriptions. */
export function attachResourceHandlers(server: McpServer, env: FeatureEnv, directory: ResourceDirectory): void {
  // Replace McpServer's unpaged resources/list with the paged directory.
  server.server.setRequestHandler('resources/list', async request => pageOfResources(directory, request.params?.cursor));

  const session = env.session;
  if (env.era === 'legacy') {
    // 2025 era: per-session subscriptions. 2026-07-28 removed these methods
    // in favour of subscriptions/listen (handled by the SDK entry).
    server.server.setRequestHandler('resources/subscribe', async request => {
      session?.subscriptions.add(request.params.uri);
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async request => {
      session?.subscriptions.delete(request.params.uri);
      return {};
    });
  }
}
