/**
 * Drives the pinned official conformance suite (tools/conformance: the exact
 * `@modelcontextprotocol/conformance` version and the Node 22 binary it needs)
 * and reads its results from `-o DIR` (one `server-<scenario>-<timestamp>/checks.json`
 * per scenario), not from the pretty print.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const TOOLS_DIR = join(PROJECT_ROOT, 'tools', 'conformance');
export const NODE22 = join(TOOLS_DIR, 'node_modules', '.bin', 'node');
export const SUITE_PACKAGE = join(TOOLS_DIR, 'node_modules', '@modelcontextprotocol', 'conformance');
export const SUITE_CLI = join(SUITE_PACKAGE, 'dist', 'index.js');

/** Scenarios the project requires beyond the scored sets (issue 2, "Done when"). */
export const EXTRA_REQUIRED_SCENARIOS = [
  'json-schema-2020-12',
  'http-header-validation',
  'http-custom-header-server-validation',
  'server-sse-polling',
  'server-session-lifecycle'
] as const;

/**
 * Extension scenarios (the suite lists them as `[extension]`): run one by one
 * with `--scenario NAME --spec-version 2026-07-28` and reported in their own
 * table, apart from the scored sets. The ones listed here must pass (they
 * decide the exit code); the others are run and reported only. Add an
 * extension's scenarios here once the extension is built.
 */
export const REQUIRED_EXTENSION_SCENARIOS: readonly string[] = [
  // Skills (SEP-2640): src/mcp/extensions/skills.
  'sep-2640-skills-enumeration',
  'sep-2640-skills-manifest',
  'sep-2640-skills-directory',
  // Tasks (SEP-2663): src/mcp/extensions/tasks.
  'tasks-lifecycle',
  'tasks-capability-negotiation',
  'tasks-wire-fields',
  'tasks-request-state-removal',
  'tasks-mrtr-input',
  'tasks-request-headers',
  'tasks-dispatch-and-envelope',
  'tasks-status-notifications',
  'tasks-required-task-error',
  'tasks-mrtr-composition'
];

/**
 * Scenarios the pinned suite skips whatever the server does (their harness is
 * not written yet). Shown as `SKIPPED BY SUITE`, never as a pass, and not a
 * failure either; the behaviour they name is covered by the project's own tests.
 */
export const SKIPPED_BY_SUITE: Readonly<Record<string, string>> = {
  'tasks-status-notifications':
    'the suite (0.2.0-alpha.12) returns one SKIPPED check unconditionally ("pending subscriptions/listen rewrite"); the server sends notifications/tasks on subscriptions/listen streams that ask for taskIds (README, Tasks; test/mcp/task-notifications.test.ts)'
};

/** The protocol revision the extension scenarios run at. */
export const EXTENSION_SPEC_VERSION = '2026-07-28';

/**
 * Authorization-server scenarios (`conformance authorization`) the project
 * requires: run against this server's own authorization server, the
 * authorization-code grant completed through the real consent page and demo IdP.
 */
export const REQUIRED_AUTHORIZATION_SCENARIOS: readonly string[] = ['authorization-server-metadata-endpoint', 'authorization-code-grant'];

export const REQUIREMENT_SETS = ['2026-07-28', '2025-11-25'] as const;
export type RequirementSet = (typeof REQUIREMENT_SETS)[number];

export interface SuiteInstallation {
  ok: boolean;
  version?: string;
  problem?: string;
}

export function checkSuiteInstalled(): SuiteInstallation {
  if (!existsSync(join(TOOLS_DIR, 'node_modules'))) {
    return { ok: false, problem: `tools/conformance/node_modules is missing: run \`npm --prefix tools/conformance ci\`` };
  }
  if (!existsSync(NODE22)) return { ok: false, problem: `the Node 22 binary is missing at ${NODE22}` };
  if (!existsSync(SUITE_CLI)) return { ok: false, problem: `the conformance suite is missing at ${SUITE_CLI}` };
  const pkg = JSON.parse(readFileSync(join(SUITE_PACKAGE, 'package.json'), 'utf8')) as { version: string };
  const pinned = (JSON.parse(readFileSync(join(TOOLS_DIR, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies[
    '@modelcontextprotocol/conformance'
  ];
  if (pinned && pkg.version !== pinned) {
    return { ok: false, version: pkg.version, problem: `installed suite is ${pkg.version}, tools/conformance/package.json pins ${pinned}: run \`npm --prefix tools/conformance ci\`` };
  }
  return { ok: true, version: pkg.version };
}

export interface RequirementListing {
  revision: string;
  /** Server scenarios the revision scores. */
  scored: string[];
  /** Server scenarios run and reported but not scored, with the suite's reason. */
  notScored: Array<{ scenario: string; reason: string }>;
}

/** `conformance list --server --requirements REV`, parsed (the plain-text list is stable and simple). */
export async function listRequirements(revision: string): Promise<RequirementListing> {
  const { stdout, code } = await runCapture([SUITE_CLI, 'list', '--server', '--requirements', revision]);
  if (code !== 0) throw new Error(`conformance list --requirements ${revision} failed (exit ${code}):\n${stdout}`);
  return parseRequirementListing(revision, stdout);
}

export function parseRequirementListing(revision: string, text: string): RequirementListing {
  const scored: string[] = [];
  const notScored: Array<{ scenario: string; reason: string }> = [];
  let section: 'server' | 'client' | 'notScored' | undefined;
  let reason = '';
  for (const line of text.split('\n')) {
    if (/^Server scenarios/.test(line)) section = 'server';
    else if (/^Client scenarios/.test(line)) section = 'client';
    else if (/^Run and reported, but never scored/.test(line)) section = 'notScored';
    else if (section === 'notScored' && /^ {2}(\S[^(]*?) \(\d+\):/.test(line)) reason = /^ {2}(\S[^(]*?) \(/.exec(line)![1]!;
    else {
      const server = /^ {2}- (\S+)\s*$/.exec(line);
      const unscored = /^ {4}- (\S+) \[(server|client)\]/.exec(line);
      if (section === 'server' && server) scored.push(server[1]!);
      if (section === 'notScored' && unscored && unscored[2] === 'server') notScored.push({ scenario: unscored[1]!, reason });
    }
  }
  if (scored.length === 0) throw new Error(`could not read the server scenarios of requirement set ${revision} from \`conformance list\``);
  return { revision, scored, notScored };
}

/** `conformance list --server`: the scenarios tagged `[extension]`. */
export async function listExtensionScenarios(): Promise<string[]> {
  const { stdout, code } = await runCapture([SUITE_CLI, 'list', '--server']);
  if (code !== 0) throw new Error(`conformance list --server failed (exit ${code}):\n${stdout}`);
  return parseTaggedListing(stdout).filter(s => s.tags.includes('extension')).map(s => s.scenario);
}

/** `conformance list --authorization`: every authorization-server scenario. */
export async function listAuthorizationScenarios(): Promise<string[]> {
  const { stdout, code } = await runCapture([SUITE_CLI, 'list', '--authorization']);
  if (code !== 0) throw new Error(`conformance list --authorization failed (exit ${code}):\n${stdout}`);
  return parseTaggedListing(stdout).map(s => s.scenario);
}

/** Lines of the form `  - name [tag,tag]`. */
export function parseTaggedListing(text: string): Array<{ scenario: string; tags: string[] }> {
  const out: Array<{ scenario: string; tags: string[] }> = [];
  for (const line of text.split('\n')) {
    const m = /^ {2}- (\S+) \[([^\]]*)\]\s*$/.exec(line);
    if (m) out.push({ scenario: m[1]!, tags: m[2]!.split(',').map(t => t.trim()) });
  }
  return out;
}

export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED' | string;

export interface ConformanceCheck {
  id: string;
  name: string;
  description: string;
  status: CheckStatus;
  errorMessage?: string;
  details?: unknown;
}

export interface ScenarioResult {
  scenario: string;
  checks: ConformanceCheck[];
  passed: number;
  failed: number;
  warnings: number;
  /** Checks the suite skipped (e.g. "the server did not declare the extension"). */
  skipped: number;
  /** False when the suite wrote no checks.json for a scenario it was asked to run (it crashed or timed out). */
  ran: boolean;
}

export interface SuiteRun {
  label: string;
  args: string[];
  exitCode: number | null;
  /** Path of the full console output of this run. */
  logFile: string;
  outDir: string;
  results: Map<string, ScenarioResult>;
  durationMs: number;
}

export interface RunSuiteOptions {
  /** `server` (default) or `authorization` (then `url` is the issuer). */
  command?: 'server' | 'authorization';
  /** URL the suite tests (the proxy's /mcp, or the authorization server's issuer). */
  url: string;
  /** Either a requirement set or a single scenario. */
  requirements?: string;
  scenario?: string;
  /** Extra arguments, e.g. --spec-version. */
  extraArgs?: string[];
  /** Directory for this run's checks.json files and console log. */
  outDir: string;
  label: string;
  /** Per-scenario timeout (ms) passed to the suite. */
  scenarioTimeoutMs?: number;
  /** Whole-run timeout (ms): the suite is killed after it. */
  runTimeoutMs?: number;
  /** Echo the suite's console output (for --verbose). */
  echo?: boolean;
  /** Called with each line the suite prints (e.g. to act on the URL the authorization scenario asks a person to open). */
  onLine?: (line: string) => void;
}

export async function runSuite(options: RunSuiteOptions): Promise<SuiteRun> {
  await mkdir(options.outDir, { recursive: true });
  const command = options.command ?? 'server';
  const args = [SUITE_CLI, command, '--url', options.url, '-o', options.outDir];
  if (options.requirements) args.push('--requirements', options.requirements);
  if (options.scenario) args.push('--scenario', options.scenario);
  if (options.scenarioTimeoutMs) args.push('--timeout', String(options.scenarioTimeoutMs));
  args.push(...(options.extraArgs ?? []));

  const logFile = join(options.outDir, 'suite-output.txt');
  const log = createWriteStream(logFile);
  const started = Date.now();
  const child = spawn(NODE22, args, {
    cwd: TOOLS_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The suite's own environment: nothing from ours that could change what it tests.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' }
  });
  let pending = '';
  const forward = (chunk: Buffer) => {
    log.write(chunk);
    if (options.echo) process.stdout.write(chunk);
    if (options.onLine) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) options.onLine(line);
    }
  };
  child.stdout.on('data', forward);
  child.stderr.on('data', forward);

  let killedForTime = false;
  const timer = options.runTimeoutMs
    ? setTimeout(() => {
        killedForTime = true;
        child.kill('SIGKILL');
      }, options.runTimeoutMs)
    : undefined;
  const exitCode = await new Promise<number | null>(resolve => child.on('close', code => resolve(code)));
  if (timer) clearTimeout(timer);
  if (killedForTime) log.write(`\n[conformance.ts] the suite was killed after ${options.runTimeoutMs} ms\n`);
  await new Promise<void>(resolve => log.end(() => resolve()));

  return {
    label: options.label,
    args: args.slice(1),
    exitCode,
    logFile,
    outDir: options.outDir,
    results: readResults(options.outDir, command === 'authorization' ? 'authorization-server' : 'server'),
    durationMs: Date.now() - started
  };
}

const resultDir = (prefix: string) => new RegExp(`^${prefix}-(.+)-(\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-\\d{3}Z)$`);

/** Reads every `<prefix>-<scenario>-<timestamp>/checks.json` under `outDir` (prefix `server` or `authorization-server`). */
export function readResults(outDir: string, prefix = 'server'): Map<string, ScenarioResult> {
  const results = new Map<string, ScenarioResult>();
  if (!existsSync(outDir)) return results;
  const pattern = resultDir(prefix);
  for (const entry of readdirSync(outDir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const m = pattern.exec(entry.name);
    if (!m) continue;
    const scenario = m[1]!;
    const file = join(outDir, entry.name, 'checks.json');
    if (!existsSync(file)) {
      results.set(scenario, { scenario, checks: [], passed: 0, failed: 0, warnings: 0, skipped: 0, ran: false });
      continue;
    }
    const checks = JSON.parse(readFileSync(file, 'utf8')) as ConformanceCheck[];
    results.set(scenario, summarise(scenario, checks));
  }
  return results;
}

export function summarise(scenario: string, checks: ConformanceCheck[]): ScenarioResult {
  return {
    scenario,
    checks,
    passed: checks.filter(c => c.status === 'SUCCESS').length,
    failed: checks.filter(c => c.status === 'FAILURE').length,
    warnings: checks.filter(c => c.status === 'WARNING').length,
    skipped: checks.filter(c => c.status === 'SKIPPED').length,
    ran: true
  };
}

/** For a scenario that left no checks.json: the suite's own words about it, from the console log. */
export function scenarioErrorFromLog(logFile: string, scenario: string): string | undefined {
  if (!existsSync(logFile)) return undefined;
  const text = readFileSync(logFile, 'utf8');
  const marker = `Failed to run scenario ${scenario}:`;
  const at = text.indexOf(marker);
  if (at >= 0) return text.slice(at + marker.length, at + marker.length + 400).trim().split('\n').slice(0, 3).join(' ');
  const skipped = new RegExp(`^SKIPPED: scenario '${scenario.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'.*$`, 'm').exec(text);
  if (skipped) return skipped[0];
  return undefined;
}

async function runCapture(args: string[]): Promise<{ stdout: string; code: number | null }> {
  const child = spawn(NODE22, args, { cwd: TOOLS_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)));
  return { stdout, code };
}
