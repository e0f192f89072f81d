/**
 * Test harness for the MCP side alone: an Express app with only the MCP
 * router (src/mcp), a memory store, and a stand-in bearer gate, on port 0.
 *
 * The stand-in gate accepts `Authorization: Bearer test:<subject>[:<scope> ...]`
 * and sets `req.auth` the way src/rs does (SDK AuthInfo, `extra.subject`);
 * without the header the request stays anonymous (authorization off).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import express, { type RequestHandler } from 'express';

import { loadConfig, type Config } from '../../../src/config.js';
import { createHttpBasics, finalErrorHandler } from '../../../src/http/basics.js';
import { createLogger } from '../../../src/logger.js';
import { loadReferenceSkills } from '../../../src/mcp/extensions/skills/index.js';
import { createMcpResourceServer, type McpTimingOptions } from '../../../src/mcp/index.js';
import { MemoryStore } from '../../../src/store/memory.js';
import type { Store } from '../../../src/store/store.js';

export const testAuthenticate: RequestHandler = (req, _res, next) => {
  const m = /^Bearer test:([^:\s]+)(?::(.*))?$/.exec(req.headers.authorization ?? '');
  if (m) {
    (req as { auth?: unknown }).auth = {
      token: 'test-token',
      clientId: 'test-client',
      scopes: (m[2] ?? 'mcp').split(/\s+/).filter(Boolean),
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      extra: { subject: m[1] }
    };
  }
  next();
};

export interface McpTestApp {
  url: string;
  mcpUrl: string;
  port: number;
  config: Config;
  store: Store;
  /** Only the MCP component's graceful shutdown (the HTTP server keeps listening). */
  closeMcp(): Promise<void>;
  close(): Promise<void>;
  /** Stops as a crash would: connections dropped, task work stopped without settling its tasks, lease no longer renewed. */
  crash(): Promise<void>;
}

export interface McpTestAppOptions {
  port?: number;
  env?: Record<string, string>;
  timing?: McpTimingOptions;
  store?: Store;
  logLevel?: string;
}

export async function startMcpApp(options: McpTestAppOptions = {}): Promise<McpTestApp> {
  const httpServer = http.createServer();
  await new Promise<void>(resolve => httpServer.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const config = loadConfig({ NODE_ENV: 'test', PORT: String(port), BASE_URI: `http://localhost:${port}`, ...options.env });
  const logger = createLogger(options.logLevel ?? 'silent');
  const store = options.store ?? new MemoryStore();
  const mcp = createMcpResourceServer({ config, store, logger, authenticate: testAuthenticate, timing: options.timing, skills: await loadReferenceSkills(logger) });
  const app = express();
  app.disable('x-powered-by');
  app.use(createHttpBasics(config, logger));
  app.use(mcp.router);
  app.use(finalErrorHandler(logger));
  httpServer.on('request', app);
  return {
    url: `http://localhost:${port}`,
    mcpUrl: `http://localhost:${port}/mcp`,
    port,
    config,
    store,
    closeMcp: () => mcp.close(),
    async close() {
      const stopped = new Promise<void>(resolve => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      await mcp.close();
      httpServer.closeAllConnections();
      await stopped;
      await store.close();
    },
    async crash() {
      const stopped = new Promise<void>(resolve => httpServer.close(() => resolve()));
      httpServer.closeAllConnections();
      await mcp.close({ settleTasks: false });
      await stopped;
      if (!options.store) await store.close();
    }
  };
}
