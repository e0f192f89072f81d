/**
 * The key that seals multi-round-trip `requestState` (MCP 2026-07-28
 * basic/patterns/mrtr: state that round-trips through the client MUST be
 * integrity-protected and verified). The SDK's `createRequestStateCodec`
 * HMAC-SHA256-seals the payload with an expiry; we bind each state to the
 * request method and the caller (subject + client id), so one user's state
 * cannot be replayed by another.
 *
 * Key: `MCP_REQUEST_STATE_KEY` (base64url, >= 32 bytes) when set; with Redis
 * and the variable unset, the value the instances agreed on through Redis
 * (src/store/shared-secrets.ts, filled into the config before this runs).
 * Otherwise a random per-process key: fine for one instance.
 *
 * A tampered, expired or foreign state is answered by the SDK with JSON-RPC
 * -32602 "Invalid or expired requestState" before the handler runs.
 */
import { randomBytes } from 'node:crypto';

import { createRequestStateCodec, type RequestStateCodec } from '@modelcontextprotocol/server';

import type { Logger } from '../logger.js';
import { subjectOf } from './features/env.js';

export const REQUEST_STATE_TTL_SECONDS = 600;

export function createStateCodec(
  key: string | undefined,
  logger: Logger,
  ttlSeconds = REQUEST_STATE_TTL_SECONDS
): RequestStateCodec<Record<string, unknown>> {
  let bytes: Buffer;
  if (key) {
    bytes = Buffer.from(key, 'base64url');
  } else {
    bytes = randomBytes(32);
    logger.info('MCP_REQUEST_STATE_KEY is not set: using a random per-process requestState key (set a shared key when running several instances)');
  }
  return createRequestStateCodec<Record<string, unknown>>({
    key: new Uint8Array(bytes),
    ttlSeconds,
    bind: ctx => `${ctx.mcpReq.method}\0${subjectOf(ctx.http?.authInfo) ?? ''}\0${ctx.http?.authInfo?.clientId ?? ''}`
  });
}
