/**
 * The one seam between the HTTP transports and the client-author test bench
 * (../client-testing, docs/client-testing.md): faults that live below
 * JSON-RPC (an HTTP status, a dropped or dribbling SSE stream, an expired
 * session, a raw error object the SDK would not let a tool return) cannot be
 * produced by a tool handler, so each transport offers the bench one look at
 * a request that reached it, before handing it to the SDK.
 *
 * A hook answers only the request it is given, on the caller's own response
 * or stream, and only when that request is a `tools/call` of the bench's
 * `fault` tool (it resolves `false` for everything else without touching the
 * request). It never sees another caller's request or session.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Request, Response } from 'express';

/** Where the request arrived, and what the hook may do to the caller's own connection. */
export type FaultChannel =
  /** A 2026-07-28 POST (stateless): the hook may answer `res` however it likes. */
  | { readonly transport: 'modern' }
  /** A POST on a 2025-era Streamable HTTP session held here: `expire` ends that session. */
  | { readonly transport: 'session'; expire(): Promise<void> }
  /**
   * A POST /message of a legacy HTTP+SSE session: the answer goes on the
   * session's stream, written as raw SSE text by `writeExclusive`'s writer
   * while the session's other messages wait; `close` ends the stream and
   * with it the session.
   */
  | {
      readonly transport: 'legacy-sse';
      readonly stream: { writeExclusive(writer: (write: (sse: string) => void) => Promise<void>): Promise<void>; close(): Promise<void> };
    };

export interface HttpFaultHook {
  /**
   * Whether the hook wants a look at this request (a call of the bench's
   * `fault` tool asking for a wire-level fault): synchronous and cheap, so
   * that every other request passes without a promise or a channel object.
   */
  wants(req: Request): boolean;
  /** Resolves true when it answered the request itself (a fault was injected), false to serve it normally. */
  intercept(req: Request & { auth?: AuthInfo }, res: Response, channel: FaultChannel): Promise<boolean>;
}
