/**
 * The test bench for MCP client authors (docs/client-testing.md): what a
 * client must survive, on demand, in every protocol era. Kept apart from the
 * demo catalogue (../features) and the conformance fixtures; registered by
 * ../server.ts `registerCatalogue`, with its HTTP-level faults served
 * through the transports' `HttpFaultHook` (./wire-faults.ts).
 *
 * Every name registered here is part of the interface (client authors
 * script against them) and is listed in docs/client-testing.md.
 */
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { completable } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { subjectOf, type FeatureEnv, type SessionFeatureState } from '../features/env.js';
import type { ResourceDirectory } from '../features/resources.js';
import { LAST_MODIFIED, registerContentShapes } from './content-shapes.js';
import { CatalogueRegistrations, catalogueChangeInput, EMPTY_CATALOGUE } from './dynamic-catalogue.js';
import { registerFaultTool } from './fault.js';
import { registerLarge } from './large.js';
import { BENCH_ICONS, TINY_PNG_BASE64 } from './media.js';
import { registerMirror } from './mirror.js';
import type { ClientTestingServices } from './services.js';

export { ClientTestingServices } from './services.js';
export { createWireFaults } from './wire-faults.js';
export { DEFAULT_LIMITS, type ClientTestingLimits } from './limits.js';
export { prefetchCatalogue } from './prefetch.js';
export { isEmptyCatalogue, type CatalogueState } from './dynamic-catalogue.js';

/**
 * The marker the server's instructions carry, so a client author can check
 * that the instructions reach the model (ask it for the marker).
 */
export const INSTRUCTIONS_MARKER = 'MCP-REFERENCE-INSTRUCTIONS-MARKER-7F3A9C';

/** Context-aware completion: cities depend on the `country` already chosen (`context.arguments`). */
export const CITIES: Record<string, string[]> = {
  France: ['Paris', 'Lyon', 'Marseille', 'Lille'],
  Japan: ['Tokyo', 'Osaka', 'Kyoto', 'Sapporo'],
  Brazil: ['São Paulo', 'Rio de Janeiro', 'Brasília', 'Salvador']
};
const startsWith = (typed: string | undefined) => (v: string) => v.toLowerCase().startsWith((typed ?? '').toLowerCase());
const tripArgs = z.object({
  country: completable(z.string().describe('Country'), typed => Object.keys(CITIES).filter(startsWith(typed))),
  city: completable(z.string().describe('City (completion depends on the chosen country)'), (typed, context) => {
    const country = context?.arguments?.['country'];
    const cities = country !== undefined ? (CITIES[country] ?? []) : Object.values(CITIES).flat();
    return cities.filter(startsWith(typed));
  })
});

export function registerClientTesting(server: McpServer, env: FeatureEnv, directory: ResourceDirectory): void {
  const bench = env.clientTesting;
  if (!bench) return;
  registerMirror(server, env.era, env.sessionOf);
  registerFaultTool(server, env.era, bench, env.baseUri);
  registerContentShapes(server, env.era, env.baseUri);
  registerLarge(server, bench);

  server.registerTool(
    'catalogueChange',
    {
      title: 'Change my catalogue',
      description:
        'Adds or removes a tool, prompt or resource for you only (tools and prompts dynamic_<name>, resources bench://dynamic/<name>), or generates a catalogue of `count` tools and prompts (generated_0001 …) that makes tools/list and prompts/list paginated. Your sessions and listen streams get the list-changed notifications; nobody else does.',
      inputSchema: catalogueChangeInput,
      annotations: { readOnlyHint: false, idempotentHint: true, openWorldHint: false },
      icons: BENCH_ICONS
    },
    async (change, ctx: ServerContext): Promise<CallToolResult> => {
      const subject = subjectOf(ctx.http?.authInfo) ?? '';
      const { state, changed } = await bench.catalogue.apply(subject, change);
      bench.announce(subject, changed);
      const summary = { changed, tools: state.tools, prompts: state.prompts, resources: state.resources, generated: state.generated };
      return { content: [{ type: 'text', text: JSON.stringify(summary) }] };
    }
  );

  server.registerPrompt(
    'trip_prompt',
    { title: 'Trip prompt', description: 'Completion that depends on another argument: city completions follow the country in context.arguments.', argsSchema: tripArgs, icons: BENCH_ICONS },
    async ({ country, city }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Plan a trip to ${city}, ${country}.` } }] })
  );

  const iconsUri = 'bench://icons';
  directory.add({ uri: iconsUri, name: 'bench-icons', title: 'Icons and annotations', description: 'A resource with icons (light and dark, several sizes), annotations and lastModified.', mimeType: 'image/png', icons: BENCH_ICONS, annotations: { audience: ['user'], priority: 0.4, lastModified: LAST_MODIFIED } });
  server.registerResource(
    'bench-icons',
    iconsUri,
    { title: 'Icons and annotations', description: 'A resource with icons, annotations and lastModified.', mimeType: 'image/png', icons: BENCH_ICONS, annotations: { audience: ['user'], priority: 0.4, lastModified: LAST_MODIFIED } },
    async () => ({ contents: [{ uri: iconsUri, mimeType: 'image/png', blob: TINY_PNG_BASE64 }] })
  );

}

/**
 * One server instance's part: the caller's own catalogue (registered on the
 * instance, which then stops sharing the registries concerned), and on
 * 2025-era sessions the following of that catalogue and of the client's roots.
 */
export function attachClientTesting(server: McpServer, env: FeatureEnv, directory: ResourceDirectory): void {
  const bench = env.clientTesting;
  if (!bench) return;
  const subject = subjectOf(env.authInfo) ?? '';
  const registrations = new CatalogueRegistrations(server, directory);
  registrations.apply(env.callerCatalogue ?? EMPTY_CATALOGUE);
  if (env.era === 'legacy' && env.session) followCatalogue(server, bench, subject, registrations, env.session);
}

/**
 * A 2025-era session follows its user's catalogue for its lifetime: it reads
 * it once at start, then again on every change addressed to the user (from
 * any instance); (re)registering makes the SDK send list_changed on this
 * session. It also answers `notifications/roots/list_changed` by asking the
 * client for its roots again (what a server should do).
 */
function followCatalogue(server: McpServer, bench: ClientTestingServices, subject: string, registrations: CatalogueRegistrations, session: SessionFeatureState): void {
  let closed = false;
  const sync = () =>
    void bench.catalogue.get(subject).then(
      state => {
        if (!closed) registrations.apply(state);
      },
      err => bench.logger.warn({ err }, 'client testing: could not read the caller catalogue')
    );
  sync();
  const unsubscribe = bench.bus.subscribeAll((event, audience) => {
    if (audience === subject && event.kind !== 'resource_updated') sync();
  });
  const previous = server.server.onclose;
  server.server.onclose = () => {
    closed = true;
    unsubscribe();
    previous?.();
  };

  server.server.setNotificationHandler('notifications/roots/list_changed', async () => {
    const roots = (session.roots ??= { changes: 0, roots: [] });
    roots.changes++;
    try {
      roots.roots = (await server.server.listRoots()).roots;
    } catch (err) {
      bench.logger.debug({ err }, 'client testing: roots/list after list_changed failed');
    }
  });
}
