/**
 * CPU profile of the authenticated echo hot path (issue 7): starts our server
 * (internal mode, memory store) under `node --cpu-prof`, drives one path with
 * autocannon (the same request bench/run.ts sends), stops it with SIGTERM so
 * V8 writes the profile, then prints bench/profile-summary.ts for it.
 *
 * Usage: tsx bench/profile.ts [session|stateless|both]   (default both: one process per path)
 * Environment: PROFILE_DURATION (seconds, default 10), BENCH_CONNECTIONS (default 32),
 * PROFILE_DIR (default /tmp/prof), PROFILE_FLOOR=plain profiles bench/plain-floor-server.ts (the
 * reference) instead, PROFILE_FLOOR=1 the Express floor (bench/floor-server.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import autocannon from 'autocannon';

import { freePort } from '../test/helpers/free-port.js';
import { obtainTokens } from '../test/helpers/oauth.js';
import { BENCH_SERVER_ENV, compileForBench, floorEntry, OURS_ENTRY, plainFloorEntry, waitUntilServing } from './compiled.js';
import { echoCall, echoHeaders, openSession } from './wire.js';

const DURATION = Number(process.env.PROFILE_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DIR = process.env.PROFILE_DIR ?? '/tmp/prof';
const PLAIN = process.env.PROFILE_FLOOR === 'plain';
const FLOOR = process.env.PROFILE_FLOOR === '1' || PLAIN;
const PLAIN_TOKEN = randomBytes(32).toString('base64url');
const which = process.argv[2] ?? 'both';
async function profileOne(path: 'session' | 'stateless'): Promise<string> {
  const dir = join(DIR, `${PLAIN ? 'plain' : FLOOR ? 'floor' : 'ours'}-${path}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const base = FLOOR ? `http://127.0.0.1:${port}` : `http://localhost:${port}`;
  const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(PLAIN ? plainFloorEntry(port, PLAIN_TOKEN) : FLOOR ? floorEntry(port) : [OURS_ENTRY])];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...BENCH_SERVER_ENV, PORT: String(port), AUTH_MODE: 'internal' },
    stdio: ['ignore', 'ignore', 'inherit']
  });
  await waitUntilServing(child, FLOOR ? `${base}/mcp` : `${base}/health`, 'server');
  const token = PLAIN ? PLAIN_TOKEN : FLOOR ? undefined : (await obtainTokens(base, { scope: 'mcp' })).accessToken;
  const mcpUrl = `${base}/mcp`;
  const headers = echoHeaders(token, path === 'session' ? await openSession(mcpUrl, token) : undefined);
  const warm = await fetch(mcpUrl, { method: 'POST', headers, body: echoCall(1, path === 'stateless') });
  const text = await warm.text();
  if (!text.includes('Echo: hello')) throw new Error(`warm-up failed: ${warm.status} ${text.slice(0, 200)}`);
  let nextId = 2; // a distinct JSON-RPC id per request (ids shared on one session collide)
  const r = await autocannon({
    url: mcpUrl,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION,
    headers,
    requests: [{ method: 'POST', setupRequest: req => ({ ...req, body: echoCall(nextId++, path === 'stateless') }) }]
  });
  console.log(`${PLAIN ? 'plain floor' : FLOOR ? 'floor' : 'ours'} ${path}: ${r.requests.average} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors + r.timeouts}, non-2xx ${r.non2xx}`);
  await new Promise<void>(resolve => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  // The main thread's profile is the largest (should a loader worker write one too).
  const file = readdirSync(dir)
    .filter(f => f.endsWith('.cpuprofile'))
    .map(f => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!file) throw new Error(`no profile written in ${dir}`);
  return file;
}

compileForBench();
for (const path of which === 'both' ? (['session', 'stateless'] as const) : [which as 'session' | 'stateless']) {
  const file = await profileOne(path);
  spawnSync(process.execPath, ['--import', 'tsx', 'bench/profile-summary.ts', file, '--top', process.env.PROFILE_TOP ?? '30'], { stdio: 'inherit' });
}
