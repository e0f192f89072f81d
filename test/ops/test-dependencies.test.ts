/**
 * scripts/ensure-test-deps.mjs, the first step of `npm test`: quiet and quick
 * when everything is present; when something is missing and may not be
 * installed (TEST_DEPS_INSTALL=0, or no root and no passwordless sudo), it
 * stops at once with the exact command to run instead of letting suites skip.
 *
 * The "missing" cases point REDIS_SERVER_BIN / CHROMIUM_PATH at paths that do
 * not exist, or run a copy of the script in a scratch project whose
 * tools/conformance has not been installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const SCRIPT = 'scripts/ensure-test-deps.mjs';

function ensure(env: Record<string, string | undefined>, script = SCRIPT, asUser?: string) {
  const merged = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  const [cmd, args] = asUser ? ['runuser', ['-u', asUser, '--', process.execPath, script]] : [process.execPath, [script]];
  const result = spawnSync(cmd, args, { env: merged, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('npm test installs what it lacks, or says how', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'test-deps-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('passes silently when everything is present', () => {
    const { status, output } = ensure({ TEST_DEPS_INSTALL: '0', REDIS_URL: undefined, REDIS_SERVER_BIN: undefined, REDIS_CLI_BIN: undefined, CHROMIUM_PATH: undefined });
    assert.equal(status, 0, output);
    assert.equal(output, '');
  });

  it('stops with the apt-get command when redis-server and chromium are missing and installing is off', () => {
    const { status, output } = ensure({ TEST_DEPS_INSTALL: '0', REDIS_URL: undefined, REDIS_SERVER_BIN: '/nonexistent/redis-server', CHROMIUM_PATH: '/nonexistent/chromium' });
    assert.equal(status, 1);
    assert.match(output, /\/nonexistent\/redis-server \(REDIS_SERVER_BIN\), \/nonexistent\/chromium \(CHROMIUM_PATH\) are/);
    assert.match(output, /apt-get update && (sudo )?env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server chromium\n/);
  });

  it('asks for redis-server even when REDIS_URL names a server (the cluster suite starts its own nodes)', () => {
    const { status, output } = ensure({ TEST_DEPS_INSTALL: '0', REDIS_URL: 'redis://127.0.0.1:1', REDIS_SERVER_BIN: '/nonexistent/redis-server', CHROMIUM_PATH: undefined });
    assert.equal(status, 1);
    assert.match(output, /apt-get install -y --no-install-recommends redis-server\n/);
  });

  it('stops with `npm --prefix tools/conformance ci` when the pinned conformance suite is not installed', () => {
    // A scratch project: node_modules installed, tools/conformance only declared.
    mkdirSync(join(scratch, 'scripts'));
    mkdirSync(join(scratch, 'node_modules'));
    mkdirSync(join(scratch, 'tools', 'conformance'), { recursive: true });
    writeFileSync(join(scratch, 'node_modules', '.package-lock.json'), '{}');
    writeFileSync(join(scratch, 'tools', 'conformance', 'package.json'), JSON.stringify({ devDependencies: { '@modelcontextprotocol/conformance': '0.0.0' } }));
    copyFileSync(SCRIPT, join(scratch, 'scripts', 'ensure-test-deps.mjs'));
    const { status, output } = ensure({ TEST_DEPS_INSTALL: '0' }, join(scratch, 'scripts', 'ensure-test-deps.mjs'));
    assert.equal(status, 1);
    assert.match(output, /Node 22 binary .* is missing\. Run:\n\n {4}npm --prefix tools\/conformance ci\n/);
  });

  it('without root and without passwordless sudo, stops at once with the sudo command', () => {
    // As root, run it as `nobody` (no sudo rights); as any other user, as is.
    const isRoot = process.getuid?.() === 0;
    assert.ok(isRoot || spawnSync('sudo', ['-n', 'true']).status !== 0, 'this user has passwordless sudo: the no-sudo path cannot be shown as this user');
    const { status, output } = ensure(
      { TEST_DEPS_INSTALL: undefined, REDIS_URL: undefined, REDIS_SERVER_BIN: '/nonexistent/redis-server', CHROMIUM_PATH: undefined },
      SCRIPT,
      isRoot ? 'nobody' : undefined
    );
    assert.equal(status, 1, output);
    assert.match(output, /sudo apt-get update && sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server\n/);
    assert.doesNotMatch(output, /test deps: /, 'it tried to install');
  });
});
