/**
 * The server as a process, the way an operator runs it (`node src/index.ts`):
 * SIGTERM lets in-flight requests finish, ends open streams and exits 0 within
 * a bounded time; and no token, code, client secret or verifier reaches a log
 * line at the most verbose level across a full OAuth + MCP flow.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import { freePort } from '../helpers/free-port.js';
import { obtainTokens, refreshTokens, revokeToken, introspect, type ObtainedTokens } from '../helpers/oauth.js';

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';

interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    env: { ...process.env, PORT: String(port), NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let out = '';
  child.stdout!.on('data', d => (out += d));
  child.stderr!.on('data', d => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(resolve =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }))
  );
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (i > 150 || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
    await new Promise(r => setTimeout(r, 100));
  }
  return { child, url, output: () => out, exited };
}

const headers = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...extra
});

const modernCall = (id: number, name: string, args: Record<string, unknown>) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name,
      arguments: args,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientInfo': { name: 'process-test', version: '1.0.0' },
        'io.modelcontextprotocol/clientCapabilities': {}
      }
    }
  });

async function initialize(url: string, token: string): Promise<string> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: headers(token, { 'mcp-protocol-version': LEGACY }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'process-test', version: '1.0.0' } } })
  });
  await res.text();
  assert.equal(res.status, 200);
  const id = res.headers.get('mcp-session-id');
  assert.ok(id);
  const note = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: headers(token, { 'mcp-protocol-version': LEGACY, 'mcp-session-id': id }),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })
  });
  await note.text();
  return id;
}

describe('graceful shutdown of the process', () => {
  let server: ServerProcess;
  let tokens: ObtainedTokens;
  before(async () => {
    server = await startProcess({ LOG_LEVEL: 'warn' });
    tokens = await obtainTokens(server.url);
  });
  after(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('finishes an in-flight call, ends the open GET stream and exits 0 on SIGTERM', async () => {
    const sessionId = await initialize(server.url, tokens.accessToken);
    const stream = await fetch(`${server.url}/mcp`, {
      headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'text/event-stream', 'mcp-protocol-version': LEGACY, 'mcp-session-id': sessionId }
    });
    assert.equal(stream.status, 200);
    const streamText = stream.text();

    const inFlight = fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: headers(tokens.accessToken, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'longRunningOperation' }),
      body: modernCall(1, 'longRunningOperation', { duration: 1, steps: 2 })
    }).then(async r => ({ status: r.status, body: await r.text() }));
    await new Promise(r => setTimeout(r, 200));

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');

    const call = await inFlight;
    assert.equal(call.status, 200);
    assert.match(call.body, /Long running operation completed/);
    await streamText; // resolves only once the server ended the stream
    const { code, at } = await server.exited;
    assert.equal(code, 0, server.output());
    assert.ok(at - signalledAt < 10_000, `exited ${at - signalledAt} ms after SIGTERM`);
  });
});

describe('log hygiene across a full flow, at LOG_LEVEL=trace', () => {
  let server: ServerProcess;
  after(() => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('never writes a token, code, client secret, verifier or bearer value to the log', async () => {
    server = await startProcess({ LOG_LEVEL: 'trace', INTROSPECTION_CLIENT_ID: 'log-test-rs', INTROSPECTION_CLIENT_SECRET: 'rs-secret-0123456789-abcdefghijklmnop-XYZ' });
    const secrets: string[] = ['rs-secret-0123456789-abcdefghijklmnop-XYZ'];

    const tokens = await obtainTokens(server.url, { authMethod: 'client_secret_post', scope: 'mcp' });
    secrets.push(tokens.accessToken, tokens.refreshToken!, tokens.clientSecret!);

    // MCP in both eras, including a step-up refusal.
    const sessionId = await initialize(server.url, tokens.accessToken);
    const legacyCall = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: headers(tokens.accessToken, { 'mcp-protocol-version': LEGACY, 'mcp-session-id': sessionId }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello' } } })
    });
    assert.match(await legacyCall.text(), /Echo: hello/);
    const modern = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: headers(tokens.accessToken, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'adminStats' }),
      body: modernCall(2, 'adminStats', {})
    });
    assert.equal(modern.status, 403);

    // Tokens presented that are not valid, in the header and (refused) in the query string.
    const forged = `${tokens.accessToken.slice(0, -4)}AAAA`;
    secrets.push(forged);
    assert.equal((await fetch(`${server.url}/mcp`, { method: 'POST', headers: headers(forged), body: modernCall(3, 'echo', { message: 'x' }) })).status, 401);
    const inQuery = (await fetch(`${server.url}/mcp?access_token=${encodeURIComponent(tokens.accessToken)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status;
    assert.ok(inQuery === 400 || inQuery === 401, `query token answered ${inQuery}`);

    // Refresh (rotation), reuse of the rotated token after a failed code exchange, introspection, revocation.
    const refreshed = await refreshTokens(server.url, tokens);
    secrets.push(refreshed.accessToken, refreshed.refreshToken!);
    const rsAuth = { clientId: 'log-test-rs', clientSecret: 'rs-secret-0123456789-abcdefghijklmnop-XYZ', authMethod: 'client_secret_basic' as const };
    const answer = await introspect(tokens.metadata, rsAuth, refreshed.accessToken);
    assert.equal(answer.body.active, true);
    assert.equal((await revokeToken(refreshed, refreshed.refreshToken!)).status, 200);

    const second = await obtainTokens(server.url, { scope: 'mcp' });
    secrets.push(second.accessToken, second.refreshToken!);

    server.child.kill('SIGTERM');
    await server.exited;
    const log = server.output();
    assert.ok(log.split('\n').length > 20, 'trace logging produced lines to check');
    for (const secret of secrets) assert.ok(!log.includes(secret), `a secret (${secret.slice(0, 4)}…) reached the log`);
  });
});
