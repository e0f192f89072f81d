/**
 * Sealing at rest: AES-256-GCM as a compact JWE (`alg: dir`, `enc: A256GCM`,
 * RFC 7516/7518 via `jose`), with a binding name in the protected header (it
 * is authenticated with the ciphertext): a value sealed for one grant or one
 * state never opens for another, even when records are swapped in storage.
 *
 * Key: `UPSTREAM_TOKEN_KEY` (32 bytes, base64url), the same on every
 * instance. Without it the AS generates one per process (development only:
 * sealed tokens do not survive a restart or reach another instance).
 */
import { randomBytes } from 'node:crypto';

import { CompactEncrypt, compactDecrypt } from 'jose';

export interface Sealer {
  seal(value: unknown, binding: string): Promise<string>;
  /** Rejects when the value was sealed with another key or for another binding. */
  open<T = unknown>(sealed: string, binding: string): Promise<T>;
  /** True when the key was generated for this process. */
  readonly generated: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function createSealer(keyBase64url: string | undefined): Sealer {
  const key = keyBase64url ? Buffer.from(keyBase64url, 'base64url') : randomBytes(32);
  if (key.length !== 32) throw new RangeError('the sealing key must be 32 bytes');
  return {
    generated: !keyBase64url,
    async seal(value, binding) {
      return new CompactEncrypt(encoder.encode(JSON.stringify(value))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', bnd: binding }).encrypt(key);
    },
    async open<T>(sealed: string, binding: string): Promise<T> {
      const { plaintext, protectedHeader } = await compactDecrypt(sealed, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      if (protectedHeader.bnd !== binding) throw new Error('sealed for another binding');
      return JSON.parse(decoder.decode(plaintext)) as T;
    }
  };
}
