/**
 * `npm run conformance`: the official MCP conformance suite
 * (@modelcontextprotocol/conformance, pinned in tools/conformance, run under
 * its own Node 22) against this server, through the real OAuth flow.
 *
 *   1. start the server in this process (AUTH_MODE=internal, memory store,
 *      a free port), or use `--url` for one already running;
 *   2. check that /mcp refuses an unauthenticated request (401 + Bearer challenge);
 *   3. obtain an access token through the real OAuth flow (test/helpers/oauth.ts:
 *      registration, PKCE, consent, mock IdP, code exchange), scopes "mcp mcp:admin";
 *   4. put a header-injecting reverse proxy in front (adds the bearer token when
 *      absent, passes everything else through untouched, streams both ways);
 *   5. run the suite against the proxy: `--requirements 2026-07-28`, then
 *      `--requirements 2025-11-25`; the project's extra scenarios
 *      (json-schema-2020-12, http-header-validation,
 *      http-custom-header-server-validation, server-sse-polling,
 *      server-session-lifecycle) are required to pass wherever they run, and
 *      run explicitly if no requirement set includes them;
 *   6. the extension scenarios (`conformance list --server`, tagged
 *      `[extension]`: tasks-*, sep-2640-skills-*), each run alone with
 *      `--scenario NAME --spec-version 2026-07-28`;
 *   7. the authorization-server scenarios (`conformance authorization`) against
 *      the authorization server named in the resource metadata, the
 *      authorization-code grant approved through the real consent page and
 *      demo IdP (scripts/lib/authorization-scenarios.ts);
 *   8. print one table per group (scored sets, extensions, authorization
 *      server); exit non-zero on any failure of a required row.
 *
 * No expected-failures file: every scored scenario must pass, and so must the
 * extension scenarios listed in REQUIRED_EXTENSION_SCENARIOS
 * (scripts/lib/conformance-suite.ts) and the authorization-server scenarios.
 * The other extension scenarios are run and reported, never counted.
 *
 * Options:
 *   --url URL            test an already-running server (its MCP endpoint, e.g. http://localhost:3232/mcp)
 *   --scenario NAME      run only this scenario (repeatable), at each requirement set that lists it
 *   --requirements REV   only this requirement set (repeatable; default: 2026-07-28 and 2025-11-25)
 *   --only GROUP         only this group (repeatable): scored, extension, authorization
 *   --require-auth       refuse to run unless /mcp answers 401 unauthenticated and a real token was obtained
 *   --out DIR            where results go (default test-artifacts/conformance/<timestamp>)
 *   --report FILE        also write the results as JSON
 *   --proxy-port N       port for the proxy (default: a free one)
 *   --timeout MS         per-scenario timeout passed to the suite (default 30000)
 *   --verbose            echo the suite's own output
 *   --upstream-oidc      (without --url) start the test OpenID provider (oidc-provider, its own process,
 *                        test/helpers/oidc-provider) and the server with UPSTREAM_IDP=oidc against it: every
 *                        sign-in goes through the provider's login form, driven over HTTP with a cookie jar
 *
 * Exit codes: 0 all required scenarios pass; 1 a failure; 2 setup problem; 3 authorization not in place under --require-auth.
 */
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { probeMcp, type AuthProbe } from './lib/auth-probe.js';
import { authorizationServerFor, runAuthorizationScenarios } from './lib/authorization-scenarios.js';
import {
  checkSuiteInstalled,
  EXTENSION_SPEC_VERSION,
  EXTRA_REQUIRED_SCENARIOS,
  listAuthorizationScenarios,
  listExtensionScenarios,
  listRequirements,
  PROJECT_ROOT,
  REQUIRED_AUTHORIZATION_SCENARIOS,
  REQUIRED_EXTENSION_SCENARIOS,
  REQUIREMENT_SETS,
  runSuite,
  type RequirementListing,
  type SuiteRun
} from './lib/conformance-suite.js';
import { localHostsFor, startLocalServer } from './lib/local-server.js';
import { startProxy, type RunningProxy } from './lib/proxy.js';
import { buildRows, formatFailures, formatTables, isFailure, scoredTally, totals, type ExpectedScenario, type Row, type RowGroup } from './lib/report.js';
import { obtainAccessToken, type ObtainedToken } from './lib/token.js';

const SCOPES = 'mcp mcp:admin';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    scenario: { type: 'string', multiple: true },
    requirements: { type: 'string', multiple: true },
    only: { type: 'string', multiple: true },
    'require-auth': { type: 'boolean', default: false },
    out: { type: 'string' },
    report: { type: 'string' },
    'proxy-port': { type: 'string' },
    timeout: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    'upstream-oidc': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  },
  strict: true
});

if (args.help) {
  const src = (await import('node:fs')).readFileSync(new URL(import.meta.url), 'utf8');
  console.log(/\/\*\*([\s\S]*?)\*\//.exec(src)![1]!.replace(/^ \* ?/gm, ''));
  process.exit(0);
}

const banner = (lines: string[]) => {
  const width = Math.max(...lines.map(l => l.length)) + 4;
  const bar = '!'.repeat(width);
  return [bar, ...lines.map(l => `! ${l.padEnd(width - 4)} !`), bar].join('\n');
};

const log = (msg: string) => console.log(`[conformance] ${msg}`);

async function main(): Promise<number> {
  const suite = checkSuiteInstalled();
  if (!suite.ok) {
    console.error(banner(['CONFORMANCE SUITE NOT INSTALLED', suite.problem ?? '']));
    return 2;
  }
  const outDir = resolve(args.out ?? join(PROJECT_ROOT, 'test-artifacts', 'conformance', new Date().toISOString().replace(/[:.]/g, '-')));
  await mkdir(outDir, { recursive: true });
  log(`suite @modelcontextprotocol/conformance@${suite.version} (Node 22 from tools/conformance); results in ${relative(process.cwd(), outDir) || '.'}`);

  const revisions = (args.requirements ?? [...REQUIREMENT_SETS]).map(r => {
    if (!(REQUIREMENT_SETS as readonly string[]).includes(r)) throw new Error(`unknown requirement set ${r} (known: ${REQUIREMENT_SETS.join(', ')})`);
    return r;
  });

  const groups = new Set<RowGroup>((args.only as RowGroup[] | undefined) ?? ['scored', 'extension', 'authorization']);
  for (const g of groups) if (!['scored', 'extension', 'authorization'].includes(g)) throw new Error(`unknown group ${g} (known: scored, extension, authorization)`);

  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    // 1. The proxy binds first, so the server can be told to accept its Host.
    let token: ObtainedToken | undefined;
    const proxy: RunningProxy = await startProxy({ port: args['proxy-port'] ? Number(args['proxy-port']) : 0, token: () => token?.accessToken });
    cleanups.push(() => proxy.close());

    // 2. The server.
    let mcpUrl: string;
    if (args.url) {
      mcpUrl = args.url;
      log(`testing the running server at ${mcpUrl} (its Host/Origin checks must accept ${proxy.origin.replace('http://', '')})`);
    } else {
      const { hosts, origins } = localHostsFor(proxy.port);
      let env: Record<string, string> | undefined;
      if (args['upstream-oidc']) {
        // The provider must know our redirect URI: pick our port first.
        const { freePort } = await import('../test/helpers/free-port.js');
        const { startTestProvider } = await import('../test/helpers/oidc-provider/index.js');
        const port = await freePort();
        const op = await startTestProvider({ redirectUris: [`http://localhost:${port}/upstream-idp/callback`] });
        cleanups.push(() => op.stop());
        env = { PORT: String(port), UPSTREAM_TOKEN_KEY: (await import('node:crypto')).randomBytes(32).toString('base64url'), ...op.env() };
        log(`started the test OpenID provider at ${op.issuer}: the server signs people in there (UPSTREAM_IDP=oidc)`);
      }
      const server = await startLocalServer({ extraAllowedHosts: hosts, extraAllowedOrigins: origins, logFile: join(outDir, 'server.log'), env });
      cleanups.push(() => server.close());
      mcpUrl = server.config.mcpUrl;
      log(`started the server in-process: ${mcpUrl} (AUTH_MODE=${server.config.mode}, store=${server.store.kind}); log in server.log`);
    }
    const target = new URL(mcpUrl);
    proxy.setTarget(target.origin);
    const proxiedMcpUrl = `${proxy.origin}${target.pathname}`;

    // 3. Authorization must be on.
    const probe: AuthProbe = await probeMcp(mcpUrl);
    let authOn = probe.challenged;
    let authProblem: string | undefined;
    if (probe.status === 0) {
      console.error(`[conformance] cannot reach ${mcpUrl}: ${probe.error}`);
      return 2;
    }
    if (authOn) {
      log(`unauthenticated POST ${target.pathname} -> ${probe.status}, WWW-Authenticate: ${probe.wwwAuthenticate}`);
      try {
        token = await obtainAccessToken(target.origin, SCOPES);
        log(`access token obtained through the real OAuth flow (${token.via}); scope "${token.scope ?? SCOPES}"`);
      } catch (err) {
        authProblem = `could not obtain a token through the OAuth flow: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (token) {
        const through = await probeMcp(proxiedMcpUrl);
        if (through.status < 200 || through.status >= 300) {
          authProblem = `the token was refused through the proxy: POST ${target.pathname} -> ${through.status} ${through.wwwAuthenticate ?? ''}`;
        } else {
          log(`authenticated POST through the proxy -> ${through.status}`);
        }
      }
      if (authProblem) {
        console.error(banner(['CANNOT RUN THE SUITE THROUGH THE OAUTH FLOW', authProblem]));
        return 3;
      }
    } else {
      authOn = false;
      authProblem = `unauthenticated POST ${target.pathname} answered ${probe.status}${probe.wwwAuthenticate ? ` (WWW-Authenticate: ${probe.wwwAuthenticate})` : ''}, not 401 with a Bearer challenge`;
      const lines = [
        'WARNING: AUTHORIZATION IS SWITCHED OFF ON THIS SERVER',
        authProblem,
        'These results do NOT count: the suite must run through the real OAuth flow (issue 3).'
      ];
      if (args['require-auth']) {
        console.error(banner([...lines, '--require-auth: refusing to run the suite.']));
        return 3;
      }
      console.error(banner(lines));
    }

    // 4. What to run.
    const listings = new Map<string, RequirementListing>();
    if (groups.has('scored')) for (const rev of revisions) listings.set(rev, await listRequirements(rev));
    const extensionScenarios = groups.has('extension') ? await listExtensionScenarios() : [];
    const authorizationScenarios = groups.has('authorization') ? await listAuthorizationScenarios() : [];
    const extensionSet = new Set(extensionScenarios);
    for (const s of REQUIRED_EXTENSION_SCENARIOS) {
      if (groups.has('extension') && !extensionSet.has(s)) throw new Error(`REQUIRED_EXTENSION_SCENARIOS names ${s}, which the suite does not list as an extension scenario`);
    }
    interface Step {
      label: string;
      group: RowGroup;
      requirements?: string;
      scenario?: string;
      extraArgs?: string[];
      expected: ExpectedScenario[];
    }
    const plan: Step[] = [];
    // Extension scenarios inside a requirement run are reported from their own runs (step 6), not twice.
    const expectedFor = (l: RequirementListing, only?: Set<string>): ExpectedScenario[] =>
      [
        ...l.scored.map(s => ({ scenario: s, scoring: 'required' })),
        ...l.notScored.map(n => ({ scenario: n.scenario, scoring: n.reason }))
      ].filter(e => !only || only.has(e.scenario));
    const extensionStep = (s: string): Step => ({
      label: 'extension',
      group: 'extension',
      scenario: s,
      // --force: the suite otherwise skips extension scenarios at a dated spec version ("not on the spec timeline").
      extraArgs: ['--spec-version', EXTENSION_SPEC_VERSION, '--force'],
      expected: [
        REQUIRED_EXTENSION_SCENARIOS.includes(s)
          ? { scenario: s, scoring: 'extension (required)', required: true }
          : { scenario: s, scoring: 'extension (reported only)', required: false }
      ]
    });
    let authorizationOnly: Set<string> | undefined;

    if (args.scenario?.length) {
      const only = new Set(args.scenario);
      const covered = new Set<string>();
      for (const s of only) {
        if (extensionSet.has(s)) {
          covered.add(s);
          plan.push(extensionStep(s));
        }
      }
      for (const [rev, l] of listings) {
        for (const e of expectedFor(l, only)) {
          if (covered.has(e.scenario) && extensionSet.has(e.scenario)) continue;
          covered.add(e.scenario);
          plan.push({ label: rev, group: 'scored', scenario: e.scenario, extraArgs: ['--spec-version', rev, '--force'], expected: [e] });
        }
      }
      const auth = authorizationScenarios.filter(s => only.has(s));
      if (auth.length) {
        authorizationOnly = new Set(auth);
        for (const s of auth) covered.add(s);
      }
      for (const s of only) {
        if (!covered.has(s)) plan.push({ label: 'explicit', group: 'scored', scenario: s, expected: [{ scenario: s, scoring: 'explicit' }] });
      }
    } else {
      for (const [rev, l] of listings) plan.push({ label: rev, group: 'scored', requirements: rev, expected: expectedFor(l) });
      if (groups.has('scored')) {
        const included = new Set([...listings.values()].flatMap(l => [...l.scored, ...l.notScored.map(n => n.scenario)]));
        for (const s of EXTRA_REQUIRED_SCENARIOS) {
          if (!included.has(s)) plan.push({ label: 'explicit', group: 'scored', scenario: s, expected: [{ scenario: s, scoring: 'project' }] });
        }
        const runBy = EXTRA_REQUIRED_SCENARIOS.map(s => `${s} (${[...listings].filter(([, l]) => [...l.scored, ...l.notScored.map(n => n.scenario)].includes(s)).map(([r]) => r).join(', ') || 'explicit run'})`);
        log(`project-required extras, and the runs that include them: ${runBy.join('; ')}`);
      }
      for (const s of extensionScenarios) plan.push(extensionStep(s));
      if (groups.has('extension')) {
        log(`extension scenarios (${extensionScenarios.length}), each with --spec-version ${EXTENSION_SPEC_VERSION}; required: ${REQUIRED_EXTENSION_SCENARIOS.join(', ') || 'none yet'}`);
      }
      if (groups.has('authorization')) authorizationOnly = new Set(authorizationScenarios);
    }

    // 5. Run.
    const runs: SuiteRun[] = [];
    const rows: Row[] = [];
    for (const [i, step] of plan.entries()) {
      const what = step.requirements ? `--requirements ${step.requirements}` : `--scenario ${step.scenario}${step.extraArgs ? ` ${step.extraArgs.join(' ')}` : ''}`;
      log(`run ${i + 1}/${plan.length}: conformance server --url ${proxiedMcpUrl} ${what}`);
      const run = await runSuite({
        url: proxiedMcpUrl,
        requirements: step.requirements,
        scenario: step.scenario,
        extraArgs: step.extraArgs,
        outDir: join(outDir, `${String(i + 1).padStart(2, '0')}-${step.requirements ?? step.scenario}`),
        label: step.label,
        scenarioTimeoutMs: args.timeout ? Number(args.timeout) : undefined,
        runTimeoutMs: 30 * 60_000,
        echo: args.verbose
      });
      runs.push(run);
      let runRows = buildRows(run, step.expected, step.group);
      if (step.requirements && groups.has('extension')) {
        const dropped = runRows.filter(r => extensionSet.has(r.scenario));
        runRows = runRows.filter(r => !extensionSet.has(r.scenario));
        if (dropped.length) log(`  (${dropped.length} extension scenarios this requirement run also ran are reported from their own runs)`);
      }
      rows.push(...runRows);
      const t = totals(runRows);
      log(`  ${t.passed}/${t.scenarios} required scenarios pass, suite exit ${run.exitCode}, ${(run.durationMs / 1000).toFixed(1)} s`);
    }

    // 5b. The authorization server, through the real OAuth flow.
    let authorizationProblem: string | undefined;
    if (authorizationOnly?.size) {
      try {
        const issuer = await authorizationServerFor(mcpUrl, probe.wwwAuthenticate);
        log(`run ${plan.length + 1}/${plan.length + 1}: conformance authorization --url ${issuer} --resource ${mcpUrl} (authorization-code grant through the consent page and demo IdP)`);
        const run = await runAuthorizationScenarios({
          issuer,
          resource: mcpUrl,
          outDir: join(outDir, `${String(plan.length + 1).padStart(2, '0')}-authorization`),
          echo: args.verbose,
          log: m => log(`  ${m}`)
        });
        runs.push(run);
        authorizationProblem = run.browserProblem;
        const expected = authorizationScenarios
          .filter(s => authorizationOnly!.has(s))
          .map(s => ({ scenario: s, scoring: REQUIRED_AUTHORIZATION_SCENARIOS.includes(s) ? 'authorization (required)' : 'authorization (reported only)', required: REQUIRED_AUTHORIZATION_SCENARIOS.includes(s) }));
        const runRows = buildRows(run, expected, 'authorization').filter(r => authorizationOnly!.has(r.scenario));
        rows.push(...runRows);
        const t = totals(runRows);
        log(`  ${t.passed}/${t.scenarios} required scenarios pass, suite exit ${run.exitCode}, ${(run.durationMs / 1000).toFixed(1)} s`);
      } catch (err) {
        authorizationProblem = err instanceof Error ? err.message : String(err);
        log(`  the authorization-server run could not start: ${authorizationProblem}`);
        for (const s of authorizationOnly) {
          rows.push({ scenario: s, group: 'authorization', set: 'authorization', scoring: 'authorization (required)', passed: 0, failed: 0, warnings: 0, skipped: 0, result: 'NOT RUN', counts: REQUIRED_AUTHORIZATION_SCENARIOS.includes(s), failures: [authorizationProblem] });
        }
      }
    }

    // 6. Report.
    const t = totals(rows);
    const failing = rows.filter(isFailure);
    const tables = formatTables(rows);
    console.log('\n' + tables + '\n');
    if (rows.some(r => r.result !== 'PASS')) console.log(`Not passing:\n${formatFailures(rows)}\n`);
    const ok = failing.length === 0 && authOn;
    console.log(
      `${t.passed}/${t.scenarios} required scenario runs pass` +
        (t.notScored ? `; ${t.notScored} not-scored runs reported (${t.notScoredFailing} not passing)` : '') +
        `; proxy: ${proxy.stats.requests} requests, ${proxy.stats.injected} with the injected token`
    );
    const tally = scoredTally(rows);
    if (Object.keys(tally).length) log(`scored sets: ${Object.entries(tally).map(([set, v]) => `${set} ${v.passed}/${v.scored}`).join(', ')}`);
    if (!authOn) console.error('\n' + banner(['WARNING: THE SUITE RAN WITHOUT AUTHORIZATION: THESE RESULTS DO NOT COUNT', authProblem ?? '']));
    if (args.report) {
      writeFileSync(
        resolve(args.report),
        JSON.stringify(
          {
            ok,
            suiteVersion: suite.version,
            mcpUrl,
            proxiedMcpUrl,
            auth: { on: authOn, unauthenticatedStatus: probe.status, wwwAuthenticate: probe.wwwAuthenticate, tokenVia: token?.via, scope: token?.scope, problem: authProblem },
            authorizationServer: { problem: authorizationProblem },
            requiredExtensionScenarios: REQUIRED_EXTENSION_SCENARIOS,
            extensionScenarios,
            authorizationScenarios,
            scored: tally,
            runs: runs.map(r => ({ label: r.label, args: r.args, exitCode: r.exitCode, durationMs: r.durationMs, logFile: r.logFile })),
            rows,
            totals: t,
            table: tables
          },
          null,
          2
        )
      );
    }
    return failing.length === 0 ? (authOn ? 0 : args['require-auth'] ? 3 : 0) : 1;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

main().then(
  code => process.exit(code),
  err => {
    console.error('[conformance] fatal:', err);
    process.exit(2);
  }
);
