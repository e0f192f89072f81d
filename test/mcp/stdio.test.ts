/**
 * The stdio transport, black-box: `npm run --silent stdio` started by the SDK
 * v2 client's `StdioClientTransport`, in each era (2025-11-25 `initialize`,
 * 2026-07-28 pinned). The server's stdout is copied to a file on its way to
 * the client (`tee`), so the test can check that every byte of it is a
 * JSON-RPC message; stderr carries the pino log lines.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/client';
import { SkillsClient } from '@modelcontextprotocol/client/ext/skills';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { connect, startTestServer, type TestServer } from '../helpers/mcp-harness.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'stdio');
mkdirSync(ARTIFACTS, { recursive: true });

const ERAS = [
  { label: '2025-11-25 (initialize)', versionNegotiation: { mode: 'legacy' as const }, expected: '2025-11-25', http: '2025' as const },
  { label: '2026-07-28 (per-request envelope)', versionNegotiation: { mode: { pin: '2026-07-28' as const } }, expected: '2026-07-28', http: '2026' as const }
];

// The same catalogue over HTTP (with OAuth), to compare with.
let httpServer: TestServer;
before(async () => {
  httpServer = await startTestServer({ name: 'stdio-reference' });
});
after(async () => {
  await httpServer?.close();
});

for (const era of ERAS) {
  describe(`stdio, ${era.label}`, () => {
    it('serves the catalogue to the local user, with only protocol messages on stdout and logs on stderr', async () => {
      const stdoutCopy = join(ARTIFACTS, `stdout-${era.expected}.jsonl`);
      const transport = new StdioClientTransport({
        command: 'sh',
        // exec: the shell becomes the pipeline; `tee` copies the server's stdout on its way to the client.
        args: ['-c', `npm run --silent stdio | tee '${stdoutCopy}'`],
        cwd: process.cwd(),
        env: { ...getDefaultEnvironment(), LOG_LEVEL: 'debug', NODE_ENV: 'test' },
        stderr: 'pipe'
      });
      let stderr = '';
      transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const client = new Client({ name: 'stdio-test', version: '1.0.0' }, { versionNegotiation: era.versionNegotiation });
      const clientErrors: Error[] = [];
      client.onerror = err => clientErrors.push(err);
      await client.connect(transport);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), era.expected);
        // No HTTP server to fetch icons from: serverInfo carries them inline.
        const icons = client.getServerVersion()?.icons ?? [];
        assert.ok(icons.length > 0 && icons.every(i => i.src.startsWith('data:image/')), 'serverInfo icons inline on stdio');

        // The whole catalogue: the tools, prompts and resource templates the same era lists over HTTP.
        const http = await connect(httpServer, era.http);
        try {
          const names = async (c: Client) => ({
            tools: (await c.listTools()).tools.map(t => t.name).sort(),
            prompts: (await c.listPrompts()).prompts.map(p => p.name).sort(),
            templates: (await c.listResourceTemplates()).resourceTemplates.map(t => t.uriTemplate).sort()
          });
          const overHttp = await names(http.client);
          assert.ok(overHttp.tools.length >= 40, `only ${overHttp.tools.length} tools over HTTP`);
          assert.deepEqual(await names(client), overHttp);
        } finally {
          await http.close();
        }
        const mirror = await client.callTool({ name: 'mirror', arguments: {} });
        assert.notEqual(mirror.isError, true);
        assert.ok(JSON.stringify(mirror.structuredContent ?? mirror.content).includes(era.expected));

        const echo = await client.callTool({ name: 'echo', arguments: { message: 'over stdio' } });
        assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: over stdio' }]);

        // No OAuth: the local user is the identity.
        const who = await client.callTool({ name: 'whoami', arguments: {} });
        const sc = who.structuredContent as { authenticated: boolean; subject: string; clientId: string; scopes: string[] };
        assert.equal(sc.authenticated, true);
        assert.equal(sc.subject, `local:${userInfo().username}`);
        assert.equal(sc.clientId, 'stdio');
        assert.match((who.content as Array<{ text: string }>)[0]!.text, /local user/);
        // Every scope: the admin tool works without a step-up.
        const stats = await client.callTool({ name: 'adminStats', arguments: {} });
        assert.notEqual(stats.isError, true);

        // A stateful tool bound to the caller.
        const created = await client.callTool({ name: 'createCounter', arguments: { start: 5 } });
        const counterId = (created.structuredContent as { counterId: string }).counterId;
        const incremented = await client.callTool({ name: 'incrementCounter', arguments: { counterId } });
        assert.equal((incremented.structuredContent as { value: number }).value, 6);

        const read = await client.readResource({ uri: 'test://static/resource/1' });
        assert.equal((read.contents[0] as { text: string }).text, 'Resource 1: This is a plaintext resource');
        const prompt = await client.getPrompt({ name: 'simple_prompt' });
        assert.ok(prompt.messages.length > 0);

        const skills = new SkillsClient(client);
        const { skills: listed } = await skills.list();
        assert.equal(listed.length, 3);
        assert.equal((await skills.read(listed[0]!)).verified, true);
      } finally {
        await client.close();
      }

      // stdout: nothing but newline-delimited JSON-RPC 2.0 messages.
      const out = readFileSync(stdoutCopy, 'utf8');
      assert.ok(out.endsWith('\n'));
      const lines = out.slice(0, -1).split('\n');
      assert.ok(lines.length >= 10, `only ${lines.length} lines on stdout`);
      for (const line of lines) {
        const message = JSON.parse(line) as { jsonrpc?: string };
        assert.equal(message.jsonrpc, '2.0', line.slice(0, 200));
      }
      assert.deepEqual(clientErrors, []);
      // stderr: the pino log, which says who the caller is.
      const logLines = stderr
        .split('\n')
        .filter(Boolean)
        .map(l => JSON.parse(l) as { msg: string; era?: string; subject?: string });
      const connected = logLines.find(l => l.msg === 'stdio: client connected');
      assert.equal(connected?.subject, `local:${userInfo().username}`);
    });
  });
}
