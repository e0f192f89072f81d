/**
 * What both conformance tests share: the server under test (internal mode,
 * memory store, its log in the run's artifacts folder, the proxy's host
 * allowed) and one run of `scripts/conformance.ts` against it, read back
 * from the JSON report it writes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../helpers/free-port.js';
import { checkSuiteInstalled, PROJECT_ROOT } from '../../scripts/lib/conformance-suite.js';
import { localHostsFor } from '../../scripts/lib/local-server.js';
import type { Row } from '../../scripts/lib/report.js';

export interface ConformanceTarget {
  server: RunningServer;
  proxyPort: number;
  /** test-artifacts/conformance/<name>-<timestamp>: server.log, the suite's results, report.json. */
  artifacts: string;
}

/** Checks the suite is installed, then starts the server (on `port`, or a free one) with `env` on top of the test defaults. */
export async function startConformanceTarget(name: string, options: { port?: number; env?: Record<string, string> } = {}): Promise<ConformanceTarget> {
  const suite = checkSuiteInstalled();
  assert.ok(suite.ok, suite.problem);
  const artifacts = join(PROJECT_ROOT, 'test-artifacts', 'conformance', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(artifacts, { recursive: true });
  const proxyPort = await freePort();
  const { hosts, origins } = localHostsFor(proxyPort);
  const config = loadConfig({
    NODE_ENV: 'test',
    AUTH_MODE: 'internal',
    PORT: String(options.port ?? 0),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    RATE_LIMIT_MAX: '100000',
    ALLOWED_HOSTS: hosts.join(','),
    ALLOWED_ORIGINS: origins.join(','),
    ...options.env
  });
  const server = await startServer(config, { logger: createLogger('debug', createWriteStream(join(artifacts, 'server.log'))) });
  return { server, proxyPort, artifacts };
}

/** What `scripts/conformance.ts --report` writes. */
export interface ConformanceReport {
  ok: boolean;
  auth: { on: boolean; unauthenticatedStatus: number; tokenVia?: string; problem?: string };
  rows: Row[];
  table: string;
  runs: Array<{ label: string; args: string[] }>;
  extensionScenarios: string[];
  authorizationScenarios: string[];
  scored: Record<string, { passed: number; scored: number }>;
}

/**
 * Runs `scripts/conformance.ts --url <mcp> --proxy-port <p> --require-auth` (plus `extraArgs`)
 * against the target; asserts that it wrote its report and returns it with the exit code and output.
 */
export async function runConformance(target: ConformanceTarget, extraArgs: string[] = []): Promise<{ code: number | null; output: string; report: ConformanceReport }> {
  const reportFile = join(target.artifacts, 'report.json');
  const { code, output } = await run(
    [
      '--import',
      'tsx',
      join(PROJECT_ROOT, 'scripts', 'conformance.ts'),
      '--url',
      target.server.config.mcpUrl,
      '--proxy-port',
      String(target.proxyPort),
      '--require-auth',
      ...extraArgs,
      '--out',
      target.artifacts,
      '--report',
      reportFile
    ],
    PROJECT_ROOT
  );
  assert.ok(existsSync(reportFile), `the script wrote no report (exit ${code}):\n${output.slice(-4000)}`);
  return { code, output, report: JSON.parse(readFileSync(reportFile, 'utf8')) as ConformanceReport };
}

function run(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', code => resolve({ code, output }));
  });
}
