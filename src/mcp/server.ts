/**
 * The MCP server factory: one `McpServer` with the whole feature catalogue,
 * built per serving unit (per 2026-07-28 request by `createMcpHandler`, per
 * 2025-era session, per legacy HTTP+SSE connection). Every feature is
 * registered here once and reaches every protocol era; the few differences
 * are decided inside the feature from `env.era`.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import { McpServer } from '@modelcontextprotocol/server';

import type { Era, FeatureEnv, ServerStats, SessionFeatureState } from './features/env.js';
import { registerApps } from './features/apps.js';
import { registerConformanceFixtures } from './features/conformance-fixtures.js';
import { registerHandleTools } from './features/handles.js';
import { registerInteractiveTools } from './features/interactive.js';
import { registerPrompts } from './features/prompts.js';
import { ResourceDirectory, registerResources } from './features/resources.js';
import { registerTools } from './features/tools.js';
import { registerSkills, type ReferenceSkills } from './extensions/skills/index.js';
import { INSTRUCTIONS_MARKER, isEmptyCatalogue, registerClientTesting, SERVER_ICONS, type CatalogueState } from './client-testing/index.js';
import { guardTaskTools, registerTasks, type TaskRuntime } from './extensions/tasks/index.js';

export const SERVER_INFO = {
  name: 'mcp-feature-reference-server',
  title: 'MCP Feature Reference Server',
  version: '0.1.0',
  websiteUrl: 'https://modelcontextprotocol.io',
  icons: SERVER_ICONS
};

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
export type FeatureServices = Omit<FeatureEnv, 'era' | 'authInfo' | 'session'> & McpExtensions;

export interface BuildContext {
  era: Era;
  authInfo?: AuthInfo;
  /** 2025-era sessions only. */
  session?: SessionFeatureState;
  /**
   * 2026-07-28 only: the HTTP request this per-request instance will serve
   * (`createMcpHandler`'s `requestInfo`). When it is a `tools/call` naming a
   * catalogue tool, only that tool is registered (see `calledTool`).
   */
  requestInfo?: Request;
  /** 2026-07-28 only: the caller's dynamic catalogue, read before the build when the request can see it (client-testing `prefetchCatalogue`). */
  callerCatalogue?: CatalogueState;
}

export function buildMcpServer(services: FeatureServices, ctx: BuildContext): McpServer {
  const server = createServer(services, { privateLists: !isEmptyCatalogue(ctx.callerCatalogue) });
  const only = ctx.era === 'modern' ? calledTool(ctx.requestInfo, services) : undefined;
  if (only !== undefined) {
    server.registerTool(...only);
    if (services.tasks) guardTaskTools(server, services.tasks);
    return server;
  }
  registerCatalogue(server, { ...services, era: ctx.era, authInfo: ctx.authInfo, session: ctx.session, callerCatalogue: ctx.callerCatalogue }, services);
  return server;
}

function createServer(services: FeatureServices, options: { privateLists?: boolean } = {}): McpServer {
  // Lists vary by caller once the caller has a catalogue of its own (client testing).
  const lists = options.privateLists ? 'private' : 'public';
  return new McpServer(SERVER_INFO, {
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
    // ttlMs/cacheScope. Lists do not vary by caller, so they may be shared.
    cacheHints: {
      'tools/list': { ttlMs: 300_000, cacheScope: lists },
      'prompts/list': { ttlMs: 300_000, cacheScope: lists },
      'resources/list': { ttlMs: 60_000, cacheScope: lists },
      'resources/templates/list': { ttlMs: 300_000, cacheScope: 'public' },
      'resources/read': { ttlMs: 10_000, cacheScope: 'public' },
      'server/discover': { ttlMs: 300_000, cacheScope: 'public' }
    },
    requestState: { verify: services.stateCodec.verify },
    // Several registrations in one tick (a catalogue change) make one notification.
    debouncedNotificationMethods: ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed']
  });
}

function registerCatalogue(server: McpServer, env: FeatureEnv, extensions: McpExtensions): void {
  const directory = new ResourceDirectory();
  registerTools(server, env);
  registerInteractiveTools(server, env);
  registerHandleTools(server, env);
  registerApps(server, env, directory);
  registerConformanceFixtures(server, env, directory);
  registerResources(server, env, directory);
  if (extensions.skills) registerSkills(server, extensions.skills, directory);
  if (extensions.tasks) registerTasks(server, extensions.tasks, env.era);
  registerPrompts(server, env);
  registerClientTesting(server, env, directory);
}

// ---------------------------------------------------------------- per-request builds for tools/call
//
// A 2026-07-28 request gets a fresh McpServer (createMcpHandler's factory).
// Registering the whole catalogue costs ~10 µs per tool in the SDK (some 60
// registrations), which is most of a tools/call's cost. A tools/call only
// ever reaches the tool it names, so for a tools/call naming a catalogue tool
// the instance registers that tool alone, replaying the `registerTool`
// arguments recorded once per process from a real catalogue build. Replaying
// is sound because a tool's registration is a pure value: its config and
// schemas are module constants, and its handler reaches the caller and the
// session only through the SDK's per-request `ctx` and the process-wide
// services (never `env.authInfo`, `env.session` or the server instance;
// checked by the 2026-07-28 integration and conformance tests). The name
// comes from the `Mcp-Method` / `Mcp-Name` headers, which the SDK requires on
// 2026-07-28 requests and has already cross-checked against the body (a
// mismatch is rejected before the factory runs). Anything else (another
// method, an unknown or encoded name, no request) gets the full catalogue, so
// errors such as "tool not found" are the ones the full server gives.

type ToolRegistration = Parameters<McpServer['registerTool']>;

/**
 * The modern era's `registerTool` calls by tool name, recorded once per
 * services object (one per running server: the handlers close over its store,
 * key and notifier) from a real catalogue build.
 */
const modernTools = new WeakMap<FeatureServices, ReadonlyMap<string, ToolRegistration>>();

function modernToolRegistrations(services: FeatureServices): ReadonlyMap<string, ToolRegistration> {
  let tools = modernTools.get(services);
  if (!tools) {
    const recorded = new Map<string, ToolRegistration>();
    const server = createServer(services);
    const recorder = new Proxy(server, {
      get(target, prop, receiver) {
        if (prop === 'registerTool') {
          return (...args: ToolRegistration) => {
            recorded.set(args[0], args);
            return target.registerTool(...args);
          };
        }
        return Reflect.get(target, prop, receiver);
      }
    });
    // Skills registers no tools and attaches to the real server (not a proxy);
    // Tasks registers tools (recorded here) and methods (on the throw-away server).
    registerCatalogue(recorder, { ...services, era: 'modern' }, { tasks: services.tasks });
    void server.close().catch(() => undefined);
    modernTools.set(services, (tools = recorded));
  }
  return tools;
}

const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * The recorded registration of the catalogue tool a 2026-07-28 `tools/call`
 * names, from its (SDK-validated) headers; else undefined.
 */
export function calledTool(request: Request | undefined, services: FeatureServices): ToolRegistration | undefined {
  if (!request) return undefined;
  const method = request.headers.get('mcp-method');
  if (method === null || method.replace(OWS, '') !== 'tools/call') return undefined;
  const name = request.headers.get('mcp-name')?.replace(OWS, '');
  if (!name) return undefined;
  return modernToolRegistrations(services).get(name);
}

export type { ServerStats };
