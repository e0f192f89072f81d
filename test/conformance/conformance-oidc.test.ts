/**
 * The official conformance suite with UPSTREAM_IDP=oidc: the server signs
 * people in at the test OpenID provider (panva's oidc-provider, its own
 * process). Both scored requirement sets (2026-07-28 and 2025-11-25, through
 * a token obtained by the real flow: our consent page, the provider's login
 * form driven over HTTP with a cookie jar, our callback, our code) and the
 * authorization-server scenarios (the suite's own code grant, approved the
 * same way) must pass unchanged. Extension scenarios do not involve sign-in
 * and run in conformance.test.ts only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../helpers/free-port.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider/index.js';
import { checkSuiteInstalled, PROJECT_ROOT, REQUIRED_AUTHORIZATION_SCENARIOS, REQUIREMENT_SETS } from '../../scripts/lib/conformance-suite.js';
import { localHostsFor } from '../../scripts/lib/local-server.js';
import { isFailure, type Row } from '../../scripts/lib/report.js';

describe('MCP conformance suite with sign-in at a real OpenID provider (UPSTREAM_IDP=oidc)', () => {
  let server: RunningServer;
  let op: TestProvider;
  let proxyPort: number;
  const artifacts = join(PROJECT_ROOT, 'test-artifacts', 'conformance', `oidc-${new Date().toISOString().replace(/[:.]/g, '-')}`);

  before(async () => {
    const suite = checkSuiteInstalled();
    assert.ok(suite.ok, suite.problem);
    mkdirSync(artifacts, { recursive: true });
    proxyPort = await freePort();
    const port = await freePort();
    op = await startTestProvider({ redirectUris: [`http://localhost:${port}/upstream-idp/callback`] });
    const { hosts, origins } = localHostsFor(proxyPort);
    const config = loadConfig({
      NODE_ENV: 'test',
      AUTH_MODE: 'internal',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      RATE_LIMIT_MAX: '100000',
      ALLOWED_HOSTS: hosts.join(','),
      ALLOWED_ORIGINS: origins.join(','),
      UPSTREAM_TOKEN_KEY: Buffer.alloc(32, 9).toString('base64url'),
      ...op.env()
    });
    server = await startServer(config, { logger: createLogger('debug', createWriteStream(join(artifacts, 'server.log'))) });
  });

  after(async () => {
    await server?.close();
    await op?.stop();
  });

  it('passes every scored scenario of both requirement sets and the authorization-server scenarios, signing in at the provider', { timeout: 30 * 60_000 }, async t => {
    const reportFile = join(artifacts, 'report.json');
    const { code, output } = await run(
      ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'conformance.ts'), '--url', server.config.mcpUrl, '--proxy-port', String(proxyPort), '--require-auth', '--only', 'scored', '--only', 'authorization', '--out', artifacts, '--report', reportFile],
      PROJECT_ROOT
    );
    assert.ok(existsSync(reportFile), `the script wrote no report (exit ${code}):\n${output.slice(-4000)}`);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      ok: boolean;
      auth: { on: boolean; tokenVia?: string; problem?: string };
      rows: Row[];
      table: string;
      authorizationScenarios: string[];
      scored: Record<string, { passed: number; scored: number }>;
    };
    console.log(`\nConformance with UPSTREAM_IDP=oidc (artifacts in ${artifacts}):\n\n${report.table}\n`);
    assert.equal(report.auth.on, true, `authorization: ${report.auth.problem}`);
    assert.ok(report.auth.tokenVia);
    for (const rev of REQUIREMENT_SETS) {
      const required = report.rows.filter(r => r.set === rev && r.scoring === 'required');
      assert.ok(required.length > 20, `requirement set ${rev} ran only ${required.length} scored scenarios`);
      t.diagnostic(`scored set ${rev}: ${report.scored[rev]?.passed}/${report.scored[rev]?.scored}`);
    }
    for (const s of REQUIRED_AUTHORIZATION_SCENARIOS) {
      assert.ok(report.rows.find(r => r.scenario === s && r.group === 'authorization')?.counts, `authorization-server scenario ${s} did not run`);
    }
    assert.deepEqual(report.rows.filter(isFailure).map(r => `${r.scenario} [${r.set}]: ${r.result} ${r.failures.join(' | ')}`), []);
    assert.equal(report.ok, true);
    assert.equal(code, 0, output.slice(-4000));

    // The sign-ins really went through the provider: its code exchanges, our codes for oidc identities.
    const stats = await op.stats();
    assert.ok(stats.token >= 2, `the provider exchanged ${stats.token} codes (the runner's token and the suite's own grant)`);
    const log = readFileSync(join(artifacts, 'server.log'), 'utf8');
    assert.match(log, /"event":"code_issued"[^\n]*"provider":"oidc"/);
    assert.doesNotMatch(log, /"provider":"mock"/);
  });
});

function run(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', code => resolve({ code, output }));
  });
}
