/**
 * `npm run bench`: starts the servers, drives them with autocannon, prints a
 * table and writes bench/results/latest.json. Figures only: nothing here
 * asserts timings (targets are reported as met / not met).
 *
 * Scenarios (issue 7):
 *   1-2  authenticated tools/call echo, 2025 session path and 2026-07-28 stateless path, 32 connections
 *   3    the floor: a bare SDK v2 server (bench/floor-server.ts), no auth, both paths
 *   4    external mode: introspection (warm cache) and JWT, relative to internal mode
 *   5    Redis mode relative to memory mode
 *   6    new sessions per second; complete OAuth flows per second
 *   7    RSS per 1,000 idle 2025-era sessions, and after they are deleted
 *
 * Environment: BENCH_DURATION (seconds per load run, default 10),
 * BENCH_CONNECTIONS (default 32), BENCH_ONLY (comma-separated scenario keys).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

import { freePort } from '../test/helpers/free-port.js';
import { obtainTokens } from '../test/helpers/oauth.js';
import { startTestRedis } from '../test/helpers/redis-server.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const want = (key: string) => ONLY.length === 0 || ONLY.includes(key);

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
const children: ChildProcess[] = [];

interface LoadResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
}
const loads: LoadResult[] = [];
const figures: Record<string, number> = {};

// ---------------------------------------------------------------- processes

async function startProcess(name: string, args: string[], env: Record<string, string>, readyUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production', RATE_LIMIT_MAX: '100000000', ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  });
  let stderr = '';
  child.stderr!.on('data', d => (stderr = (stderr + d).slice(-4000)));
  children.push(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`);
    try {
      const res = await fetch(readyUrl);
      if (res.status < 500) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${stderr}`);
    await new Promise(r => setTimeout(r, 200));
  }
  return child;
}

async function startOurs(name: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const child = await startProcess(name, ['--import', 'tsx', 'src/index.ts'], { PORT: String(port), ...env }, `${url}/health`);
  return { url, child };
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function rssKiB(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

// ---------------------------------------------------------------- MCP wire helpers

const jsonHeaders = (token?: string): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...(token ? { authorization: `Bearer ${token}` } : {})
});

async function openSession(mcpUrl: string, token?: string): Promise<string> {
  const init = await fetch(mcpUrl, {
    method: 'POST',
    headers: { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } }
    })
  });
  const sessionId = init.headers.get('mcp-session-id');
  await init.text();
  if (!init.ok || !sessionId) throw new Error(`initialize failed: HTTP ${init.status}`);
  const note = await fetch(mcpUrl, {
    method: 'POST',
    headers: { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY, 'mcp-session-id': sessionId },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })
  });
  await note.text();
  return sessionId;
}

async function closeSession(mcpUrl: string, sessionId: string, token?: string): Promise<void> {
  const res = await fetch(mcpUrl, { method: 'DELETE', headers: { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY, 'mcp-session-id': sessionId } });
  await res.text();
}

const echoCall = (id: number, modern: boolean) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { message: 'hello' },
      ...(modern
        ? {
            _meta: {
              'io.modelcontextprotocol/protocolVersion': MODERN,
              'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
              'io.modelcontextprotocol/clientCapabilities': {}
            }
          }
        : {})
    }
  });

async function load(name: string, mcpUrl: string, headers: Record<string, string>, modern: boolean): Promise<LoadResult> {
  // One warm-up call: fills caches (introspection) and JIT paths, and proves the request is right.
  const check = await fetch(mcpUrl, { method: 'POST', headers, body: echoCall(1, modern) });
  const text = await check.text();
  if (!check.ok || !text.includes('Echo: hello')) throw new Error(`${name}: warm-up call failed: HTTP ${check.status} ${text.slice(0, 300)}`);
  const result = await autocannon({
    url: mcpUrl,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION,
    headers,
    body: echoCall(2, modern)
  });
  const r: LoadResult = {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total
  };
  loads.push(r);
  console.log(`  ${name.padEnd(44)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}  non-2xx ${r.non2xx}`);
  return r;
}

async function bothPaths(prefix: string, base: string, token?: string): Promise<{ session: LoadResult; stateless: LoadResult }> {
  const mcpUrl = `${base}/mcp`;
  const sessionId = await openSession(mcpUrl, token);
  const session = await load(`${prefix} / 2025 session`, mcpUrl, { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY, 'mcp-session-id': sessionId }, false);
  const stateless = await load(
    `${prefix} / 2026-07-28 stateless`,
    mcpUrl,
    { ...jsonHeaders(token), 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
    true
  );
  await closeSession(mcpUrl, sessionId, token);
  return { session, stateless };
}

// ---------------------------------------------------------------- JWT issuer for the external/JWT scenario

async function startJwtIssuer(audience: string): Promise<{ issuer: string; token: string; server: Server }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/oauth-authorization-server' || req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, response_types_supported: ['code'] }));
    } else if (req.url === '/jwks') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>(r => server.listen(port, '127.0.0.1', r));
  const token = await new SignJWT({ scope: 'mcp', client_id: 'bench-client' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  return { issuer, token, server };
}

// ---------------------------------------------------------------- scenarios

async function sessionsPerSecond(base: string, token: string): Promise<number> {
  const mcpUrl = `${base}/mcp`;
  const until = Date.now() + DURATION * 1000;
  let done = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const id = await openSession(mcpUrl, token);
      const call = await fetch(mcpUrl, { method: 'POST', headers: { ...jsonHeaders(token), 'mcp-protocol-version': LEGACY, 'mcp-session-id': id }, body: echoCall(1, false) });
      if (!(await call.text()).includes('Echo: hello')) throw new Error('session call failed');
      await closeSession(mcpUrl, id, token);
      done++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 8 }, worker));
  return done / ((Date.now() - started) / 1000);
}

async function oauthFlowsPerSecond(base: string): Promise<number> {
  const until = Date.now() + DURATION * 1000;
  let done = 0;
  const worker = async () => {
    while (Date.now() < until) {
      await obtainTokens(base, { identity: 'alice' });
      done++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 4 }, worker));
  return done / ((Date.now() - started) / 1000);
}

async function idleSessionMemory(base: string, child: ChildProcess, token: string): Promise<{ perSessionBytes: number; baselineKiB: number; loadedKiB: number; afterKiB: number }> {
  const mcpUrl = `${base}/mcp`;
  // Warm the process first so that one-time allocations do not count against sessions.
  for (let i = 0; i < 50; i++) await closeSession(mcpUrl, await openSession(mcpUrl, token), token);
  await new Promise(r => setTimeout(r, 500));
  const baselineKiB = rssKiB(child);
  const ids: string[] = [];
  for (let i = 0; i < 1000; i += 20) ids.push(...(await Promise.all(Array.from({ length: 20 }, () => openSession(mcpUrl, token)))));
  await new Promise(r => setTimeout(r, 500));
  const loadedKiB = rssKiB(child);
  for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map(id => closeSession(mcpUrl, id, token)));
  // Some unrelated traffic gives the collector a chance to run before the last reading.
  for (let i = 0; i < 200; i++) await (await fetch(`${base}/health`)).text();
  await new Promise(r => setTimeout(r, 1500));
  const afterKiB = rssKiB(child);
  return { perSessionBytes: ((loadedKiB - baselineKiB) * 1024) / 1000, baselineKiB, loadedKiB, afterKiB };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  console.log(`MCP Feature Reference Server benchmark: ${DURATION}s per run, ${CONNECTIONS} connections, node ${process.version}\n`);

  const ours = await startOurs('internal/memory', { AUTH_MODE: 'internal' });
  const tokens = await obtainTokens(ours.url, { scope: 'mcp' });

  let internal: { session: LoadResult; stateless: LoadResult } | undefined;
  let floor: { session: LoadResult; stateless: LoadResult } | undefined;
  if (want('echo') || want('floor') || want('external') || want('redis')) {
    console.log('Authenticated echo (internal mode, memory) and the floor');
    internal = await bothPaths('ours internal/memory', ours.url, tokens.accessToken);
    const floorPort = await freePort();
    const floorChild = await startProcess('floor', ['--import', 'tsx', 'bench/floor-server.ts', String(floorPort)], {}, `http://127.0.0.1:${floorPort}/mcp`);
    floor = await bothPaths('floor (bare SDK, no auth)', `http://127.0.0.1:${floorPort}`);
    await stopProcess(floorChild);
    figures.auth_overhead_session = 1 - internal.session.rps / floor.session.rps;
    figures.auth_overhead_stateless = 1 - internal.stateless.rps / floor.stateless.rps;
  }

  if (want('external') && internal) {
    console.log('External mode');
    const asPort = await freePort();
    const secret = 'bench-introspection-secret-0123456789abcdef';
    const asUrl = `http://localhost:${asPort}`;
    const asChild = await startProcess('auth_server', ['--import', 'tsx', 'src/index.ts'], { AUTH_MODE: 'auth_server', PORT: String(asPort), INTROSPECTION_CLIENT_ID: 'bench-rs', INTROSPECTION_CLIENT_SECRET: secret }, `${asUrl}/health`);
    const rsPort = await freePort();
    const rsUrl = `http://localhost:${rsPort}`;
    const rsChild = await startProcess(
      'external/introspection',
      ['--import', 'tsx', 'src/index.ts'],
      { AUTH_MODE: 'external', PORT: String(rsPort), AUTH_SERVER_URL: asUrl, TOKEN_AUDIENCE: `${rsUrl}/mcp`, TOKEN_VALIDATION: 'introspection', INTROSPECTION_CLIENT_ID: 'bench-rs', INTROSPECTION_CLIENT_SECRET: secret },
      `${rsUrl}/health`
    );
    const extTokens = await obtainTokens(asUrl, { scope: 'mcp', resource: `${rsUrl}/mcp` });
    const intro = await bothPaths('external/introspection (warm cache)', rsUrl, extTokens.accessToken);
    await stopProcess(rsChild);
    await stopProcess(asChild);

    const jwtPort = await freePort();
    const jwtUrl = `http://localhost:${jwtPort}`;
    const issuer = await startJwtIssuer(`${jwtUrl}/mcp`);
    const jwtChild = await startProcess(
      'external/jwt',
      ['--import', 'tsx', 'src/index.ts'],
      { AUTH_MODE: 'external', PORT: String(jwtPort), AUTH_SERVER_URL: issuer.issuer, TOKEN_VALIDATION: 'jwt' },
      `${jwtUrl}/health`
    );
    const jwt = await bothPaths('external/jwt', jwtUrl, issuer.token);
    await stopProcess(jwtChild);
    issuer.server.close();
    figures.external_introspection_vs_internal_session = intro.session.rps / internal.session.rps;
    figures.external_introspection_vs_internal_stateless = intro.stateless.rps / internal.stateless.rps;
    figures.external_jwt_vs_internal_session = jwt.session.rps / internal.session.rps;
    figures.external_jwt_vs_internal_stateless = jwt.stateless.rps / internal.stateless.rps;
  }

  if (want('redis') && internal) {
    console.log('Redis mode');
    const redis = await startTestRedis();
    const red = await startOurs('internal/redis', { AUTH_MODE: 'internal', REDIS_URL: redis.url });
    const redTokens = await obtainTokens(red.url, { scope: 'mcp' });
    const r = await bothPaths('ours internal/redis', red.url, redTokens.accessToken);
    await stopProcess(red.child);
    await redis.stop();
    figures.redis_vs_memory_session = r.session.rps / internal.session.rps;
    figures.redis_vs_memory_stateless = r.stateless.rps / internal.stateless.rps;
  }

  if (want('rates')) {
    console.log('Rates');
    figures.sessions_per_second = await sessionsPerSecond(ours.url, tokens.accessToken);
    console.log(`  new sessions per second (initialize, initialized, call, DELETE; 8 workers): ${figures.sessions_per_second.toFixed(1)}`);
    figures.oauth_flows_per_second = await oauthFlowsPerSecond(ours.url);
    console.log(`  complete OAuth flows per second (register, authorize, consent, IdP, token; 4 workers): ${figures.oauth_flows_per_second.toFixed(1)}`);
  }

  if (want('memory')) {
    console.log('Memory');
    const m = await idleSessionMemory(ours.url, ours.child, tokens.accessToken);
    figures.idle_session_bytes = m.perSessionBytes;
    figures.rss_baseline_kib = m.baselineKiB;
    figures.rss_with_1000_sessions_kib = m.loadedKiB;
    figures.rss_after_delete_kib = m.afterKiB;
    console.log(`  RSS baseline ${m.baselineKiB} KiB, with 1,000 idle sessions ${m.loadedKiB} KiB (${(m.perSessionBytes / 1024).toFixed(1)} KiB per session), after DELETE ${m.afterKiB} KiB`);
  }

  await stopProcess(ours.child);

  // ---------------------------------------------------------------- report
  const targets: Array<[string, boolean | undefined]> = [];
  const t = (name: string, v: number | undefined, ok: (x: number) => boolean) => targets.push([name, v === undefined ? undefined : ok(v)]);
  t('authenticated echo >= 90% of the floor (2025 session)', figures.auth_overhead_session, x => x <= 0.1);
  t('authenticated echo >= 90% of the floor (2026 stateless)', figures.auth_overhead_stateless, x => x <= 0.1);
  t('external/introspection >= 85% of internal (session)', figures.external_introspection_vs_internal_session, x => x >= 0.85);
  t('external/introspection >= 85% of internal (stateless)', figures.external_introspection_vs_internal_stateless, x => x >= 0.85);
  t('external/jwt >= 85% of internal (session)', figures.external_jwt_vs_internal_session, x => x >= 0.85);
  t('external/jwt >= 85% of internal (stateless)', figures.external_jwt_vs_internal_stateless, x => x >= 0.85);
  t('redis >= 70% of memory (session)', figures.redis_vs_memory_session, x => x >= 0.7);
  t('redis >= 70% of memory (stateless)', figures.redis_vs_memory_stateless, x => x >= 0.7);
  t('idle session <= 50 KB RSS', figures.idle_session_bytes, x => x <= 50_000);
  if (figures.rss_after_delete_kib !== undefined)
    t('RSS after deleting sessions within 10% of baseline', figures.rss_after_delete_kib / figures.rss_baseline_kib!, x => x <= 1.1);
  for (const l of loads) {
    t(`p99 < 50 ms: ${l.name}`, l.p99, x => x < 50);
    if (!l.name.startsWith('floor')) t(`no errors / no 5xx: ${l.name}`, l.errors + l.non2xx, x => x === 0);
  }

  console.log('\nFigures');
  for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(48)} ${Number.isInteger(v) ? v : v.toFixed(3)}`);
  console.log('\nTargets');
  for (const [name, ok] of targets) if (ok !== undefined) console.log(`  ${ok ? 'met    ' : 'NOT MET'}  ${name}`);

  mkdirSync('bench/results', { recursive: true });
  const out = { date: new Date().toISOString(), node: process.version, duration: DURATION, connections: CONNECTIONS, loads, figures, targets: Object.fromEntries(targets) };
  writeFileSync('bench/results/latest.json', JSON.stringify(out, null, 2));
  console.log('\nwrote bench/results/latest.json');
}

main()
  .catch(err => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(children.map(stopProcess));
  });
