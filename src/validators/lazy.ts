/**
 * A validator built on its first use: for protected resources that may
 * never be asked (a gallery app in external mode: building an external
 * validator discovers the authorization server). A build that fails is
 * forgotten, so the next token tries again.
 */
import type { TokenValidator } from './token-validator.js';

export function createLazyValidator(build: () => Promise<TokenValidator>): TokenValidator {
  let built: Promise<TokenValidator> | undefined;
  const current = () =>
    (built ??= build().catch(err => {
      built = undefined;
      throw err;
    }));
  return {
    validate: async token => (await current()).validate(token),
    async close() {
      const v = await built?.catch(() => undefined);
      await v?.close?.();
    }
  };
}
