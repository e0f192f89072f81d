/**
 * Instructions per request: the authenticated echo's CPU work counted by
 * valgrind's callgrind, a figure the machine's load does not move (timings
 * on this shared 2-vCPU machine move ±10% between rounds of the same
 * server; see docs/performance.md, "Issue 15"). Each server runs under
 * `valgrind --tool=callgrind --separate-threads=yes` (about 100× slower);
 * after a warm-up the counters are zeroed (`callgrind_control -z`), a fixed
 * number of requests is sent, and the counters are dumped
 * (`callgrind_control -d`). Reported per request: the main thread's
 * instructions (the JavaScript, the scavenges, the I/O: ±2% between rounds)
 * and every thread's (adds the concurrent compiler and GC helpers, which
 * move more). A count, not a time: cache misses and branch mispredictions
 * are not in it, so it complements `npm run bench`, it does not replace it.
 *
 * Usage: tsx bench/instructions.ts [name=path/to/src/index.js …]
 *   The plain floor and this tree (compiled into bench/.build) always; each
 *   `name=entry` adds another compiled build of ours (before/after).
 * Environment: INSN_PATH (stateless | session, default stateless),
 *   INSN_WARMUP (requests, 2000), INSN_REQUESTS (per round, 2000),
 *   INSN_ROUNDS (3), INSN_PARALLEL (servers measured at once, 2).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import autocannon from 'autocannon';

import { freePort } from '../test/helpers/free-port.js';
import { obtainTokens } from '../test/helpers/oauth.js';
import { BENCH_SERVER_ENV, compileForBench, OURS_ENTRY, plainFloorEntry, waitUntilServing } from './compiled.js';
import { echoCall, echoHeaders, openSession } from './wire.js';

const STATELESS = (process.env.INSN_PATH ?? 'stateless') === 'stateless';
const WARMUP = Number(process.env.INSN_WARMUP ?? 2000);
const REQUESTS = Number(process.env.INSN_REQUESTS ?? 2000);
const ROUNDS = Number(process.env.INSN_ROUNDS ?? 3);
const PARALLEL = Number(process.env.INSN_PARALLEL ?? 2);

interface Target {
  name: string;
  args: string[];
  /** Waits until the server (`child`) is up; the MCP URL and a bearer token. */
  connect(port: number, child: ChildProcess): Promise<{ url: string; token: string }>;
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach(c => c.kill('SIGKILL')));

let nextId = 1;
async function load(url: string, headers: Record<string, string>, amount: number): Promise<void> {
  const r = await autocannon({ url, method: 'POST', connections: 8, amount, headers, requests: [{ method: 'POST', setupRequest: req => ({ ...req, body: echoCall(nextId++, STATELESS) }) }] });
  if (r.errors + r.timeouts + r.non2xx > 0) throw new Error(`${url}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`);
}

/** Instructions per thread in one dump (`<file>.<n>-<thread>`), main thread first. */
function dumped(dir: string, n: number): number[] {
  return readdirSync(dir)
    .filter(f => f.includes(`.out.${n}-`))
    .sort()
    .map(f => Number(/^summary: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? 0));
}

async function measure(t: Target): Promise<{ name: string; main: number[]; all: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'insn-'));
  const port = await freePort();
  const child = spawn('valgrind', ['--tool=callgrind', '--separate-threads=yes', '--smc-check=all-non-file', `--callgrind-out-file=${dir}/cg.out`, process.execPath, ...t.args], {
    env: { ...process.env, ...BENCH_SERVER_ENV, AUTH_MODE: 'internal', PORT: String(port) },
    stdio: ['ignore', 'ignore', 'ignore']
  });
  children.push(child);
  try {
    const { url, token } = await t.connect(port, child).catch(async err => {
      throw new Error(`${t.name}: ${(err as Error).message}`);
    });
    const headers = echoHeaders(token, STATELESS ? undefined : await openSession(url, token));
    await load(url, headers, WARMUP);
    const main: number[] = [];
    const all: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      execFileSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
      await load(url, headers, REQUESTS);
      execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
      const threads = dumped(dir, round);
      main.push(threads[0]! / REQUESTS);
      all.push(threads.reduce((a, b) => a + b, 0) / REQUESTS);
      console.log(`${t.name.padEnd(10)} round ${round}: main thread ${(main.at(-1)! / 1e6).toFixed(3)} M instructions per request, all threads ${(all.at(-1)! / 1e6).toFixed(3)} M`);
    }
    return { name: t.name, main, all };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const ours = (name: string, entry: string): Target => ({
  name,
  args: [entry],
  async connect(port, child) {
    const base = `http://localhost:${port}`;
    await waitUntilServing(child, `${base}/health`, name, { timeoutMs: 600_000 });
    return { url: `${base}/mcp`, token: (await obtainTokens(base, { scope: 'mcp' })).accessToken };
  }
});

compileForBench();
const plainToken = randomBytes(32).toString('base64url');
const plainPort = await freePort();
const targets: Target[] = [
  {
    name: 'plain',
    // The plain floor takes its port and token as arguments.
    args: plainFloorEntry(plainPort, plainToken),
      async connect(_port, child) {
      const url = `http://127.0.0.1:${plainPort}/mcp`;
      await waitUntilServing(child, url, 'plain', { timeoutMs: 600_000 });
      return { url, token: plainToken };
    }
  },
  ours('ours', OURS_ENTRY),
  ...process.argv.slice(2).map(arg => {
    const [name, entry] = arg.split('=') as [string, string];
    return ours(name, entry);
  })
];

const results: Array<Awaited<ReturnType<typeof measure>>> = [];
for (let i = 0; i < targets.length; i += PARALLEL) results.push(...(await Promise.all(targets.slice(i, i + PARALLEL).map(measure))));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const floor = results.find(r => r.name === 'plain')!;
console.log(`\n${STATELESS ? '2026-07-28' : '2025 session'} echo, ${REQUESTS} requests per round after ${WARMUP}, medians of ${ROUNDS} rounds:`);
for (const r of results) {
  console.log(
    `${r.name.padEnd(10)} main thread ${(median(r.main) / 1e6).toFixed(3)} M/request (${(median(r.main) / median(floor.main)).toFixed(3)}× the plain floor), all threads ${(median(r.all) / 1e6).toFixed(3)} M (${(median(r.all) / median(floor.all)).toFixed(3)}×)`
  );
}
