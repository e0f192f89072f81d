/**
 * The whole OAuth flow with the SDK v2 client's OAuth support, black box over
 * real sockets (issue 3 and issue 5, "Done when"):
 *
 * - internal mode: discovery from a 401, dynamic client registration, PKCE,
 *   consent and the demo IdP completed in headless Chromium, MCP tool calls,
 *   refresh after expiry, revocation then 401, step-up to `mcp:admin`; again
 *   with a client ID metadata document served by the test;
 * - external mode: our AS in a separate process, the MCP server validating by
 *   introspection; the AS stopped gives 503 + Retry-After (never 401), and the
 *   same token works again when the AS returns.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { Browser } from 'playwright-core';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../helpers/free-port.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { approveInBrowser, eventually, launchBrowser, rawMcpPost, startServerProcess, TestOAuthProvider, type ServerProcess } from './support.js';

// Never dialled: the browser's navigation to it is intercepted. A free high port, because
// Chromium refuses "unsafe" ports (ERR_UNSAFE_PORT) before interception.
const REDIRECT = `http://127.0.0.1:${await freePort()}/callback`;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function startInternal(env: Record<string, string> = {}): Promise<RunningServer> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env });
  return startServer(config, { logger: createLogger('silent') });
}

/**
 * Runs the interactive flow for `provider` against the MCP server at `mcpUrl`:
 * connect (401 -> discovery -> registration -> redirect), approve in the
 * browser, finish the code exchange, connect again. Returns the connected client.
 */
async function signIn(browser: Browser, mcpUrl: string, provider: TestOAuthProvider, expectedIssuer: string): Promise<Client> {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await assert.rejects(new Client({ name: 'e2e', version: '1.0.0' }).connect(first), UnauthorizedError);
  const authorizationUrl = provider.authorizationUrls.at(-1);
  assert.ok(authorizationUrl, 'the SDK sent the user to the authorization server');
  const callback = await approveInBrowser(browser, authorizationUrl, provider.redirectUrl);
  assert.equal(callback.searchParams.get('state'), provider.lastState);
  assert.equal(callback.searchParams.get('iss'), expectedIssuer);
  assert.ok(callback.searchParams.get('code'));
  await first.finishAuth(callback.searchParams);
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return client;
}

async function echo(client: Client, message: string): Promise<string> {
  const result = (await client.callTool({ name: 'echo', arguments: { message } })) as { content: Array<{ type: string; text?: string }> };
  return result.content.map(c => c.text ?? '').join('');
}

async function revoke(issuer: string, token: string, clientId: string): Promise<number> {
  const res = await fetch(`${issuer}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: clientId })
  });
  await res.body?.cancel();
  return res.status;
}

describe('OAuth end to end, internal mode (SDK v2 client + headless Chromium)', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(() => browser?.close());

  it('discovers the AS from a 401, registers, authorizes with PKCE and the resource, and calls a tool', async () => {
    const server = await startInternal();
    try {
      const mcpUrl = server.config.mcpUrl;
      const challenge = await rawMcpPost(mcpUrl);
      assert.equal(challenge.status, 401);
      assert.equal(challenge.headers.get('www-authenticate'), `Bearer resource_metadata="${server.url}/.well-known/oauth-protected-resource/mcp", scope="mcp"`);

      const provider = new TestOAuthProvider(REDIRECT);
      const client = await signIn(browser, mcpUrl, provider, server.config.issuer);

      const registered = provider.info!.client_id;
      assert.ok(registered && !registered.startsWith('http'), 'registered dynamically (RFC 7591)');
      const authUrl = provider.authorizationUrls[0]!;
      assert.equal(`${authUrl.origin}${authUrl.pathname}`, `${server.config.issuer}/authorize`);
      assert.equal(authUrl.searchParams.get('client_id'), registered);
      assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.match(authUrl.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.equal(authUrl.searchParams.get('resource'), mcpUrl);
      assert.ok((authUrl.searchParams.get('scope') ?? '').split(' ').includes('mcp'));

      assert.equal(await echo(client, 'hello'), 'Echo: hello');
      const ok = await rawMcpPost(mcpUrl, provider.tokens()!.access_token);
      assert.notEqual(ok.status, 401);
      await ok.body?.cancel();
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('refreshes the access token after it expires and keeps working', async () => {
    const server = await startInternal({ ACCESS_TOKEN_TTL: '2' });
    try {
      const provider = new TestOAuthProvider(REDIRECT);
      const client = await signIn(browser, server.config.mcpUrl, provider, server.config.issuer);
      assert.equal(await echo(client, 'one'), 'Echo: one');
      const firstAccess = provider.savedTokens[0]!.access_token;
      await sleep(2500);
      const expired = await rawMcpPost(server.config.mcpUrl, firstAccess);
      assert.equal(expired.status, 401);
      assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      assert.equal(await echo(client, 'two'), 'Echo: two');
      assert.ok(provider.savedTokens.length >= 2, 'a refresh happened');
      assert.notEqual(provider.tokens()!.access_token, firstAccess);
      assert.notEqual(provider.tokens()!.refresh_token, provider.savedTokens[0]!.refresh_token, 'refresh tokens rotate');
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('answers 401 for a revoked access token, and a revoked refresh token ends the grant', async () => {
    const server = await startInternal();
    try {
      const provider = new TestOAuthProvider(REDIRECT);
      const client = await signIn(browser, server.config.mcpUrl, provider, server.config.issuer);
      assert.equal(await echo(client, 'before'), 'Echo: before');
      const { access_token, refresh_token } = provider.tokens()!;
      const clientId = provider.info!.client_id;

      assert.equal(await revoke(server.config.issuer, access_token, clientId), 200);
      const res = await rawMcpPost(server.config.mcpUrl, access_token);
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');

      assert.equal(await revoke(server.config.issuer, refresh_token!, clientId), 200);
      await assert.rejects(echo(client, 'after'));
      await client.close().catch(() => undefined);
    } finally {
      await server.close();
    }
  });

  it('answers adminStats without mcp:admin with 403 insufficient_scope, and the step-up grants it', async () => {
    const server = await startInternal();
    try {
      const provider = new TestOAuthProvider(REDIRECT);
      const client = await signIn(browser, server.config.mcpUrl, provider, server.config.issuer);
      const before = provider.authorizationUrls.length;
      await assert.rejects(client.callTool({ name: 'adminStats', arguments: {} }));
      // The SDK reacted to the 403 challenge by asking for the union of scopes.
      assert.equal(provider.authorizationUrls.length, before + 1, 'the client started a step-up authorization');
      const stepUp = provider.authorizationUrls.at(-1)!;
      const scopes = (stepUp.searchParams.get('scope') ?? '').split(' ');
      assert.ok(scopes.includes('mcp:admin') && scopes.includes('mcp'), `step-up scope: ${scopes.join(' ')}`);

      const callback = await approveInBrowser(browser, stepUp, provider.redirectUrl);
      const t = new StreamableHTTPClientTransport(new URL(server.config.mcpUrl), { authProvider: provider });
      await t.finishAuth(callback.searchParams);
      const admin = new Client({ name: 'e2e', version: '1.0.0' });
      await admin.connect(t);
      const result = (await admin.callTool({ name: 'adminStats', arguments: {} })) as { isError?: boolean };
      assert.notEqual(result.isError, true);
      await admin.close();
      await client.close().catch(() => undefined);
    } finally {
      await server.close();
    }
  });

  it('completes the flow with a client ID metadata document served by the test', async () => {
    let fetched = 0;
    const docServer = http.createServer((req, res) => {
      fetched++;
      const port = (docServer.address() as AddressInfo).port;
      const clientId = `http://127.0.0.1:${port}/client-metadata.json`;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
      res.end(
        JSON.stringify({
          client_id: clientId,
          client_name: 'E2E metadata-document client',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none'
        })
      );
    });
    await new Promise<void>(r => docServer.listen(0, '127.0.0.1', r));
    const clientId = `http://127.0.0.1:${(docServer.address() as AddressInfo).port}/client-metadata.json`;
    // The SDK only offers https metadata URLs itself; with CIMD_ALLOW_LOOPBACK the AS accepts a
    // loopback http document, so the provider presents the URL as its client_id directly.
    const server = await startInternal({ CIMD_ALLOW_LOOPBACK: 'true' });
    try {
      const provider = new TestOAuthProvider(REDIRECT, clientId);
      const client = await signIn(browser, server.config.mcpUrl, provider, server.config.issuer);
      assert.equal(provider.authorizationUrls[0]!.searchParams.get('client_id'), clientId);
      assert.ok(fetched >= 1, 'the AS fetched the metadata document');
      assert.equal(await echo(client, 'cimd'), 'Echo: cimd');
      await client.close();
    } finally {
      await server.close();
      await new Promise<void>(r => docServer.close(() => r()));
    }
  });
});

describe('OAuth end to end, external mode (AS in its own process, introspection)', () => {
  let browser: Browser;
  let redis: TestRedis;
  let as: ServerProcess;
  let rs: RunningServer;
  let asEnv: Record<string, string>;

  before(async () => {
    browser = await launchBrowser();
    redis = await startTestRedis();
    const [asPort, rsPort] = [await freePort(), await freePort()];
    const secret = randomBytes(32).toString('base64url');
    const introspection = { INTROSPECTION_CLIENT_ID: 'e2e-resource-server', INTROSPECTION_CLIENT_SECRET: secret };
    asEnv = {
      AUTH_MODE: 'auth_server',
      PORT: String(asPort),
      HOST: '127.0.0.1',
      BASE_URI: `http://localhost:${asPort}`,
      // The resource the AS issues tokens for: the MCP server's canonical URL.
      MCP_RESOURCE_URL: `http://localhost:${rsPort}/mcp`,
      REDIS_URL: redis.url,
      ...introspection
    };
    as = await startServerProcess(asEnv);
    const config = loadConfig({
      AUTH_MODE: 'external',
      AUTH_SERVER_URL: as.url,
      PORT: String(rsPort),
      HOST: '127.0.0.1',
      NODE_ENV: 'test',
      TOKEN_VALIDATION: 'introspection',
      // Ask the AS every time, so that its absence shows at once.
      INTROSPECTION_CACHE_TTL: '0',
      ...introspection
    });
    rs = await startServer(config, { logger: createLogger('silent') });
  });
  after(async () => {
    await rs?.close();
    await as?.stop();
    await redis?.stop().catch(() => undefined);
    await browser?.close();
  });

  it('names the external authorization server in the protected resource metadata', async () => {
    const doc = (await (await fetch(`${rs.url}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    assert.equal(doc.resource, rs.config.mcpUrl);
    assert.deepEqual(doc.authorization_servers, [as.url]);
  });

  it('runs the SDK client flow against the separate AS and calls a tool, then 503 while the AS is down and recovery when it returns', async () => {
    const provider = new TestOAuthProvider(REDIRECT);
    const client = await signIn(browser, rs.config.mcpUrl, provider, as.url);
    assert.equal(new URL(provider.authorizationUrls[0]!).origin, new URL(as.url).origin);
    assert.equal(await echo(client, 'external'), 'Echo: external');
    const token = provider.tokens()!.access_token;

    await as.stop();
    const down = await rawMcpPost(rs.config.mcpUrl, token);
    assert.equal(down.status, 503);
    assert.ok(Number(down.headers.get('retry-after')) >= 1);
    assert.equal(down.headers.get('www-authenticate'), null);
    assert.deepEqual(await down.json(), { error: 'temporarily_unavailable', error_description: 'The access token cannot be checked right now; retry later' });

    as = await startServerProcess(asEnv);
    await eventually(async () => {
      const res = await rawMcpPost(rs.config.mcpUrl, token);
      await res.body?.cancel();
      assert.notEqual(res.status, 503);
      assert.notEqual(res.status, 401);
    });
    assert.equal(await echo(client, 'back'), 'Echo: back');
    await client.close();
  });

  it('refuses a revoked token with 401 through introspection', async () => {
    const provider = new TestOAuthProvider(REDIRECT);
    const client = await signIn(browser, rs.config.mcpUrl, provider, as.url);
    const { access_token } = provider.tokens()!;
    assert.equal(await revoke(as.url, access_token, provider.info!.client_id), 200);
    const res = await rawMcpPost(rs.config.mcpUrl, access_token);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    await client.close().catch(() => undefined);
  });
});
