/**
 * Internal mode: the RS asks the AS in the same process, through the very
 * function that serves `POST /introspect` (DESIGN.md "The one seam"). No HTTP,
 * no cache: the answer is always current (a revoked token fails at once).
 *
 * The AS's `introspect` is passed in by the composition root; this module
 * never imports src/auth.
 */
import type { IntrospectionResponse } from '../shared/introspection-response.js';
import { isStoreUnavailable } from '../store/store.js';
import { audienceMatches, audiencesOf, clientIdOf, epochSeconds, requireSubject, scopesOf, type ExpectedAudience } from './claims.js';
import { InvalidTokenError, ValidatorUnavailableError, type AuthInfo, type TokenValidator } from './token-validator.js';

/** The RFC 7662 §2.2 answer this validator reads. */
export type IntrospectionResult = IntrospectionResponse;

export interface InProcessValidatorOptions {
  /** The AS function behind `/introspect`. Rejects with `StoreUnavailableError` when storage is down. */
  introspect: (token: string) => Promise<IntrospectionResult | { active: boolean }>;
  /** Expected audience(s): the canonical MCP URL (RFC 8707) and the legacy HTTP+SSE URL of the same server. */
  audience: ExpectedAudience;
  /** Clock in seconds since the epoch (tests freeze it). */
  now?: () => number;
}

export function createInProcessValidator(options: InProcessValidatorOptions): TokenValidator {
  const { introspect, audience } = options;
  const now = options.now ?? epochSeconds;
  if (typeof audience === 'string' ? !audience : audience.length === 0 || audience.some(a => !a)) {
    throw new TypeError('createInProcessValidator: audience is required');
  }

  return {
    async validate(token: string): Promise<AuthInfo> {
      let r: IntrospectionResult;
      try {
        r = (await introspect(token)) as IntrospectionResult;
      } catch (err) {
        if (isStoreUnavailable(err)) throw new ValidatorUnavailableError(undefined, undefined, { cause: err });
        throw err;
      }
      return toAuthInfo(token, r, audience, now());
    }
  };
}

/** Shared with the HTTP introspection validator: RFC 7662 response -> AuthInfo, or InvalidTokenError. */
export function toAuthInfo(token: string, r: IntrospectionResult, audience: ExpectedAudience | undefined, nowSeconds: number, issuer?: string): AuthInfo {
  if (r.active !== true) throw new InvalidTokenError('inactive');
  if (typeof r.exp !== 'number') throw new InvalidTokenError('missing_exp');
  if (r.exp <= nowSeconds) throw new InvalidTokenError('expired');
  if (issuer !== undefined && r.iss !== undefined && r.iss !== issuer) throw new InvalidTokenError('issuer');
  const aud = audiencesOf(r.aud);
  if (audience !== undefined && !audienceMatches(aud, audience)) throw new InvalidTokenError('audience');
  const subject = requireSubject(r.sub);
  return {
    token,
    subject,
    clientId: clientIdOf(r as unknown as Record<string, unknown>),
    scopes: scopesOf(r),
    audience: aud,
    expiresAt: r.exp,
    issuer: r.iss ?? issuer
  };
}

