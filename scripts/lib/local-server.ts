/**
 * Starts the project's server in this process for a conformance run:
 * AUTH_MODE=internal (the authorization server and the protected MCP endpoint
 * in one process), memory store, a free port, logs to a file.
 *
 * The configuration is built from an explicit object, not from
 * `process.env`, so that a developer's REDIS_URL or AUTH_MODE cannot change
 * what the suite tests.
 */
import { createWriteStream } from 'node:fs';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

export interface LocalServerOptions {
  /** Host values (host:port) the server must also accept: the proxy's, since Host passes through it untouched. */
  extraAllowedHosts?: string[];
  /** Origins the server must also accept. */
  extraAllowedOrigins?: string[];
  /** Server log file (pino JSON lines). */
  logFile: string;
  logLevel?: string;
  /** Extra environment entries (strings, as in the environment). */
  env?: Record<string, string>;
}

export async function startLocalServer(options: LocalServerOptions): Promise<RunningServer> {
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    AUTH_MODE: 'internal',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logLevel ?? 'debug',
    // Conformance runs many requests quickly from one address.
    RATE_LIMIT_MAX: '100000',
    ...options.env
  };
  if (options.extraAllowedHosts?.length) env.ALLOWED_HOSTS = [env.ALLOWED_HOSTS, ...options.extraAllowedHosts].filter(Boolean).join(',');
  if (options.extraAllowedOrigins?.length) env.ALLOWED_ORIGINS = [env.ALLOWED_ORIGINS, ...options.extraAllowedOrigins].filter(Boolean).join(',');
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel, createWriteStream(options.logFile, { flags: 'a' }));
  return startServer(config, { logger });
}

/** host:port spellings a local client may use for a port (the suite uses `localhost`). */
export function localHostsFor(port: number): { hosts: string[]; origins: string[] } {
  const hosts = [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
  return { hosts, origins: hosts.map(h => `http://${h}`) };
}
