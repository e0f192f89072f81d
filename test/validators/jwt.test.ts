import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { base64url, SignJWT } from 'jose';

import { loadConfig } from '../../src/config.js';
import { createJwtValidator, type JwtValidatorOptions } from '../../src/validators/jwt.js';
import { providerProfile } from '../../src/validators/providers.js';
import { InvalidTokenError, ValidatorUnavailableError } from '../../src/validators/token-validator.js';
import { deadOrigin, makeKey, signToken, startTestAs, type SigningKey, type TestAs } from './test-as.js';

const AUDIENCE = 'http://localhost:9999/mcp';
const now = () => Math.floor(Date.now() / 1000);

async function rejectsWith(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidTokenError, `expected InvalidTokenError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

describe('JWT validator (RFC 9068) against a JWKS served over HTTP', () => {
  let as: TestAs;
  let k1: SigningKey;
  let k2: SigningKey;
  let ec: SigningKey;

  before(async () => {
    as = await startTestAs();
    [k1, k2, ec] = await Promise.all([makeKey('k1'), makeKey('k2'), makeKey('ec1', 'ES256')]);
  });
  after(() => as.close());
  beforeEach(() => {
    as.jwks.keys = [k1.jwk];
    as.hits.clear();
  });

  const validator = (o: Partial<JwtValidatorOptions> = {}) =>
    createJwtValidator({ issuer: as.issuer, jwksUri: `${as.origin}/jwks`, audience: AUDIENCE, algorithms: ['RS256', 'ES256'], cooldownMs: 0, ...o });
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: as.issuer, aud: AUDIENCE, sub: 'user-1', client_id: 'client-1', scope: 'mcp mcp:admin', exp: now() + 300, iat: now(), ...extra });

  it('accepts a well-formed token and returns subject, client, scopes, audience, expiry and issuer', async () => {
    const c = claims();
    const token = await signToken(k1, c, { typ: 'at+jwt' });
    const info = await validator().validate(token);
    assert.deepEqual(info, { token, subject: 'user-1', clientId: 'client-1', scopes: ['mcp', 'mcp:admin'], audience: [AUDIENCE], expiresAt: c.exp, issuer: as.issuer });
  });

  it('reads scopes from scp when it is an array (Okta) or a space-separated string (Entra ID)', async () => {
    const v = validator();
    const a = await v.validate(await signToken(k1, claims({ scope: undefined, scp: ['mcp', 'mcp:admin'] })));
    assert.deepEqual(a.scopes, ['mcp', 'mcp:admin']);
    const b = await v.validate(await signToken(k1, claims({ scope: undefined, scp: 'mcp files.read' })));
    assert.deepEqual(b.scopes, ['mcp', 'files.read']);
  });

  it('accepts an audience array that contains this server', async () => {
    const info = await validator().validate(await signToken(k1, claims({ aud: ['https://other.example', AUDIENCE] })));
    assert.deepEqual(info.audience, ['https://other.example', AUDIENCE]);
  });

  it('refuses a token from another issuer', async () => {
    await rejectsWith(validator().validate(await signToken(k1, claims({ iss: 'https://evil.example' }))), 'claim_iss');
  });

  it('refuses a token for another audience', async () => {
    await rejectsWith(validator().validate(await signToken(k1, claims({ aud: 'https://other.example/mcp' }))), 'claim_aud');
  });

  it('refuses an expired token', async () => {
    await rejectsWith(validator().validate(await signToken(k1, claims({ exp: now() - 60 }))), 'expired');
  });

  it('refuses a token whose nbf is in the future', async () => {
    await rejectsWith(validator().validate(await signToken(k1, claims({ nbf: now() + 120 }))), 'not_yet_valid');
  });

  it('refuses a token without exp', async () => {
    await rejectsWith(validator().validate(await signToken(k1, claims({ exp: undefined }))), 'claim_exp');
  });

  it('refuses a token without sub', async () => {
    await rejectsWith(validator().validate(await signToken(k1, claims({ sub: undefined }))), 'missing_sub');
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const token = `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc(claims())}.`;
    await rejectsWith(validator().validate(token), 'alg_not_allowed');
    assert.equal(as.count('/jwks'), 0, 'refused before any key lookup');
  });

  it('refuses an HMAC token signed with the public key as the secret (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(k1.jwk));
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(secret);
    await rejectsWith(validator().validate(token), 'alg_not_allowed');
  });

  it('refuses an algorithm outside the allow-list even when the key is in the JWKS', async () => {
    as.jwks.keys = [k1.jwk, ec.jwk];
    await rejectsWith(validator({ algorithms: ['RS256'] }).validate(await signToken(ec, claims())), 'alg_not_allowed');
  });

  it('refuses to be built with none or an HMAC algorithm in the allow-list', () => {
    assert.throws(() => validator({ algorithms: ['RS256', 'HS256'] }), /HS256/);
    assert.throws(() => validator({ algorithms: ['none'] }), /none/);
  });

  it('refuses a token signed by a key that is not in the JWKS (unknown kid)', async () => {
    const stranger = await makeKey('stranger');
    await rejectsWith(validator().validate(await signToken(stranger, claims())), 'unknown_kid');
  });

  it('refuses a token whose signature does not match its kid', async () => {
    const forged = await signToken(k2, claims(), { kid: 'k1' });
    await rejectsWith(validator().validate(forged), 'signature');
  });

  it('follows a key rotation: a new kid triggers one JWKS refetch, then tokens of both keys pass', async () => {
    const v = validator();
    await v.validate(await signToken(k1, claims()));
    assert.equal(as.count('/jwks'), 1);
    as.jwks.keys = [k1.jwk, k2.jwk];
    await v.validate(await signToken(k2, claims()));
    assert.equal(as.count('/jwks'), 2);
    await v.validate(await signToken(k1, claims()));
    await v.validate(await signToken(k2, claims()));
    assert.equal(as.count('/jwks'), 2);
  });

  it('refetches the JWKS for unknown kids at most once per cooldown', async () => {
    const v = validator({ cooldownMs: 60_000 });
    await v.validate(await signToken(k1, claims()));
    const stranger = await makeKey('stranger');
    for (let i = 0; i < 5; i++) await rejectsWith(v.validate(await signToken(stranger, claims())), 'unknown_kid');
    assert.equal(as.count('/jwks'), 1);
  });

  it('requires typ at+jwt when the provider sets it', async () => {
    const v = validator({ typ: 'at+jwt' });
    await v.validate(await signToken(k1, claims(), { typ: 'at+jwt' }));
    await rejectsWith(v.validate(await signToken(k1, claims(), { typ: 'JWT' })), 'claim_typ');
    await rejectsWith(v.validate(await signToken(k1, claims())), 'claim_typ');
  });

  it('verifies a token once and reuses the result for later requests, never past its exp', async () => {
    let clock = new Date();
    const v = validator({ now: () => clock });
    const token = await signToken(k1, claims({ exp: Math.floor(clock.getTime() / 1000) + 30 }), { typ: 'at+jwt' });
    const first = await v.validate(token);
    const second = await v.validate(token);
    assert.deepEqual(second, first);
    assert.equal(v.stats().cacheHits, 1);
    clock = new Date(clock.getTime() + 40_000); // past exp (and the 5 s clock tolerance)
    await rejectsWith(v.validate(token), 'expired');
    assert.equal(v.stats().cacheHits, 1, 'an expired token is verified again, not served from the cache');
  });

  it('refuses garbage that is not a JWT', async () => {
    await rejectsWith(validator().validate('not-a-jwt'), 'malformed');
    await rejectsWith(validator().validate('a.b.c'), 'malformed');
  });

  it('answers "unavailable", never "invalid", when the JWKS cannot be fetched', async () => {
    const v = createJwtValidator({ issuer: as.issuer, jwksUri: `${await deadOrigin()}/jwks`, audience: AUDIENCE, algorithms: ['RS256'], timeoutMs: 1000 });
    await assert.rejects(v.validate(await signToken(k1, claims())), ValidatorUnavailableError);
  });

  it('answers "unavailable" when the JWKS endpoint does not answer 200 OK', async () => {
    const v = createJwtValidator({ issuer: as.issuer, jwksUri: `${as.origin}/no-such-jwks`, audience: AUDIENCE, algorithms: ['RS256'] });
    await assert.rejects(v.validate(await signToken(k1, claims())), ValidatorUnavailableError);
  });
});

describe('Provider profiles applied to JWTs', () => {
  let as: TestAs;
  let key: SigningKey;
  before(async () => {
    as = await startTestAs({ issuerPath: '/pool' });
    key = await makeKey('c1');
    as.jwks.keys = [key.jwk];
  });
  after(() => as.close());

  const configFor = (env: Record<string, string>) =>
    loadConfig({ AUTH_MODE: 'external', AUTH_SERVER_URL: as.issuer, BASE_URI: 'http://localhost:9999', ...env });
  const fromProfile = (env: Record<string, string>) => {
    const config = configFor(env);
    const p = providerProfile(config);
    return createJwtValidator({ issuer: config.issuer, jwksUri: `${as.origin}/jwks`, audience: p.audience, algorithms: config.external.algorithms, typ: p.jwtTyp, checkClaims: c => p.checkClaims(c) });
  };
  const base = () => ({ iss: as.issuer, sub: 'u-1', exp: Math.floor(Date.now() / 1000) + 300 });

  it('generic without TOKEN_AUDIENCE: accepts aud = the MCP URL or the legacy /sse URL of this server, nothing else', async () => {
    const v = fromProfile({});
    const sign = (aud: string) => signToken(key, { ...base(), aud }, { typ: 'at+jwt' });
    assert.deepEqual((await v.validate(await sign('http://localhost:9999/mcp'))).audience, ['http://localhost:9999/mcp']);
    assert.deepEqual((await v.validate(await sign('http://localhost:9999/sse'))).audience, ['http://localhost:9999/sse']);
    for (const aud of ['http://localhost:9998/sse', 'https://other.example/sse', 'http://localhost:9999/message', 'http://localhost:9999']) {
      await rejectsWith(v.validate(await sign(aud)), 'claim_aud');
    }
  });

  it('with TOKEN_AUDIENCE set, that is the only audience (the /sse URL is refused too)', async () => {
    const v = fromProfile({ TOKEN_AUDIENCE: 'https://api.example' });
    await v.validate(await signToken(key, { ...base(), aud: 'https://api.example' }, { typ: 'at+jwt' }));
    await rejectsWith(v.validate(await signToken(key, { ...base(), aud: 'http://localhost:9999/sse' }, { typ: 'at+jwt' })), 'claim_aud');
    await rejectsWith(v.validate(await signToken(key, { ...base(), aud: 'http://localhost:9999/mcp' }, { typ: 'at+jwt' })), 'claim_aud');
  });

  it('cognito: accepts an access token without aud whose client_id is COGNITO_CLIENT_ID', async () => {
    const v = fromProfile({ AUTH_PROVIDER: 'cognito', COGNITO_CLIENT_ID: 'app123' });
    const info = await v.validate(await signToken(key, { ...base(), token_use: 'access', client_id: 'app123', scope: 'mcp' }));
    assert.equal(info.clientId, 'app123');
    assert.deepEqual(info.scopes, ['mcp']);
  });

  it('cognito: refuses an ID token (token_use id) and a token of another app client', async () => {
    const v = fromProfile({ AUTH_PROVIDER: 'cognito', COGNITO_CLIENT_ID: 'app123' });
    await rejectsWith(v.validate(await signToken(key, { ...base(), token_use: 'id', client_id: 'app123' })), 'token_use');
    await rejectsWith(v.validate(await signToken(key, { ...base(), token_use: 'access', client_id: 'other' })), 'client_id');
  });

  it('generic: requires typ at+jwt and aud equal to the canonical MCP URL', async () => {
    const v = fromProfile({});
    await v.validate(await signToken(key, { ...base(), aud: 'http://localhost:9999/mcp' }, { typ: 'at+jwt' }));
    await rejectsWith(v.validate(await signToken(key, { ...base(), aud: 'http://localhost:9999/mcp' }, { typ: 'JWT' })), 'claim_typ');
  });

  it('keycloak: refuses an ID token signed with the realm key (payload typ ID)', async () => {
    const v = fromProfile({ AUTH_PROVIDER: 'keycloak', TOKEN_AUDIENCE: 'mcp-server' });
    await v.validate(await signToken(key, { ...base(), aud: 'mcp-server', typ: 'Bearer', azp: 'cli' }, { typ: 'JWT' }));
    await rejectsWith(v.validate(await signToken(key, { ...base(), aud: 'mcp-server', typ: 'ID' })), 'token_type');
  });

  it('rejects bad provider settings at start-up, naming the variable', () => {
    assert.throws(() => providerProfile(configFor({ AUTH_PROVIDER: 'cognito' })), { variable: 'COGNITO_CLIENT_ID' });
    assert.throws(() => providerProfile(configFor({ AUTH_PROVIDER: 'auth0' })), { variable: 'AUTH_SERVER_URL' });
    assert.throws(() => providerProfile(configFor({ AUTH_PROVIDER: 'entra', TOKEN_AUDIENCE: 'api://x' })), { variable: 'AUTH_SERVER_URL' });
  });

  it('auth0 and entra: accept their documented issuer shapes', () => {
    const a = providerProfile(loadConfig({ AUTH_MODE: 'external', AUTH_SERVER_URL: 'https://tenant.auth0.com/', AUTH_PROVIDER: 'auth0', TOKEN_AUDIENCE: 'https://api.example' }));
    assert.equal(a.audience, 'https://api.example');
    assert.deepEqual(a.strategies, ['jwt']);
    const e = providerProfile(loadConfig({ AUTH_MODE: 'external', AUTH_SERVER_URL: 'https://login.microsoftonline.com/tid/v2.0', AUTH_PROVIDER: 'entra', TOKEN_AUDIENCE: 'api://mcp' }));
    assert.equal(e.audience, 'api://mcp');
    assert.throws(() => e.checkClaims({ ver: '1.0' }), InvalidTokenError);
  });
});
