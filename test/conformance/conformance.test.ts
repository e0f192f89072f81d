/**
 * The official conformance suite, as part of `npm test`.
 *
 * Starts the server (AUTH_MODE=internal, memory store, port 0), asserts that
 * /mcp refuses an unauthenticated request with 401 and a Bearer challenge
 * BEFORE anything runs, then runs `scripts/conformance.ts --url ... --require-auth`
 * (real OAuth flow, header-injecting proxy, both requirement sets and the
 * project's extra scenarios, the extension scenarios one by one at
 * 2026-07-28, the authorization-server scenarios with the code grant approved
 * through the consent page) and asserts that every required scenario passed:
 * every scored one, the extension scenarios in REQUIRED_EXTENSION_SCENARIOS,
 * and the authorization-server ones. The other extension scenarios are
 * reported in their own table without failing the test. The tables are
 * written to the test output.
 *
 * Never skipped: a missing suite fails `before` with the command to run
 * (`npm test` installs it first, scripts/ensure-test-deps.mjs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  EXTENSION_SPEC_VERSION,
  EXTRA_REQUIRED_SCENARIOS,
  REQUIRED_AUTHORIZATION_SCENARIOS,
  REQUIRED_EXTENSION_SCENARIOS,
  REQUIREMENT_SETS
} from '../../scripts/lib/conformance-suite.js';
import { isFailure } from '../../scripts/lib/report.js';
import { runConformance, startConformanceTarget, type ConformanceTarget } from './support.js';

describe('MCP conformance suite (official, pinned) through the real OAuth flow', () => {
  let target: ConformanceTarget;

  before(async () => {
    target = await startConformanceTarget('test');
  });

  after(async () => {
    await target?.server.close();
  });

  it('refuses an unauthenticated request to /mcp with 401 and a Bearer challenge (checked before the suite runs)', async () => {
    const res = await fetch(target.server.config.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'conformance-test', version: '1.0.0' } }
      })
    });
    await res.text();
    assert.equal(res.status, 401, 'the conformance suite must never run against a server with authorization switched off');
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, new RegExp(`resource_metadata="${target.server.config.baseUri}/\\.well-known/oauth-protected-resource(/mcp)?"`));
  });

  it('passes every scored scenario of 2026-07-28 and 2025-11-25, the project-required extras, the required extension scenarios and the authorization-server scenarios', { timeout: 40 * 60_000 }, async t => {
    const { code, output, report } = await runConformance(target);
    const { artifacts } = target;
    const counted = report.rows.filter(r => r.counts);
    t.diagnostic(`${counted.filter(r => r.result === 'PASS').length}/${counted.length} required scenario runs pass (table above; artifacts in ${artifacts})`);
    console.log(`\nConformance scenario tables (full output in ${artifacts}):\n\n${report.table}\n`);

    assert.equal(report.auth.on, true, `authorization: ${report.auth.problem}`);
    assert.equal(report.auth.unauthenticatedStatus, 401);
    assert.ok(report.auth.tokenVia, 'the token must come from the real OAuth flow');

    for (const rev of REQUIREMENT_SETS) {
      const required = report.rows.filter(r => r.set === rev && r.scoring === 'required');
      assert.ok(required.length > 20, `requirement set ${rev} ran only ${required.length} scored scenarios`);
    }
    for (const extra of EXTRA_REQUIRED_SCENARIOS) {
      assert.ok(report.rows.some(r => r.scenario === extra && r.counts), `project-required scenario ${extra} did not run`);
    }
    for (const rev of REQUIREMENT_SETS) {
      const tally = report.scored[rev];
      assert.ok(tally, `no tally for ${rev}`);
      t.diagnostic(`scored set ${rev}: ${tally.passed}/${tally.scored}`);
    }

    // The extension scenarios: every one the suite lists, each in its own run at 2026-07-28, in the extension table.
    assert.ok(report.extensionScenarios.length >= 13, `the suite listed only ${report.extensionScenarios.length} extension scenarios`);
    for (const s of report.extensionScenarios) {
      const rows = report.rows.filter(r => r.scenario === s);
      assert.deepEqual(rows.map(r => r.group), ['extension'], `${s} must be reported once, in the extension table`);
      assert.ok(
        report.runs.some(r => r.label === 'extension' && r.args.join(' ').includes(`--scenario ${s} --spec-version ${EXTENSION_SPEC_VERSION}`)),
        `${s} must run alone with --spec-version ${EXTENSION_SPEC_VERSION}`
      );
      assert.equal(rows[0]!.counts, REQUIRED_EXTENSION_SCENARIOS.includes(s), `${s}: required exactly when listed in REQUIRED_EXTENSION_SCENARIOS`);
    }
    for (const s of REQUIRED_EXTENSION_SCENARIOS) assert.ok(report.extensionScenarios.includes(s), `required extension scenario ${s} is not listed by the suite`);
    const extensionPassing = report.rows.filter(r => r.group === 'extension' && r.result === 'PASS').length;
    t.diagnostic(`extension scenarios: ${extensionPassing}/${report.extensionScenarios.length} pass; required: ${REQUIRED_EXTENSION_SCENARIOS.length}`);

    // The authorization server, through the real flow.
    assert.deepEqual([...report.authorizationScenarios].sort(), [...REQUIRED_AUTHORIZATION_SCENARIOS].sort());
    for (const s of REQUIRED_AUTHORIZATION_SCENARIOS) {
      const row = report.rows.find(r => r.scenario === s && r.group === 'authorization');
      assert.ok(row?.counts, `authorization-server scenario ${s} did not run as a required row`);
    }
    const failing = report.rows.filter(isFailure);
    assert.deepEqual(
      failing.map(r => `${r.scenario} [${r.set}]: ${r.result} ${r.failures.join(' | ')}`),
      [],
      'every required scenario must pass'
    );
    assert.equal(report.ok, true);
    assert.equal(code, 0, output.slice(-4000));
  });
});

