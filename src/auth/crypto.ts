/**
 * The AS's three cryptographic primitives: unguessable tokens, one-way
 * hashes for storage keys, and constant-time comparison (STYLE.md habit 8).
 */
import crypto, { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits of CSPRNG output, base64url (43 characters). Used for every token, code, secret and handle. */
export function randomToken(bytes = 32): string {
  if (bytes < 32) throw new RangeError('tokens carry at least 256 bits');
  return randomBytes(bytes).toString('base64url');
}

/** Node's one-shot `crypto.hash` (Node >= 20.12): no Hash object per call. Older Node 20 falls back. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/** SHA-256, base64url. Storage keys and records hold this, never the secret itself. */
export function sha256(value: string): string {
  return oneShotHash ? oneShotHash('sha256', value, 'base64url') : createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** Constant-time string equality (compares digests, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** Does `secret` hash to `storedHash`? Constant time. */
export function matchesHash(secret: string, storedHash: string): boolean {
  return safeEqual(sha256(secret), storedHash);
}
