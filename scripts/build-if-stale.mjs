#!/usr/bin/env node
// `prestart`: compiles src/ into dist/ when dist/index.js is missing or older
// than any source file or tsconfig, so `npm start` works right after `npm ci`
// and never runs a build older than the sources. Quick when dist is current.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT = join(ROOT, 'dist', 'index.js');

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map(name => newestMtime(join(path, name))));
}

function outputMtime() {
  try {
    return statSync(OUTPUT).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = Math.max(...[join(ROOT, 'src'), join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json')].map(newestMtime));
const built = outputMtime();
if (built >= sources) process.exit(0);

console.error(built < 0 ? 'dist/ is missing: building it (npm run build)' : 'dist/ is older than src/: rebuilding it (npm run build)');
const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
process.exit(result.status ?? 1);
