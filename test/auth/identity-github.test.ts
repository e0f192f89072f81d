/**
 * `UPSTREAM_IDP=github`: people sign in at a GitHub-shaped server (GitHub
 * Enterprise Server layout, test/helpers/github-stand-in.ts) while the MCP
 * client keeps talking OAuth to our AS. Over real HTTP: our consent page,
 * then GitHub's authorize page, our callback, our code, our tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { loadConfig, ConfigError } from '../../src/config.js';
import { githubApiUrl } from '../../src/auth/identity/github.js';
import { MemoryStore } from '../../src/store/memory.js';
import { startGithubStandIn, HUBOT, OCTOCAT, type GithubStandIn } from '../helpers/github-stand-in.js';
import { authorizationUrl, fetchMetadata, introspect, OAuthBrowser, parseHiddenFields, pkcePair, registerClient, tokenRequest, type ClientCredentials } from '../helpers/oauth.js';
import { startAs, type TestAs } from './server.js';

const CLIENT_ID = 'Iv1.standin0000000001';
const CLIENT_SECRET = 'stand-in-secret-0123456789abcdef';
const RS = { clientId: 'rs-introspector', clientSecret: 'rs-introspector-secret-000000000000' };

interface Setup {
  gh: GithubStandIn;
  as: TestAs;
  store: MemoryStore;
}

async function setup(env: Record<string, string> = {}, gh?: GithubStandIn): Promise<Setup> {
  const standIn = gh ?? (await startGithubStandIn({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }));
  const store = new MemoryStore();
  const as = await startAs(
    {
      AUTH_MODE: 'internal',
      UPSTREAM_IDP: 'github',
      UPSTREAM_GITHUB_URL: standIn.url,
      UPSTREAM_CLIENT_ID: CLIENT_ID,
      UPSTREAM_CLIENT_SECRET: CLIENT_SECRET,
      INTROSPECTION_CLIENT_ID: RS.clientId,
      INTROSPECTION_CLIENT_SECRET: RS.clientSecret,
      ...env
    },
    store
  );
  standIn.options.callbackUrl = `${as.url}/upstream-idp/callback`;
  return { gh: standIn, as, store };
}

interface Attempt {
  browser: OAuthBrowser;
  client: ClientCredentials;
  verifier: string;
  state: string;
  /** Our redirect to GitHub's authorize page. */
  toGithub: URL;
}

/** Register, open our consent page, approve: resolves at the redirect to GitHub. */
async function startSignIn(s: Setup): Promise<Attempt> {
  const client = await registerClient(s.as.url, { clientName: 'GitHub flow test' });
  const metadata = await fetchMetadata(s.as.url);
  const { verifier, challenge } = pkcePair();
  const state = `client-state-${Math.random().toString(36).slice(2)}`;
  const browser = new OAuthBrowser(s.as.url);
  const { fields } = await browser.openConsent(authorizationUrl(metadata, { clientId: client.clientId, redirectUri: client.redirectUris[0], challenge, state, resource: `${metadata.issuer}/mcp` }));
  const toGithub = new URL(await browser.decide(fields, 'approve'));
  return { browser, client, verifier, state, toGithub };
}

/** GitHub's page: Authorize (as `user`) or Cancel; resolves with GitHub's redirect to our callback. */
async function atGithub(a: Attempt, choice: { user?: number; authorize?: boolean } = {}): Promise<URL> {
  const page = await a.browser.get(a.toGithub.href);
  assert.equal(page.status, 200);
  const fields = parseHiddenFields(await page.text());
  const res = await a.browser.post(new URL('/login/oauth/authorize', a.toGithub).href, { ...fields, user: String(choice.user ?? OCTOCAT.id), authorize: choice.authorize === false ? '0' : '1' });
  assert.equal(res.status, 302);
  return new URL(res.headers.get('location')!);
}

/** Our callback; resolves with where it sends the person (the MCP client's redirect URI). */
async function callback(a: Attempt, url: URL): Promise<URL> {
  const res = await a.browser.get(url.href);
  assert.equal(res.status, 303, `callback: HTTP ${res.status} ${res.status === 303 ? '' : (await res.text()).slice(0, 300)}`);
  return new URL(res.headers.get('location')!);
}

async function redeem(s: Setup, a: Attempt, code: string): Promise<Record<string, unknown>> {
  const metadata = await fetchMetadata(s.as.url);
  const res = await tokenRequest(metadata, a.client, { grant_type: 'authorization_code', code, redirect_uri: a.client.redirectUris[0]!, code_verifier: a.verifier, resource: `${metadata.issuer}/mcp` });
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

async function storeDump(store: MemoryStore): Promise<string> {
  const parts: string[] = [];
  for await (const key of store.scan('*')) {
    const value = await store.get(key).catch(async () => (await store.members(key)).join(' '));
    parts.push(key, String(value));
  }
  return parts.join('\n');
}

describe('UPSTREAM_IDP=github: sign-in at GitHub (Enterprise Server layout)', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(async () => {
    await s?.as.close();
    await s?.gh.close();
  });

  it('sends the person to GitHub with PKCE S256, our state and callback, the configured scopes, and never the client’s resource', async () => {
    const a = await startSignIn(s);
    const q = a.toGithub.searchParams;
    assert.equal(`${a.toGithub.origin}${a.toGithub.pathname}`, `${s.gh.url}/login/oauth/authorize`);
    assert.equal(q.get('client_id'), CLIENT_ID);
    assert.equal(q.get('redirect_uri'), `${s.as.url}/upstream-idp/callback`);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(q.get('state'), a.state, 'the MCP client’s state never goes upstream');
    assert.equal(q.get('scope'), 'read:user user:email');
    assert.equal(q.get('resource'), null);
    assert.equal(q.get('allow_signup'), 'false');
  });

  it('signs octocat in: our code and our tokens, the GitHub identity (numeric id, login, verified primary email) on the grant, the GitHub token sealed at rest', async () => {
    const before = { ...s.gh.calls };
    const a = await startSignIn(s);
    const back = await callback(a, await atGithub(a));
    assert.equal(back.searchParams.get('state'), a.state);
    assert.equal(back.searchParams.get('iss'), s.as.url);
    const code = back.searchParams.get('code');
    assert.ok(code);
    assert.equal(s.gh.calls.token - before.token, 1);
    assert.equal(s.gh.calls.user - before.user, 1);
    assert.equal(s.gh.calls.emails - before.emails, 1);

    const tokens = await redeem(s, a, code);
    const metadata = await fetchMetadata(s.as.url);
    const info = await introspect(metadata, { ...RS, authMethod: 'client_secret_basic' }, String(tokens.access_token));
    assert.equal(info.body.active, true);
    assert.match(String(info.body.sub), /^idp:[A-Za-z0-9_-]{43}$/);

    // The same GitHub account signs in as the same subject again.
    const again = await startSignIn(s);
    const code2 = (await callback(again, await atGithub(again))).searchParams.get('code')!;
    const info2 = await introspect(metadata, { ...RS, authMethod: 'client_secret_basic' }, String((await redeem(s, again, code2)).access_token));
    assert.equal(info2.body.sub, info.body.sub);

    const dump = await storeDump(s.store);
    assert.ok(!dump.includes('gho_'), 'no GitHub access token in the store in clear');
    assert.ok(dump.includes('"login":"octocat"'), 'the grant keeps the GitHub login');
    assert.ok(dump.includes('"email":"octocat@github.example"') && dump.includes('"emailVerified":true'), 'the verified primary address, not the public one');
    assert.ok(!s.as.logText().includes('gho_'), 'no GitHub token in any log line');
  });

  it('another GitHub account is another subject', async () => {
    const metadata = await fetchMetadata(s.as.url);
    const subjects: unknown[] = [];
    for (const user of [OCTOCAT.id, HUBOT.id]) {
      const a = await startSignIn(s);
      const code = (await callback(a, await atGithub(a, { user }))).searchParams.get('code')!;
      subjects.push((await introspect(metadata, { ...RS, authMethod: 'client_secret_basic' }, String((await redeem(s, a, code)).access_token))).body.sub);
    }
    assert.notEqual(subjects[0], subjects[1]);
  });

  it('Cancel at GitHub sends access_denied to the MCP client, with its state and our iss, and mints no code', async () => {
    const a = await startSignIn(s);
    const tokenCalls = s.gh.calls.token;
    const back = await callback(a, await atGithub(a, { authorize: false }));
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), a.state);
    assert.equal(back.searchParams.get('iss'), s.as.url);
    assert.equal(back.searchParams.get('code'), null);
    assert.equal(s.gh.calls.token, tokenCalls, 'no code exchange after a refusal');
  });

  it('a code GitHub refuses (its HTTP 200 {error: bad_verification_code}) is server_error at the client, not a crash', async () => {
    const a = await startSignIn(s);
    const url = await atGithub(a);
    url.searchParams.set('code', 'not-a-code-github-issued');
    const back = await callback(a, url);
    assert.equal(back.searchParams.get('error'), 'server_error');
    assert.equal(back.searchParams.get('state'), a.state);
    assert.ok(s.as.logs.some(l => l.event === 'upstream_sign_in_failed' && /bad_verification_code/.test(String(l.reason))));
  });

  it('GitHub down at the code exchange (502) is temporarily_unavailable at the client', async () => {
    const a = await startSignIn(s);
    const url = await atGithub(a);
    s.gh.failNext('token', 502);
    const back = await callback(a, url);
    assert.equal(back.searchParams.get('error'), 'temporarily_unavailable');
  });

  it('GitHub’s API failing after the exchange (/user 500) is temporarily_unavailable, and no code is minted', async () => {
    const a = await startSignIn(s);
    const url = await atGithub(a);
    s.gh.failNext('user', 500);
    const back = await callback(a, url);
    assert.equal(back.searchParams.get('error'), 'temporarily_unavailable');
    assert.equal(back.searchParams.get('code'), null);
  });

  it('the callback replayed after success changes nothing and shows an error page', async () => {
    const a = await startSignIn(s);
    const url = await atGithub(a);
    await callback(a, url);
    const tokenCalls = s.gh.calls.token;
    const replay = await a.browser.get(url.href);
    assert.equal(replay.status, 400);
    assert.match(await replay.text(), /No sign-in in progress/);
    assert.equal(s.gh.calls.token, tokenCalls, 'nothing sent to GitHub on a replay');
  });
});

describe('UPSTREAM_IDP=github: who may sign in', () => {
  it('UPSTREAM_ALLOWED_USERS takes GitHub logins: octocat in, hubot back to the client with access_denied and an audit line', async () => {
    const s = await setup({ UPSTREAM_ALLOWED_USERS: 'OctoCat' });
    try {
      const ok = await startSignIn(s);
      assert.ok((await callback(ok, await atGithub(ok, { user: OCTOCAT.id }))).searchParams.get('code'));
      const no = await startSignIn(s);
      const back = await callback(no, await atGithub(no, { user: HUBOT.id }));
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.ok(s.as.logs.some(l => l.event === 'sign_in_refused' && l.provider === 'github'));
    } finally {
      await s.as.close();
      await s.gh.close();
    }
  });

  it('UPSTREAM_ALLOWED_DOMAINS counts only verified addresses from /user/emails', async () => {
    const s = await setup({ UPSTREAM_ALLOWED_DOMAINS: 'github.example,elsewhere.example' });
    try {
      const ok = await startSignIn(s);
      assert.ok((await callback(ok, await atGithub(ok, { user: OCTOCAT.id }))).searchParams.get('code'));
      // hubot's only address (elsewhere.example) is unverified.
      const no = await startSignIn(s);
      assert.equal((await callback(no, await atGithub(no, { user: HUBOT.id }))).searchParams.get('error'), 'access_denied');
    } finally {
      await s.as.close();
      await s.gh.close();
    }
  });

  it('without the user:email scope (/user/emails 404) the public address is kept, unverified, and does not pass a domain rule', async () => {
    const s = await setup({ UPSTREAM_SCOPES: 'read:user', UPSTREAM_ALLOWED_DOMAINS: 'public.example' });
    try {
      const a = await startSignIn(s);
      assert.equal(a.toGithub.searchParams.get('scope'), 'read:user');
      assert.equal((await callback(a, await atGithub(a))).searchParams.get('error'), 'access_denied');
      assert.ok(s.as.logs.some(l => l.event === 'sign_in_refused' && /not verified/.test(String(l.reason))));
    } finally {
      await s.as.close();
      await s.gh.close();
    }
  });
});

describe('UPSTREAM_IDP=github: a slow GitHub', () => {
  it('a code exchange slower than UPSTREAM_TIMEOUT answers the client temporarily_unavailable', async () => {
    const s = await setup({ UPSTREAM_TIMEOUT: '1' });
    try {
      const a = await startSignIn(s);
      const url = await atGithub(a);
      s.gh.failNext('token', 200, 3000);
      const back = await callback(a, url);
      assert.equal(back.searchParams.get('error'), 'temporarily_unavailable');
    } finally {
      await s.as.close();
      await s.gh.close();
    }
  });
});

describe('UPSTREAM_IDP=github: configuration', () => {
  const base = { NODE_ENV: 'test', UPSTREAM_IDP: 'github', UPSTREAM_CLIENT_ID: CLIENT_ID, UPSTREAM_CLIENT_SECRET: CLIENT_SECRET };
  const fails = (env: Record<string, string>, variable: string) =>
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.message.includes(variable));

  it('names the variable and the fix', () => {
    fails({ ...base, UPSTREAM_CLIENT_ID: '' }, 'UPSTREAM_CLIENT_ID');
    fails({ ...base, UPSTREAM_CLIENT_SECRET: '' }, 'UPSTREAM_CLIENT_SECRET');
    fails({ ...base, UPSTREAM_ISSUER: 'https://github.com' }, 'UPSTREAM_ISSUER');
    fails({ ...base, UPSTREAM_GITHUB_URL: 'https://ghe.example.com/?x=1' }, 'UPSTREAM_GITHUB_URL');
    fails({ ...base, NODE_ENV: 'production', BASE_URI: 'https://mcp.example.com', UPSTREAM_TOKEN_KEY: Buffer.alloc(32, 7).toString('base64url'), UPSTREAM_GITHUB_URL: 'http://ghe.example.com' }, 'UPSTREAM_GITHUB_URL');
    assert.equal(loadConfig(base).upstream.githubUrl, 'https://github.com');
    assert.deepEqual(loadConfig(base).upstream.scopes, ['read:user', 'user:email']);
  });

  it('finds the REST API: api.github.com for github.com, /api/v3 on Enterprise Server', () => {
    assert.equal(githubApiUrl('https://github.com'), 'https://api.github.com');
    assert.equal(githubApiUrl('https://ghe.example.com'), 'https://ghe.example.com/api/v3');
    assert.equal(githubApiUrl('https://example.com/ghe/'), 'https://example.com/ghe/api/v3');
  });
});
