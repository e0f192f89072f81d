import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { TokenValidator } from './token-validator.js';

/** STUB: replaced by the external-mode work (introspection or JWT, chosen from config and AS metadata). */
export async function createExternalValidator(_options: { config: Config; logger: Logger }): Promise<TokenValidator> {
  throw new Error('external mode: not implemented yet');
}
