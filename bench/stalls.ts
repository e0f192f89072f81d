/**
 * Where p99 stalls come from: drives one path of our server (compiled,
 * internal mode, memory store) with the bench's request for a while, then
 * reads its own /metrics: the event-loop delay histogram
 * (`nodejs_eventloop_delay_seconds`, src/ops/metrics.ts) and prom-client's
 * GC pause histogram by kind (`nodejs_gc_duration_seconds`), and prints how
 * many loop delays and GC pauses of each size the run had, next to the
 * client-side p99.
 *
 * Usage: tsx bench/stalls.ts [session|stateless]   (PROFILE_DURATION seconds, default 20;
 *        STALLS_NODE_ARGS: extra node flags for the server, e.g. --max-semi-space-size=64)
 */
import { execFileSync, spawn } from 'node:child_process';

import autocannon from 'autocannon';

import { freePort } from '../test/helpers/free-port.js';
import { obtainTokens } from '../test/helpers/oauth.js';
import { compileForBench, OURS_ENTRY } from './compiled.js';
import { echoCall, echoHeaders, openSession } from './wire.js';

const DURATION = Number(process.env.PROFILE_DURATION ?? 20);
const path = (process.argv[2] ?? 'session') as 'session' | 'stateless';

compileForBench();
const port = await freePort();
const base = `http://localhost:${port}`;
// As in bench/run.ts: with `taskset`, this process (autocannon) on CPU 0, the server on CPU 1.
const pinned = (() => {
  try {
    execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const serverArgs = [...(process.env.STALLS_NODE_ARGS ?? '').split(' ').filter(Boolean), OURS_ENTRY];
const [command, argv] = pinned ? ['taskset', ['-c', '1', process.execPath, ...serverArgs]] : [process.execPath, serverArgs];
const child = spawn(command, argv, {
  env: { ...process.env, PORT: String(port), AUTH_MODE: 'internal', LOG_LEVEL: 'warn', NODE_ENV: 'production', RATE_LIMIT_MAX: '100000000' },
  stdio: ['ignore', 'ignore', 'inherit']
});
try {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise(r => setTimeout(r, 200));
  }
  const token = (await obtainTokens(base, { scope: 'mcp' })).accessToken;
  const mcpUrl = `${base}/mcp`;
  const headers = echoHeaders(token, path === 'session' ? await openSession(mcpUrl, token) : undefined);
  const buckets = async () => parseBuckets(await (await fetch(`${base}/metrics`)).text());
  const before = await buckets();
  let nextId = 2;
  const r = await autocannon({
    url: mcpUrl,
    method: 'POST',
    connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
    duration: DURATION,
    headers,
    requests: [{ method: 'POST', setupRequest: req => ({ ...req, body: echoCall(nextId++, path === 'stateless') }) }]
  });
  const after = await buckets();
  console.log(`${path}: ${r.requests.average} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms, ${r.requests.total} requests`);
  for (const [series, counts] of after) {
    const earlier = before.get(series) ?? new Map<string, number>();
    let previous = 0;
    const parts: string[] = [];
    for (const [le, cumulative] of counts) {
      const delta = cumulative - (earlier.get(le) ?? 0);
      if (delta - previous > 0) parts.push(`≤${le}s: ${delta - previous}`);
      previous = delta;
    }
    console.log(`  ${series}: ${parts.join(', ') || 'none'}`);
  }
} finally {
  child.kill('SIGTERM');
}

/** `name{labels without le}` → (le → cumulative count), for the two histograms. */
function parseBuckets(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    const m = /^(nodejs_eventloop_delay_seconds|nodejs_gc_duration_seconds)_bucket\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const le = /le="([^"]+)"/.exec(m[2]!)![1]!;
    const series = `${m[1]}{${m[2]!.replace(/,?le="[^"]+"/, '')}}`;
    if (!out.has(series)) out.set(series, new Map());
    out.get(series)!.set(le, Number(m[3]));
  }
  return out;
}
