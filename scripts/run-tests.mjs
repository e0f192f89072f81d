#!/usr/bin/env node
// Runs every *.test.ts under test/ (or the paths given) with Node's test runner
// and tsx. Node 20's --test takes no globs, so the files are listed here.
// First it installs whatever the tests need and this machine lacks
// (scripts/ensure-test-deps.mjs), or stops with the command to run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { ensureTestDependencies } from './ensure-test-deps.mjs';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2).filter(a => !a.startsWith('--'));
const flags = process.argv.slice(2).filter(a => a.startsWith('--'));
const files = (roots.length ? roots : ['test']).flatMap(r => collect(r, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
try {
  ensureTestDependencies();
} catch (err) {
  console.error(`\nnpm test cannot run: ${err.message}\n`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...flags, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
