/**
 * The MCP resource server: `/mcp` (every protocol revision) and the legacy
 * `/sse` + `/message` transport. STUB: replaced by the MCP work.
 */
import { Router, type RequestHandler } from 'express';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';

export interface McpResourceServerOptions {
  config: Config;
  store: Store;
  logger: Logger;
  /** Bearer gate from src/rs: sets `req.auth` (SDK AuthInfo with `extra.subject`) or answers the challenge. */
  authenticate: RequestHandler;
}

export interface McpResourceServer {
  router: Router;
  /** Ends open streams and sessions (graceful shutdown). */
  close(): Promise<void>;
}

export function createMcpResourceServer(_options: McpResourceServerOptions): McpResourceServer {
  return { router: Router(), close: async () => undefined };
}
