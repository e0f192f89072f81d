/**
 * A stateful tool built on server-minted handles (SEP-2567, MCP 2026-07-28:
 * no protocol sessions; cross-call state lives behind explicit handles passed
 * as ordinary tool arguments). Following the SEP's guidance:
 *
 * - the handle is opaque: `ctr_` + 128 random bits (base64url);
 * - possession is not authorization: the counter records its owner (the
 *   token subject) and another caller gets the same "unknown" answer;
 * - durability is in the tool description: counters expire 24 h after
 *   creation;
 * - an unknown or expired handle gets an error that says so, so the model can
 *   recover by creating a new counter.
 *
 * Storage: `mcp:counter:{sha256(handle)}` (JSON owner/start) and
 * `mcp:counter:{sha256(handle)}:n` (atomic increment count), both expiring
 * with the counter. Keys hold a hash of the handle, never the handle.
 * Works the same in both eras and across instances (the store is shared).
 */
import { createHash, randomBytes } from 'node:crypto';

import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { hashTag } from '../../store/keys.js';
import { ICONS } from './content.js';
import type { FeatureEnv } from './env.js';
import { subjectOf } from './env.js';

export const COUNTER_TTL_MS = 24 * 60 * 60 * 1000;
const HANDLE = /^ctr_[A-Za-z0-9_-]{22}$/;

/** Tagged with the handle's hash: the record and its `:n` counter share a slot (docs/storage-schema.md "Redis Cluster"). */
const counterKey = (handle: string) => `mcp:counter:${hashTag(createHash('sha256').update(handle).digest('base64url'))}`;
const ownerOf = (ctx: ServerContext) => subjectOf(ctx.http?.authInfo) ?? '';

const CounterRecord = z.object({ owner: z.string(), start: z.number().int(), label: z.string().optional() });
const counterOutput = z.object({ counterId: z.string(), value: z.number(), label: z.string().optional() });

function unknownCounter(counterId: string): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `Counter ${counterId} does not exist or has expired (counters live 24 hours). Call createCounter to make a new one.` }]
  };
}

// Built once per process, not per McpServer (see tools.ts and docs/performance.md).
const createCounterInput = z.object({
  start: z.number().int().min(-1_000_000).max(1_000_000).default(0).describe('Initial value'),
  label: z.string().max(100).optional().describe('Optional label')
});
const handleInput = z.object({ counterId: z.string().describe('Handle returned by createCounter') });

export function registerHandleTools(server: McpServer, env: FeatureEnv): void {
  server.registerTool(
    'createCounter',
    {
      title: 'Create a counter',
      description:
        'Creates a counter and returns its handle (counterId). Pass the counterId to incrementCounter and getCounter. Counters belong to the caller and expire 24 hours after creation.',
      inputSchema: createCounterInput,
      outputSchema: counterOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ start, label }, ctx: ServerContext) => {
      const counterId = `ctr_${randomBytes(16).toString('base64url')}`;
      const record = { owner: ownerOf(ctx), start, ...(label ? { label } : {}) };
      await env.store.set(counterKey(counterId), JSON.stringify(record), COUNTER_TTL_MS);
      const out = { counterId, value: start, ...(label ? { label } : {}) };
      return { content: [{ type: 'text', text: `Created counter ${counterId} with value ${start}.` }], structuredContent: out };
    }
  );

  const load = async (counterId: string, ctx: ServerContext) => {
    if (!HANDLE.test(counterId)) return undefined;
    const raw = await env.store.get(counterKey(counterId));
    if (raw === undefined) return undefined;
    const parsed = CounterRecord.safeParse(JSON.parse(raw));
    if (!parsed.success || parsed.data.owner !== ownerOf(ctx)) return undefined;
    return parsed.data;
  };

  server.registerTool(
    'incrementCounter',
    {
      title: 'Increment a counter',
      description: 'Adds one to the counter named by counterId (from createCounter) and returns the new value.',
      inputSchema: handleInput,
      outputSchema: counterOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ counterId }, ctx: ServerContext) => {
      const record = await load(counterId, ctx);
      if (!record) return unknownCounter(counterId);
      const key = counterKey(counterId);
      const remaining = (await env.store.ttl(key)) ?? 1;
      const n = await env.store.increment(`${key}:n`, remaining);
      const out = { counterId, value: record.start + n, ...(record.label ? { label: record.label } : {}) };
      return { content: [{ type: 'text', text: `Counter ${counterId} is now ${out.value}.` }], structuredContent: out };
    }
  );

  server.registerTool(
    'getCounter',
    {
      title: 'Read a counter',
      description: 'Returns the current value of the counter named by counterId (from createCounter).',
      inputSchema: handleInput,
      outputSchema: counterOutput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: ICONS.tool
    },
    async ({ counterId }, ctx: ServerContext) => {
      const record = await load(counterId, ctx);
      if (!record) return unknownCounter(counterId);
      const n = Number((await env.store.get(`${counterKey(counterId)}:n`)) ?? 0);
      const out = { counterId, value: record.start + n, ...(record.label ? { label: record.label } : {}) };
      return { content: [{ type: 'text', text: `Counter ${counterId} is ${out.value}.` }], structuredContent: out };
    }
  );
}
