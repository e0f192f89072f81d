#!/usr/bin/env node
// Makes sure everything `npm test` needs is on this machine, installing what is
// missing, and stops at once with the exact command to run when it cannot.
// Called by scripts/run-tests.mjs before any test runs; quick (no network, no
// child process but `sudo -n true` when something is missing) when everything
// is present. Idempotent.
//
//   node_modules           `npm ci` when node_modules is missing (so `npm test`
//                          works on a fresh clone even without `npm ci` first)
//   tools/conformance      `npm --prefix tools/conformance ci`: the pinned
//                          official conformance suite and its Node 22 binary
//   gallery                `npm --prefix gallery ci`: the MCP Apps example
//                          servers the gallery mounts at /<slug>/mcp
//   redis-server           apt (always: even with REDIS_URL, the Redis Cluster
//                          suite starts its own six nodes)
//   redis-cli              apt redis-tools (the cluster suite creates the
//                          cluster with `redis-cli --cluster create`)
//   chromium               apt (Debian's /usr/bin/chromium, or CHROMIUM_PATH)
//   curl, jq, openssl      apt (examples/curl.sh)
//
// apt runs as root, or through `sudo -n` (passwordless sudo); otherwise the
// script exits 1 and prints the command. Variables it honours:
//   REDIS_SERVER_BIN, REDIS_CLI_BIN, CHROMIUM_PATH   where the tests look for the binaries
//   TEST_DEPS_INSTALL=0               check only, never install (prints the
//                                     command for whatever is missing)
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = join(ROOT, 'tools', 'conformance');
const NODE22 = join(TOOLS, 'node_modules', '.bin', 'node');
const SUITE = join(TOOLS, 'node_modules', '@modelcontextprotocol', 'conformance');
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

const mayInstall = process.env.TEST_DEPS_INSTALL !== '0';

class Missing extends Error {}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on the PATH, or a path as given; undefined when not executable. */
function findBinary(name) {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function run(command, args, options = {}) {
  console.error(`test deps: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.status !== 0) {
    throw new Missing(`\`${[command, ...args].join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
}

function fail(what, command, hint = '') {
  throw new Missing(`${what} missing. Run:\n\n    ${command}\n\nthen \`npm test\` again${hint}.`);
}

// ---- npm packages ----------------------------------------------------------

function ensureNodeModules() {
  if (existsSync(join(ROOT, 'node_modules', '.package-lock.json'))) return;
  if (!mayInstall) fail('node_modules is', `cd ${ROOT} && npm ci`);
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** Why the pinned conformance suite is not usable, or undefined when it is. */
function conformanceProblem() {
  if (!isExecutable(NODE22)) return `the Node 22 binary (${NODE22}) is`;
  const pkg = join(SUITE, 'package.json');
  if (!existsSync(join(SUITE, 'dist', 'index.js')) || !existsSync(pkg)) return 'the conformance suite (tools/conformance) is';
  const pinned = JSON.parse(readFileSync(join(TOOLS, 'package.json'), 'utf8')).devDependencies['@modelcontextprotocol/conformance'];
  const installed = JSON.parse(readFileSync(pkg, 'utf8')).version;
  if (installed !== pinned) return `conformance suite ${pinned} (tools/conformance/package.json; ${installed} installed) is`;
  return undefined;
}

function ensureConformance() {
  const problem = conformanceProblem();
  if (!problem) return;
  if (!mayInstall) fail(problem, 'npm --prefix tools/conformance ci');
  run('npm', ['--prefix', TOOLS, 'ci', '--no-audit', '--no-fund']);
  const still = conformanceProblem();
  if (still) throw new Missing(`${still} still missing after \`npm --prefix tools/conformance ci\``);
}

const GALLERY = join(ROOT, 'gallery');

/** The gallery's packages are installed as gallery/package-lock.json pins them. */
function galleryInstalled() {
  const lock = join(GALLERY, 'package-lock.json');
  const installed = join(GALLERY, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return false;
  const want = JSON.parse(readFileSync(lock, 'utf8')).packages ?? {};
  const have = JSON.parse(readFileSync(installed, 'utf8')).packages ?? {};
  // Optional packages are other platforms' native binaries: npm skips them here.
  return Object.entries(want).every(([path, p]) => path === '' || p.optional === true || have[path]?.version === p.version);
}

function ensureGallery() {
  if (galleryInstalled()) return;
  if (!mayInstall) fail('the MCP Apps gallery packages (gallery/node_modules) are', 'npm --prefix gallery ci');
  run('npm', ['--prefix', GALLERY, 'ci', '--no-audit', '--no-fund']);
}

// ---- Debian packages -------------------------------------------------------

/** Each system dependency: the package that provides it and where the tests look. */
function systemDependencies() {
  const deps = [];
  // Needed even with REDIS_URL: test/cluster starts a local Redis Cluster of its own.
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  deps.push({ pkg: 'redis-server', bin, override: process.env.REDIS_SERVER_BIN ? 'REDIS_SERVER_BIN' : undefined });
  deps.push({ pkg: 'redis-tools', bin: process.env.REDIS_CLI_BIN ?? 'redis-cli', override: process.env.REDIS_CLI_BIN ? 'REDIS_CLI_BIN' : undefined });
  deps.push({ pkg: 'chromium', bin: process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM, override: process.env.CHROMIUM_PATH ? 'CHROMIUM_PATH' : undefined });
  for (const tool of ['curl', 'jq', 'openssl']) deps.push({ pkg: tool, bin: tool });
  return deps;
}

function missingSystemDependencies() {
  return systemDependencies().filter(d => !findBinary(d.bin));
}

function aptCommand(packages, sudo) {
  const s = sudo ? 'sudo ' : '';
  return `${s}apt-get update && ${s}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

function ensureSystemPackages() {
  const missing = missingSystemDependencies();
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map(d => d.pkg))];
  const what = missing.map(d => (d.override ? `${d.bin} (${d.override})` : d.bin)).join(', ');
  const isRoot = process.getuid?.() === 0;
  const are = missing.length > 1 ? 'are' : 'is';
  if (!findBinary('apt-get')) fail(`${what} ${are} (and there is no apt-get: install these with your package manager)`, packages.join(' '));
  const canSudo = !isRoot && findBinary('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (!mayInstall || (!isRoot && !canSudo)) {
    const overrides = missing.filter(d => d.override).map(d => d.override);
    const hint = overrides.length ? ` (or point ${overrides.join(' / ')} at an installed binary)` : '';
    fail(`${what} ${are}`, aptCommand(packages, !isRoot), hint);
  }
  // As root apt-get runs directly; otherwise through `sudo -n` (never a password prompt).
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args) => (isRoot ? run('apt-get', args, { env: aptEnv }) : run('sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]));
  apt('update', '-qq');
  apt('install', '-y', '-qq', '--no-install-recommends', ...packages);
  const still = missingSystemDependencies();
  if (still.length) {
    const where = still.map(d => (d.override ? `${d.bin} (set by ${d.override}: point it at the installed binary or unset it)` : d.bin)).join(', ');
    throw new Missing(`still missing after installing ${packages.join(' ')}: ${where}`);
  }
}

export function ensureTestDependencies() {
  ensureNodeModules();
  ensureConformance();
  ensureGallery();
  ensureSystemPackages();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureTestDependencies();
  } catch (err) {
    if (!(err instanceof Missing)) throw err;
    console.error(`\nnpm test cannot run: ${err.message}\n`);
    process.exit(1);
  }
}
