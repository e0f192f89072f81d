/**
 * Admission of long-lived MCP resources at the HTTP edge: new 2025-era
 * sessions and open streams, against the caller limits of
 * ../caller-limits.ts. Answers a refusal itself (JSON-RPC error, 429 or 503
 * with Retry-After) and logs it.
 */
import type { Request, Response } from 'express';

import type { AuthInfo } from '@modelcontextprotocol/server';

import { sendJsonRpcError, JSONRPC_SERVER_ERROR } from '../../http/jsonrpc-error.js';
import type { Logger } from '../../logger.js';
import { CallerQuota, LIMIT_RETRY_AFTER_SECONDS, type Caller, type LimitBroken } from '../caller-limits.js';
import { subjectOf } from '../features/env.js';
import type { SessionRegistry, SessionServer } from './sessions.js';

export interface Quotas {
  sessions: CallerQuota;
  streams: CallerQuota;
}

export function callerOf(req: Request & { auth?: AuthInfo }): Caller {
  return { subject: subjectOf(req.auth) ?? '', clientId: req.auth?.clientId ?? '' };
}

function refuse(res: Response, log: Logger, resource: string, limit: LimitBroken, caller: Caller): void {
  log.warn({ event: 'limit_refused', resource, limit, subject: caller.subject, clientId: caller.clientId }, `${resource} refused: ${limit} limit reached`);
  if (!res.headersSent) res.setHeader('Retry-After', String(LIMIT_RETRY_AFTER_SECONDS));
  if (limit === 'total') sendJsonRpcError(res, 503, JSONRPC_SERVER_ERROR, `Service unavailable: this server holds as many ${resource}s as it can; retry later`);
  else sendJsonRpcError(res, 429, JSONRPC_SERVER_ERROR, `Too many ${resource}s for this ${limit === 'client' ? 'client' : 'user'}; close one or retry later`);
}

/**
 * A slot for a new session, or undefined when the request was answered with
 * a refusal. Over the caller's own session limit, the caller's least recently
 * used session on this instance is closed to make room.
 */
export async function admitSession<S extends SessionServer>(quotas: Quotas, registry: SessionRegistry<S>, req: Request & { auth?: AuthInfo }, res: Response, log: Logger): Promise<(() => void) | undefined> {
  const caller = callerOf(req);
  let refused = quotas.sessions.admit(caller);
  for (let tries = 0; refused === 'subject' && tries < 3; tries++) {
    const oldest = registry.leastRecentlyUsed(caller.subject);
    if (!oldest) break;
    log.info({ event: 'session_evicted', sessionId: oldest.id, subject: caller.subject }, 'session limit reached: closing the caller’s least recently used session');
    await registry.evict(oldest);
    refused = quotas.sessions.admit(caller);
  }
  if (refused) {
    refuse(res, log, 'session', refused, caller);
    return undefined;
  }
  return quotas.sessions.acquire(caller);
}

/** A slot for a stream held until `res` closes, or false when the request was answered with a refusal. */
export function admitStream(quotas: Quotas, req: Request & { auth?: AuthInfo }, res: Response, log: Logger): boolean {
  const caller = callerOf(req);
  const slot = quotas.streams.tryAcquire(caller);
  if ('refused' in slot) {
    refuse(res, log, 'stream', slot.refused, caller);
    return false;
  }
  res.once('close', slot.release);
  return true;
}
