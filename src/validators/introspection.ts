/**
 * RFC 7662 token introspection against a remote authorization server
 * (external mode: our own AS on :3001, Okta, Keycloak, ...).
 *
 * Each `validate(token)` goes through these steps:
 *
 *   hashToken -> lookupCache -> joinInFlight -> callIntrospection -> toAuthInfo -> storeInCache
 *
 * - The cache is keyed by SHA-256 of the token (the token itself is never a
 *   map key, never logged). A positive answer is kept for
 *   min(`cacheTtlSeconds`, time to `exp`); an inactive or invalid answer for
 *   `negativeCacheTtlSeconds`. The map holds at most `maxEntries` entries and
 *   evicts the least recently used one.
 * - Concurrent validations of one token share one HTTP call (single flight).
 * - Every call has a timeout (`AbortSignal.timeout`). A timeout, a network
 *   error, a 5xx or 429, a refused client authentication or an unreadable
 *   answer is `ValidatorUnavailableError` (503): "cannot tell" is never
 *   "invalid" (DESIGN.md). Only a well-formed answer can make a token invalid.
 *
 * Trade-off (say so in the operator docs): a revoked token keeps
 * working for up to `cacheTtlSeconds` (60 s by default). Set
 * `INTROSPECTION_CACHE_TTL=0` to ask the AS on every request.
 */
import { createHash } from 'node:crypto';

import type { Logger } from '../logger.js';
import type { ExpectedAudience } from './claims.js';
import { toAuthInfo, type IntrospectionResult } from './in-process.js';
import {
  InvalidTokenError,
  ValidatorUnavailableError,
  type AuthInfo,
  type TokenValidator,
  type ValidatorStats
} from './token-validator.js';

export interface IntrospectionValidatorOptions {
  /** The AS `introspection_endpoint` (discovered, or `INTROSPECTION_ENDPOINT`). */
  endpoint: string;
  /** Credentials of this RS at the AS (RFC 7662 §2.1: the caller must be authorized). */
  clientId: string;
  clientSecret: string;
  /** RFC 6749 §2.3.1. Default `client_secret_basic`. */
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  /** Expected `iss` when the answer carries one. */
  issuer?: string;
  /** Expected audience(s), any one matching; `undefined` skips the `aud` check (a provider profile checks something else). */
  audience: ExpectedAudience | undefined;
  /** Extra provider checks on the raw answer (throw `InvalidTokenError`). */
  checkClaims?: (claims: Record<string, unknown>) => void;
  /** Positive cache lifetime cap in seconds; 0 disables caching. Default 60. */
  cacheTtlSeconds?: number;
  /** Negative cache lifetime in seconds; 0 disables it. Default 5. */
  negativeCacheTtlSeconds?: number;
  /** Memory bound: most entries kept. Default 10 000. */
  maxEntries?: number;
  /** Timeout of each HTTP call in ms. Default 5000. */
  timeoutMs?: number;
  /** Retry-After sent with 503 when the AS gives none. Default 5 s. */
  retryAfterSeconds?: number;
  logger?: Logger;
  fetch?: typeof fetch;
  /** Clock in ms since the epoch (tests). */
  nowMs?: () => number;
}

type CacheEntry = { until: number; ok: true; info: Omit<AuthInfo, 'token'> } | { until: number; ok: false; reason: string };

export function createIntrospectionValidator(options: IntrospectionValidatorOptions): TokenValidator & { stats(): ValidatorStats } {
  const {
    endpoint,
    clientId,
    clientSecret,
    authMethod = 'client_secret_basic',
    issuer,
    audience,
    checkClaims,
    cacheTtlSeconds = 60,
    negativeCacheTtlSeconds = 5,
    maxEntries = 10_000,
    timeoutMs = 5000,
    retryAfterSeconds = 5,
    logger
  } = options;
  const doFetch = options.fetch ?? fetch;
  const nowMs = options.nowMs ?? Date.now;
  if (!endpoint) throw new TypeError('introspection: endpoint is required');
  if (!clientId || !clientSecret) throw new TypeError('introspection: client credentials are required');
  new URL(endpoint); // throws early on a malformed endpoint

  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<CacheEntry>>();
  const counters = { validations: 0, introspectionCalls: 0, cacheHits: 0, negativeCacheHits: 0, coalesced: 0, unavailable: 0 };

  const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

  function lookupCache(key: string): CacheEntry | undefined {
    const entry = cache.get(key);
    if (!entry) return undefined;
    if (entry.until <= nowMs()) {
      cache.delete(key);
      return undefined;
    }
    // Least-recently-used order: a hit moves the entry to the end.
    cache.delete(key);
    cache.set(key, entry);
    return entry;
  }

  function storeInCache(key: string, entry: CacheEntry): void {
    if (entry.until <= nowMs()) return;
    cache.delete(key);
    cache.set(key, entry);
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
    }
  }

  function requestInit(token: string): RequestInit {
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (authMethod === 'client_secret_basic') {
      // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    }
    return { method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(timeoutMs), redirect: 'error' };
  }

  function unavailable(why: string, cause?: unknown, retryAfter = retryAfterSeconds): ValidatorUnavailableError {
    counters.unavailable++;
    logger?.warn({ why, endpoint, err: cause instanceof Error ? { name: cause.name, message: cause.message } : undefined }, 'introspection unavailable');
    return new ValidatorUnavailableError('Token validation is temporarily unavailable', retryAfter, { cause });
  }

  async function callIntrospection(token: string): Promise<IntrospectionResult> {
    counters.introspectionCalls++;
    let res: Response;
    try {
      res = await doFetch(endpoint, requestInit(token));
    } catch (err) {
      throw unavailable((err as Error)?.name === 'TimeoutError' ? 'timeout' : 'network', err);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status === 401 || res.status === 403) {
        logger?.error({ status: res.status, endpoint }, 'the AS refused this server’s introspection credentials: check INTROSPECTION_CLIENT_ID / INTROSPECTION_CLIENT_SECRET / INTROSPECTION_AUTH_METHOD');
      }
      throw unavailable(`status_${res.status}`, undefined, Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 300 ? retryAfter : retryAfterSeconds);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw unavailable((err as Error)?.name === 'TimeoutError' ? 'timeout' : 'unreadable_answer', err);
    }
    if (typeof body !== 'object' || body === null || typeof (body as { active?: unknown }).active !== 'boolean') {
      throw unavailable('malformed_answer');
    }
    return body as IntrospectionResult;
  }

  async function resolve(token: string): Promise<CacheEntry> {
    const r = await callIntrospection(token);
    const now = nowMs();
    try {
      const info = toAuthInfo(token, r, audience, Math.floor(now / 1000), issuer);
      checkClaims?.(r as unknown as Record<string, unknown>);
      const { token: _omit, ...rest } = info;
      const ttlMs = Math.min(cacheTtlSeconds * 1000, info.expiresAt * 1000 - now);
      return { until: now + Math.max(0, ttlMs), ok: true, info: rest };
    } catch (err) {
      if (err instanceof InvalidTokenError) return { until: now + negativeCacheTtlSeconds * 1000, ok: false, reason: err.reason };
      throw err;
    }
  }

  function answer(token: string, entry: CacheEntry): AuthInfo {
    if (!entry.ok) throw new InvalidTokenError(entry.reason);
    // The cache never outlives `exp`, but check again: the clock moves.
    if (entry.info.expiresAt <= Math.floor(nowMs() / 1000)) throw new InvalidTokenError('expired');
    return { token, ...entry.info };
  }

  return {
    strategy: 'introspection',
    async validate(token: string): Promise<AuthInfo> {
      counters.validations++;
      const key = hashToken(token);

      const cached = lookupCache(key);
      if (cached) {
        if (cached.ok) counters.cacheHits++;
        else counters.negativeCacheHits++;
        return answer(token, cached);
      }

      const pending = inFlight.get(key);
      if (pending) {
        counters.coalesced++;
        return answer(token, await pending);
      }

      const call = resolve(token).then(entry => {
        storeInCache(key, entry);
        return entry;
      });
      inFlight.set(key, call);
      try {
        return answer(token, await call);
      } finally {
        inFlight.delete(key);
      }
    },
    stats: () => ({ ...counters, cacheSize: cache.size }),
    async close() {
      cache.clear();
    }
  };
}
