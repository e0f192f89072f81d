/**
 * The seam between the resource server (RS) and whatever issues tokens
 * (DESIGN.md "The one seam"). The RS knows only this file; the authorization
 * server (AS) never imports the RS. Three implementations:
 *
 * - `in-process.ts`    internal mode: calls the same function that serves `/introspect`.
 * - `introspection.ts` external mode: RFC 7662 against `AUTH_SERVER_URL` (our AS, Okta, Keycloak...).
 * - `jwt.ts`           external mode: RFC 9068 JWTs verified with `jose` against the AS JWKS.
 *
 * A validator distinguishes "this token is not valid" (`InvalidTokenError`,
 * mapped to 401 invalid_token) from "cannot tell right now"
 * (`ValidatorUnavailableError`, mapped to 503 + Retry-After). An AS outage
 * must never look like a bad token.
 */

/** What every validator returns for a valid access token. */
export interface AuthInfo {
  /** The raw token, kept in memory only for the SDK's `AuthInfo`; never logged, never stored. */
  readonly token: string;
  /** The resource owner. A token without one is refused (session ownership depends on it). */
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Audiences (RFC 8707 resources / `aud`) the token was issued for. */
  readonly audience: readonly string[];
  /** Expiry, seconds since the epoch. */
  readonly expiresAt: number;
  readonly issuer?: string;
}

export interface TokenValidator {
  /** Resolves with the token's `AuthInfo`, or rejects with one of the two errors below. */
  validate(token: string): Promise<AuthInfo>;
  /** Which strategy this is, for logs, `/ready` and metrics. */
  readonly strategy?: 'in-process' | 'introspection' | 'jwt';
  /** Monotonic counters for metrics and the bench (e.g. introspection calls, cache hits). */
  stats?(): ValidatorStats;
  /** Round trip to whatever the validator depends on (for `/ready`). */
  ready?(): Promise<void>;
  close?(): Promise<void>;
}

/** Counters a validator may expose; every field is a running total since start. */
export interface ValidatorStats {
  /** Tokens checked (calls to `validate`). */
  validations: number;
  /** HTTP calls made to the AS introspection endpoint (introspection strategy). */
  introspectionCalls?: number;
  /** Answers served from the positive cache. */
  cacheHits?: number;
  /** Answers served from the negative cache. */
  negativeCacheHits?: number;
  /** Validations that joined an in-flight call for the same token (single flight). */
  coalesced?: number;
  /** Entries currently cached. */
  cacheSize?: number;
  /** Times the AS (or its JWKS) could not be reached or answered 5xx. */
  unavailable?: number;
}

/** The token is not valid here: unknown, expired, revoked, wrong audience, malformed. 401. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  readonly code = 'invalid_token';
  /** Internal reason for logs and metrics (`expired`, `revoked`, `audience`, ...); never sent on the wire. */
  readonly reason: string;
  constructor(reason: string, message = 'The access token is invalid') {
    super(message);
    this.reason = reason;
  }
}

/** The validator cannot decide now (AS or storage unreachable). 503 with Retry-After. */
export class ValidatorUnavailableError extends Error {
  override readonly name = 'ValidatorUnavailableError';
  readonly code = 'temporarily_unavailable';
  readonly retryAfterSeconds: number;
  constructor(message = 'Token validation is temporarily unavailable', retryAfterSeconds = 5, options?: { cause?: unknown }) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
