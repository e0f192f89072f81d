/**
 * The tool catalogue a client author expects from the reference server:
 * plain tools, progress and cancellation, content types and annotations,
 * structured output, resource links, and the admin/identity tools that show
 * how authorization reaches a tool. The interactive tools (sampling,
 * elicitation, roots) live in interactive.ts, the stateful handle tools in
 * handles.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { fromJsonSchema, requireScopes } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { FeatureEnv } from './env.js';
import { subjectOf } from './env.js';
import { ICONS, TINY_PNG_BASE64 } from './content.js';
import { staticResourceContents, STATIC_RESOURCE_COUNT, staticResourceUri } from './resources.js';
import { TOOL_REQUIRED_SCOPES } from './scopes.js';

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

/** Deterministic demo weather, so tests can assert exact values. */
export function demoWeather(location: string): { location: string; temperature: number; conditions: string; humidity: number } {
  let h = 0;
  for (const ch of location.toLowerCase()) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  const conditions = ['Sunny', 'Partly cloudy', 'Cloudy', 'Light rain', 'Windy'][h % 5]!;
  return { location, temperature: Math.round(((h % 400) / 10 - 5) * 10) / 10, conditions, humidity: 30 + (h % 60) };
}

export function firstPrimes(count: number): number[] {
  const out: number[] = [];
  for (let n = 2; out.length < count; n++) if (out.every(p => n % p !== 0)) out.push(n);
  return out;
}

// Schemas are immutable values, so they are built once per process here rather
// than inside registerTools: the 2026-07-28 path builds a fresh McpServer for
// every request (createMcpHandler's factory), and building the zod schemas and
// compiling the JSON Schema validators (fromJsonSchema compiles with Ajv at
// once) per request dominated its CPU profile (docs/performance.md).
const echoInput = z.object({ message: z.string().describe('Message to echo') });
const addInput = z.object({ a: z.number().describe('First number'), b: z.number().describe('Second number') });
const longRunningInput = z.object({
  duration: z.number().min(0).max(600).default(10).describe('Duration of the operation in seconds'),
  steps: z.number().int().min(1).max(100).default(5).describe('Number of steps')
});
const annotatedMessageInput = z.object({
  messageType: z.enum(['error', 'success', 'debug']).describe('Type of message to demonstrate different annotation patterns'),
  includeImage: z.boolean().default(false).describe('Whether to include an example image')
});
const resourceReferenceInput = z.object({
  resourceId: z.number().int().min(1).max(STATIC_RESOURCE_COUNT).describe(`ID of the resource to embed (1-${STATIC_RESOURCE_COUNT})`)
});
const resourceLinksInput = z.object({ count: z.number().int().min(1).max(10).default(3).describe('Number of resource links to return (1-10)') });
const weatherInput = z.object({ location: z.string().min(1).describe('City name or zip code') });
const weatherSchema = z.object({
  location: z.string(),
  temperature: z.number().describe('Temperature in celsius'),
  conditions: z.string(),
  humidity: z.number().describe('Relative humidity in percent')
});
const primesInput = z.object({ count: z.number().int().min(1).max(100).default(10).describe('How many primes (1-100)') });
const primesArraySchema = { type: 'array', items: { type: 'integer' }, description: 'The first `count` prime numbers' };
const primesOutputModern = fromJsonSchema<number[]>(primesArraySchema);
const primesOutputLegacy = fromJsonSchema<{ primes: number[] }>({ type: 'object', properties: { primes: primesArraySchema }, required: ['primes'] });
const whoamiOutput = z.object({
  authenticated: z.boolean(),
  subject: z.string().nullable(),
  clientId: z.string().nullable(),
  scopes: z.array(z.string()),
  expiresAt: z.number().nullable(),
  /** Who signed in at the identity provider (internal mode); null when unknown here. */
  upstream: z
    .object({
      provider: z.string(),
      issuer: z.string(),
      subject: z.string(),
      email: z.string().optional(),
      emailVerified: z.boolean().optional(),
      name: z.string().optional(),
      login: z.string().optional()
    })
    .nullable()
});
const adminStatsOutput = z.object({
  uptimeSeconds: z.number(),
  streamableSessions: z.number(),
  sseSessions: z.number(),
  listenStreams: z.number(),
  storage: z.string()
});

export function registerTools(server: McpServer, env: FeatureEnv): void {
  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Echoes back the message it is given.',
      inputSchema: echoInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.text
    },
    async ({ message }) => text(`Echo: ${message}`)
  );

  server.registerTool(
    'add',
    {
      title: 'Add two numbers',
      description: 'Adds two numbers.',
      inputSchema: addInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ a, b }) => text(`The sum of ${a} and ${b} is ${a + b}.`)
  );

  server.registerTool(
    'longRunningOperation',
    {
      title: 'Long-running operation',
      description:
        'Runs for `duration` seconds in `steps` steps, reporting progress after each step when the request carries a progressToken. Stops when the request is cancelled.',
      inputSchema: longRunningInput,
      annotations: { readOnlyHint: true, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ duration, steps }, ctx: ServerContext) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      const stepMs = (duration * 1000) / steps;
      for (let i = 1; i <= steps; i++) {
        await sleep(stepMs, undefined, { signal: ctx.mcpReq.signal });
        // MCP progress: only with a client-supplied token, values strictly increasing.
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress: i, total: steps, message: `Step ${i} of ${steps}` }
          });
        }
      }
      return text(`Long running operation completed. Duration: ${duration} seconds, Steps: ${steps}.`);
    }
  );

  server.registerTool(
    'getTinyImage',
    {
      title: 'Tiny image',
      description: 'Returns a tiny PNG image between two text blocks.',
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.image
    },
    async () => ({
      content: [
        { type: 'text', text: 'This is a tiny image:' },
        { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' },
        { type: 'text', text: 'The image above is the MCP reference server tiny image.' }
      ]
    })
  );

  server.registerTool(
    'annotatedMessage',
    {
      title: 'Annotated message',
      description: 'Returns content with annotations (audience, priority) that tell the client who should see it and how important it is.',
      inputSchema: annotatedMessageInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.text
    },
    async ({ messageType, includeImage }) => {
      const byType = {
        error: { text: 'Error: Operation failed', annotations: { priority: 1.0, audience: ['user', 'assistant'] as Array<'user' | 'assistant'> } },
        success: { text: 'Operation completed successfully', annotations: { priority: 0.7, audience: ['user'] as Array<'user' | 'assistant'> } },
        debug: { text: 'Debug: Cache hit ratio 0.95, latency 150ms', annotations: { priority: 0.3, audience: ['assistant'] as Array<'user' | 'assistant'> } }
      }[messageType];
      const content: CallToolResult['content'] = [{ type: 'text', text: byType.text, annotations: byType.annotations }];
      if (includeImage) {
        content.push({ type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png', annotations: { priority: 0.5, audience: ['user'] } });
      }
      return { content };
    }
  );

  server.registerTool(
    'getResourceReference',
    {
      title: 'Resource reference',
      description: `Returns one of the ${STATIC_RESOURCE_COUNT} static resources as an embedded resource.`,
      inputSchema: resourceReferenceInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ resourceId }) => ({
      content: [
        { type: 'text', text: `Returning resource reference for Resource ${resourceId}:` },
        { type: 'resource', resource: staticResourceContents(resourceId) },
        { type: 'text', text: `You can access this resource using the URI: ${staticResourceUri(resourceId)}` }
      ]
    })
  );

  server.registerTool(
    'getResourceLinks',
    {
      title: 'Resource links',
      description: 'Returns resource links (type "resource_link") to the first `count` static resources, without their contents.',
      inputSchema: resourceLinksInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ count }) => {
      const content: CallToolResult['content'] = [{ type: 'text', text: `Here are ${count} resource links to resources available in this server:` }];
      for (let id = 1; id <= count; id++) {
        content.push({
          type: 'resource_link',
          uri: staticResourceUri(id),
          name: `Resource ${id}`,
          description: `Resource ${id}: ${id % 2 === 1 ? 'plaintext resource' : 'binary blob resource'}`,
          mimeType: id % 2 === 1 ? 'text/plain' : 'application/octet-stream'
        });
      }
      return { content };
    }
  );

  server.registerTool(
    'structuredContent',
    {
      title: 'Structured content (object)',
      description: 'Returns demo weather for a location as structuredContent matching an object outputSchema, plus the same JSON as text.',
      inputSchema: weatherInput,
      outputSchema: weatherSchema,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ location }) => {
      const weather = demoWeather(location);
      return { content: [{ type: 'text', text: JSON.stringify(weather) }], structuredContent: weather };
    }
  );

  // A non-object structured result. 2026-07-28 allows any JSON value in
  // structuredContent and any JSON Schema as outputSchema (SEP-2106), so the
  // modern era gets a bare array. 2025-11-25 requires `type: "object"` for
  // outputSchema and an object structuredContent, so 2025-era clients get the
  // same array wrapped as `{ "primes": [...] }`.
  server.registerTool(
    'getPrimes',
    {
      title: 'Structured content (array)',
      description:
        'Returns the first `count` prime numbers as structuredContent. On MCP 2026-07-28 the result is a JSON array; on 2025 revisions (object-only structured output) it is wrapped as {"primes": [...]}.',
      inputSchema: primesInput,
      outputSchema: env.era === 'modern' ? primesOutputModern : primesOutputLegacy,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ count }) => {
      const primes = firstPrimes(count);
      const structured = env.era === 'modern' ? primes : { primes };
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured as unknown as Record<string, unknown> };
    }
  );

  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description: 'Returns the authenticated caller: subject, client id, scopes and token expiry (from the validated access token).',
      outputSchema: whoamiOutput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.user
    },
    async (ctx: ServerContext) => {
      const auth = ctx.http?.authInfo;
      const upstream = auth?.token && env.upstream ? ((await env.upstream.identity(auth.token)) ?? null) : null;
      const who = {
        authenticated: auth !== undefined,
        subject: subjectOf(auth) ?? null,
        clientId: auth?.clientId ?? null,
        scopes: auth?.scopes ?? [],
        expiresAt: auth?.expiresAt ?? null,
        upstream
      };
      let summary = !auth
        ? 'Anonymous: authorization is not enabled on this server.'
        : auth.extra?.['transport'] === 'stdio'
          ? `You are the local user ${who.subject} (stdio: no OAuth; the identity is the account that started the server).`
          : `You are ${who.subject ?? '(no subject)'} via client ${who.clientId}.`;
      if (upstream && upstream.provider !== 'mock') {
        summary += ` Signed in at ${upstream.provider} (${upstream.issuer}) as ${upstream.name ?? upstream.login ?? upstream.email ?? upstream.subject}${upstream.email ? ` <${upstream.email}>` : ''}, subject ${upstream.subject}.`;
      }
      return { content: [{ type: 'text', text: summary }], structuredContent: who };
    }
  );

  server.registerTool(
    'upstreamProfile',
    {
      title: 'Profile at the identity provider',
      description:
        'Calls the identity provider’s userinfo endpoint (GitHub: /user) for you, server-side, with the provider token stored (sealed) for this sign-in, refreshed when needed. The provider token itself is never returned.',
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
      icons: ICONS.user
    },
    async (ctx: ServerContext) => {
      const token = ctx.http?.authInfo?.token;
      if (!token) return { content: [{ type: 'text', text: 'Authorization is not enabled on this server: there is no sign-in to look up.' }], isError: true };
      if (!env.upstream) {
        return { content: [{ type: 'text', text: 'The identity provider is reached by the authorization server, which runs in another process here (external mode).' }], isError: true };
      }
      const result = await env.upstream.profile(token);
      if (!result.ok) return { content: [{ type: 'text', text: result.message }], structuredContent: { error: result.error }, isError: true };
      return {
        content: [{ type: 'text', text: JSON.stringify(result.profile) }],
        structuredContent: { provider: result.provider, profile: result.profile }
      };
    }
  );

  const adminScopes = TOOL_REQUIRED_SCOPES['adminStats']!;
  server.registerTool(
    'adminStats',
    {
      title: 'Admin statistics',
      description: `Server statistics for operators. Requires the OAuth scope ${adminScopes.join(' ')} (a token without it gets HTTP 403 insufficient_scope: step up).`,
      annotations: { readOnlyHint: true, openWorldHint: false },
      icons: ICONS.lock,
      // The RS bearer gate answers 403 from TOOL_REQUIRED_SCOPES; this is the
      // same rule at the SDK layer, in case the tool is mounted elsewhere.
      scopeChallenge: requireScopes(adminScopes[0]!, ...adminScopes.slice(1)),
      outputSchema: adminStatsOutput
    },
    async (ctx: ServerContext) => {
      const auth = ctx.http?.authInfo;
      if (auth && !adminScopes.every(s => auth.scopes.includes(s))) {
        return { isError: true, content: [{ type: 'text', text: `insufficient_scope: this tool requires ${adminScopes.join(' ')}` }] };
      }
      const s = env.stats();
      const stats = {
        uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
        streamableSessions: s.streamableSessions,
        sseSessions: s.sseSessions,
        listenStreams: s.listenStreams,
        storage: env.store.kind
      };
      return { content: [{ type: 'text', text: JSON.stringify(stats) }], structuredContent: stats };
    }
  );
}
