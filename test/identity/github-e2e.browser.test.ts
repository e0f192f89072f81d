/**
 * `UPSTREAM_IDP=github` end to end, black box: the SDK v2 client's OAuth
 * support against our server, the person approving OUR consent page and
 * authorizing on the GitHub-shaped server's page (test/helpers/github-stand-in.ts,
 * behaving as a GitHub App with expiring user tokens) in headless Chromium,
 * in both protocol eras. `whoami` shows the GitHub account; `upstreamProfile`
 * calls `GET /user` with the stored GitHub token, refreshed when it expired.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { Browser } from 'playwright-core';

import { startAs, type TestAs } from '../auth/server.js';
import { launchBrowser, TestOAuthProvider } from '../e2e/support.js';
import { freePort } from '../helpers/free-port.js';
import { OCTOCAT, startGithubStandIn, type GithubStandIn } from '../helpers/github-stand-in.js';
import { signInInBrowser, TOKEN_KEY } from './support.js';

const REDIRECT = `http://127.0.0.1:${await freePort()}/callback`;
const CLIENT_ID = 'Iv1.e2e0000000000001';
const CLIENT_SECRET = 'e2e-stand-in-secret-0123456789';

type Era = '2026-07-28' | '2025-11-25';

async function signInAtGithub(browser: Browser, authorizationUrl: URL, github: string): Promise<URL> {
  return signInInBrowser(browser, authorizationUrl, REDIRECT, github, page => page.getByRole('button', { name: 'Authorize' }).click());
}

type ToolResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content: Array<{ type: string; text?: string }> };
const call = (c: Client, name: string) => c.callTool({ name, arguments: {} }) as Promise<ToolResult>;

describe('GitHub sign-in end to end (SDK v2 client, headless Chromium, GitHub-shaped server)', () => {
  let browser: Browser;
  let gh: GithubStandIn;
  let as: TestAs;
  before(async () => {
    browser = await launchBrowser();
    // A GitHub App with expiring user tokens, always inside the refresh margin: every upstreamProfile call refreshes first.
    gh = await startGithubStandIn({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiringTokens: 20 });
    as = await startAs({
      AUTH_MODE: 'internal',
      UPSTREAM_IDP: 'github',
      UPSTREAM_GITHUB_URL: gh.url,
      UPSTREAM_CLIENT_ID: CLIENT_ID,
      UPSTREAM_CLIENT_SECRET: CLIENT_SECRET,
      UPSTREAM_TOKEN_KEY: TOKEN_KEY,
      UPSTREAM_TIMEOUT: '3'
    });
    gh.options.callbackUrl = `${as.url}/upstream-idp/callback`;
  });
  after(async () => {
    await browser?.close();
    await as?.close();
    await gh?.close();
  });

  async function connectSignedIn(era: Era): Promise<{ client: Client; provider: TestOAuthProvider }> {
    const mcpUrl = new URL(`${as.url}/mcp`);
    const provider = new TestOAuthProvider(REDIRECT);
    const options = era === '2026-07-28' ? { versionNegotiation: { mode: { pin: '2026-07-28' as const } } } : { versionNegotiation: { mode: 'legacy' as const } };
    const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
    await assert.rejects(new Client({ name: 'github-e2e', version: '1.0.0' }, options).connect(first), UnauthorizedError);
    const callback = await signInAtGithub(browser, provider.authorizationUrls.at(-1)!, gh.url);
    assert.equal(callback.searchParams.get('iss'), as.url);
    await first.finishAuth(callback.searchParams);
    const client = new Client({ name: 'github-e2e', version: '1.0.0' }, options);
    await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
    return { client, provider };
  }

  for (const era of ['2026-07-28', '2025-11-25'] as const) {
    it(`${era}: whoami shows the GitHub account; upstreamProfile calls GET /user with the GitHub token, refreshed server-side, which never reaches the client`, async () => {
      const { client, provider } = await connectSignedIn(era);
      try {
        const who = await call(client, 'whoami');
        const up = who.structuredContent!.upstream as Record<string, unknown>;
        assert.equal(up.provider, 'github');
        assert.equal(up.issuer, gh.url);
        assert.equal(up.subject, String(OCTOCAT.id));
        assert.equal(up.login, 'octocat');
        assert.equal(up.email, 'octocat@github.example');
        assert.match(String(who.structuredContent!.subject), /^idp:/);

        const tokenCalls = gh.calls.token;
        const profile = await call(client, 'upstreamProfile');
        assert.notEqual(profile.isError, true, JSON.stringify(profile.content));
        const p = profile.structuredContent!.profile as Record<string, unknown>;
        assert.equal(p.id, OCTOCAT.id);
        assert.equal(p.login, 'octocat');
        assert.ok(gh.calls.token > tokenCalls, 'the expiring GitHub token was refreshed first');

        const ours = provider.tokens()!;
        assert.deepEqual(Object.keys(ours).filter(k => k !== 'issuer').sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
        assert.doesNotMatch(JSON.stringify(ours), /gh[our]_/, 'no GitHub token in what the client holds');
        assert.doesNotMatch(JSON.stringify(profile), /gh[our]_/, 'no GitHub token in the tool result');
      } finally {
        await client.close();
      }
    });
  }

  it('GitHub revoking the app: the refused refresh (its HTTP 200 bad_refresh_token) is a clear tool error, and the stored token is gone', async () => {
    const { client } = await connectSignedIn('2026-07-28');
    try {
      gh.revokeAll();
      const refused = await call(client, 'upstreamProfile');
      assert.equal(refused.isError, true);
      assert.match(refused.content[0]!.text!, /No usable token|Sign in again/);
      assert.ok(as.logs.some(l => l.event === 'upstream_token_refresh_refused'));
      const tokenCalls = gh.calls.token;
      const again = await call(client, 'upstreamProfile');
      assert.equal(again.isError, true);
      assert.equal(gh.calls.token, tokenCalls, 'the deleted token is not tried again');
      for (const r of [refused, again]) assert.doesNotMatch(JSON.stringify(r.content), /gh[our]_|[A-Za-z0-9_-]{40,}/);
    } finally {
      await client.close();
    }
  });
});
