/**
 * Multi-round-trip `requestState` is sealed with the server key and bound to
 * the caller: tampered, foreign-key, other-user and expired states are
 * refused with -32602 before the tool runs; a genuine one is accepted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { postModern } from './helpers/http.js';

const KEY = Buffer.alloc(32, 7).toString('base64url');
const TOOL = 'test_input_required_result_tampered_state';
const caps = { elicitation: { form: {} } };

async function firstRound(app: McpTestApp, auth?: string) {
  const res = await postModern(app.mcpUrl, 'tools/call', { name: TOOL, arguments: {} }, { capabilities: caps, headers: auth ? { authorization: auth } : {} });
  const result = res.messages[0]!.result;
  assert.equal(result.resultType, 'input_required');
  assert.equal(typeof result.requestState, 'string');
  return result.requestState as string;
}

function retry(app: McpTestApp, requestState: string, auth?: string) {
  return postModern(
    app.mcpUrl,
    'tools/call',
    { name: TOOL, arguments: {}, requestState, inputResponses: { confirm: { action: 'accept', content: { ok: true } } } },
    { capabilities: caps, headers: auth ? { authorization: auth } : {} }
  );
}

describe('requestState sealing', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ env: { MCP_REQUEST_STATE_KEY: KEY } });
  });
  after(() => app.close());

  it('accepts the state it minted', async () => {
    const state = await firstRound(app);
    const res = await retry(app, state);
    assert.deepEqual(res.messages[0]!.result.content, [{ type: 'text', text: 'integrity-ok: requestState verified' }]);
  });

  it('refuses a state with one character changed (-32602)', async () => {
    const state = await firstRound(app);
    const i = state.length - 3;
    const tampered = state.slice(0, i) + (state[i] === 'A' ? 'B' : 'A') + state.slice(i + 1);
    const res = await retry(app, tampered);
    assert.equal(res.messages[0]!.error.code, -32602);
    assert.equal(res.messages[0]!.error.message, 'Invalid or expired requestState');
  });

  it('refuses a state with a rewritten payload', async () => {
    const state = await firstRound(app);
    const [version, body, mac] = state.split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
    payload.exp = payload.exp + 3600;
    const forged = [version, Buffer.from(JSON.stringify(payload)).toString('base64url'), mac].join('.');
    const res = await retry(app, forged);
    assert.equal(res.messages[0]!.error.code, -32602);
  });

  it("refuses another user's state", async () => {
    const state = await firstRound(app, 'Bearer test:alice');
    const res = await retry(app, state, 'Bearer test:bob');
    assert.equal(res.messages[0]!.error.code, -32602);
    const own = await retry(app, state, 'Bearer test:alice');
    assert.equal(own.messages[0]!.result.content[0].text, 'integrity-ok: requestState verified');
  });

  it('refuses a state sealed by another key (another deployment)', async () => {
    const other = await startMcpApp({ env: { MCP_REQUEST_STATE_KEY: Buffer.alloc(32, 9).toString('base64url') } });
    try {
      const state = await firstRound(other);
      const res = await retry(app, state);
      assert.equal(res.messages[0]!.error.code, -32602);
    } finally {
      await other.close();
    }
  });

  it('accepts a state minted by another instance sharing MCP_REQUEST_STATE_KEY', async () => {
    const twin = await startMcpApp({ env: { MCP_REQUEST_STATE_KEY: KEY } });
    try {
      const state = await firstRound(twin);
      const res = await retry(app, state);
      assert.equal(res.messages[0]!.result.content[0].text, 'integrity-ok: requestState verified');
    } finally {
      await twin.close();
    }
  });
});
