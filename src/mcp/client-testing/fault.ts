/**
 * `fault`: errors and failures on demand, for the caller's own request or
 * session only (docs/client-testing.md "fault"). `kind` picks the fault.
 *
 * Two layers serve it:
 * - kinds a tool can produce through the SDK (`tool-error`, `delay`,
 *   `url-elicitation-required`, and a resumable `stream-drop` on 2025
 *   sessions) are done by this handler;
 * - kinds below JSON-RPC or that the SDK would not let a handler emit (an
 *   HTTP status, a raw error object, a result that breaks the output schema,
 *   a dribbling, dropped or over-long stream, an expired session) are done
 *   by ./wire-faults.ts through the transports' `HttpFaultHook`, before the
 *   request reaches the SDK. When such a request does reach this handler,
 *   the fault was not injected (rate limit reached, or the transport cannot
 *   carry it) and the result says why, as a tool error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { inputRequired, UrlElicitationRequiredError } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { subjectOf, type Era } from '../features/env.js';
import { BENCH_ICONS } from './media.js';
import { clamp } from './limits.js';
import type { ClientTestingServices } from './services.js';

/** Every fault kind, in documentation order. The names are part of the interface. */
export const FAULT_KINDS = [
  'jsonrpc-error',
  'url-elicitation-required',
  'tool-error',
  'invalid-result',
  'http-429',
  'http-500',
  'http-502',
  'http-503',
  'session-expired',
  'stream-drop',
  'slow-drip',
  'delay',
  'notification-after-result'
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Kinds answered by ./wire-faults.ts (below the SDK). `stream-drop` is wire-level except when resumable on a 2025 session. */
export const WIRE_KINDS: ReadonlySet<FaultKind> = new Set([
  'jsonrpc-error',
  'invalid-result',
  'http-429',
  'http-500',
  'http-502',
  'http-503',
  'session-expired',
  'stream-drop',
  'slow-drip',
  'notification-after-result'
]);

export const FAULT_TOOL = 'fault';

export const faultInput = z.object({
  kind: z.enum(FAULT_KINDS).describe('Which fault to inject (docs/client-testing.md lists what each does and what a correct client does).'),
  code: z.number().int().min(-2_147_483_648).max(2_147_483_647).optional().describe('jsonrpc-error: the error code (default -32603).'),
  message: z.string().max(1000).optional().describe('jsonrpc-error, tool-error: the error message.'),
  data: z.unknown().optional().describe('jsonrpc-error: the error `data` (omitted when absent).'),
  delayMs: z.number().int().min(0).max(600_000).optional().describe('delay: how long; slow-drip: pause between chunks; http-429/503: Retry-After (rounded up to seconds). Clamped to CLIENT_TEST_MAX_DURATION.'),
  sizeBytes: z.number().int().min(1).max(1_048_576).optional().describe('slow-drip: size of the dripped result text (default 256).'),
  resumable: z.boolean().optional().describe('stream-drop: on 2025 sessions, drop a resumable stream (default true) or one without event ids.')
});
export type FaultInput = z.infer<typeof faultInput>;

export const faultOutput = z.object({
  kind: z.string(),
  injected: z.boolean(),
  detail: z.string()
});

/** Default message per JSON-RPC code (JSON-RPC 2.0 §5.1 and MCP). */
export function defaultErrorMessage(code: number): string {
  const known: Record<number, string> = {
    [-32700]: 'Parse error',
    [-32600]: 'Invalid Request',
    [-32601]: 'Method not found',
    [-32602]: 'Invalid params',
    [-32603]: 'Internal error',
    [-32002]: 'Resource not found',
    [-32042]: 'URL elicitation required'
  };
  return known[code] ?? 'Server error';
}

const done = (kind: string, detail: string): CallToolResult => ({
  content: [{ type: 'text', text: detail }],
  structuredContent: { kind, injected: true, detail }
});
const notInjected = (kind: string, detail: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text: detail }] });

/** The URL a client is sent to for `url-elicitation-required`: any page will do; the bench counts the retry as completion. */
export const ELICITATION_URL = (baseUri: string, id: string) => `${baseUri}/?client-testing-elicitation=${encodeURIComponent(id)}`;

export function registerFaultTool(server: McpServer, era: Era, bench: ClientTestingServices, baseUri: string): void {
  server.registerTool(
    FAULT_TOOL,
    {
      title: 'Fault on demand',
      description:
        'Injects the fault named by `kind` into this request (or this session) only: JSON-RPC errors with any code, a tool error, a result that breaks this output schema, HTTP 429/500/502/503, an expired session, a dropped, slow or over-long response stream, a delay, URL elicitation required. Rate limited per user; sizes and durations are bounded.',
      inputSchema: faultInput,
      outputSchema: faultOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
      icons: BENCH_ICONS
    },
    async (args, ctx: ServerContext) => {
      const subject = subjectOf(ctx.http?.authInfo) ?? '';
      const { kind } = args;
      // Resumable stream drop on a 2025 session: the SDK transport closes the
      // POST's SSE stream (its events are in the event store) and the client
      // resumes with Last-Event-ID to get this result.
      const resumableDrop = kind === 'stream-drop' && args.resumable !== false && ctx.http?.closeSSE !== undefined;
      if (WIRE_KINDS.has(kind) && !resumableDrop) {
        if (await bench.faults.exhausted(subject)) {
          return notInjected(kind, `fault ${kind} not injected: this user's fault budget (${bench.limits.faultsPerMinute} per minute) is used up; retry in ${bench.faults.retryAfterSeconds()} s.`);
        }
        return notInjected(kind, `fault ${kind} not injected: this transport cannot carry it (${era === 'modern' ? '2026-07-28 requests have no session' : 'see docs/client-testing.md'}).`);
      }
      if (!(await bench.faults.take(subject))) {
        return notInjected(kind, `fault ${kind} not injected: this user's fault budget (${bench.limits.faultsPerMinute} per minute) is used up; retry in ${bench.faults.retryAfterSeconds()} s.`);
      }
      switch (kind) {
        case 'tool-error':
          return { isError: true, content: [{ type: 'text', text: args.message ?? 'The tool failed (injected tool-error).' }] };
        case 'delay': {
          const ms = clamp(args.delayMs ?? 1000, 0, bench.limits.maxDurationMs);
          await sleep(ms, undefined, { signal: ctx.mcpReq.signal });
          return done(kind, `Answered after ${ms} ms.`);
        }
        case 'stream-drop': {
          ctx.http!.closeSSE!();
          // Let the client notice the drop before the result is recorded for replay.
          await sleep(50, undefined, { signal: ctx.mcpReq.signal });
          return done(kind, 'This result was sent after the response stream was closed; you are reading it because your client resumed the stream.');
        }
        case 'url-elicitation-required':
          return urlElicitation(era, ctx, bench, subject, baseUri);
        default:
          return notInjected(kind, `fault ${kind} not injected`);
      }
    }
  );
}

/**
 * -32042 with the retry path. 2025 eras: the first call fails with
 * `UrlElicitationRequiredError` naming a URL; the next call of the same
 * kind by the same user (the retry after the user visited the URL)
 * succeeds. 2026-07-28 forbids the error and uses `input_required` with a
 * URL elicitation instead; the client's retry carries the answer.
 */
async function urlElicitation(era: Era, ctx: ServerContext, bench: ClientTestingServices, subject: string, baseUri: string): Promise<CallToolResult> {
  const kind = 'url-elicitation-required';
  if (era === 'modern') {
    const answer = ctx.mcpReq.inputResponses?.['visit'] as { action?: unknown } | undefined;
    if (answer !== undefined) return done(kind, `Retried after the URL elicitation; the client answered "${String(answer.action)}".`);
    const id = crypto.randomUUID();
    return inputRequired({
      inputRequests: { visit: inputRequired.elicitUrl({ url: ELICITATION_URL(baseUri, id), message: 'Open this page, then retry the call.' }) }
    }) as unknown as CallToolResult;
  }
  if (await bench.elicitations.consume(subject)) return done(kind, 'Retried after the URL elicitation: the call succeeds now.');
  const id = await bench.elicitations.open(subject);
  throw new UrlElicitationRequiredError([{ mode: 'url', elicitationId: id, url: ELICITATION_URL(baseUri, id), message: 'Open this page, then retry the call.' }], 'This tool needs you to visit a page first (injected -32042).');
}
