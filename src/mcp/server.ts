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

export const SERVER_INFO = {
  name: 'mcp-feature-reference-server',
  title: 'MCP Feature Reference Server',
  version: '0.1.0',
  websiteUrl: 'https://modelcontextprotocol.io'
};

export const INSTRUCTIONS =
  'Reference server demonstrating every MCP feature. Tools: echo, add, longRunningOperation, sampleLLM, startElicitation, ' +
  'structuredContent, createCounter/incrementCounter (server-minted handles), whoami, adminStats (needs mcp:admin). ' +
  'Resources: test://static/resource/{1..100}. Tools, resources and prompts named test_* are conformance-suite fixtures.';

/** Shared services every instance closes over (built once per process). */
export type FeatureServices = Omit<FeatureEnv, 'era' | 'authInfo' | 'session'>;

export interface BuildContext {
  era: Era;
  authInfo?: AuthInfo;
  /** 2025-era sessions only. */
  session?: SessionFeatureState;
}

export function buildMcpServer(services: FeatureServices, ctx: BuildContext): McpServer {
  const env: FeatureEnv = { ...services, era: ctx.era, authInfo: ctx.authInfo, session: ctx.session };
  const server = new McpServer(SERVER_INFO, {
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
      'tools/list': { ttlMs: 300_000, cacheScope: 'public' },
      'prompts/list': { ttlMs: 300_000, cacheScope: 'public' },
      'resources/list': { ttlMs: 60_000, cacheScope: 'public' },
      'resources/templates/list': { ttlMs: 300_000, cacheScope: 'public' },
      'resources/read': { ttlMs: 10_000, cacheScope: 'public' },
      'server/discover': { ttlMs: 300_000, cacheScope: 'public' }
    },
    requestState: { verify: services.stateCodec.verify }
  });

  const directory = new ResourceDirectory();
  registerTools(server, env);
  registerInteractiveTools(server, env);
  registerHandleTools(server, env);
  registerApps(server, env, directory);
  registerConformanceFixtures(server, env, directory);
  registerResources(server, env, directory);
  registerPrompts(server, env);
  return server;
}

export type { ServerStats };
