/**
 * The benchmark measures what a user runs: JavaScript compiled by `tsc`, as
 * `npm run build && npm start` does, not the `tsx` loader (which compiles on
 * the fly and wraps every function it defines in a `__name` helper, a cost
 * paid on every closure created per request). Our server and the floor are
 * compiled alike, into bench/.build (tsconfig.bench.json).
 */
import { execFileSync } from 'node:child_process';
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
