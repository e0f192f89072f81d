/**
 * PKCE (RFC 7636), S256 only: OAuth 2.1 §4.1.1 and the MCP authorization spec
 * require it for every client, and `plain` offers no protection against a
 * leaked authorization request.
 */
import { createHash } from 'node:crypto';

import { safeEqual } from './crypto.js';

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43..128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export function isValidChallenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

export function challengeFor(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 7636 §4.6, in constant time. A malformed verifier never matches. */
export function verifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !VERIFIER.test(verifier)) return false;
  return safeEqual(challengeFor(verifier), challenge);
}
