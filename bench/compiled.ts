/**
 * The benchmark measures what a user runs: JavaScript compiled by `tsc`, as
 * `npm run build && npm start` does, not the `tsx` loader (which compiles on
 * the fly and wraps every function it defines in a `__name` helper, a cost
 * paid on every closure created per request). Our server and the floor are
 * compiled alike, into bench/.build (tsconfig.bench.json).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const BUILD_DIR = 'bench/.build';

let built = false;

/** Compiles src/ and the floor once per benchmark process. */
export function compileForBench(): void {
  if (built) return;
  // typescript's `exports` hide bin/tsc; its package.json is exported.
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.bench.json'], { stdio: 'inherit' });
  // The server finds the project's skills/ folder relative to its compiled
  // module (src/mcp/extensions/skills): from bench/.build/src that is bench/.build/skills.
  if (!existsSync(join(BUILD_DIR, 'skills'))) symlinkSync('../../skills', join(BUILD_DIR, 'skills'), 'dir');
  built = true;
}

/** Node arguments that start our server (compiled). */
export const OURS_ENTRY = `${BUILD_DIR}/src/index.js`;
/** Node arguments that start the Express floor on `port` (compiled). */
export const floorEntry = (port: number | string): string[] => [`${BUILD_DIR}/bench/floor-server.js`, String(port)];
/** Node arguments that start the plain `node:http` floor on `port`, accepting `token` (compiled). */
export const plainFloorEntry = (port: number | string, token: string): string[] => [`${BUILD_DIR}/bench/plain-floor-server.js`, String(port), token];
/** Node arguments that start the round-robin load balancer on `port` in front of `backends` (compiled). */
export const loadBalancerEntry = (port: number | string, backends: string[]): string[] => [`${BUILD_DIR}/bench/load-balancer.js`, String(port), ...backends];
/** Node arguments that start our server (compiled) with bench/gc-probe.ts preloaded and `gc` exposed. */
export const OURS_WITH_GC_PROBE = ['--expose-gc', '--import', `./${BUILD_DIR}/bench/gc-probe.js`, OURS_ENTRY];

/** The environment every server under test runs with: production, warn-level logs, no rate limit in the load's way. */
export const BENCH_SERVER_ENV = { LOG_LEVEL: 'warn', NODE_ENV: 'production', RATE_LIMIT_MAX: '100000000' } as const;

/**
 * Resolves once `readyUrl` answers with a status below 500 (the server is up);
 * rejects when `child` exits first or after `timeoutMs`, with `detail()`
 * (e.g. the tail of its stderr) in the message.
 */
export async function waitUntilServing(child: ChildProcess, readyUrl: string, name: string, options: { timeoutMs?: number; detail?: () => string } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  const detail = () => (options.detail ? `: ${options.detail()}` : '');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited${detail()}`);
    try {
      const res = await fetch(readyUrl);
      await res.text();
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start${detail()}`);
    await new Promise(r => setTimeout(r, 200));
  }
}
