/**
 * The start-up banner's Inspector hint: under a Node the Inspector 2.x does
 * not run on, it says which Node it needs (npx would quietly install 0.15.0,
 * which cannot connect); otherwise it gives the command and the URL.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { inspectorRunsOn, startBanner } from '../../src/ops/banner.js';

const URL = 'http://localhost:3232/mcp';

it('under Node 20 the hint names the Node the Inspector needs and the version npx would install', () => {
  const banner = startBanner(URL, 'v20.20.2');
  assert.match(banner, /MCP endpoint: {2}http:\/\/localhost:3232\/mcp/);
  assert.match(banner, /Node 22\.19 or newer/);
  assert.match(banner, /this is Node v20\.20\.2/);
  assert.match(banner, /0\.15\.0/);
  assert.match(banner, /docs\/inspector\.md/);
});

it('under Node 22.19 and later the hint is the command and the URL', () => {
  for (const v of ['v22.19.0', 'v22.23.3', 'v24.1.0']) {
    const banner = startBanner(URL, v);
    assert.match(banner, /Inspector: {5}npx @modelcontextprotocol\/inspector {2}\(then connect to http:\/\/localhost:3232\/mcp, transport "Streamable HTTP"/);
    assert.doesNotMatch(banner, /0\.15\.0/);
  }
});

it('the Node boundary is 22.19', () => {
  assert.deepEqual(['v20.20.2', 'v22.18.9', 'v22.19.0', 'v23.0.0'].map(inspectorRunsOn), [false, false, true, true]);
});
