/**
 * Keeps examples/ working: the SDK client example (`npm run example:client --
 * --headless`) and the curl walk-through (`examples/curl.sh`), each run as a
 * separate process against the real server started on port 0.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { startServer, type RunningServer, type StartOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../helpers/free-port.js';

const run = promisify(execFile);
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('examples', () => {
  let server: RunningServer;
  before(async () => {
    const config = loadConfig({ NODE_ENV: 'test', AUTH_MODE: 'internal', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000' });
    // Faster periodic resource updates once src/app.ts forwards `mcpTiming` (ignored until then; the example waits long enough either way).
    const options = { logger: createLogger('silent'), mcpTiming: { resourceUpdateIntervalMs: 500, logIntervalMs: 500 } } as StartOptions;
    server = await startServer(config, options);
  });
  after(() => server?.close());

  it('examples/client.ts says how to start the server when nothing answers at --server', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const failed = await run(process.execPath, ['--import', 'tsx', 'examples/client.ts', '--server', url, '--headless'], { timeout: 60_000 }).then(
      () => assert.fail('the example client succeeded without a server'),
      (err: { code?: number; stderr?: string }) => err
    );
    assert.equal(failed.code, 1);
    assert.ok(failed.stderr?.includes(`Cannot reach the server at ${url} (ECONNREFUSED)`), failed.stderr);
    assert.match(failed.stderr ?? '', /npm run dev/);
    assert.doesNotMatch(failed.stderr ?? '', /fetch failed/);
  });

  it('examples/client.ts --headless runs the OAuth flow and every feature in both eras', { timeout: 120_000 }, async () => {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'examples/client.ts', '--server', server.url, '--headless', '--wait', '15'], {
      timeout: 110_000,
      env: { ...process.env, DISPLAY: '' }
    });
    const out = stdout;
    assert.match(out, /registered OAuth client \S+ \(dynamic client registration\)/);
    assert.match(out, /authorization needed \(scope "mcp[^"]*"\)/);
    assert.ok(out.includes(`${server.url}/authorize?response_type=code`), 'prints the authorization URL');
    assert.match(out, /callback received \(code, state, iss=http:\/\/localhost:\d+\)/);
    assert.match(out, /tokens received: scope "mcp offline_access", expires in 3600 s, refresh token yes/);
    assert.match(out, /tokens received: scope "mcp offline_access mcp:admin"/, 'step-up for adminStats');

    for (const era of ['2025-11-25', '2026-07-28']) {
      const line = (what: string) => {
        const found = out.split('\n').findLast(l => l.startsWith(`[${era}] ${what} -> `));
        assert.ok(found, `[${era}] ${what} missing:\n${out}\n${stderr}`);
        return found.slice(`[${era}] ${what} -> `.length);
      };
      assert.match(line('connected'), new RegExp(`^protocol ${era}, server mcp-feature-reference-server`));
      assert.match(line('tools/list'), /^\d+ tools: echo, add, /);
      assert.equal(line('tools/call echo'), 'Echo: hello from the example client');
      assert.equal(line('tools/call add'), 'The sum of 2 and 3 is 5.');
      assert.match(line('tools/call longRunningOperation'), /completed.*progress: 1\/3 2\/3 3\/3$/);
      assert.match(line('tools/call getTinyImage'), /\[image image\/png\]/);
      assert.match(line('tools/call getResourceReference'), /\[resource test:\/\/static\/resource\/7\]/);
      assert.match(line('tools/call getResourceLinks'), /\[link test:\/\/static\/resource\/1\] \| \[link test:\/\/static\/resource\/2\]/);
      assert.match(line('tools/call structuredContent'), /"location":"Paris"/);
      assert.equal(line('tools/call getPrimes'), era === '2026-07-28' ? '[2,3,5,7,11]' : '{"primes":[2,3,5,7,11]}');
      assert.match(line('tools/call createCounter/incrementCounter/getCounter'), /"value":42/);
      assert.match(line('tools/call sampleLLM'), /An example answer to: .*What is MCP\?/);
      assert.match(line('tools/call sampleLLMWithTools'), /tool_use get_weather/);
      assert.match(line('tools/call startElicitation'), /Alice Example/);
      assert.match(line('tools/call elicitUrl'), /completed/);
      assert.match(line('tools/call listRoots'), /1 root/);
      assert.match(line('tools/call whoami'), /demo-user:alice/);
      assert.match(line('tools/call showPrimesApp'), /2, 3, 5, 7, 11/);
      assert.match(line('tools/call adminStats'), /"uptimeSeconds"/);
      assert.equal(line('resources/list (cursor by cursor)'), '108 resources in 11 pages');
      assert.equal(line('resources/list (SDK aggregates the pages)'), '108 resources');
      assert.match(line('resources/templates/list'), /test:\/\/static\/resource\/\{id\}/);
      assert.equal(line('resources/read test://static/resource/1'), 'Resource 1: This is a plaintext resource');
      assert.equal(line('resources/read test://static/resource/2'), 'blob: Resource 2: This is a base64 blob');
      assert.match(line('prompts/list'), /^simple_prompt, complex_prompt, resource_prompt/);
      assert.equal(line('prompts/get complex_prompt'), 'This is a complex prompt with arguments: temperature=0.7, style=formal');
      assert.equal(line('completion/complete complex_prompt.style "f"'), 'formal, friendly');
      assert.equal(line('completion/complete resource id "9"'), '9, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99');
      assert.equal(line('notifications/resources/updated'), 'received for test://static/resource/1');
    }
    assert.match(out, /\[2026-07-28\] subscriptions\/listen -> honoured filter/);
    assert.match(out, /\[2025-11-25\] logging\/setLevel info \+ resources\/subscribe/);
    assert.match(out, /Done: every feature exercised in both eras\./);
  });

  it('examples/curl.sh runs the raw HTTP flow end to end', { timeout: 60_000 }, async () => {
    const lacking = ['curl', 'openssl', 'jq'].filter(t => !has(t));
    assert.deepEqual(lacking, [], `examples/curl.sh needs curl, openssl and jq: run \`apt-get install ${lacking.join(' ')}\` (npm test installs them)`);
    const { stdout } = await run('bash', ['examples/curl.sh'], { timeout: 50_000, env: { ...process.env, SERVER: server.url } });
    assert.match(stdout, /WWW-Authenticate: Bearer resource_metadata="http:\/\/localhost:\d+\/\.well-known\/oauth-protected-resource\/mcp"/i);
    assert.match(stdout, /client_id: \S+/);
    assert.match(stdout, /code_challenge: [A-Za-z0-9_-]{43} \(method S256\)/);
    assert.match(stdout, /consent page: curl example wants to access your MCP server: approving/);
    assert.match(stdout, /state matches; iss=http:\/\/localhost:\d+/);
    assert.match(stdout, /token_type=Bearer expires_in=3600 scope="mcp offline_access" refresh_token=yes/);
    assert.match(stdout, /tools\/call echo -> Echo: hello from curl/);
    assert.match(stdout, /tools\/call add -> The sum of 2 and 3 is 5\./);
    assert.match(stdout, /new access token and a rotated refresh token/);
    assert.match(stdout, /revoke -> HTTP 200/);
    assert.match(stdout, /MCP request with the access token of that grant -> HTTP 401/);
    assert.match(stdout, /^OK: the whole flow worked/m);
  });
});
