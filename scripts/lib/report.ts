/**
 * Turns suite runs into the scenario table and a JSON report.
 *
 * Every row is one scenario in one run. `scoring` says why it is there:
 * - `required`: scored by the requirement set;
 * - `project`: not scored by the suite (pending / added after release), but
 *   required by this project (issue 2, "Done when");
 * - anything else (`extension`, ...): run and reported by the suite, never
 *   scored, not required here either; shown for visibility.
 */
import { EXTRA_REQUIRED_SCENARIOS, scenarioErrorFromLog, type ScenarioResult, type SuiteRun } from './conformance-suite.js';

export interface Row {
  scenario: string;
  set: string;
  scoring: string;
  passed: number;
  failed: number;
  warnings: number;
  result: 'PASS' | 'FAIL' | 'NOT RUN' | 'NO CHECKS';
  /** Whether this row decides the exit code. */
  counts: boolean;
  /** The failing checks' messages (or why the scenario did not run). */
  failures: string[];
}

export interface ExpectedScenario {
  scenario: string;
  scoring: string;
}

export function buildRows(run: SuiteRun, expected: ExpectedScenario[]): Row[] {
  const rows: Row[] = [];
  const seen = new Set<string>();
  const extras = new Set<string>(EXTRA_REQUIRED_SCENARIOS);
  for (const { scenario, scoring: suiteScoring } of expected) {
    seen.add(scenario);
    const required = suiteScoring === 'required' || extras.has(scenario);
    const scoring = suiteScoring === 'required' ? 'required' : extras.has(scenario) ? `project (suite: ${suiteScoring})` : suiteScoring;
    rows.push(row(run, scenario, scoring, required, run.results.get(scenario)));
  }
  // Anything the suite ran that we did not expect (a changed requirement set): shown, and counted.
  for (const [scenario, result] of run.results) {
    if (!seen.has(scenario)) rows.push(row(run, scenario, 'unexpected', true, result));
  }
  return rows;
}

function row(run: SuiteRun, scenario: string, scoring: string, counts: boolean, result: ScenarioResult | undefined): Row {
  if (!result || !result.ran) {
    const why = scenarioErrorFromLog(run.logFile, scenario) ?? (result ? 'the suite wrote no checks.json (crashed or timed out)' : 'the suite did not run it');
    return { scenario, set: run.label, scoring, passed: 0, failed: 0, warnings: 0, result: 'NOT RUN', counts, failures: [oneLine(why)] };
  }
  const failures = result.checks
    .filter(c => c.status === 'FAILURE')
    .map(c => oneLine(`${c.id}: ${c.errorMessage ?? c.description}`));
  const status: Row['result'] = result.failed > 0 ? 'FAIL' : result.passed === 0 ? 'NO CHECKS' : 'PASS';
  return { scenario, set: run.label, scoring, passed: result.passed, failed: result.failed, warnings: result.warnings, result: status, counts, failures };
}

export function isFailure(r: Row): boolean {
  return r.counts && r.result !== 'PASS';
}

export function formatTable(rows: Row[]): string {
  const header = ['Scenario', 'Requirement set', 'Scoring', 'Passed', 'Failed', 'Warn', 'Result'];
  const body = rows.map(r => [
    r.scenario,
    r.set,
    r.scoring,
    String(r.passed),
    String(r.failed),
    String(r.warnings),
    r.counts ? r.result : `${r.result} (not scored)`
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map(b => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 3 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i >= 3 && i <= 5 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), sep, ...body.map(line)].join('\n');
}

export function formatFailures(rows: Row[]): string {
  const out: string[] = [];
  for (const r of rows.filter(r => r.result !== 'PASS')) {
    out.push(`${r.counts ? '✗' : '·'} ${r.scenario} [${r.set}]${r.counts ? '' : ' (not scored)'}`);
    for (const f of r.failures) out.push(`    - ${f}`);
  }
  return out.join('\n');
}

export function totals(rows: Row[]) {
  const counted = rows.filter(r => r.counts);
  return {
    scenarios: counted.length,
    passed: counted.filter(r => r.result === 'PASS').length,
    failed: counted.filter(r => r.result !== 'PASS').length,
    notScored: rows.length - counted.length,
    notScoredFailing: rows.filter(r => !r.counts && r.result !== 'PASS').length
  };
}

/** Failure messages can carry whole HTML error pages: one line, bounded. */
function oneLine(s: string, max = 400): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
