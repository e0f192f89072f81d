/**
 * The AS's three cryptographic primitives: unguessable tokens, one-way
 * hashes for storage keys, and constant-time comparison (STYLE.md habit 8).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits of CSPRNG output, base64url (43 characters). Used for every token, code, secret and handle. */
export function randomToken(bytes = 32): string {
  if (bytes < 32) throw new RangeError('tokens carry at least 256 bits');
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256, base64url. Storage keys and records hold this, never the secret itself. */
export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
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
