/**
 * Large and slow, bounded (docs/client-testing.md "Large and slow"): big
 * results (up to `CLIENT_TEST_MAX_RESULT_BYTES`, 10 MiB by default), up to
 * 1,000 content blocks, deeply nested structured content, progress floods
 * and progress without `total`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallToolResult, ContentBlock, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { subjectOf } from '../features/env.js';
import { BENCH_ICONS } from './media.js';
import { clamp } from './limits.js';
import type { ClientTestingServices } from './services.js';

export const MAX_BLOCKS = 1000;
export const MAX_DEPTH = 256;
export const MAX_PROGRESS = 10_000;

const largeInput = z.object({
  sizeBytes: z.number().int().min(0).max(100 * 1024 * 1024).default(1024 * 1024).describe('Total text size in bytes (clamped to CLIENT_TEST_MAX_RESULT_BYTES)'),
  blocks: z.number().int().min(1).max(MAX_BLOCKS).default(1).describe(`Number of text blocks (1-${MAX_BLOCKS})`),
  depth: z.number().int().min(0).max(MAX_DEPTH).default(0).describe(`Nesting depth of structuredContent (0: none; at most ${MAX_DEPTH})`)
});

const floodInput = z.object({
  count: z.number().int().min(1).max(MAX_PROGRESS).default(1000).describe(`Progress notifications to send (1-${MAX_PROGRESS})`),
  withTotal: z.boolean().default(true).describe('Whether notifications carry `total` (false: progress without total)'),
  intervalMs: z.number().int().min(0).max(10_000).default(0).describe('Pause between notifications (the whole flood is bounded by CLIENT_TEST_MAX_DURATION)')
});

/** `{ level: 1, child: { level: 2, … { level: depth, leaf: true } } }` */
export function nested(depth: number): Record<string, unknown> {
  let node: Record<string, unknown> = { level: depth, leaf: true };
  for (let level = depth - 1; level >= 1; level--) node = { level, child: node };
  return node;
}

/** `blocks` text blocks whose texts add up to exactly `sizeBytes` ASCII bytes. */
export function largeBlocks(sizeBytes: number, blocks: number): ContentBlock[] {
  const per = Math.floor(sizeBytes / blocks);
  const pattern = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
  const fill = (n: number) => pattern.repeat(Math.ceil(n / pattern.length)).slice(0, n);
  return Array.from({ length: blocks }, (_, i) => ({ type: 'text' as const, text: fill(i === blocks - 1 ? sizeBytes - per * (blocks - 1) : per) }));
}

/** Large results and floods cost like faults: they count against the same per-user budget. */
async function overBudget(bench: ClientTestingServices, ctx: ServerContext, tool: string): Promise<CallToolResult | undefined> {
  if (await bench.faults.take(subjectOf(ctx.http?.authInfo) ?? '')) return undefined;
  return { isError: true, content: [{ type: 'text', text: `${tool} not run: this user's budget (${bench.limits.faultsPerMinute} faults, large results and floods per minute) is used up; retry in ${bench.faults.retryAfterSeconds()} s.` }] };
}

export function registerLarge(server: McpServer, bench: ClientTestingServices): void {
  server.registerTool(
    'largeResult',
    {
      title: 'Large result',
      description: `Returns sizeBytes of text in \`blocks\` blocks (at most ${MAX_BLOCKS}), optionally with structuredContent nested \`depth\` levels deep. Sizes are clamped to the server's maximum (CLIENT_TEST_MAX_RESULT_BYTES, 10 MiB by default); calls count against the per-user fault budget.`,
      inputSchema: largeInput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      icons: BENCH_ICONS
    },
    async ({ sizeBytes, blocks, depth }, ctx: ServerContext): Promise<CallToolResult> => {
      const refused = await overBudget(bench, ctx, 'largeResult');
      if (refused) return refused;
      const size = clamp(sizeBytes, blocks, bench.limits.maxResultBytes);
      return { content: largeBlocks(size, blocks), ...(depth > 0 ? { structuredContent: nested(depth) } : {}) };
    }
  );

  server.registerTool(
    'progressFlood',
    {
      title: 'Progress flood',
      description: 'Sends `count` notifications/progress for this request (needs a progressToken), with or without `total`, then returns. Bounded by CLIENT_TEST_MAX_DURATION.',
      inputSchema: floodInput,
      annotations: { readOnlyHint: true, openWorldHint: false },
      icons: BENCH_ICONS
    },
    async ({ count, withTotal, intervalMs }, ctx: ServerContext): Promise<CallToolResult> => {
      const token = ctx.mcpReq._meta?.progressToken;
      if (token === undefined) return { isError: true, content: [{ type: 'text', text: 'progressFlood needs a progressToken in the request _meta (ask your client to report progress).' }] };
      const refused = await overBudget(bench, ctx, 'progressFlood');
      if (refused) return refused;
      const pause = count * intervalMs > bench.limits.maxDurationMs ? Math.floor(bench.limits.maxDurationMs / count) : intervalMs;
      for (let i = 1; i <= count; i++) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, ...(withTotal ? { total: count } : {}), message: `${i}/${withTotal ? count : '?'}` } });
        if (pause > 0 && i < count) await sleep(pause, undefined, { signal: ctx.mcpReq.signal });
      }
      return { content: [{ type: 'text', text: `Sent ${count} progress notifications${withTotal ? '' : ' without total'}.` }] };
    }
  );
}
