/**
 * The MCP server factory: one `McpServer` per serving unit (per 2026-07-28
 * request by `createMcpHandler`, per 2025-era session, per legacy HTTP+SSE
 * connection), serving the one feature catalogue of its era. Every feature
 * is registered once per era and process (`registerCatalogue`, into a
 * template shared by reference: ./catalogue.ts) and reaches every protocol
 * era; the few differences are decided inside the feature from `env.era`.
 * What an instance needs of its own (paged `resources/list` over its
 * directory, 2025 subscriptions, the Tasks methods and guard, the Skills
 * methods, the caller's dynamic catalogue) is wired by `attachInstance`.
 */
import type { AuthInfo, McpServer } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';

import { CatalogueServer, shareRegistries, type SharedRegistries } from './catalogue.js';
import './sdk-close.js';
import type { McpRoute } from './route.js';
import type { Era, FeatureEnv, LiveSession, ServerStats, SessionFeatureState } from './features/env.js';
import { registerApps } from './features/apps.js';
import { registerConformanceFixtures } from './features/conformance-fixtures.js';
import { registerHandleTools } from './features/handles.js';
import { registerInteractiveTools } from './features/interactive.js';
import { registerPrompts } from './features/prompts.js';
import { attachResourceHandlers, ResourceDirectory, registerResources } from './features/resources.js';
import { registerTools } from './features/tools.js';
import { registerSkillManifests, attachSkills, type ReferenceSkills } from './extensions/skills/index.js';
import { attachClientTesting, INSTRUCTIONS_MARKER, isEmptyCatalogue, registerClientTesting, type CatalogueState } from './client-testing/index.js';
import type { Icon } from './client-testing/media.js';
import { INLINE_SERVER_ICONS } from './icons.js';
import { attachTasks, guardTaskTools, registerTaskTools, TASK_TOOLS, type TaskRuntime } from './extensions/tasks/index.js';

export const SERVER_INFO = {
  name: 'mcp-feature-reference-server',
  title: 'MCP Feature Reference Server',
  version: '0.1.0',
  websiteUrl: 'https://modelcontextprotocol.io'
};

/**
 * serverInfo on the results of a 2026-07-28 request other than `server/discover`.
 * That revision stamps serverInfo (`_meta` `io.modelcontextprotocol/serverInfo`)
 * on every result, "for display, logging and debugging"; the Implementation
 * schema requires name and version and leaves the rest optional. Our full
 * identity (title, website, four icon URLs) is ~540 bytes more on every
 * response, the largest remaining CPU difference to the plain floor on the
 * stateless path (docs/performance.md); clients read it from
 * `server/discover` (the SDK client does), so that result, and 2025's
 * `initialize`, carry it in full.
 */
const BRIEF_SERVER_INFO = Object.freeze({ name: SERVER_INFO.name, version: SERVER_INFO.version });

export const INSTRUCTIONS =
  'Reference server demonstrating every MCP feature. Tools: echo, add, longRunningOperation, sampleLLM, startElicitation, ' +
  'structuredContent, createCounter/incrementCounter (server-minted handles), whoami, upstreamProfile (your profile at the identity provider), adminStats (needs mcp:admin). ' +
  'Resources: test://static/resource/{1..100}. Tools, resources and prompts named test_* are conformance-suite fixtures. ' +
  'Client test bench (docs/client-testing.md): mirror, fault, contentShapes, structuredObject/Array/Primitive, largeResult, progressFlood, catalogueChange, trip_prompt. ' +
  `Instructions marker: ${INSTRUCTIONS_MARKER}`;

/** Protocol extensions served beside the catalogue, each from its own module under ./extensions. */
export interface McpExtensions {
  /** Skills (SEP-2640): the catalog from `loadReferenceSkills`; absent, no skills are served. */
  skills?: ReferenceSkills;
  /** Tasks (SEP-2663): the process's task runtime; absent, no task tools or methods are served. */
  tasks?: TaskRuntime;
}

/** Shared services every instance closes over (built once per process). */
export type FeatureServices = Omit<FeatureEnv, 'era' | 'authInfo' | 'session'> &
  McpExtensions & {
    /** serverInfo icons (./icons.ts `serverIconUrls` over HTTP); absent, inline `data:` URLs. */
    serverIcons?: Icon[];
  };

export interface BuildContext {
  era: Era;
  authInfo?: AuthInfo;
  /** 2025-era sessions only. */
  session?: SessionFeatureState;
  /**
   * 2026-07-28 only: what the request this per-request instance will serve is
   * (./route.ts, from `createMcpHandler`'s `requestInfo`). A `tools/call`
   * naming a catalogue tool gets an instance with no wiring of its own (see
   * `sharedToolCalled`).
   */
  route?: McpRoute;
  /** 2026-07-28 only: the caller's dynamic catalogue, read before the build when the request can see it (client-testing `prefetchCatalogue`). */
  callerCatalogue?: CatalogueState;
}

export function buildMcpServer(services: FeatureServices, ctx: BuildContext): McpServer {
  const shared = sharedCatalogue(services, ctx.era);
  // A 2026-07-28 tools/call naming a catalogue tool needs nothing of its own
  // but the Tasks guard: it only ever reaches that tool (see `sharedToolCalled`),
  // so its instance is built with the tools and logging capabilities alone
  // (no resources, prompts or completion handlers to install and throw away).
  const called = ctx.era === 'modern' ? sharedToolCalled(ctx.route, shared) : undefined;
  if (called !== undefined) {
    const server = createServer(services, 'call', 'brief');
    server.adopt(shared.registries, { completions: false });
    // The guard acts on task-running tools only (-32021, the task limits).
    if (services.tasks && TASK_TOOLS.has(called)) guardTaskTools(server, services.tasks);
    return server;
  }
  const identity = ctx.era === 'modern' && ctx.route !== undefined && ctx.route.method !== 'server/discover' ? 'brief' : 'full';
  const server = createServer(services, isEmptyCatalogue(ctx.callerCatalogue) ? 'public' : 'private', identity);
  server.adopt(shared.registries);
  attachInstance(server, { ...services, era: ctx.era, authInfo: ctx.authInfo, session: ctx.session, callerCatalogue: ctx.callerCatalogue }, services, shared);
  return server;
}

function createServer(services: FeatureServices, variant: ServerVariant = 'public', identity: 'full' | 'brief' = 'full'): CatalogueServer {
  const shared = preparedFor(services);
  return new CatalogueServer(identity === 'brief' ? BRIEF_SERVER_INFO : shared.serverInfo, shared.options[variant]);
}

/**
 * What every instance of one running server shares, built once per services
 * object (one per running server: the handlers close over its store, key and
 * notifier): its serverInfo, its server options, and each era's catalogue.
 */
interface Prepared {
  /** With its icons: same-origin URLs over HTTP (`services.serverIcons`), inline on stdio (./icons.ts). */
  serverInfo: typeof SERVER_INFO & { icons: Icon[] };
  options: Record<ServerVariant, ServerOptions>;
  catalogues: Partial<Record<Era, SharedCatalogue>>;
}

const prepared = new WeakMap<FeatureServices, Prepared>();

function preparedFor(services: FeatureServices): Prepared {
  let p = prepared.get(services);
  if (!p) {
    p = { serverInfo: { ...SERVER_INFO, icons: services.serverIcons ?? INLINE_SERVER_ICONS }, options: serverOptionsFor(services), catalogues: {} };
    prepared.set(services, p);
  }
  return p;
}

/** Lists shared by every caller (`public`) or varying by caller (`private`); `call`: a 2026-07-28 tools/call. */
type ServerVariant = 'public' | 'private' | 'call';

type ServerOptions = NonNullable<ConstructorParameters<typeof McpServer>[1]>;

/**
 * The options every instance is built with (the SDK copies what it changes),
 * in three variants (`ServerVariant`).
 * One JSON Schema validator serves every instance: the SDK's default is one
 * per instance, which builds its own Ajv engines (and compiles its own
 * schemas) the first time an instance validates an elicitation answer.
 */
function serverOptionsFor(services: FeatureServices): Record<ServerVariant, ServerOptions> {
  const jsonSchemaValidator = new AjvJsonSchemaValidator();
  const build = (lists: 'public' | 'private'): ServerOptions => ({
    capabilities: {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      completions: {},
      // Deprecated since 2026-07-28 (SEP-2577); still negotiated by 2025 clients.
      logging: {}
    },
    instructions: INSTRUCTIONS,
    // MCP 2026-07-28 server/utilities/caching: every cacheable result carries
    // ttlMs/cacheScope. Lists vary by caller once the caller has a catalogue
    // of its own (client testing): then they are private.
    cacheHints: {
      'tools/list': { ttlMs: 300_000, cacheScope: lists },
      'prompts/list': { ttlMs: 300_000, cacheScope: lists },
      'resources/list': { ttlMs: 60_000, cacheScope: lists },
      'resources/templates/list': { ttlMs: 300_000, cacheScope: 'public' },
      'resources/read': { ttlMs: 10_000, cacheScope: 'public' },
      'server/discover': { ttlMs: 300_000, cacheScope: 'public' }
    },
    requestState: { verify: services.stateCodec.verify },
    jsonSchemaValidator,
    // Several registrations in one tick (a catalogue change) make one notification.
    debouncedNotificationMethods: ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed']
  });
  const publicLists = build('public');
  return { public: publicLists, private: build('private'), call: { ...publicLists, capabilities: { tools: { listChanged: true }, logging: {} } } };
}

// ---------------------------------------------------------------- the shared catalogue
//
// Every registration below is a pure value: its config and schemas are
// module constants, and its handler reaches the caller and the session only
// through the SDK's per-request `ctx` and the process-wide services (the
// session's own state by `ctx.sessionId`, through `env.sessionOf`), never
// through `env.authInfo`, `env.session` or the server instance. That is what
// lets one build serve every instance of the era (./catalogue.ts); what an
// instance needs of its own goes in `attachInstance`.

/** The catalogue of one era (built once per running server: `Prepared`). */
interface SharedCatalogue {
  registries: SharedRegistries;
  /** `resources/list`'s fixed entries, in order (instances read it until they add their own). */
  directory: ResourceDirectory;
}

function sharedCatalogue(services: FeatureServices, era: Era): SharedCatalogue {
  const byEra = preparedFor(services).catalogues;
  let catalogue = byEra[era];
  if (!catalogue) {
    const template = createServer(services);
    const directory = new ResourceDirectory();
    registerCatalogue(template, { ...services, era }, services, directory);
    catalogue = byEra[era] = { registries: shareRegistries(template), directory };
  }
  return catalogue;
}

/** Builds both eras' catalogues now (at start-up), so that no client's first request waits for one. */
export function prepareCatalogues(services: FeatureServices): void {
  sharedCatalogue(services, 'legacy');
  sharedCatalogue(services, 'modern');
}

function registerCatalogue(server: McpServer, env: FeatureEnv, extensions: McpExtensions, directory: ResourceDirectory): void {
  registerTools(server, env);
  registerInteractiveTools(server, env);
  registerHandleTools(server, env);
  registerApps(server, env, directory);
  registerConformanceFixtures(server, env, directory);
  registerResources(server);
  if (extensions.skills) registerSkillManifests(extensions.skills, directory);
  if (extensions.tasks) registerTaskTools(server, extensions.tasks, env.era);
  registerPrompts(server, env);
  registerClientTesting(server, env, directory);
}

/** What one instance needs of its own, beside the shared catalogue. */
function attachInstance(server: CatalogueServer, env: FeatureEnv, extensions: McpExtensions, shared: SharedCatalogue): void {
  const directory = shared.directory.view();
  attachResourceHandlers(server, env, directory);
  if (extensions.skills) attachSkills(server, extensions.skills);
  if (extensions.tasks) attachTasks(server, extensions.tasks, env.era);
  attachClientTesting(server, env, directory);
}

// ---------------------------------------------------------------- 2026-07-28 tools/call
//
// A 2026-07-28 request gets a fresh instance (createMcpHandler's factory).
// Adopting the shared catalogue costs next to nothing, but the per-instance
// wiring does (the Skills template registration, the Tasks methods, the
// caller's dynamic catalogue). A tools/call only ever reaches the tool it
// names, so a tools/call naming a catalogue tool skips that wiring. The name
// comes from the `Mcp-Method` / `Mcp-Name` headers, which the SDK requires on
// 2026-07-28 requests and has already cross-checked against the body (a
// mismatch is rejected before the factory runs). Anything else (another
// method, an unknown or encoded name, a caller's dynamic tool, no request)
// gets the full wiring, so errors such as "tool not found" are the ones the
// full server gives.

/** The tool of the shared catalogue this 2026-07-28 request calls; else undefined. */
function sharedToolCalled(route: McpRoute | undefined, shared: SharedCatalogue): string | undefined {
  if (route?.method !== 'tools/call' || route.name === undefined) return undefined;
  return Object.hasOwn(shared.registries.registries._registeredTools, route.name) ? route.name : undefined;
}

export type { LiveSession, ServerStats, SessionFeatureState };
