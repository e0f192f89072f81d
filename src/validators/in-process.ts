import type { TokenValidator } from './token-validator.js';

/** STUB: replaced by the RS work. */
export function createInProcessValidator(_options: { introspect: (token: string) => Promise<{ active: boolean }>; audience: string }): TokenValidator {
  return { validate: async () => { throw new Error('not implemented'); } };
}
