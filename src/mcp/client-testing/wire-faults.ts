/**
 * The HTTP-level half of `fault` (./fault.ts): the transports' `HttpFaultHook`
 * (../http/fault-hook.ts). It looks only at a `tools/call` of `fault` whose
 * kind lives below JSON-RPC, counts it against the caller's fault budget,
 * and answers that request itself, on the caller's own response or stream:
 *
 *   http-429 / http-503   status + Retry-After + JSON-RPC error body
 *   http-500              status + JSON-RPC error body
 *   http-502              status + an HTML body (what a gateway sends)
 *   session-expired       the caller's session is closed; 404 + -32001
 *   jsonrpc-error         the error object exactly as asked (code, message, data)
 *   invalid-result        a result whose structuredContent breaks fault's outputSchema
 *   stream-drop           SSE stream opened, then closed with no result and no event id
 *   slow-drip             the result's SSE event written a few bytes at a time
 *   notification-after-result  the result, then notifications for the finished request
 *
 * On the legacy HTTP+SSE transport, HTTP statuses answer the POST /message;
 * everything else goes on the session's stream (a dropped stream ends the
 * session there, as it would for real).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Request, Response } from 'express';

import { subjectOf } from '../features/env.js';
import type { FaultChannel, HttpFaultHook } from '../http/fault-hook.js';
import { defaultErrorMessage, FAULT_TOOL, faultInput, WIRE_KINDS, type FaultInput } from './fault.js';
import { clamp } from './limits.js';
import type { ClientTestingServices } from './services.js';

type JsonRpcId = string | number;
type Message = Record<string, unknown>;

/** How many bytes `slow-drip` writes at a time, at least (more when the duration bound needs it). */
export const DRIP_CHUNK_BYTES = 16;

interface FaultCall {
  id: JsonRpcId;
  args: FaultInput;
  progressToken?: string | number;
}

/** The `fault` call in this request body, when it asks for a wire-level kind; else undefined. */
export function wireFaultCall(body: unknown): FaultCall | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const m = body as { method?: unknown; id?: unknown; params?: { name?: unknown; arguments?: unknown; _meta?: { progressToken?: unknown } } };
  if (m.method !== 'tools/call' || m.params?.name !== FAULT_TOOL) return undefined;
  if (typeof m.id !== 'string' && typeof m.id !== 'number') return undefined;
  const parsed = faultInput.safeParse(m.params.arguments ?? {});
  if (!parsed.success || !WIRE_KINDS.has(parsed.data.kind)) return undefined;
  const token = m.params._meta?.progressToken;
  return { id: m.id, args: parsed.data, progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined };
}

/** Whether the transport can carry this fault (otherwise the tool handler explains, as a tool error). */
function applies(call: FaultCall, channel: FaultChannel): boolean {
  if (call.args.kind === 'session-expired') return channel.transport !== 'modern';
  // A resumable drop on a 2025 session is done by the handler through the SDK transport.
  if (call.args.kind === 'stream-drop') return !(channel.transport === 'session' && call.args.resumable !== false);
  return true;
}

const sse = (message: Message) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

export function createWireFaults(bench: ClientTestingServices, serverInfo: Record<string, unknown>): HttpFaultHook {
  const { limits, logger } = bench;

  return {
    wants: req => wireFaultCall(req.body) !== undefined,
    async intercept(req: Request & { auth?: AuthInfo }, res: Response, channel: FaultChannel): Promise<boolean> {
      const call = wireFaultCall(req.body);
      if (!call || !applies(call, channel)) return false;
      if (!(await bench.faults.take(subjectOf(req.auth) ?? ''))) return false; // the handler says "budget used up"
      (req.log ?? logger).info({ fault: call.args.kind, transport: channel.transport }, 'client testing: injecting a fault');
      const modern = channel.transport === 'modern';
      const result = (structured: Record<string, unknown>, text: string): Message => ({
        jsonrpc: '2.0',
        id: call.id,
        result: {
          content: [{ type: 'text', text }],
          structuredContent: structured,
          ...(modern ? { resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': serverInfo } } : {})
        }
      });
      const errorMessage = (code: number, message: string, data?: unknown): Message => ({
        jsonrpc: '2.0',
        id: call.id,
        error: { code, message, ...(data !== undefined ? { data } : {}) }
      });
      const retryAfter = String(Math.max(1, Math.ceil(clamp(call.args.delayMs ?? 1000, 0, limits.maxDurationMs) / 1000)));
      const status = (code: number, headers: Record<string, string>, body: string) => {
        res.status(code).set({ 'Cache-Control': 'no-store', ...headers }).send(body);
      };
      const json = (m: Message) => JSON.stringify(m);

      // Answers below JSON-RPC: the same on every transport (on legacy SSE, on the POST).
      switch (call.args.kind) {
        case 'http-429':
          status(429, { 'Retry-After': retryAfter, 'Content-Type': 'application/json' }, json(errorMessage(-32000, 'Too Many Requests (injected fault)')));
          return true;
        case 'http-500':
          status(500, { 'Content-Type': 'application/json' }, json(errorMessage(-32603, 'Internal error (injected fault)')));
          return true;
        case 'http-502':
          status(502, { 'Content-Type': 'text/html; charset=utf-8' }, '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>injected fault</p></body></html>');
          return true;
        case 'http-503':
          status(503, { 'Retry-After': retryAfter, 'Content-Type': 'application/json' }, json(errorMessage(-32000, 'Service Unavailable (injected fault)')));
          return true;
        case 'session-expired':
          if (channel.transport === 'session') await channel.expire();
          if (channel.transport === 'legacy-sse') await channel.stream.close();
          status(404, { 'Content-Type': 'application/json' }, json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
          return true;
      }

      // Answers in JSON-RPC: a response of their own, or on the legacy stream.
      const code = call.args.code ?? -32603;
      const frames: string[] = [];
      switch (call.args.kind) {
        case 'jsonrpc-error':
          frames.push(sse(errorMessage(code, call.args.message ?? defaultErrorMessage(code), call.args.data)));
          break;
        case 'invalid-result':
          frames.push(sse(result({ kind: 42, injected: 'yes' }, 'This result breaks the tool outputSchema (kind is a number, detail is missing).')));
          break;
        case 'notification-after-result':
          frames.push(sse(result({ kind: 'notification-after-result', injected: true, detail: 'notifications follow this result' }, 'Notifications for this request follow its result.')));
          if (call.progressToken !== undefined) frames.push(sse({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: call.progressToken, progress: 1, total: 1, message: 'after the result' } }));
          frames.push(sse({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', logger: 'client-testing', data: 'notification after the result' } }));
          break;
        case 'slow-drip': {
          const size = clamp(call.args.sizeBytes ?? 256, 1, 1_048_576);
          frames.push(sse(result({ kind: 'slow-drip', injected: true, detail: `${size} bytes dripped` }, 'x'.repeat(size))));
          break;
        }
        case 'stream-drop':
          break;
      }

      if (channel.transport === 'legacy-sse') {
        res.status(202).type('text/plain').send('Accepted');
        if (call.args.kind === 'stream-drop') return void (await channel.stream.close()), true;
        await channel.stream.writeExclusive(out => write(frames, call, out, () => false));
        return true;
      }

      if (call.args.kind === 'jsonrpc-error' || call.args.kind === 'invalid-result') {
        // A plain JSON response, as most servers answer a single request.
        status(200, { 'Content-Type': 'application/json' }, frames[0]!.slice(frames[0]!.indexOf('data: ') + 6).trimEnd());
        return true;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
      res.flushHeaders();
      let gone = false;
      res.once('close', () => (gone = true));
      if (call.args.kind === 'stream-drop') {
        // An SSE comment so the client sees the stream open, then the end: no result, no event id to resume from.
        res.write(': the server drops this stream before the result (injected fault)\n\n');
        res.end();
        return true;
      }
      await write(frames, call, text => res.write(text), () => gone);
      res.end();
      return true;
    }
  };

  /** Writes the frames; `slow-drip` a few bytes at a time, within the duration bound. */
  async function write(frames: string[], call: FaultCall, out: (text: string) => void, gone: () => boolean): Promise<void> {
    if (call.args.kind !== 'slow-drip') {
      for (const f of frames) out(f);
      return;
    }
    const text = frames.join('');
    const pause = clamp(call.args.delayMs ?? 50, 1, limits.maxDurationMs);
    const chunk = Math.max(DRIP_CHUNK_BYTES, Math.ceil(text.length / Math.max(1, Math.floor(limits.maxDurationMs / pause))));
    for (let at = 0; at < text.length && !gone(); at += chunk) {
      if (at > 0) await sleep(pause);
      out(text.slice(at, at + chunk));
    }
  }
}
