/**
 * JWT access tokens (RFC 9068) verified locally with `jose` against the AS's
 * `jwks_uri` (external mode: Auth0, Entra ID, Cognito, Okta custom AS,
 * Keycloak, or any RFC 9068 issuer).
 *
 * Checks, in `jwtVerify` order: signature with a key from the JWKS whose
 * `alg` is in the allow-list (never `none`, never HMAC), header `typ` when the
 * provider sets it (`at+jwt`, RFC 9068 §2.1), `iss` exactly, `aud` (unless the
 * provider profile checks something else, e.g. Cognito's `client_id`), `exp`
 * and `nbf` with a small clock tolerance; then `sub` present and the
 * provider's own claim checks.
 *
 * Keys: `createRemoteJWKSet` caches the JWKS (`cacheMaxAge`), refetches when a
 * token names an unknown `kid` (key rotation), but at most once per
 * `cooldownDuration`, so random `kid`s cannot make us hammer the AS. A JWKS
 * that cannot be fetched is `ValidatorUnavailableError` (503), never a 401.
 */
import { createHash } from 'node:crypto';

import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';

import type { Logger } from '../logger.js';
import { audiencesOf, clientIdOf, requireSubject, scopesOf, type ExpectedAudience } from './claims.js';
import { InvalidTokenError, ValidatorUnavailableError, type AuthInfo, type TokenValidator, type ValidatorStats } from './token-validator.js';

export interface JwtValidatorOptions {
  /** Expected `iss`, compared exactly. */
  issuer: string;
  /** The AS `jwks_uri`. */
  jwksUri: string;
  /** Expected `aud`, any one matching; `undefined` skips it (the profile's `checkClaims` must then bind the token to us). */
  audience: ExpectedAudience | undefined;
  /** Signature algorithms accepted (`JWT_ALGORITHMS`). `none` and HMAC algorithms are refused at build time. */
  algorithms: readonly string[];
  /** Required header `typ` (e.g. `at+jwt`); `undefined` when the provider does not set one. */
  typ?: string;
  /** Provider checks on the verified payload (throw `InvalidTokenError`). */
  checkClaims?: (payload: JWTPayload) => void;
  /** Clock skew tolerated on `exp`/`nbf`, seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Least time between two JWKS fetches caused by an unknown `kid`, ms. Default 30 000. */
  cooldownMs?: number;
  /** How long fetched keys are trusted before a refetch, ms. Default 600 000. */
  cacheMaxAgeMs?: number;
  /** Timeout of each JWKS fetch, ms. Default 5000. */
  timeoutMs?: number;
  /** Retry-After for 503 answers. Default 5 s. */
  retryAfterSeconds?: number;
  logger?: Logger;
  /** Clock (tests): a Date for `exp`/`nbf` checks. */
  now?: () => Date;
  /**
   * How long a verified token's result is reused without verifying its
   * signature again, ms (never past its `exp`). Default 60 000; 0 disables.
   * A JWT cannot be revoked anyway; a key removed from the JWKS stops
   * accepting tokens already seen after at most this long.
   */
  verifiedCacheMs?: number;
  /** Most verified tokens remembered (oldest evicted first). Default 10 000. */
  verifiedCacheSize?: number;
}

/** JOSE error codes that mean "this token is bad", with the reason we log. */
const INVALID_REASONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature',
  ERR_JOSE_ALG_NOT_ALLOWED: 'alg_not_allowed',
  ERR_JOSE_NOT_SUPPORTED: 'alg_not_supported',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown_kid',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'ambiguous_kid',
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
  ERR_JWK_INVALID: 'malformed'
};

const FORBIDDEN_ALGS = /^(none|HS\d+)$/i;

export function createJwtValidator(options: JwtValidatorOptions): TokenValidator & { stats(): ValidatorStats } {
  const { issuer, jwksUri, audience, typ, checkClaims, logger, clockToleranceSeconds = 5, retryAfterSeconds = 5 } = options;
  const algorithms = [...options.algorithms];
  if (algorithms.length === 0) throw new TypeError('jwt: at least one algorithm is required (JWT_ALGORITHMS)');
  const bad = algorithms.filter(a => FORBIDDEN_ALGS.test(a));
  if (bad.length) throw new TypeError(`jwt: algorithms ${bad.join(', ')} are not allowed for access tokens verified with a JWKS (JWT_ALGORITHMS)`);

  const remote = createRemoteJWKSet(new URL(jwksUri), {
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.timeoutMs ?? 5000
  });
  const counters = { validations: 0, unavailable: 0, cacheHits: 0 };
  // Verified tokens by SHA-256 (the hot path verifies a signature once per token, not per request).
  const verified = new Map<string, { info: AuthInfo; until: number }>();
  const verifiedCacheMs = options.verifiedCacheMs ?? 60_000;
  const verifiedCacheSize = options.verifiedCacheSize ?? 10_000;
  const nowMs = () => (options.now ? options.now().getTime() : Date.now());

  /**
   * Key lookup with the two kinds of failure told apart: "no such key" is the
   * token's fault (401); "could not fetch the key set" is ours (503).
   */
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      const code = (err as { code?: string })?.code;
      if (code && code in INVALID_REASONS) throw err;
      counters.unavailable++;
      logger?.warn({ jwksUri, err: err instanceof Error ? { name: err.name, message: err.message, code } : undefined }, 'JWKS unavailable');
      throw new ValidatorUnavailableError('Token validation is temporarily unavailable', retryAfterSeconds, { cause: err });
    }
  };

  const verifyOptions = (): JWTVerifyOptions => ({
    issuer,
    ...(audience !== undefined ? { audience: typeof audience === 'string' ? audience : [...audience] } : {}),
    algorithms,
    ...(typ ? { typ } : {}),
    clockTolerance: clockToleranceSeconds,
    requiredClaims: ['exp'],
    ...(options.now ? { currentDate: options.now() } : {})
  });

  return {
    strategy: 'jwt',
    async validate(token: string): Promise<AuthInfo> {
      counters.validations++;
      const key = verifiedCacheMs > 0 ? createHash('sha256').update(token).digest('base64url') : '';
      const hit = key ? verified.get(key) : undefined;
      if (hit && hit.until > nowMs()) {
        counters.cacheHits++;
        return hit.info;
      }
      if (hit) verified.delete(key);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, verifyOptions()));
      } catch (err) {
        throw toValidatorError(err);
      }
      const subject = requireSubject(payload.sub);
      checkClaims?.(payload);
      const raw = payload as Record<string, unknown>;
      const info: AuthInfo = {
        token,
        subject,
        clientId: clientIdOf(raw),
        scopes: scopesOf(raw),
        audience: audiencesOf(payload.aud),
        expiresAt: payload.exp!,
        issuer: payload.iss
      };
      if (key) {
        if (verified.size >= verifiedCacheSize) verified.delete(verified.keys().next().value!);
        verified.set(key, { info, until: Math.min(nowMs() + verifiedCacheMs, payload.exp! * 1000) });
      }
      return info;
    },
    stats: () => ({ validations: counters.validations, unavailable: counters.unavailable, cacheHits: counters.cacheHits }),
    async ready() {
      if (!remote.fresh) {
        try {
          await remote.reload();
        } catch (err) {
          throw new ValidatorUnavailableError('JWKS unreachable', retryAfterSeconds, { cause: err });
        }
      }
    }
  };
}

function toValidatorError(err: unknown): Error {
  if (err instanceof ValidatorUnavailableError || err instanceof InvalidTokenError) return err;
  if (err instanceof errors.JWTClaimValidationFailed) {
    // `claim` is the claim that failed: iss, aud, nbf, exp (missing), typ, ...
    return new InvalidTokenError(err.claim === 'nbf' ? 'not_yet_valid' : `claim_${err.claim}`);
  }
  if (err instanceof errors.JOSEError) return new InvalidTokenError(INVALID_REASONS[err.code] ?? 'malformed');
  // jose throws TypeError/SyntaxError on some malformed inputs.
  if (err instanceof TypeError || err instanceof SyntaxError) return new InvalidTokenError('malformed');
  return err instanceof Error ? err : new Error(String(err));
}
