/**
 * Turns suite runs into the scenario table and a JSON report.
 *
 * Every row is one scenario in one run. `scoring` says why it is there:
 * - `required`: scored by the requirement set;
 * - `project`: not scored by the suite (pending / added after release), but
 *   required by this project (issue 2, "Done when");
 * - anything else (`extension`, ...): run and reported by the suite, never
 *   scored, not required here either; shown for visibility.
 *
 * Every row also has a `group`, and each group is its own table:
 * - `scored`: the requirement-set runs (2026-07-28, 2025-11-25) and the
 *   project's extras; the "37/37" and "30/30" figures come from here;
 * - `extension`: the `[extension]` scenarios, each run alone with
 *   `--scenario NAME --spec-version 2026-07-28`; `extension (required)` when
 *   listed in REQUIRED_EXTENSION_SCENARIOS, else reported only;
 * - `authorization`: `conformance authorization` against this server's
 *   authorization server, through the real consent page and demo IdP.
 */
import { EXTRA_REQUIRED_SCENARIOS, scenarioErrorFromLog, SKIPPED_BY_SUITE, type ScenarioResult, type SuiteRun } from './conformance-suite.js';

export type RowGroup = 'scored' | 'extension' | 'authorization';

export const GROUP_TITLES: Record<RowGroup, string> = {
  scored: 'Scored requirement sets (and the project-required extras)',
  extension: 'Extension scenarios (--scenario NAME --spec-version 2026-07-28; not part of the scored sets)',
  authorization: 'Authorization-server scenarios (conformance authorization, through the real OAuth flow)'
};

export interface Row {
  scenario: string;
  group: RowGroup;
  set: string;
  scoring: string;
  passed: number;
  failed: number;
  warnings: number;
  skipped: number;
  /** `SKIPPED CHECKS`: nothing failed, but the suite skipped some checks (a scenario is only a pass when every check ran). */
  result: 'PASS' | 'FAIL' | 'NOT RUN' | 'NO CHECKS' | 'SKIPPED CHECKS' | 'SKIPPED BY SUITE';
  /** Whether this row decides the exit code. */
  counts: boolean;
  /** The failing checks' messages (or why the scenario did not run). */
  failures: string[];
}

export interface ExpectedScenario {
  scenario: string;
  scoring: string;
  /** Overrides the rule above (used by the extension and authorization groups). */
  required?: boolean;
}

export function buildRows(run: SuiteRun, expected: ExpectedScenario[], group: RowGroup = 'scored'): Row[] {
  const rows: Row[] = [];
  const seen = new Set<string>();
  const extras = new Set<string>(EXTRA_REQUIRED_SCENARIOS);
  for (const { scenario, scoring: suiteScoring, required: override } of expected) {
    seen.add(scenario);
    const required = override ?? (suiteScoring === 'required' || extras.has(scenario));
    const scoring = override !== undefined ? suiteScoring : suiteScoring === 'required' ? 'required' : extras.has(scenario) ? `project (suite: ${suiteScoring})` : suiteScoring;
    rows.push(row(run, group, scenario, scoring, required, run.results.get(scenario)));
  }
  // Anything the suite ran that we did not expect (a changed requirement set): shown, and counted.
  for (const [scenario, result] of run.results) {
    if (!seen.has(scenario)) rows.push(row(run, group, scenario, 'unexpected', true, result));
  }
  return rows;
}

function row(run: SuiteRun, group: RowGroup, scenario: string, scoring: string, counts: boolean, result: ScenarioResult | undefined): Row {
  if (!result || !result.ran) {
    const why = scenarioErrorFromLog(run.logFile, scenario) ?? (result ? 'the suite wrote no checks.json (crashed or timed out)' : 'the suite did not run it');
    return { scenario, group, set: run.label, scoring, passed: 0, failed: 0, warnings: 0, skipped: 0, result: 'NOT RUN', counts, failures: [oneLine(why)] };
  }
  const failures = result.checks
    .filter(c => c.status === 'FAILURE' || c.status === 'SKIPPED')
    .map(c => oneLine(`${c.status === 'SKIPPED' ? '(skipped) ' : ''}${c.id}: ${c.errorMessage ?? c.description}`));
  const bySuite = SKIPPED_BY_SUITE[scenario];
  const status: Row['result'] =
    result.failed > 0 ? 'FAIL' : result.skipped > 0 ? (bySuite && result.passed === 0 ? 'SKIPPED BY SUITE' : 'SKIPPED CHECKS') : result.passed === 0 ? 'NO CHECKS' : 'PASS';
  if (status === 'SKIPPED BY SUITE') failures.unshift(oneLine(bySuite!));
  return { scenario, group, set: run.label, scoring, passed: result.passed, failed: result.failed, warnings: result.warnings, skipped: result.skipped, result: status, counts, failures };
}

/** A required row that neither passed nor was skipped by the suite itself (SKIPPED_BY_SUITE). */
export function isFailure(r: Row): boolean {
  return r.counts && r.result !== 'PASS' && r.result !== 'SKIPPED BY SUITE';
}

export function formatTable(rows: Row[]): string {
  const header = ['Scenario', 'Requirement set', 'Scoring', 'Passed', 'Failed', 'Warn', 'Skip', 'Result'];
  const body = rows.map(r => [
    r.scenario,
    r.set,
    r.scoring,
    String(r.passed),
    String(r.failed),
    String(r.warnings),
    String(r.skipped),
    r.counts ? r.result : `${r.result} (not required)`
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map(b => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i >= 3 && i <= 6 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), sep, ...body.map(line)].join('\n');
}

/** One table per group present, each under its title, with its own tally. */
export function formatTables(rows: Row[]): string {
  const out: string[] = [];
  for (const group of Object.keys(GROUP_TITLES) as RowGroup[]) {
    const mine = rows.filter(r => r.group === group);
    if (mine.length === 0) continue;
    const pass = (rs: Row[]) => rs.filter(r => r.result === 'PASS').length;
    const tally = [...new Set(mine.map(r => r.set))]
      .map(set => {
        const inSet = mine.filter(r => r.set === set);
        const counted = inSet.filter(r => r.counts);
        const scored = inSet.filter(r => r.scoring === 'required');
        if (group === 'scored' && scored.length) {
          const extras = counted.filter(r => r.scoring !== 'required');
          return `${set}: ${pass(scored)}/${scored.length} scored${extras.length ? `, ${pass(extras)}/${extras.length} project-required extras` : ''}`;
        }
        const bySuite = counted.filter(r => r.result === 'SKIPPED BY SUITE').length;
        return `${set}: ${pass(counted)}/${counted.length} required pass${bySuite ? ` (+${bySuite} skipped by the suite itself)` : ''}${counted.length === inSet.length ? '' : ` (${pass(inSet)}/${inSet.length} pass in all)`}`;
      })
      .join('; ');
    out.push(`${GROUP_TITLES[group]}\n${tally}\n\n${formatTable(mine)}`);
  }
  return out.join('\n\n');
}

/** Per requirement set: how many of its scored scenarios (scoring `required`) pass. */
export function scoredTally(rows: Row[]): Record<string, { passed: number; scored: number }> {
  const out: Record<string, { passed: number; scored: number }> = {};
  for (const r of rows.filter(r => r.group === 'scored' && r.scoring === 'required')) {
    const t = (out[r.set] ??= { passed: 0, scored: 0 });
    t.scored++;
    if (r.result === 'PASS') t.passed++;
  }
  return out;
}

export function formatFailures(rows: Row[]): string {
  const out: string[] = [];
  for (const r of rows.filter(r => r.result !== 'PASS')) {
    out.push(`${r.counts ? '✗' : '·'} ${r.scenario} [${r.set}]${r.counts ? '' : ' (not required)'}`);
    for (const f of r.failures) out.push(`    - ${f}`);
  }
  return out.join('\n');
}

export function totals(rows: Row[]) {
  const counted = rows.filter(r => r.counts);
  return {
    scenarios: counted.length,
    passed: counted.filter(r => r.result === 'PASS').length,
    failed: counted.filter(isFailure).length,
    notScored: rows.length - counted.length,
    notScoredFailing: rows.filter(r => !r.counts && r.result !== 'PASS').length
  };
}

/** Failure messages can carry whole HTML error pages: one line, bounded. */
function oneLine(s: string, max = 400): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
