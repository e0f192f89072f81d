/**
 * A catalogue each caller changes for itself (docs/client-testing.md
 * "Dynamic catalogue"): tools, prompts and resources that appear and
 * disappear on request, and an opt-in generated catalogue large enough to
 * need pagination.
 *
 * The caller's additions live in the store under
 * `clienttest:catalogue:{subject}` (JSON, validated), so any instance can
 * serve them and every session of the same user sees the same catalogue.
 * A change publishes list-changed events addressed to that subject only
 * (the event bus's `audience`): 2026-07-28 `subscriptions/listen` streams
 * of that user receive them; 2025-era sessions of that user re-read the
 * catalogue and (re)register the items, which makes the SDK send the
 * `notifications/…/list_changed` on that session (./session-sync in
 * `syncSessionCatalogue`). Nobody else's lists or notifications change.
 */
import type { CallToolResult, GetPromptResult, McpServer, RegisteredPrompt, RegisteredResource, RegisteredTool, ServerContext } from '@modelcontextprotocol/server';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { Store } from '../../store/store.js';
import type { ResourceDirectory } from '../features/resources.js';
import { BENCH_ICONS } from './media.js';

export const DYNAMIC_PREFIX = 'dynamic_';
export const GENERATED_PREFIX = 'generated_';
export const DYNAMIC_RESOURCE_PREFIX = 'bench://dynamic/';
/** Most named items per kind a caller may add. */
export const MAX_DYNAMIC_ITEMS = 20;
/** Most generated tools (and as many prompts). */
export const MAX_GENERATED = 1000;
/** Page size of `tools/list` and `prompts/list` while a generated catalogue is on. */
export const LIST_PAGE_SIZE = 100;
/** A caller's catalogue is forgotten a day after its last change. */
export const CATALOGUE_TTL_MS = 24 * 3600 * 1000;

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, _ and -, at most 32');

export const CatalogueState = z.object({
  tools: z.array(Name).max(MAX_DYNAMIC_ITEMS),
  prompts: z.array(Name).max(MAX_DYNAMIC_ITEMS),
  resources: z.array(Name).max(MAX_DYNAMIC_ITEMS),
  generated: z.number().int().min(0).max(MAX_GENERATED)
});
export type CatalogueState = z.infer<typeof CatalogueState>;

export const EMPTY_CATALOGUE: CatalogueState = { tools: [], prompts: [], resources: [], generated: 0 };
export const isEmptyCatalogue = (c: CatalogueState | undefined) => !c || (c.tools.length === 0 && c.prompts.length === 0 && c.resources.length === 0 && c.generated === 0);

export const catalogueKey = (subject: string) => `clienttest:catalogue:${subject || 'anonymous'}`;

export const catalogueChangeInput = z.object({
  action: z.enum(['add', 'remove', 'generate', 'reset']).describe('add/remove one item; generate a catalogue of `count` tools and prompts (0 removes it); reset forgets everything'),
  kind: z.enum(['tool', 'prompt', 'resource']).optional().describe('add/remove: what kind of item'),
  name: Name.optional().describe(`add/remove: the item's name; tools and prompts are listed as ${DYNAMIC_PREFIX}<name>, resources as ${DYNAMIC_RESOURCE_PREFIX}<name>`),
  count: z.number().int().min(0).max(MAX_GENERATED).optional().describe(`generate: how many (0 … ${MAX_GENERATED})`)
});
export type CatalogueChange = z.infer<typeof catalogueChangeInput>;

export type ListKind = 'tools' | 'prompts' | 'resources';

/** The caller's catalogue in the store. */
export class DynamicCatalogueStore {
  constructor(private readonly store: Store) {}

  async get(subject: string): Promise<CatalogueState> {
    const raw = await this.store.get(catalogueKey(subject));
    if (raw === undefined) return EMPTY_CATALOGUE;
    try {
      const parsed = CatalogueState.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : EMPTY_CATALOGUE;
    } catch {
      return EMPTY_CATALOGUE;
    }
  }

  /** Applies a change; resolves with the new state and the lists that changed. Throws ProtocolError(-32602) on a bad change. */
  async apply(subject: string, change: CatalogueChange): Promise<{ state: CatalogueState; changed: ListKind[] }> {
    const before = await this.get(subject);
    const next: CatalogueState = { tools: [...before.tools], prompts: [...before.prompts], resources: [...before.resources], generated: before.generated };
    const changed = new Set<ListKind>();
    const listOf = (kind: 'tool' | 'prompt' | 'resource'): ListKind => (kind === 'tool' ? 'tools' : kind === 'prompt' ? 'prompts' : 'resources');
    switch (change.action) {
      case 'add':
      case 'remove': {
        if (!change.kind || !change.name) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `${change.action} needs kind and name`);
        const list = listOf(change.kind);
        const items = next[list];
        const at = items.indexOf(change.name);
        if (change.action === 'add' && at === -1) {
          if (items.length >= MAX_DYNAMIC_ITEMS) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `at most ${MAX_DYNAMIC_ITEMS} dynamic ${list}`);
          items.push(change.name);
          changed.add(list);
        }
        if (change.action === 'remove' && at !== -1) {
          items.splice(at, 1);
          changed.add(list);
        }
        break;
      }
      case 'generate': {
        if (change.count === undefined) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'generate needs count');
        if (change.count !== next.generated) {
          next.generated = change.count;
          changed.add('tools').add('prompts');
        }
        break;
      }
      case 'reset':
        if (before.tools.length || before.generated) changed.add('tools');
        if (before.prompts.length || before.generated) changed.add('prompts');
        if (before.resources.length) changed.add('resources');
        Object.assign(next, EMPTY_CATALOGUE, { tools: [], prompts: [], resources: [] });
        break;
    }
    if (changed.size > 0) {
      if (isEmptyCatalogue(next)) await this.store.delete(catalogueKey(subject));
      else await this.store.set(catalogueKey(subject), JSON.stringify(next), CATALOGUE_TTL_MS);
    }
    return { state: next, changed: [...changed] };
  }
}

export const generatedName = (i: number) => `${GENERATED_PREFIX}${String(i).padStart(4, '0')}`;

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

/**
 * What one build registers for a catalogue: handles to remove them again
 * (2025 sessions follow changes), and the names for diffing.
 */
export class CatalogueRegistrations {
  readonly tools = new Map<string, RegisteredTool>();
  readonly prompts = new Map<string, RegisteredPrompt>();
  readonly resources = new Map<string, RegisteredResource>();
  private pagination = false;

  constructor(
    private readonly server: McpServer,
    private readonly directory: ResourceDirectory
  ) {}

  /** Brings the server's registrations in line with `state` (synchronously, so the SDK coalesces the list-changed notifications). */
  apply(state: CatalogueState): void {
    const wantTools = new Set([...state.tools.map(n => DYNAMIC_PREFIX + n), ...Array.from({ length: state.generated }, (_, i) => generatedName(i + 1))]);
    const wantPrompts = new Set([...state.prompts.map(n => DYNAMIC_PREFIX + n), ...Array.from({ length: state.generated }, (_, i) => generatedName(i + 1))]);
    const wantResources = new Set(state.resources.map(n => DYNAMIC_RESOURCE_PREFIX + n));

    for (const [name, tool] of this.tools) if (!wantTools.has(name)) (tool.remove(), this.tools.delete(name));
    for (const [name, prompt] of this.prompts) if (!wantPrompts.has(name)) (prompt.remove(), this.prompts.delete(name));
    for (const [uri, resource] of this.resources) if (!wantResources.has(uri)) (resource.remove(), this.resources.delete(uri), this.directory.remove(uri));

    for (const name of wantTools) if (!this.tools.has(name)) this.tools.set(name, this.registerTool(name));
    for (const name of wantPrompts) if (!this.prompts.has(name)) this.prompts.set(name, this.registerPrompt(name));
    for (const uri of wantResources) if (!this.resources.has(uri)) this.resources.set(uri, this.registerResource(uri));
    if (state.generated > 0) this.paginateLists();
  }

  private registerTool(name: string): RegisteredTool {
    const generated = name.startsWith(GENERATED_PREFIX);
    return this.server.registerTool(
      name,
      {
        title: generated ? `Generated tool ${name.slice(GENERATED_PREFIX.length)}` : `Dynamic tool ${name.slice(DYNAMIC_PREFIX.length)}`,
        description: generated ? 'One of the generated catalogue (catalogueChange action generate); lists are paginated while it exists.' : 'Added for you by catalogueChange; only you see it.',
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
        icons: BENCH_ICONS
      },
      async (_ctx: ServerContext) => text(`${name} called`)
    );
  }

  private registerPrompt(name: string): RegisteredPrompt {
    return this.server.registerPrompt(
      name,
      { title: `Prompt ${name}`, description: 'Added for you by catalogueChange; only you see it.', icons: BENCH_ICONS },
      async (): Promise<GetPromptResult> => ({ messages: [{ role: 'user', content: { type: 'text', text: `${name} prompt` } }] })
    );
  }

  private registerResource(uri: string): RegisteredResource {
    const name = uri.slice(DYNAMIC_RESOURCE_PREFIX.length);
    const descriptor = { uri, name: `dynamic-${name}`, title: `Dynamic resource ${name}`, description: 'Added for you by catalogueChange; only you see it.', mimeType: 'text/plain', icons: BENCH_ICONS };
    this.directory.add(descriptor, 'front');
    return this.server.registerResource(descriptor.name, uri, { title: descriptor.title, description: descriptor.description, mimeType: 'text/plain', icons: BENCH_ICONS }, async () => ({
      contents: [{ uri, mimeType: 'text/plain', text: `${uri} contents` }]
    }));
  }

  /**
   * MCP server/utilities/pagination for tools/list and prompts/list while
   * the generated catalogue exists: pages of LIST_PAGE_SIZE behind an opaque
   * cursor, over the SDK's own (unpaged) list handler.
   */
  private paginateLists(): void {
    if (this.pagination) return;
    this.pagination = true;
    const protocol = this.server.server as unknown as {
      _getRequestHandler(method: string): ((request: unknown, ctx: unknown) => Promise<Record<string, unknown>>) | undefined;
    };
    for (const [method, key] of [
      ['tools/list', 'tools'],
      ['prompts/list', 'prompts']
    ] as const) {
      const full = protocol._getRequestHandler(method);
      if (!full) continue;
      this.server.server.setRequestHandler(method, async (request, ctx) => {
        const all = (await full(request, ctx))[key] as unknown[];
        const offset = decodeCursor(request.params?.cursor, all.length);
        const next = offset + LIST_PAGE_SIZE;
        return { [key]: all.slice(offset, next), ...(next < all.length ? { nextCursor: encodeCursor(next) } : {}) } as never;
      });
    }
  }
}

const encodeCursor = (offset: number) => Buffer.from(JSON.stringify({ bench: offset })).toString('base64url');
function decodeCursor(cursor: string | undefined, total: number): number {
  if (cursor === undefined) return 0;
  try {
    const o = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { bench?: unknown }).bench;
    if (typeof o === 'number' && Number.isInteger(o) && o > 0 && o < total) return o;
  } catch {
    // fall through
  }
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor');
}
