/**
 * The AS's typed, validated record collections over the `Store` seam.
 * Every key is written down in docs/storage-schema.md ("Authorization server").
 *
 * Rules:
 * - Keys carry a SHA-256 of a secret (token, code, handle), never the secret.
 *   Records carry hashes of secrets too (client secret, CSRF token).
 * - A record that fails its schema is treated as absent (fail closed) and
 *   logged once by the caller's `onCorrupt`.
 * - Every write has a TTL; records also carry their own `expiresAt` so an
 *   implementation with a coarse expiry never hands out a stale record.
 */
import { z } from 'zod';

import type { Store } from '../store/store.js';

export const ClientRecord = z.object({
  client_id: z.string(),
  /** SHA-256 of the secret (confidential clients only). */
  client_secret_hash: z.string().optional(),
  client_name: z.string().optional(),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
  tos_uri: z.string().optional(),
  policy_uri: z.string().optional(),
  contacts: z.array(z.string()).optional(),
  software_id: z.string().optional(),
  software_version: z.string().optional(),
  scope: z.string().optional(),
  redirect_uris: z.array(z.string()).min(1),
  grant_types: z.array(z.string()),
  response_types: z.array(z.string()),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_post', 'client_secret_basic']),
  application_type: z.enum(['web', 'native']),
  client_id_issued_at: z.number().int(),
  client_secret_expires_at: z.number().int(),
  /** How the AS learnt about the client. */
  source: z.enum(['dynamic_registration', 'metadata_document'])
});
export type ClientRecord = z.infer<typeof ClientRecord>;

/** A cached client ID metadata document, already validated. */
export const CimdCacheRecord = z.object({ client: ClientRecord, fetchedAt: z.number() });
export type CimdCacheRecord = z.infer<typeof CimdCacheRecord>;

/** An authorization request between GET /authorize and the code: consent, then the demo IdP. */
export const InteractionRecord = z.object({
  clientId: z.string(),
  redirectUri: z.string(),
  /** Whether the request carried redirect_uri (then the token request must repeat it, RFC 6749 §4.1.3). */
  redirectUriProvided: z.boolean(),
  state: z.string().optional(),
  codeChallenge: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  /** SHA-256 of the CSRF token embedded in the current page's form. */
  csrfHash: z.string(),
  /** SHA-256 of the browser-binding cookie of the browser that started the request. */
  browserHash: z.string(),
  stage: z.enum(['consent', 'identity']),
  expiresAt: z.number()
});
export type InteractionRecord = z.infer<typeof InteractionRecord>;

/** Who signed in, as the identity provider said (shown by `whoami`). No token, no secret. */
export const UpstreamIdentityRecord = z.object({
  provider: z.string(),
  issuer: z.string(),
  subject: z.string(),
  email: z.string().optional(),
  emailVerified: z.boolean().optional(),
  name: z.string().optional(),
  login: z.string().optional()
});
export type UpstreamIdentityRecord = z.infer<typeof UpstreamIdentityRecord>;

/** An issued, unused authorization code (`auth:pending:{code-hash}`). */
export const CodeRecord = z.object({
  clientId: z.string(),
  redirectUri: z.string(),
  redirectUriProvided: z.boolean(),
  codeChallenge: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  subject: z.string(),
  grantId: z.string(),
  issueRefreshToken: z.boolean(),
  /** Who signed in at the identity provider (absent on codes written before the seam). */
  upstream: UpstreamIdentityRecord.optional(),
  expiresAt: z.number()
});
export type CodeRecord = z.infer<typeof CodeRecord>;

/** Replay guard for a redeemed code (`auth:exch:{code-hash}`): which grant it created. */
export const ExchangeRecord = z.object({ grantId: z.string(), clientId: z.string() });
export type ExchangeRecord = z.infer<typeof ExchangeRecord>;

/** One consent by one subject to one client: every token issued from it belongs to it. */
export const GrantRecord = z.object({
  grantId: z.string(),
  clientId: z.string(),
  subject: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  upstream: UpstreamIdentityRecord.optional(),
  createdAt: z.number(),
  /** Absolute end of the grant: no token it issues outlives it. */
  expiresAt: z.number()
});
export type GrantRecord = z.infer<typeof GrantRecord>;

/** `auth:installation:{token-hash}` (access token) and `auth:refresh:{token-hash}`. */
export const TokenRecord = z.object({
  grantId: z.string(),
  clientId: z.string(),
  subject: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  issuedAt: z.number(),
  expiresAt: z.number(),
  /**
   * Refresh tokens: how many rotations separate this token from the grant's
   * first refresh token (0 for the one issued with the code). Absent on
   * access tokens and on records written before generations existed (read as 0).
   */
  generation: z.number().int().min(0).optional()
});
export type TokenRecord = z.infer<typeof TokenRecord>;

/** `auth:refresh-used:{token-hash}`: the refresh token was rotated at `rotatedAt` (ms). */
export const RotationRecord = z.object({ rotatedAt: z.number(), grantId: z.string() });
export type RotationRecord = z.infer<typeof RotationRecord>;

/**
 * `auth:refresh-line:{grantId}:{generation}`: the one refresh token of that
 * generation that continued the grant's line (its first rotation). A family
 * has one line: a second token of the same generation rotating, or a token
 * presented again after a later generation was used, is a fork (RFC 9700 §4.14.2).
 */
export const LineRecord = z.object({ tokenHash: z.string(), usedAt: z.number() });
export type LineRecord = z.infer<typeof LineRecord>;

/**
 * `auth:upstream-state:{sha256(state)}`: a sign-in sent to the identity
 * provider, waiting for its callback. Single use (consumed by the callback),
 * bound to the browser that started it, short-lived. `sealed` holds the
 * interaction handle and the provider's checks (PKCE verifier, nonce).
 */
export const UpstreamStateRecord = z.object({
  sealed: z.string(),
  browserHash: z.string(),
  clientId: z.string(),
  expiresAt: z.number()
});
export type UpstreamStateRecord = z.infer<typeof UpstreamStateRecord>;

/**
 * `auth:upstream-token:{grantId}`: the provider's tokens for one grant,
 * sealed (AES-256-GCM, bound to the grant id). Lives as long as the grant
 * and is deleted with it.
 */
export const UpstreamTokenRecord = z.object({
  provider: z.string(),
  issuer: z.string(),
  subject: z.string(),
  sealed: z.string(),
  /** When the sealed access token expires (ms), if the provider said. */
  accessExpiresAt: z.number().optional(),
  refreshable: z.boolean(),
  updatedAt: z.number(),
  expiresAt: z.number()
});
export type UpstreamTokenRecord = z.infer<typeof UpstreamTokenRecord>;

/** Milliseconds until `expiresAt` (ms epoch), at least 1 so the store accepts it. */
export const ttlUntil = (expiresAt: number, now: number) => Math.max(1, Math.ceil(expiresAt - now));

/** Freezes a parsed record and everything in it (memoised records are shared between callers). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export class Collection<T> {
  /**
   * Parsed records by key, with the stored text they were parsed from
   * (`memoSize` > 0 only). The store stays the source of truth: every `get`
   * still reads it, and the memo only skips JSON.parse and the schema check
   * when the stored text is exactly the text parsed before. A deleted or
   * changed record is never answered from here.
   */
  private readonly memo = new Map<string, { raw: string; value: T }>();

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    private readonly schema: z.ZodType<T>,
    private readonly onCorrupt: (key: string) => void,
    private readonly memoSize = 0
  ) {}

  key(id: string): string {
    return `${this.prefix}${id}`;
  }

  private parse(key: string, raw: string | undefined): T | undefined {
    if (this.memoSize > 0) {
      const hit = this.memo.get(key);
      if (hit !== undefined) {
        if (hit.raw === raw) return hit.value;
        this.memo.delete(key);
      }
      if (raw === undefined) return undefined;
      const value = this.parseText(key, raw);
      if (value !== undefined) {
        this.memo.set(key, { raw, value: deepFreeze(value) });
        // Oldest first (Map insertion order): drop it once the memo is full.
        if (this.memo.size > this.memoSize) this.memo.delete(this.memo.keys().next().value!);
      }
      return value;
    }
    return raw === undefined ? undefined : this.parseText(key, raw);
  }

  private parseText(key: string, raw: string): T | undefined {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.onCorrupt(key);
      return undefined;
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) {
      this.onCorrupt(key);
      return undefined;
    }
    return parsed.data;
  }

  async get(id: string): Promise<T | undefined> {
    const key = this.key(id);
    return this.parse(key, await this.store.get(key));
  }

  async set(id: string, value: T, ttlMs: number): Promise<void> {
    await this.store.set(this.key(id), JSON.stringify(value), Math.max(1, Math.ceil(ttlMs)));
  }

  async setIfAbsent(id: string, value: T, ttlMs: number): Promise<boolean> {
    return this.store.setIfAbsent(this.key(id), JSON.stringify(value), Math.max(1, Math.ceil(ttlMs)));
  }

  /** Atomic read-and-delete: of concurrent callers exactly one gets the record. */
  async consume(id: string): Promise<T | undefined> {
    const key = this.key(id);
    const raw = await this.store.consume(key);
    this.memo.delete(key);
    return raw === undefined ? undefined : this.parseText(key, raw);
  }

  async delete(id: string): Promise<void> {
    this.memo.delete(this.key(id));
    await this.store.delete(this.key(id));
  }
}

export interface Records {
  clients: Collection<ClientRecord>;
  cimd: Collection<CimdCacheRecord>;
  interactions: Collection<InteractionRecord>;
  codes: Collection<CodeRecord>;
  exchanges: Collection<ExchangeRecord>;
  grants: Collection<GrantRecord>;
  accessTokens: Collection<TokenRecord>;
  refreshTokens: Collection<TokenRecord>;
  rotations: Collection<RotationRecord>;
  /** Keyed `{grantId}:{generation}`. */
  lines: Collection<LineRecord>;
  upstreamStates: Collection<UpstreamStateRecord>;
  upstreamTokens: Collection<UpstreamTokenRecord>;
  /** `auth:upstream-refresh:{grantId}`: one instance refreshes the provider's tokens at a time. */
  upstreamRefreshLockKey(grantId: string): string;
  /** `auth:grant:{grantId}:tokens`: members `a:{hash}` / `r:{hash}` / `l:{generation}`. */
  grantTokensKey(grantId: string): string;
}

/** Parsed records kept per hot collection (each entry: the stored text and its parse, ~1 KB). */
const RECORD_MEMO_SIZE = 1000;

export function createRecords(store: Store, onCorrupt: (key: string) => void): Records {
  const c = <T>(prefix: string, schema: z.ZodType<T>, memoSize = 0) => new Collection<T>(store, prefix, schema, onCorrupt, memoSize);
  return {
    clients: c('auth:client:', ClientRecord),
    cimd: c('auth:cimd:', CimdCacheRecord),
    interactions: c('auth:interaction:', InteractionRecord),
    codes: c('auth:pending:', CodeRecord),
    exchanges: c('auth:exch:', ExchangeRecord),
    // Read on every authenticated MCP request (internal mode): memoised parses.
    grants: c('auth:grant:', GrantRecord, RECORD_MEMO_SIZE),
    accessTokens: c('auth:installation:', TokenRecord, RECORD_MEMO_SIZE),
    refreshTokens: c('auth:refresh:', TokenRecord),
    rotations: c('auth:refresh-used:', RotationRecord),
    lines: c('auth:refresh-line:', LineRecord),
    upstreamStates: c('auth:upstream-state:', UpstreamStateRecord),
    upstreamTokens: c('auth:upstream-token:', UpstreamTokenRecord),
    upstreamRefreshLockKey: grantId => `auth:upstream-refresh:${grantId}`,
    grantTokensKey: grantId => `auth:grant:${grantId}:tokens`
  };
}
