import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { StoreUnavailableError } from '../../src/store/store.js';
import { createInProcessValidator, type IntrospectionResult } from '../../src/validators/in-process.js';
import { InvalidTokenError, ValidatorUnavailableError } from '../../src/validators/token-validator.js';

const AUDIENCE = 'http://localhost:3999/mcp';
const NOW = 1_700_000_000;

function validatorFor(answer: IntrospectionResult | Error) {
  const seen: string[] = [];
  const v = createInProcessValidator({
    introspect: async token => {
      seen.push(token);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    audience: AUDIENCE,
    now: () => NOW
  });
  return { v, seen };
}

const active = (extra: Partial<IntrospectionResult> = {}): IntrospectionResult => ({
  active: true,
  sub: 'user-1',
  client_id: 'client-1',
  scope: 'mcp mcp:admin',
  aud: AUDIENCE,
  iss: 'http://localhost:3999',
  exp: NOW + 60,
  iat: NOW - 10,
  token_type: 'Bearer',
  ...extra
});

async function rejectsWith(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (err: unknown) => err instanceof InvalidTokenError && err.reason === reason);
}

describe('In-process validator (internal mode)', () => {
  it('calls the AS introspect function with the token and maps the answer to AuthInfo', async () => {
    const { v, seen } = validatorFor(active());
    const info = await v.validate('tok');
    assert.deepEqual(seen, ['tok']);
    assert.deepEqual(info, { token: 'tok', subject: 'user-1', clientId: 'client-1', scopes: ['mcp', 'mcp:admin'], audience: [AUDIENCE], expiresAt: NOW + 60, issuer: 'http://localhost:3999' });
  });

  it('accepts aud as an array that contains the canonical MCP URL', async () => {
    const { v } = validatorFor(active({ aud: ['https://elsewhere.example', AUDIENCE] }));
    assert.equal((await v.validate('tok')).subject, 'user-1');
  });

  it('with two expected audiences (MCP URL and legacy /sse URL), accepts either and refuses any other', async () => {
    const SSE = 'http://localhost:3999/sse';
    const make = (aud: string | string[]) =>
      createInProcessValidator({ introspect: async () => active({ aud }), audience: [AUDIENCE, SSE], now: () => NOW });
    assert.deepEqual((await make(SSE).validate('tok')).audience, [SSE]);
    assert.deepEqual((await make(AUDIENCE).validate('tok')).audience, [AUDIENCE]);
    assert.deepEqual((await make(['https://elsewhere.example', SSE]).validate('tok')).audience, ['https://elsewhere.example', SSE]);
    for (const aud of ['https://other.example/sse', 'http://localhost:3998/sse', 'http://localhost:3999/message', 'http://localhost:3999']) {
      await rejectsWith(make(aud).validate('tok'), 'audience');
    }
  });

  it('refuses to be built without an audience', () => {
    assert.throws(() => createInProcessValidator({ introspect: async () => active(), audience: [] }), TypeError);
    assert.throws(() => createInProcessValidator({ introspect: async () => active(), audience: [AUDIENCE, ''] }), TypeError);
  });

  it('refuses an inactive token', async () => {
    await rejectsWith(validatorFor({ active: false }).v.validate('tok'), 'inactive');
  });

  it('refuses a token issued for another resource', async () => {
    await rejectsWith(validatorFor(active({ aud: 'https://other.example/mcp' })).v.validate('tok'), 'audience');
    await rejectsWith(validatorFor(active({ aud: undefined })).v.validate('tok'), 'audience');
  });

  it('refuses an expired token even if the AS still says active', async () => {
    await rejectsWith(validatorFor(active({ exp: NOW })).v.validate('tok'), 'expired');
  });

  it('refuses a token without sub', async () => {
    await rejectsWith(validatorFor(active({ sub: undefined })).v.validate('tok'), 'missing_sub');
    await rejectsWith(validatorFor(active({ sub: '' })).v.validate('tok'), 'missing_sub');
  });

  it('turns StoreUnavailableError into ValidatorUnavailableError (503, not 401)', async () => {
    await assert.rejects(validatorFor(new StoreUnavailableError()).v.validate('tok'), ValidatorUnavailableError);
  });

  it('lets unexpected errors through (they are bugs: 500)', async () => {
    await assert.rejects(validatorFor(new RangeError('boom')).v.validate('tok'), RangeError);
  });
});
