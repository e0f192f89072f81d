/**
 * Unit tests of the identity-provider seam's pure parts: the UPSTREAM_*
 * configuration rules, the sealing of provider tokens, our subject per
 * (issuer, subject), and the allow-lists.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { checkAllowed, ourSubject } from '../../src/auth/identity/sign-in.js';
import { createSealer } from '../../src/auth/identity/seal.js';
import type { UpstreamIdentity } from '../../src/auth/identity/provider.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const KEY = Buffer.alloc(32, 7).toString('base64url');
const oidc = { UPSTREAM_IDP: 'oidc', UPSTREAM_ISSUER: 'https://idp.example', UPSTREAM_CLIENT_ID: 'ours', UPSTREAM_CLIENT_SECRET: 's3cret' };

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('UPSTREAM_* configuration', () => {
  it('defaults to the demo IdP with nothing else required', () => {
    const c = loadConfig({});
    assert.equal(c.upstream.kind, 'mock');
    assert.deepEqual(c.upstream.allowedDomains, []);
  });

  it('an OIDC provider needs a client id, a secret and an issuer, each error naming its variable and the fix', () => {
    assert.equal(configError({ UPSTREAM_IDP: 'oidc' }).variable, 'UPSTREAM_CLIENT_ID');
    assert.match(configError({ UPSTREAM_IDP: 'oidc' }).message, /upstream-idp\/callback/);
    assert.equal(configError({ UPSTREAM_IDP: 'oidc', UPSTREAM_CLIENT_ID: 'x' }).variable, 'UPSTREAM_CLIENT_SECRET');
    assert.equal(configError({ UPSTREAM_IDP: 'okta', UPSTREAM_CLIENT_ID: 'x', UPSTREAM_CLIENT_SECRET: 'y' }).variable, 'UPSTREAM_ISSUER');
    assert.equal(loadConfig({ ...oidc, UPSTREAM_TOKEN_AUTH_METHOD: 'none', UPSTREAM_CLIENT_SECRET: '' }).upstream.tokenAuthMethod, 'none');
  });

  it('presets bring their issuer and scopes; openid is required for OIDC kinds', () => {
    const g = loadConfig({ UPSTREAM_IDP: 'google', UPSTREAM_CLIENT_ID: 'x', UPSTREAM_CLIENT_SECRET: 'y' });
    assert.equal(g.upstream.issuer, 'https://accounts.google.com');
    assert.deepEqual(g.upstream.scopes, ['openid', 'email', 'profile']);
    assert.ok(loadConfig({ ...oidc, UPSTREAM_IDP: 'entra', UPSTREAM_ISSUER: 'https://login.microsoftonline.com/tid/v2.0' }).upstream.scopes.includes('offline_access'));
    assert.equal(configError({ ...oidc, UPSTREAM_SCOPES: 'email profile' }).variable, 'UPSTREAM_SCOPES');
    assert.deepEqual(loadConfig({ UPSTREAM_IDP: 'github', UPSTREAM_CLIENT_ID: 'x', UPSTREAM_CLIENT_SECRET: 'y' }).upstream.scopes, ['read:user', 'user:email']);
  });

  it('refuses issuers that cannot match: Entra multi-tenant, Cognito hosted-UI domain, an issuer for GitHub', () => {
    assert.match(configError({ ...oidc, UPSTREAM_IDP: 'entra', UPSTREAM_ISSUER: 'https://login.microsoftonline.com/common/v2.0' }).message, /tenant/);
    assert.match(configError({ ...oidc, UPSTREAM_IDP: 'cognito', UPSTREAM_ISSUER: 'https://mine.auth.eu-west-1.amazoncognito.com' }).message, /cognito-idp/);
    assert.equal(configError({ ...oidc, UPSTREAM_IDP: 'github' }).variable, 'UPSTREAM_ISSUER');
  });

  it('UPSTREAM_TOKEN_KEY: 32 bytes, and required with NODE_ENV=production', () => {
    assert.equal(configError({ ...oidc, UPSTREAM_TOKEN_KEY: 'short' }).variable, 'UPSTREAM_TOKEN_KEY');
    assert.equal(configError({ ...oidc, NODE_ENV: 'production', BASE_URI: 'https://mcp.example' }).variable, 'UPSTREAM_TOKEN_KEY');
    assert.equal(loadConfig({ ...oidc, NODE_ENV: 'production', BASE_URI: 'https://mcp.example', UPSTREAM_TOKEN_KEY: KEY }).upstream.tokenKey, KEY);
  });

  it('an upstream provider in external mode is refused (no AS runs there)', () => {
    assert.equal(configError({ ...oidc, AUTH_MODE: 'external', AUTH_SERVER_URL: 'http://as.example' }).variable, 'UPSTREAM_IDP');
  });

  it('allow-lists are lower-cased lists', () => {
    const c = loadConfig({ ...oidc, UPSTREAM_ALLOWED_DOMAINS: 'Example.COM, @corp.example', UPSTREAM_ALLOWED_USERS: 'Octocat' });
    assert.deepEqual(c.upstream.allowedDomains, ['example.com', 'corp.example']);
    assert.deepEqual(c.upstream.allowedUsers, ['octocat']);
  });
});

describe('sealing provider tokens', () => {
  it('opens only with the same key and the same binding', async () => {
    const a = createSealer(KEY);
    const sealed = await a.seal({ accessToken: 'at-value' }, 'grant:1');
    assert.doesNotMatch(sealed, /at-value/);
    assert.deepEqual(await a.open(sealed, 'grant:1'), { accessToken: 'at-value' });
    await assert.rejects(a.open(sealed, 'grant:2'));
    await assert.rejects(createSealer(Buffer.alloc(32, 8).toString('base64url')).open(sealed, 'grant:1'));
    assert.equal(a.generated, false);
    assert.equal(createSealer(undefined).generated, true);
  });
});

describe('identity rules', () => {
  const person = (over: Partial<UpstreamIdentity> = {}): UpstreamIdentity => ({ provider: 'oidc', issuer: 'https://idp.example', subject: '248289761001', ...over });

  it('our sub is stable per (issuer, subject) and differs across issuers; the demo IdP keeps its subjects', () => {
    assert.equal(ourSubject(person()), ourSubject(person({ email: 'changed@example.com' })));
    assert.notEqual(ourSubject(person()), ourSubject(person({ issuer: 'https://other.example' })));
    assert.notEqual(ourSubject(person()), ourSubject(person({ subject: '1' })));
    assert.equal(ourSubject({ provider: 'mock', issuer: 'x', subject: 'demo-user:alice' }), 'demo-user:alice');
  });

  it('allow-lists admit verified emails, domains, Google hd and GitHub logins only', () => {
    const cfg = { allowedDomains: ['example.com'], allowedUsers: ['boss@other.example', 'octocat'] };
    assert.equal(checkAllowed({ allowedDomains: [], allowedUsers: [] }, person()), undefined);
    assert.equal(checkAllowed(cfg, person({ email: 'a@example.com', emailVerified: true })), undefined);
    assert.match(checkAllowed(cfg, person({ email: 'a@example.com' }))!, /not verified/);
    assert.match(checkAllowed(cfg, person({ email: 'a@example.org', emailVerified: true }))!, /not in/);
    assert.equal(checkAllowed(cfg, person({ email: 'BOSS@other.example', emailVerified: true })), undefined);
    assert.equal(checkAllowed(cfg, person({ provider: 'google', hostedDomain: 'example.com', email: 'x@example.com', emailVerified: false })), undefined);
    assert.equal(checkAllowed(cfg, person({ provider: 'github', login: 'OctoCat' })), undefined);
    assert.match(checkAllowed(cfg, person({ provider: 'oidc', login: 'octocat' }))!, /no email/);
  });
});

describe('upstream state (frozen clock)', async () => {
  const { MemoryStore } = await import('../../src/store/memory.js');
  const { createRecords } = await import('../../src/auth/records.js');
  const { createUpstreamStates } = await import('../../src/auth/identity/upstream-state.js');
  const { createLogger } = await import('../../src/logger.js');
  const { sha256 } = await import('../../src/auth/crypto.js');
  const { PageError } = await import('../../src/auth/errors.js');

  function setup() {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    const ctx = { records: createRecords(store, () => undefined), now: () => now, log: createLogger('silent'), issuer: 'http://localhost:1' };
    const states = createUpstreamStates(ctx, createSealer(KEY));
    const cookie = 'c'.repeat(43);
    const req = (c?: string) => ({ get: (h: string) => (h.toLowerCase() === 'cookie' && c ? `mcp_as_browser=${c}` : undefined) }) as never;
    const interaction = { browserHash: sha256(cookie), clientId: 'client-1', expiresAt: now + 60 * 60 * 1000 };
    return { store, states, cookie, req, interaction, advance: (ms: number) => (now += ms) };
  }
  const STATE = 's'.repeat(43);

  it('is taken once, by the browser that started it, with its handle and checks', async () => {
    const t = setup();
    await t.states.save(STATE, 'handle-1', t.interaction, { verifier: 'v', nonce: 'n' });
    const taken = await t.states.take(t.req(t.cookie), STATE);
    assert.deepEqual(taken, { handle: 'handle-1', checks: { verifier: 'v', nonce: 'n' }, clientId: 'client-1' });
    await assert.rejects(t.states.take(t.req(t.cookie), STATE), PageError);
    t.store.close?.();
  });

  it('refuses another browser and leaves the state to its owner', async () => {
    const t = setup();
    await t.states.save(STATE, 'handle-1', t.interaction, {});
    await assert.rejects(t.states.take(t.req('x'.repeat(43)), STATE), PageError);
    await assert.rejects(t.states.take(t.req(undefined), STATE), PageError);
    assert.equal((await t.states.take(t.req(t.cookie), STATE)).handle, 'handle-1');
  });

  it('expires after 10 minutes even when the interaction lives longer', async () => {
    const t = setup();
    await t.states.save(STATE, 'handle-1', t.interaction, {});
    t.advance(10 * 60 * 1000 + 1);
    await assert.rejects(t.states.take(t.req(t.cookie), STATE), PageError);
  });

  it('holds the handle and checks sealed, never in clear', async () => {
    const t = setup();
    await t.states.save(STATE, 'handle-secret', t.interaction, { verifier: 'verifier-secret' });
    const raw = (await t.store.get(`auth:upstream-state:${sha256(STATE)}`))!;
    assert.doesNotMatch(raw, /handle-secret|verifier-secret/);
  });
});

describe('OIDC presets', async () => {
  const { OIDC_PRESETS, emailVerifiedOf } = await import('../../src/auth/identity/oidc-presets.js');
  const cfg = (over: Record<string, string> = {}) => loadConfig({ ...oidc, UPSTREAM_IDP: 'google', UPSTREAM_ISSUER: '', ...over }).upstream;

  it('google asks for offline access on a consent prompt, and hints hd only for a single allowed domain', () => {
    assert.deepEqual(OIDC_PRESETS.google!.authorizationParams!(cfg()), { access_type: 'offline', prompt: 'consent' });
    assert.equal(OIDC_PRESETS.google!.authorizationParams!(cfg({ UPSTREAM_ALLOWED_DOMAINS: 'corp.example' })).hd, 'corp.example');
    assert.equal(OIDC_PRESETS.google!.authorizationParams!(cfg({ UPSTREAM_ALLOWED_DOMAINS: 'a.example,b.example' })).hd, undefined);
  });

  it('no preset adds resource (Entra v2 refuses it) or anything of the MCP client to the request', () => {
    for (const preset of Object.values(OIDC_PRESETS)) {
      const params = preset!.authorizationParams?.(cfg({ UPSTREAM_ALLOWED_DOMAINS: 'x.example' })) ?? {};
      assert.equal('resource' in params, false);
    }
  });

  it('email_verified: booleans, Cognito strings, Entra xms_edov; absent means unverified', () => {
    assert.equal(emailVerifiedOf(OIDC_PRESETS.cognito!, { email_verified: 'true' }), true);
    assert.equal(emailVerifiedOf(OIDC_PRESETS.cognito!, { email_verified: 'false' }), false);
    assert.equal(emailVerifiedOf(OIDC_PRESETS.oidc!, { email_verified: true }), true);
    assert.equal(emailVerifiedOf(OIDC_PRESETS.oidc!, {}), undefined);
    assert.equal(emailVerifiedOf(OIDC_PRESETS.entra!, { xms_edov: true }), true);
    assert.equal(emailVerifiedOf(OIDC_PRESETS.entra!, {}), undefined);
  });
});
