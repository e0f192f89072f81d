/**
 * The official MCP conformance suite's authorization-server scenarios
 * (`conformance authorization`), run against our AS with the pinned suite
 * and its Node 22 binary from tools/conformance. The suite prints an
 * authorization URL and waits for the callback on 127.0.0.1:<port>; this
 * test plays the person: consent + demo IdP over scripted HTTP, then
 * delivers the redirect to the suite's callback server.
 *
 * Never skipped: a missing suite fails with the command to run (`npm test`
 * installs it first, scripts/ensure-test-deps.mjs).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { freePort } from '../helpers/free-port.js';
import { OAuthBrowser, registerClient } from '../helpers/oauth.js';
import { startAs, type TestAs } from './server.js';

const BIN = 'tools/conformance/node_modules/.bin';
const NODE22 = `${BIN}/node`;
const CLI = 'tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js';

let as: TestAs;
before(async () => {
  assert.ok(existsSync(NODE22) && existsSync(CLI), 'tools/conformance is not installed: run `npm --prefix tools/conformance ci`');
  as = await startAs();
});
after(() => as?.close());

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs the suite; whenever it prints an authorization URL, completes the login headlessly. */
function runConformance(args: string[], complete: (authorizationUrl: string) => Promise<void>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE22, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const pending: Array<Promise<void>> = [];
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n')) {
        const url = line.trim();
        if (url.startsWith(`${as.url}/authorize?`)) pending.push(complete(url).catch(err => void (output += `\n[test] login failed: ${err}\n`)));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', async code => {
      clearTimeout(timer);
      await Promise.all(pending);
      resolve({ code, output });
    });
  });
}

test('the conformance suite’s authorization-server scenarios all pass against our AS', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const client = await registerClient(as.url, { redirectUris: [redirectUri], authMethod: 'none', clientName: 'MCP conformance suite' });

  const { code, output } = await runConformance(
    ['authorization', '--url', as.url, '--client-id', client.clientId, '--resource', `${as.url}/mcp`, '-p', String(port)],
    async authorizationUrl => {
      const browser = new OAuthBrowser(as.url);
      const { fields } = await browser.openConsent(authorizationUrl);
      const idp = await browser.decide(fields, 'approve');
      const callback = await browser.signIn(idp, 'alice');
      assert.ok(callback.startsWith(redirectUri), callback);
      // Deliver the redirect to the suite's callback server, as the browser would.
      const res = await fetch(callback);
      assert.equal(res.status, 200);
    }
  );

  if (process.env.SHOW_CONFORMANCE) console.log(output);
  const summary = /Total: (\d+) passed, (\d+) failed/.exec(output);
  assert.ok(summary, `no summary in output:\n${output.slice(-3000)}`);
  assert.equal(Number(summary[2]), 0, output.slice(-3000));
  assert.ok(Number(summary[1]) >= 3, output.slice(-3000));
  assert.match(output, /✓ authorization-server-metadata-endpoint/);
  assert.match(output, /✓ authorization-code-grant/);
  assert.equal(code, 0, output.slice(-3000));
});
