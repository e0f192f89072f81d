/**
 * Before/after of a change on one path (`AB_PATH`: the 2025 session path by
 * default, `stateless` for 2026-07-28): the plain floor
 * and each compiled build given, interleaved (warm-up, then rounds), server
 * pinned to CPU 1 and this process (autocannon) to CPU 0, as bench/run.ts
 * does; prints req/s, p99, server CPU per request and (ours) GC pause time
 * per request (prom-client's histogram on /metrics) per round, and the
 * ratios to the floor. Shorter than `BENCH_BASELINE` in `npm run bench`
 * (one path, no Express floor), for one change at a time.
 *
 * Usage: tsx bench/ab.ts name=path/to/src/index.js [name2=…]   (this tree is
 *   compiled first into bench/.build: `now=bench/.build/src/index.js`)
 * Environment: AB_PATH (session | stateless), AB_WARMUP (s, 15), AB_DURATION (s, 8), AB_ROUNDS (3).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { freePort } from '../test/helpers/free-port.js';
import { obtainTokens } from '../test/helpers/oauth.js';
import { BENCH_SERVER_ENV, compileForBench, plainFloorEntry, waitUntilServing } from './compiled.js';
import { echoCall, echoHeaders, openSession } from './wire.js';

const WARMUP = Number(process.env.AB_WARMUP ?? 15);
const DURATION = Number(process.env.AB_DURATION ?? 8);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3);
const STATELESS = process.env.AB_PATH === 'stateless';
/** The headers of the measured echo: a session's, or a 2026-07-28 request's. */
const pathHeaders = async (url: string, token: string): Promise<Record<string, string>> => echoHeaders(token, STATELESS ? undefined : await openSession(url, token));
execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
const children: ChildProcess[] = [];
async function start(args: string[], env: Record<string, string>, ready: string) {
  const child = spawn('taskset', ['-c', '1', process.execPath, ...args], { env: { ...process.env, ...BENCH_SERVER_ENV, AUTH_MODE: 'internal', ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  await waitUntilServing(child, ready, args.join(' '), { timeoutMs: 30_000 });
  return child;
}
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10_000; };
let nextId = 2;
/** Seconds spent in GC pauses so far, by kind (prom-client's histogram on our /metrics; undefined for the floor). */
async function gcSeconds(url: string): Promise<number | undefined> {
  if (url.startsWith('http://127.0.0.1')) return undefined;
  const text = await (await fetch(url.replace(/\/mcp$/, '/metrics'))).text();
  let sum = 0;
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} ([0-9.e+-]+)$/gm)) sum += Number(m[1]);
  return sum;
}
async function run(url: string, headers: Record<string, string>, pid: number, duration: number) {
  const g0 = await gcSeconds(url);
  const c0 = cpu(pid);
  const r = await autocannon({ url, method: 'POST', connections: 32, duration, headers, requests: [{ method: 'POST', setupRequest: req => ({ ...req, body: echoCall(nextId++, STATELESS) }) }] });
  const cpuUs = (cpu(pid) - c0) / Math.max(1, r.requests.total);
  const g1 = await gcSeconds(url);
  const gcUs = g0 === undefined || g1 === undefined ? NaN : ((g1 - g0) * 1e6) / Math.max(1, r.requests.total);
  return { rps: r.requests.average, p99: r.latency.p99, cpuUs, gcUs, errors: r.errors + r.timeouts + r.non2xx };
}
compileForBench();
const targets: Array<{ name: string; url: string; headers: Record<string, string>; pid: number }> = [];
{
  const port = await freePort(); const token = randomBytes(32).toString('base64url');
  const child = await start(plainFloorEntry(port, token), {}, `http://127.0.0.1:${port}/mcp`);
  const url = `http://127.0.0.1:${port}/mcp`;
  targets.push({ name: 'plain', url, pid: child.pid!, headers: await pathHeaders(url, token) });
}
for (const arg of process.argv.slice(2)) {
  const [name, entry] = arg.split('=') as [string, string];
  const port = await freePort(); const base = `http://localhost:${port}`;
  const child = await start([entry], { PORT: String(port) }, `${base}/health`);
  const token = (await obtainTokens(base, { scope: 'mcp' })).accessToken;
  const url = `${base}/mcp`;
  targets.push({ name, url, pid: child.pid!, headers: await pathHeaders(url, token) });
}
const res: Record<string, Array<{ rps: number; p99: number; cpuUs: number; gcUs: number }>> = {};
for (const t of targets) {
  const r = await run(t.url, t.headers, t.pid, WARMUP);
  console.log(`${t.name.padEnd(10)} warm-up ${r.rps.toFixed(0)} req/s p99 ${r.p99} ms CPU ${r.cpuUs.toFixed(0)} µs GC pauses ${r.gcUs.toFixed(0)} µs errors ${r.errors} load ${loadavg()[0]!.toFixed(2)}`);
}
for (let round = 1; round <= ROUNDS; round++) for (const t of targets) {
  const r = await run(t.url, t.headers, t.pid, DURATION);
  (res[t.name] ??= []).push(r);
  console.log(`${t.name.padEnd(10)} round ${round} ${r.rps.toFixed(0)} req/s p99 ${r.p99} ms CPU ${r.cpuUs.toFixed(0)} µs GC pauses ${r.gcUs.toFixed(0)} µs errors ${r.errors} load ${loadavg()[0]!.toFixed(2)}`);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const p = res.plain!;
for (const [name, rs] of Object.entries(res)) {
  const minCpu = Math.min(...rs.map(r => r.cpuUs)), mCpu = med(rs.map(r => r.cpuUs));
  console.log(`SUMMARY ${name.padEnd(10)} median ${med(rs.map(r => r.rps)).toFixed(0)} req/s, p99 median ${med(rs.map(r => r.p99))} ms, CPU median ${mCpu.toFixed(0)} µs, min ${minCpu.toFixed(0)} µs, GC pauses median ${med(rs.map(r => r.gcUs)).toFixed(0)} µs/req | per-round rps ratio vs plain: ${rs.map((r, i) => (r.rps / p[i]!.rps).toFixed(2)).join(' ')} | cpu plain/ours: ${rs.map((r, i) => (p[i]!.cpuUs / r.cpuUs).toFixed(2)).join(' ')} | p99 ratio: ${rs.map((r, i) => (r.p99 / p[i]!.p99).toFixed(2)).join(' ')}`);
}
for (const c of children) c.kill('SIGTERM');
