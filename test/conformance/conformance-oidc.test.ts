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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePort } from '../helpers/free-port.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider/index.js';
import { REQUIRED_AUTHORIZATION_SCENARIOS, REQUIREMENT_SETS } from '../../scripts/lib/conformance-suite.js';
import { isFailure } from '../../scripts/lib/report.js';
import { runConformance, startConformanceTarget, type ConformanceTarget } from './support.js';

describe('MCP conformance suite with sign-in at a real OpenID provider (UPSTREAM_IDP=oidc)', () => {
  let target: ConformanceTarget;
  let op: TestProvider;

  before(async () => {
    // Our port is chosen first: the provider must know our callback URL.
    const port = await freePort();
    op = await startTestProvider({ redirectUris: [`http://localhost:${port}/upstream-idp/callback`] });
    target = await startConformanceTarget('oidc', { port, env: { UPSTREAM_TOKEN_KEY: Buffer.alloc(32, 9).toString('base64url'), ...op.env() } });
  });

  after(async () => {
    await target?.server.close();
    await op?.stop();
  });

  it('passes every scored scenario of both requirement sets and the authorization-server scenarios, signing in at the provider', { timeout: 30 * 60_000 }, async t => {
    const { code, output, report } = await runConformance(target, ['--only', 'scored', '--only', 'authorization']);
    const { artifacts } = target;
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

