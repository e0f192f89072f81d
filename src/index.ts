#!/usr/bin/env node
/**
 * Entry point: reads the environment (and `.env` when present), validates it,
 * starts the process for `AUTH_MODE`, and stops gracefully on SIGTERM/SIGINT.
 *
 * `--stdio`: serves MCP on stdin/stdout instead (desktop clients start the
 * server this way); logs go to stderr, and stdout carries protocol messages only.
 */
import { existsSync } from 'node:fs';

import { startServer, startStdioServer } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, createStderrLogger } from './logger.js';
import { startBanner } from './ops/banner.js';

if (existsSync('.env')) process.loadEnvFile('.env');

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
    process.exit(78);
  }
  throw err;
}

if (process.argv.includes('--stdio')) {
  const logger = createStderrLogger(config.logLevel);
  const stdio = await startStdioServer(config, { logger }).catch(err => {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stdio.close());
  // The client closing stdin ends the connection (MCP stdio binding): exit then.
  await stdio.closed;
  process.exit(0);
}

const logger = createLogger(config.logLevel);
const server = await startServer(config, { logger }).catch(err => {
  logger.fatal({ err }, 'start-up failed');
  process.exit(1);
});

const what = config.mode === 'auth_server' ? 'authorization server' : 'MCP server';
logger.info({ mode: config.mode, url: server.url, storage: server.store.kind }, `${what} listening`);
if (config.mode !== 'external' && config.upstream.kind !== 'mock') {
  console.log(`\nSign-in:       ${config.upstream.kind}${config.upstream.issuer ? ` (${config.upstream.issuer})` : ''}\nRedirect URI to register at the provider: ${server.url}/upstream-idp/callback`);
}
if (config.mode !== 'auth_server') {
  console.log(startBanner(config.mcpUrl));
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const hard = setTimeout(() => process.exit(1), 10_000);
    hard.unref();
    server.close().then(
      () => process.exit(0),
      err => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      }
    );
  });
}
