/**
 * Bytes allocated per request: ours against the plain floor
 * (bench/plain-floor-server.ts), on the 2025 session path and the
 * 2026-07-28 stateless path, with the same authenticated echo as
 * `npm run bench`.
 *
 * Every allocation is garbage the collector must find later; on a server
 * pinned to one core the scavenges it triggers are the stalls every request
 * in flight waits for (docs/performance.md "p99 and stalls"). Unlike req/s
 * and CPU time, this figure is a count: the machine's load does not move it,
 * so it shows what a hot-path change saves even on a shared machine.
 *
 * Each server runs compiled, with bench/gc-probe.ts preloaded (over IPC:
 * `alloc-start`, `alloc-stop`, V8's heap figures around every collection),
 * gets WARMUP requests first (JIT tiers, caches, the shared catalogue), then
 * REQUESTS requests at 32 connections, measured.
 *
 * Usage: npx tsx bench/alloc.ts   (ALLOC_REQUESTS, default 20000; ALLOC_WARMUP, default 5000)
 * ALLOC_SITES=<dir>: also where the bytes are allocated (V8's sampling heap
 * profiler over the measured window): a `.heapprofile` per server and path
 * in <dir>, and the top sites printed, as KiB per request.
 * Also run by `npm run bench` (scenario `alloc`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import autocannon from 'autocannon';

import { freePort } from '../test/helpers/free-port.js';
import { obtainTokens } from '../test/helpers/oauth.js';
import { BENCH_SERVER_ENV, compileForBench, OURS_ENTRY, plainFloorEntry, waitUntilServing } from './compiled.js';
import { echoCall, echoHeaders, openSession } from './wire.js';

const REQUESTS = Number(process.env.ALLOC_REQUESTS ?? 20_000);
const WARMUP = Number(process.env.ALLOC_WARMUP ?? 5_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SITES = process.env.ALLOC_SITES;
const TOP_SITES = Number(process.env.ALLOC_TOP ?? 25);

type Path = 'session' | 'stateless';
export interface AllocationFigures {
  /** Bytes allocated on the JavaScript heap per request. */
  bytesPerRequest: number;
  /** Garbage collections per 1,000 requests (scavenges and full). */
  collectionsPerThousand: number;
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${message}`)), 30_000);
    child.once('message', answer => {
      clearTimeout(timer);
      resolve(answer as T);
    });
    child.send(message);
  });
}

async function start(kind: 'ours' | 'plain', token: string, sitesFile?: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const entry = kind === 'ours' ? [OURS_ENTRY] : plainFloorEntry(port, token);
  const child = spawn(process.execPath, ['--expose-gc', '--import', './bench/.build/bench/gc-probe.js', ...entry], {
    env: { ...process.env, ...BENCH_SERVER_ENV, PORT: String(port), AUTH_MODE: 'internal', ...(sitesFile ? { ALLOC_SITES_FILE: sitesFile } : {}) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  });
  await waitUntilServing(child, kind === 'ours' ? `${base}/health` : `${base}/mcp`, kind);
  return { child, base };
}

async function drive(mcpUrl: string, headers: Record<string, string>, path: Path, amount: number): Promise<void> {
  let nextId = 2;
  const r = await autocannon({
    url: mcpUrl,
    method: 'POST',
    connections: CONNECTIONS,
    amount,
    headers,
    requests: [{ method: 'POST', setupRequest: req => ({ ...req, body: echoCall(nextId++, path === 'stateless') }) }]
  });
  if (r.errors + r.timeouts + r.non2xx > 0) throw new Error(`${mcpUrl}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`);
}

async function measure(kind: 'ours' | 'plain', path: Path): Promise<AllocationFigures> {
  const plainToken = randomBytes(32).toString('base64url');
  const sitesFile = SITES ? join(SITES, `${kind}-${path}.heapprofile`) : undefined;
  const { child, base } = await start(kind, plainToken, sitesFile);
  try {
    const token = kind === 'plain' ? plainToken : (await obtainTokens(base, { scope: 'mcp' })).accessToken;
    const mcpUrl = `${base}/mcp`;
    const headers = echoHeaders(token, path === 'session' ? await openSession(mcpUrl, token) : undefined);
    await drive(mcpUrl, headers, path, WARMUP);
    await ask(child, 'alloc-start');
    await drive(mcpUrl, headers, path, REQUESTS);
    const { allocatedBytes, collections } = await ask<{ allocatedBytes: number; collections: number }>(child, 'alloc-stop');
    const figures = { bytesPerRequest: allocatedBytes / REQUESTS, collectionsPerThousand: (collections * 1000) / REQUESTS };
    if (sitesFile) printSites(sitesFile, figures.bytesPerRequest, `${kind} ${path}`);
    return figures;
  } finally {
    child.kill('SIGTERM');
  }
}

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

/** The top allocation sites of a sampling heap profile, scaled to the measured bytes per request. */
function printSites(file: string, bytesPerRequest: number, label: string): void {
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: SampleNode };
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: SampleNode) => {
    const f = node.callFrame;
    const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^.*bench\/\.build\//, '')}:${f.lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    node.children.forEach(walk);
  };
  walk(head);
  console.log(`  where ${label} allocates (KiB per request, share):`);
  for (const [site, size] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, TOP_SITES)) {
    console.log(`    ${((bytesPerRequest * size) / total / 1024).toFixed(2).padStart(6)}  ${((100 * size) / total).toFixed(1).padStart(5)}%  ${site}`);
  }
}

/** Ours and the plain floor, both paths: figures by `<server>_<path>`. */
export async function allocationFigures(log = console.log): Promise<Record<string, AllocationFigures>> {
  const figures: Record<string, AllocationFigures> = {};
  for (const path of ['stateless', 'session'] as const) {
    for (const kind of ['ours', 'plain'] as const) {
      const f = (figures[`${kind}_${path}`] = await measure(kind, path));
      log(`  ${kind === 'ours' ? 'ours       ' : 'plain floor'} ${path.padEnd(9)} ${(f.bytesPerRequest / 1024).toFixed(1).padStart(6)} KiB allocated per request, ${f.collectionsPerThousand.toFixed(1)} collections per 1,000 requests`);
    }
    const ratio = figures[`ours_${path}`]!.bytesPerRequest / figures[`plain_${path}`]!.bytesPerRequest;
    log(`  ${path}: ours allocate ${ratio.toFixed(2)}× the plain floor's bytes per request`);
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  compileForBench();
  if (SITES) mkdirSync(SITES, { recursive: true });
  console.log(`Bytes allocated per request (${WARMUP} warm-up requests, then ${REQUESTS} measured, ${CONNECTIONS} connections)`);
  await allocationFigures();
  process.exit(0);
}
