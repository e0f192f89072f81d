/**
 * Federated sign-in end to end, black box: the SDK v2 client's OAuth support
 * against our server (UPSTREAM_IDP=oidc), the person approving OUR consent
 * page and signing in at the real OpenID provider (oidc-provider, its own
 * process) in headless Chromium, in both protocol eras. `whoami` shows the
 * provider's identity; `upstreamProfile` calls the provider's userinfo with
 * the stored provider token, refreshed when it has expired.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { Browser } from 'playwright-core';

import { freePort } from '../helpers/free-port.js';
import { launchBrowser, TestOAuthProvider } from '../e2e/support.js';
import { signInInBrowser, startFederated, type FederatedSetup } from './support.js';

const REDIRECT = `http://127.0.0.1:${await freePort()}/callback`;

type Era = '2026-07-28' | '2025-11-25';
/** The provider's authorization codes seen on our callback. */
const providerCodes: string[] = [];

async function signInAtProvider(browser: Browser, authorizationUrl: URL, login: string, opIssuer: string): Promise<URL> {
  return signInInBrowser(browser, authorizationUrl, REDIRECT, opIssuer, async page => {
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign in' }).click();
  });
}

async function connectSignedIn(browser: Browser, s: FederatedSetup, era: Era, login: string): Promise<{ client: Client; provider: TestOAuthProvider }> {
  const mcpUrl = new URL(`${s.as.url}/mcp`);
  const provider = new TestOAuthProvider(REDIRECT);
  const options = era === '2026-07-28' ? { versionNegotiation: { mode: { pin: '2026-07-28' as const } } } : { versionNegotiation: { mode: 'legacy' as const } };
  const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await assert.rejects(new Client({ name: 'federated-e2e', version: '1.0.0' }, options).connect(first), UnauthorizedError);
  const callback = await signInAtProvider(browser, provider.authorizationUrls.at(-1)!, login, s.op.issuer);
  assert.equal(callback.searchParams.get('iss'), s.as.url);
  await first.finishAuth(callback.searchParams);
  const client = new Client({ name: 'federated-e2e', version: '1.0.0' }, options);
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
  return { client, provider };
}

type ToolResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content: Array<{ type: string; text?: string }> };
const call = (c: Client, name: string) => c.callTool({ name, arguments: {} }) as Promise<ToolResult>;

describe('federated sign-in end to end (SDK v2 client, headless Chromium, real OpenID provider)', () => {
  let browser: Browser;
  let s: FederatedSetup;
  before(async () => {
    browser = await launchBrowser();
    s = await startFederated({ LOG_LEVEL: 'trace' });
    // Provider access tokens that are always within the refresh margin: every upstreamProfile call refreshes first.
    await s.op.control({ accessTtl: 20 });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  for (const era of ['2026-07-28', '2025-11-25'] as const) {
    it(`${era}: whoami and upstreamProfile show the person the provider signed in; the provider token is refreshed server-side and never reaches the client`, async () => {
      const login = `user-${era.slice(0, 4)}`;
      const { client, provider } = await connectSignedIn(browser, s, era, login);
      try {
        const who = await call(client, 'whoami');
        const up = who.structuredContent!.upstream as Record<string, unknown>;
        assert.equal(up.provider, 'oidc');
        assert.equal(up.issuer, s.op.issuer);
        assert.equal(up.subject, login);
        assert.equal(up.email, `${login}@example.com`);
        assert.equal(up.name, `Test ${login}`);
        assert.match(String(who.structuredContent!.subject), /^idp:/);
        assert.match(who.content[0]!.text!, new RegExp(`Signed in at oidc .* as Test ${login}`));

        const refreshesBefore = (await s.op.stats()).refresh;
        const profile = await call(client, 'upstreamProfile');
        assert.notEqual(profile.isError, true, JSON.stringify(profile.content));
        const p = profile.structuredContent!.profile as Record<string, unknown>;
        assert.equal(p.sub, login);
        assert.equal(p.email, `${login}@example.com`);
        assert.ok((await s.op.stats()).refresh > refreshesBefore, 'the expired provider token was refreshed first');
        assert.ok(s.as.logs.some(l => l.event === 'upstream_token_refreshed'));

        // The MCP client holds only our tokens (the SDK stamps the issuer it got them from).
        const ours = provider.tokens()!;
        assert.deepEqual(Object.keys(ours).filter(k => k !== 'issuer').sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
        assert.equal(ours.issuer ?? s.as.url, s.as.url);
      } finally {
        await client.close();
      }
    });
  }

  it('no provider token or provider code ever reaches a log line (the flows above ran at trace level)', async () => {
    const upstream = await s.op.issued();
    assert.ok(upstream.length >= 4, 'the provider issued tokens during the flows above');
    const text = s.as.logText();
    for (const value of upstream) {
      for (const part of value.split('.').filter(p => p.length >= 16)) assert.ok(!text.includes(part), 'a provider token (or part of a JWT) reached the log');
    }
    for (const code of providerCodes) assert.ok(!text.includes(code), 'a provider authorization code reached the log');
  });

  it('a provider that refuses the stored token, then the refresh: a clear tool error, never the token', async () => {
    const { client } = await connectSignedIn(browser, s, '2026-07-28', 'refused-user');
    try {
      await s.op.control({ userinfo: 'refuse' });
      const refused = await call(client, 'upstreamProfile');
      assert.equal(refused.isError, true);
      assert.match(refused.content[0]!.text!, /refused|Sign in again/);
      await s.op.control({ userinfo: 'ok', refresh: 'refuse' });
      const gone = await call(client, 'upstreamProfile');
      assert.equal(gone.isError, true);
      assert.match(gone.content[0]!.text!, /No usable token|Sign in again/);
      const again = await call(client, 'upstreamProfile');
      assert.equal(again.isError, true, 'the refused refresh token was deleted: still no token');
      assert.ok(s.as.logs.some(l => l.event === 'upstream_token_refresh_refused'));
      for (const r of [refused, gone, again]) assert.doesNotMatch(JSON.stringify([r.content, r.structuredContent]), /[A-Za-z0-9_-]{40,}/, 'no token-like value in the tool result');
    } finally {
      await s.op.control({ userinfo: 'ok', refresh: 'ok' });
      await client.close();
    }
  });
});
