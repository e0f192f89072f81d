/**
 * How the caller's identity reaches the catalogue: every transport refuses a
 * client without a token, and the SEP-2567 counter handle belongs to the
 * user who created it (possession is not authorization).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { CallToolResult } from '@modelcontextprotocol/client';

import { connect, KIND_LABEL, KINDS, startTestServer, texts, type TestServer } from '../helpers/mcp-harness.js';
import { obtainTokens } from '../helpers/oauth.js';

let ts: TestServer;
let bobToken: string;
before(async () => {
  ts = await startTestServer({ name: 'identity' });
  assert.equal(ts.authOn, true, '/mcp must require a token');
  bobToken = (await obtainTokens(ts.baseUrl, { scope: 'mcp', identity: 'bob', clientName: 'Integration tests (bob)' })).accessToken;
});
after(async () => {
  await ts?.close();
});

for (const kind of KINDS) {
  describe(`identity over ${KIND_LABEL[kind]}`, () => {
    it('a client without a token cannot connect', async () => {
      await assert.rejects(connect(ts, kind, { token: null, name: `anonymous-${kind}` }), (err: Error) => {
        const status = (err as { status?: number }).status ?? (err as { data?: { status?: number } }).data?.status;
        return status === 401 || /\b401\b|unauthori[sz]ed/i.test(`${err.message} ${String((err as { code?: unknown }).code)}`);
      });
    });

    it("another user's counter handle is unknown to them", async () => {
      const alice = await connect(ts, kind, { name: `alice-${kind}` });
      const bob = await connect(ts, kind, { token: bobToken, name: `bob-${kind}` });
      try {
        const created = (await alice.client.callTool({ name: 'createCounter', arguments: { start: 1 } })) as CallToolResult;
        const { counterId } = created.structuredContent as { counterId: string };
        const stolen = (await bob.client.callTool({ name: 'incrementCounter', arguments: { counterId } })) as CallToolResult;
        assert.equal(stolen.isError, true);
        assert.deepEqual(texts(stolen), [`Counter ${counterId} does not exist or has expired (counters live 24 hours). Call createCounter to make a new one.`]);
        // Bob's attempt changed nothing.
        assert.deepEqual(((await alice.client.callTool({ name: 'getCounter', arguments: { counterId } })) as CallToolResult).structuredContent, { counterId, value: 1 });
        const bobWho = ((await bob.client.callTool({ name: 'whoami', arguments: {} })) as CallToolResult).structuredContent as { subject: string; scopes: string[] };
        const aliceWho = ((await alice.client.callTool({ name: 'whoami', arguments: {} })) as CallToolResult).structuredContent as { subject: string };
        assert.notEqual(bobWho.subject, aliceWho.subject);
        assert.deepEqual(bobWho.scopes, ['mcp']);
      } finally {
        await alice.close();
        await bob.close();
      }
    });
  });
}
