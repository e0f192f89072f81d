import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { createIntrospectionValidator, type IntrospectionValidatorOptions } from '../../src/validators/introspection.js';
import { InvalidTokenError, ValidatorUnavailableError } from '../../src/validators/token-validator.js';
import { deadOrigin, startTestAs, type TestAs } from './test-as.js';

const AUDIENCE = 'http://localhost:9999/mcp';
const nowS = () => Math.floor(Date.now() / 1000);

async function rejectsWith(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidTokenError, `expected InvalidTokenError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

describe('Introspection validator (RFC 7662) against a test AS over HTTP', () => {
  let as: TestAs;
  before(async () => {
    as = await startTestAs();
  });
  after(() => as.close());
  beforeEach(() => {
    as.tokens.clear();
    as.hits.clear();
    as.introspectionRequests.length = 0;
    Object.assign(as.behaviour, { introspectionDelayMs: 0, introspectionStatus: 200, hang: false, retryAfter: undefined });
  });

  const validator = (o: Partial<IntrospectionValidatorOptions> = {}) =>
    createIntrospectionValidator({ endpoint: `${as.origin}/introspect`, clientId: 'rs-client', clientSecret: 'rs-secret', issuer: as.issuer, audience: AUDIENCE, ...o });
  const active = (extra: Record<string, unknown> = {}) => ({
    active: true,
    sub: 'user-1',
    client_id: 'client-1',
    scope: 'mcp',
    aud: AUDIENCE,
    iss: as.issuer,
    exp: nowS() + 600,
    iat: nowS(),
    token_type: 'Bearer',
    ...extra
  });
  const calls = () => as.count('/introspect');

  it('accepts an active token and returns subject, client, scopes, audience, expiry and issuer', async () => {
    const answer = active();
    as.tokens.set('tok-1', answer);
    const info = await validator().validate('tok-1');
    assert.deepEqual(info, { token: 'tok-1', subject: 'user-1', clientId: 'client-1', scopes: ['mcp'], audience: [AUDIENCE], expiresAt: answer.exp, issuer: as.issuer });
  });

  it('authenticates with client_secret_basic and sends token_type_hint=access_token', async () => {
    as.tokens.set('tok-1', active());
    await validator().validate('tok-1');
    const [req] = as.introspectionRequests;
    assert.equal(req!.authorization, `Basic ${Buffer.from('rs-client:rs-secret').toString('base64')}`);
    assert.equal(req!.form.get('token'), 'tok-1');
    assert.equal(req!.form.get('token_type_hint'), 'access_token');
    assert.equal(req!.form.get('client_secret'), null);
  });

  it('authenticates with client_secret_post when configured', async () => {
    as.tokens.set('tok-1', active());
    await validator({ authMethod: 'client_secret_post' }).validate('tok-1');
    const [req] = as.introspectionRequests;
    assert.equal(req!.authorization, undefined);
    assert.equal(req!.form.get('client_id'), 'rs-client');
    assert.equal(req!.form.get('client_secret'), 'rs-secret');
  });

  it('refuses an inactive token', async () => {
    await rejectsWith(validator().validate('unknown'), 'inactive');
  });

  it('refuses an active token for another audience, and accepts an aud array that contains ours', async () => {
    as.tokens.set('other', active({ aud: 'https://other.example/mcp' }));
    as.tokens.set('many', active({ aud: ['https://other.example/mcp', AUDIENCE] }));
    await rejectsWith(validator().validate('other'), 'audience');
    assert.deepEqual((await validator().validate('many')).audience, ['https://other.example/mcp', AUDIENCE]);
  });

  it('refuses an answer from another issuer, an expired token and a token without sub', async () => {
    as.tokens.set('iss', active({ iss: 'https://evil.example' }));
    as.tokens.set('exp', active({ exp: nowS() - 1 }));
    as.tokens.set('nosub', active({ sub: undefined }));
    await rejectsWith(validator().validate('iss'), 'issuer');
    await rejectsWith(validator().validate('exp'), 'expired');
    await rejectsWith(validator().validate('nosub'), 'missing_sub');
  });

  it('serves repeated checks of one token from the cache: 1 call, then cache hits', async () => {
    as.tokens.set('tok-1', active());
    const v = validator();
    for (let i = 0; i < 5; i++) await v.validate('tok-1');
    assert.equal(calls(), 1);
    assert.deepEqual({ calls: v.stats().introspectionCalls, hits: v.stats().cacheHits, size: v.stats().cacheSize }, { calls: 1, hits: 4, size: 1 });
  });

  it('keeps a positive answer no longer than the configured TTL', async () => {
    as.tokens.set('tok-1', active());
    let clock = Date.now();
    const v = validator({ cacheTtlSeconds: 30, nowMs: () => clock });
    await v.validate('tok-1');
    clock += 29_000;
    await v.validate('tok-1');
    assert.equal(calls(), 1);
    clock += 2_000;
    await v.validate('tok-1');
    assert.equal(calls(), 2);
  });

  it('keeps a positive answer no longer than the token lives, even with a longer TTL', async () => {
    let clock = Date.now();
    as.tokens.set('tok-1', active({ exp: Math.floor(clock / 1000) + 10 }));
    const v = validator({ cacheTtlSeconds: 300, nowMs: () => clock });
    await v.validate('tok-1');
    clock += 11_000;
    await rejectsWith(v.validate('tok-1'), 'expired');
    assert.equal(calls(), 2);
  });

  it('makes one call for 50 concurrent validations of one token (single flight)', async t => {
    as.tokens.set('tok-1', active());
    as.behaviour.introspectionDelayMs = 100;
    const v = validator();
    const results = await Promise.all(Array.from({ length: 50 }, () => v.validate('tok-1')));
    assert.equal(results.length, 50);
    assert.ok(results.every(r => r.subject === 'user-1' && r.token === 'tok-1'));
    t.diagnostic(`introspection calls for 50 concurrent validations of one token: ${calls()} (coalesced: ${v.stats().coalesced})`);
    assert.equal(calls(), 1);
    assert.equal(v.stats().coalesced, 49);
  });

  it('caches a negative answer briefly, then asks again', async () => {
    let clock = Date.now();
    const v = validator({ negativeCacheTtlSeconds: 5, nowMs: () => clock });
    await rejectsWith(v.validate('bad'), 'inactive');
    await rejectsWith(v.validate('bad'), 'inactive');
    assert.equal(calls(), 1);
    assert.equal(v.stats().negativeCacheHits, 1);
    clock += 6_000;
    await rejectsWith(v.validate('bad'), 'inactive');
    assert.equal(calls(), 2);
  });

  it('with a TTL of 0 asks the AS every time (a revoked token fails at once)', async () => {
    as.tokens.set('tok-1', active());
    const v = validator({ cacheTtlSeconds: 0 });
    await v.validate('tok-1');
    as.tokens.delete('tok-1');
    await rejectsWith(v.validate('tok-1'), 'inactive');
    assert.equal(calls(), 2);
  });

  it('bounds memory: the least recently used entry goes first', async () => {
    const v = validator({ maxEntries: 3 });
    for (const t of ['a', 'b', 'c', 'd', 'e']) {
      as.tokens.set(t, active());
      await v.validate(t);
    }
    assert.equal(v.stats().cacheSize, 3);
    await v.validate('e');
    assert.equal(calls(), 5);
    await v.validate('a');
    assert.equal(calls(), 6);
  });

  it('answers "unavailable" (503 class), never "invalid", when the AS does not answer in time', async () => {
    as.tokens.set('tok-1', active());
    as.behaviour.hang = true;
    const started = Date.now();
    await assert.rejects(validator({ timeoutMs: 200 }).validate('tok-1'), ValidatorUnavailableError);
    assert.ok(Date.now() - started < 2000);
  });

  it('answers "unavailable" on a 5xx and passes the AS Retry-After on', async () => {
    as.behaviour.introspectionStatus = 503;
    as.behaviour.retryAfter = '9';
    await assert.rejects(validator().validate('tok-1'), (err: unknown) => {
      assert.ok(err instanceof ValidatorUnavailableError);
      assert.equal(err.retryAfterSeconds, 9);
      return true;
    });
    as.behaviour.introspectionStatus = 500;
    as.behaviour.retryAfter = undefined;
    await assert.rejects(validator({ retryAfterSeconds: 4 }).validate('tok-1'), (err: unknown) => err instanceof ValidatorUnavailableError && err.retryAfterSeconds === 4);
  });

  it('answers "unavailable" when the AS cannot be reached', async () => {
    const v = validator({ endpoint: `${await deadOrigin()}/introspect` });
    await assert.rejects(v.validate('tok-1'), ValidatorUnavailableError);
    assert.equal(v.stats().unavailable, 1);
  });

  it('answers "unavailable" when the AS refuses this server’s own credentials', async () => {
    as.tokens.set('tok-1', active());
    await assert.rejects(validator({ clientSecret: 'wrong' }).validate('tok-1'), ValidatorUnavailableError);
  });

  it('does not cache an outage: the next check after recovery asks again and succeeds', async () => {
    as.tokens.set('tok-1', active());
    const v = validator();
    as.behaviour.introspectionStatus = 502;
    await assert.rejects(v.validate('tok-1'), ValidatorUnavailableError);
    as.behaviour.introspectionStatus = 200;
    assert.equal((await v.validate('tok-1')).subject, 'user-1');
  });

  it('applies a provider check to the answer', async () => {
    as.tokens.set('tok-1', active({ typ: 'ID' }));
    const v = validator({
      checkClaims: c => {
        if (c.typ !== undefined && c.typ !== 'Bearer') throw new InvalidTokenError('token_type');
      }
    });
    await rejectsWith(v.validate('tok-1'), 'token_type');
  });
});
