#!/usr/bin/env node
// Long fuzzing runs: `npm run fuzz -- --runs N [--seed S]` runs the
// property-based fuzzer of every HTTP endpoint (test/fuzz/http-endpoints.test.ts)
// with N cases per endpoint group (six groups) instead of the bounded number
// `npm test` runs. A failure prints the seed and the shrunk request; replay it
// with the same --seed.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000' }, seed: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs <= 0) {
  console.error('--runs must be a positive whole number');
  process.exit(2);
}
const env = { ...process.env, FUZZ_RUNS: String(runs), FUZZ_STATS: '1' };
if (values.seed !== undefined) env.FUZZ_SEED = values.seed;
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', 'test/fuzz/http-endpoints.test.ts'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
