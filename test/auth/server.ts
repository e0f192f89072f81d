/**
 * Starts the real app for AS tests: port 0, its own memory store, logs
 * captured in memory (so tests can assert on audit lines and on log hygiene).
 */
import { Writable } from 'node:stream';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { Store } from '../../src/store/store.js';

export interface TestAs {
  server: RunningServer;
  url: string;
  /** Every log line written so far, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Raw log text (for "no secret in any log line" checks). */
  logText(): string;
  close(): Promise<void>;
}

export async function startAs(env: Record<string, string> = {}, store?: Store): Promise<TestAs> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    }
  });
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'info', AUTH_MODE: 'auth_server', NODE_ENV: 'test', ...env });
  const server = await startServer(config, { logger: createLogger(config.logLevel, sink), store });
  return {
    server,
    url: server.url,
    get logs() {
      return lines.map(l => JSON.parse(l) as Record<string, unknown>);
    },
    logText: () => lines.join('\n'),
    close: () => server.close()
  };
}

export const form = (params: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(params).toString()
});
