#!/usr/bin/env node
// External mode on one machine, as two processes (DESIGN.md "Modes"):
//
//   authorization server  AUTH_MODE=auth_server  http://localhost:3001
//   MCP resource server   AUTH_MODE=external     http://localhost:3232  (AUTH_SERVER_URL=http://localhost:3001)
//
// The RS validates tokens by RFC 7662 introspection at the AS. Both processes
// get the same INTROSPECTION_CLIENT_ID / INTROSPECTION_CLIENT_SECRET: the AS
// provisions that resource-server client from them (it may only introspect),
// the RS authenticates with them. Unless you set them, a random secret is
// made for this run (nothing to leak, nothing to configure).
//
//   npm run dev:external             sources through tsx
//   npm run start:external           built output (dist/, run `npm run build` first)  [--built]
//
// Ports: AS_PORT (default 3001) and RS_PORT (default 3232). Every other
// variable (.env included) passes through to both processes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const built = process.argv.includes('--built');
if (existsSync('.env')) process.loadEnvFile('.env');

const asPort = Number(process.env.AS_PORT ?? 3001);
const rsPort = Number(process.env.RS_PORT ?? 3232);
const asUrl = `http://localhost:${asPort}`;
const rsUrl = `http://localhost:${rsPort}`;
const introspection = {
  INTROSPECTION_CLIENT_ID: process.env.INTROSPECTION_CLIENT_ID || 'mcp-resource-server',
  INTROSPECTION_CLIENT_SECRET: process.env.INTROSPECTION_CLIENT_SECRET || randomBytes(32).toString('base64url')
};

if (built && !existsSync('dist/index.js')) {
  console.error('dist/index.js not found: run `npm run build` first (start:external runs the built server).');
  process.exit(1);
}
const entry = built ? ['dist/index.js'] : ['--import', 'tsx', 'src/index.ts'];

const children = new Map();
let stopping = false;

function start(name, env) {
  const child = spawn(process.execPath, entry, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(name, child);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', line => console.log(`[${name}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the other process`);
      stop(typeof code === 'number' && code !== 0 ? code : 1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
  return child;
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  if (children.size === 0) process.exit(code);
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(code);
  }, 12_000).unref();
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/** Waits until the AS serves its metadata, so the RS discovers it at start-up. */
async function waitForAs(timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`${asUrl}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise(r => setTimeout(r, 200));
  }
  return false;
}

start('as', {
  AUTH_MODE: 'auth_server',
  PORT: String(asPort),
  BASE_URI: asUrl,
  // The resource (RFC 8707) the AS issues tokens for: the RS's canonical MCP URL.
  MCP_RESOURCE_URL: `${rsUrl}/mcp`,
  ...introspection
});

if (!(await waitForAs())) {
  if (!stopping) {
    console.error(`[dev-external] the authorization server did not answer at ${asUrl} within 30 s`);
    stop(1);
  }
} else {
  start('rs', {
    AUTH_MODE: 'external',
    PORT: String(rsPort),
    BASE_URI: rsUrl,
    AUTH_SERVER_URL: asUrl,
    TOKEN_VALIDATION: process.env.TOKEN_VALIDATION ?? 'introspection',
    ...introspection
  });
  console.log(`[dev-external] authorization server ${asUrl}, MCP server ${rsUrl}/mcp (introspection client ${introspection.INTROSPECTION_CLIENT_ID})`);
}
