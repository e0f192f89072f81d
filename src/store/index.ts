import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from './store.js';

/** Builds the store the configuration asks for (STUB: replaced by the store work). */
export async function createStore(_config: Config, _logger: Logger): Promise<Store> {
  throw new Error('createStore: not implemented yet');
}
