/**
 * The troubleshooting CLI (`npm run admin`), black box against the real
 * server and real storage:
 *
 * - Redis mode: a real redis-server (test/helpers/redis-server.ts), the real
 *   server with REDIS_URL, tokens from the real OAuth flow; the CLI talks to
 *   Redis itself. Outcomes are checked through the server's own endpoints
 *   (/introspect, /token, /mcp), not through storage.
 * - Memory mode: the CLI explains itself without --url; with --url it calls
 *   the loopback-only admin endpoint, which acts on the server's memory.
 * - The admin endpoint's guards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import express from 'express';

import { startServer, type RunningServer } from '../../src/app.js';
import { createAdminEndpoint, isLoopbackAddress } from '../../src/cli/admin-endpoint.js';
import { main, MEMORY_MODE_HELP } from '../../src/cli/admin.js';
import { sha256 } from '../../src/auth/crypto.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { introspect, obtainTokens, refreshRequest, type ObtainedTokens } from '../helpers/oauth.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

const RS_CLIENT = { clientId: 'cli-test-rs', clientSecret: 'cli-test-resource-server-secret-0123456789', authMethod: 'client_secret_basic' as const };
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdefghijkl';

interface CliRun {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[], env: Record<string, string | undefined>, stdin?: string): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env, stdout: l => out.push(l), stderr: l => err.push(l), readStdin: async () => stdin ?? '' });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function start(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '100000',
    INTROSPECTION_CLIENT_ID: RS_CLIENT.clientId,
    INTROSPECTION_CLIENT_SECRET: RS_CLIENT.clientSecret,
    ...env
  });
  return startServer(config, { logger: createLogger('silent') });
}

const active = async (t: ObtainedTokens, token: string) => (await introspect(t.metadata, RS_CLIENT, token)).body;

/** A 2025-era session (initialize) with `token`; resolves with its Mcp-Session-Id. */
async function openSession(mcpUrl: string, token: string): Promise<string> {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cli-test', version: '1' } } })
  });
  await res.text();
  assert.equal(res.status, 200);
  const id = res.headers.get('mcp-session-id');
  assert.ok(id, 'the server opened a session');
  return id;
}

describe('admin CLI against Redis', () => {
  let redis: TestRedis;
  let server: RunningServer;
  let env: Record<string, string>;
  let tokens: ObtainedTokens;

  before(async () => {
    redis = await startTestRedis();
    server = await start({ REDIS_URL: redis.url });
    env = { REDIS_URL: redis.url };
    tokens = await obtainTokens(server.url, { clientName: 'CLI test client', identity: 'alice' });
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('lists registered clients with id, name, auth method, redirect URIs, created and expires', async () => {
    const r = await cli(['clients'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`${tokens.clientId}\\s+"CLI test client"`));
    assert.match(r.out, /auth method:\s+none/);
    assert.ok(r.out.includes(`redirect URIs:  ${tokens.redirectUri}`), r.out);
    assert.match(r.out, /created:\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s ago\)/);
    assert.match(r.out, /expires:\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(in 30 d\)/);
    const json = JSON.parse((await cli(['--json', 'clients'], env)).out);
    assert.ok(json.clients.some((c: { clientId: string; authMethod: string }) => c.clientId === tokens.clientId && c.authMethod === 'none'));
  });

  it('token show prints the access token record: subject, client, scopes, resource, expiry, grant', async () => {
    const sub = (await active(tokens, tokens.accessToken)).sub as string;
    assert.ok(sub);
    const r = await cli(['token', 'show', tokens.accessToken], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Access token: ACTIVE/);
    assert.ok(r.out.includes(`key:       auth:installation:${sha256(tokens.accessToken)}`), r.out);
    assert.ok(r.out.includes(`subject:   ${sub}`));
    assert.ok(r.out.includes(`client:    ${tokens.clientId}`));
    assert.ok(r.out.includes(`scopes:    ${tokens.scope}`));
    assert.ok(r.out.includes(`resource:  ${server.config.mcpUrl}`));
    assert.match(r.out, /expires:\s+\S+ \(in (59 min|60 min|1 h)\)/);
    assert.match(r.out, /grant:\s+[A-Za-z0-9_-]{43} \(consent /);
    assert.equal(r.out.includes(tokens.accessToken), false, 'the CLI never prints the token value');
  });

  it('token show reads the value from stdin with "-", and finds refresh tokens', async () => {
    const r = await cli(['token', 'show', '-'], env, `${tokens.refreshToken}\n`);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Refresh token: ACTIVE/);
    assert.ok(r.out.includes(`auth:refresh:${sha256(tokens.refreshToken!)}`));
  });

  it('token show of an unknown value exits 1 and says so', async () => {
    const r = await cli(['token', 'show', 'A'.repeat(43)], env);
    assert.equal(r.code, 1);
    assert.match(r.out, /No access or refresh token with this value/);
    // Token values are base64url: one in 64 starts with "-", which must not be taken for an option.
    const dash = await cli(['token', 'show', `-${'A'.repeat(42)}`, '--json'], env);
    assert.equal(dash.code, 1, dash.err);
    assert.equal(JSON.parse(dash.out).found, false);
    const afterDoubleDash = await cli(['token', 'revoke', '--', `-${'B'.repeat(42)}`], env);
    assert.equal(afterDoubleDash.code, 1, afterDoubleDash.err);
    const odd = await cli(['token', 'show', 'not-a-token'], env);
    assert.match(odd.out, /does not look like a token this server issues/);
  });

  it('keys lists the hashed keys the reference document’s redis-cli steps look for', async () => {
    const r = await cli(['keys', 'auth:installation:*'], env);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes(`auth:installation:${sha256(tokens.accessToken)}  (ttl `), r.out);
    assert.match(r.out, /\d+ key\(s\) matching "auth:installation:\*"\./);
  });

  it('sessions <subject> lists the MCP sessions that subject owns, and no one else’s', async () => {
    const sub = (await active(tokens, tokens.accessToken)).sub as string;
    const sessionId = await openSession(server.config.mcpUrl, tokens.accessToken);
    const bob = await obtainTokens(server.url, { identity: 'bob' });
    const bobSession = await openSession(server.config.mcpUrl, bob.accessToken);
    const r = await cli(['sessions', sub], env);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes(sessionId), r.out);
    assert.match(r.out, new RegExp(`${sessionId}  streamable on http://\\S+  \\(idle expiry in \\d+ s\\)`));
    assert.equal(r.out.includes(bobSession), false);
    const none = await cli(['sessions', 'nobody'], env);
    assert.match(none.out, /No MCP sessions owned by "nobody"/);
  });

  it('token revoke of an access token makes /introspect answer inactive and leaves the refresh token working', async () => {
    const t = await obtainTokens(server.url, { identity: 'alice' });
    assert.equal((await active(t, t.accessToken)).active, true);
    const r = await cli(['token', 'revoke', t.accessToken], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Revoked access token of .+ Its grant .+ untouched/);
    assert.deepEqual(await active(t, t.accessToken), { active: false });
    const mcp = await fetch(server.config.mcpUrl, { method: 'POST', headers: { authorization: `Bearer ${t.accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(mcp.status, 401);
    await mcp.body?.cancel();
    const refreshed = await refreshRequest(t, t.refreshToken!);
    assert.equal(refreshed.status, 200);
    await refreshed.body?.cancel();
    const again = await cli(['token', 'revoke', t.accessToken], env);
    assert.equal(again.code, 1);
    assert.match(again.out, /Nothing to revoke/);
  });

  it('token revoke of a refresh token ends its grant, like /revoke', async () => {
    const t = await obtainTokens(server.url, { identity: 'alice' });
    const r = await cli(['token', 'revoke', t.refreshToken!], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Grant .+ ended/);
    assert.deepEqual(await active(t, t.accessToken), { active: false });
    const refreshed = await refreshRequest(t, t.refreshToken!);
    assert.equal(refreshed.status, 400);
    assert.equal(((await refreshed.json()) as { error: string }).error, 'invalid_grant');
    assert.match((await cli(['token', 'show', t.accessToken], env)).out, /No access or refresh token/);
  });

  it('runs as the npm script entry point (tsx src/cli/admin.ts)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', 'token', 'show', tokens.accessToken], {
      env: { ...process.env, REDIS_URL: redis.url, LOG_LEVEL: 'silent' }
    });
    assert.match(stdout, /^Access token: ACTIVE/);
  });

  it('purge refuses without --yes, then deletes every auth:* key', async () => {
    const refused = await cli(['purge'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /--yes/);
    assert.equal((await active(tokens, tokens.accessToken)).active, true, 'nothing was deleted');

    const r = await cli(['purge', '--yes'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Purged \d+ auth:\* key\(s\) from redis redis:\/\//);
    assert.deepEqual(await active(tokens, tokens.accessToken), { active: false });
    assert.match((await cli(['clients'], env)).out, /No registered clients/);
    assert.match((await cli(['keys', 'auth:*'], env)).out, /^0 key\(s\)/);
  });

  it('says clearly when Redis is unreachable (exit 3)', async () => {
    const r = await cli(['clients'], { REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(r.code, 3);
    assert.match(r.err, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});

describe('admin CLI in memory mode', () => {
  let server: RunningServer;
  let admin: http.Server;
  let adminUrl: string;

  before(async () => {
    server = await start({});
    // What src/app.ts does when ADMIN_TOKEN is set: the endpoint over the server's own store.
    const app = express();
    app.use(createAdminEndpoint({ store: server.store, logger: createLogger('silent'), token: ADMIN_TOKEN }));
    admin = app.listen(0, '127.0.0.1');
    await new Promise(r => admin.once('listening', r));
    adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise(r => admin?.close(r));
    await server?.close();
  });

  it('without REDIS_URL or --url, explains that memory state lives inside the server process', async () => {
    const r = await cli(['clients'], {});
    assert.equal(r.code, 2);
    assert.equal(r.err, MEMORY_MODE_HELP);
    assert.match(r.err, /memory of the server process/);
  });

  it('with --url and ADMIN_TOKEN, shows and revokes tokens held in the server’s memory', async () => {
    const t = await obtainTokens(server.url, { clientName: 'Memory client' });
    const env = { ADMIN_TOKEN };
    const clients = await cli(['--url', adminUrl, 'clients'], env);
    assert.equal(clients.code, 0, clients.err);
    assert.match(clients.out, /"Memory client"/);
    const show = await cli(['--url', adminUrl, 'token', 'show', t.accessToken], env);
    assert.match(show.out, /^Access token: ACTIVE/);
    const revoke = await cli(['--url', adminUrl, 'token', 'revoke', t.refreshToken!], env);
    assert.equal(revoke.code, 0, revoke.err);
    assert.deepEqual(await active(t, t.accessToken), { active: false });
  });

  it('with --url but a wrong or missing ADMIN_TOKEN, refuses clearly', async () => {
    const missing = await cli(['--url', adminUrl, 'clients'], {});
    assert.equal(missing.code, 2);
    assert.match(missing.err, /needs ADMIN_TOKEN/);
    const wrong = await cli(['--url', adminUrl, 'clients'], { ADMIN_TOKEN: 'x'.repeat(40) });
    assert.equal(wrong.code, 3);
    assert.match(wrong.err, /refused the admin token/);
    const noEndpoint = await cli(['--url', server.url, 'clients'], { ADMIN_TOKEN });
    assert.equal(noEndpoint.code, 3);
    assert.match(noEndpoint.err, /no admin endpoint/);
  });
});

describe('admin endpoint wired into the real server (ADMIN_TOKEN)', () => {
  it('lets the CLI act on the server’s memory through --url, once src/app.ts mounts it', async t => {
    const server = await start({ ADMIN_TOKEN });
    try {
      const probe = await fetch(`${server.url}/admin/v1/keys`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: '{}' });
      await probe.body?.cancel();
      if (probe.status === 404) return t.skip('createAdminEndpoint is not wired into src/app.ts (or ADMIN_TOKEN not in config) yet');
      const tokens = await obtainTokens(server.url, { clientName: 'Wired client' });
      const r = await cli(['--url', server.url, 'token', 'revoke', tokens.refreshToken!], { ADMIN_TOKEN });
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(await active(tokens, tokens.accessToken), { active: false });
      const proxied = await fetch(`${server.url}/admin/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, 'x-forwarded-for': '203.0.113.9' },
        body: '{}'
      });
      await proxied.body?.cancel();
      assert.equal(proxied.status, 404);
    } finally {
      await server.close();
    }
  });

  it('does not exist when ADMIN_TOKEN is unset', async () => {
    const server = await start({});
    try {
      const res = await fetch(`${server.url}/admin/v1/keys`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: '{}' });
      await res.body?.cancel();
      assert.equal(res.status, 404);
    } finally {
      await server.close();
    }
  });
});

describe('admin endpoint guards', () => {
  let admin: http.Server;
  let url: string;
  before(async () => {
    const app = express();
    const { MemoryStore } = await import('../../src/store/memory.js');
    app.use(createAdminEndpoint({ store: new MemoryStore(), logger: createLogger('silent'), token: ADMIN_TOKEN }));
    app.use((_req, res) => void res.status(404).send('fallthrough'));
    admin = app.listen(0, '127.0.0.1');
    await new Promise(r => admin.once('listening', r));
    url = `http://127.0.0.1:${(admin.address() as AddressInfo).port}/admin/v1`;
  });
  after(() => new Promise(r => admin?.close(r)));

  const post = (path: string, headers: Record<string, string>, body = '{}') => fetch(`${url}/${path}`, { method: 'POST', headers, body });
  const good = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };

  it('serves a loopback request with the token', async () => {
    const res = await post('keys', good);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { pattern: '*', keys: [], truncated: false });
  });

  it('answers 404 to anything that came through a proxy', async () => {
    for (const h of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via']) {
      const res = await post('keys', { ...good, [h]: h === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9' });
      assert.equal(res.status, 404, h);
      await res.body?.cancel();
    }
  });

  it('answers 401 without the right token, 415 to a form, 400 to bad arguments, 404 to unknown commands', async () => {
    assert.equal((await post('keys', { 'content-type': 'application/json' })).status, 401);
    assert.equal((await post('keys', { ...good, authorization: `Bearer ${ADMIN_TOKEN}x` })).status, 401);
    assert.equal((await post('keys', { ...good, 'content-type': 'application/x-www-form-urlencoded' }, 'a=b')).status, 415);
    assert.equal((await post('token-show', good, '{}')).status, 400);
    assert.equal((await post('token-show', good, '{not json')).status, 400);
    assert.equal((await post('shutdown', good)).status, 404);
  });

  it('does not exist without a token, and refuses a short one', () => {
    const router = createAdminEndpoint({ store: {} as never, logger: createLogger('silent') });
    assert.equal(router.stack.length, 0);
    assert.throws(() => createAdminEndpoint({ store: {} as never, logger: createLogger('silent'), token: 'short' }), /at least 32 characters/);
  });

  it('recognises loopback peers only', () => {
    for (const a of ['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackAddress(a), true, a);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '203.0.113.9', 'fe80::1', '', undefined]) assert.equal(isLoopbackAddress(a), false, String(a));
  });
});
