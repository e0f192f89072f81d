import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createExternalValidator } from '../../src/validators/external.js';
import { ValidatorUnavailableError } from '../../src/validators/token-validator.js';
import { freePort } from '../helpers/free-port.js';
import { makeKey, signToken, startTestAs, type TestAs } from './test-as.js';

const logger = createLogger('silent');
const BASE = 'http://localhost:9999';

describe('External validator factory: strategy from configuration and AS metadata', () => {
  let as: TestAs;
  before(async () => {
    as = await startTestAs();
  });
  after(() => as.close());
  beforeEach(() => {
    as.behaviour.metadata = {};
    as.tokens.clear();
  });

  const config = (env: Record<string, string> = {}) => loadConfig({ AUTH_MODE: 'external', AUTH_SERVER_URL: as.issuer, BASE_URI: BASE, ...env });
  const creds = { INTROSPECTION_CLIENT_ID: 'rs-client', INTROSPECTION_CLIENT_SECRET: 'rs-secret' };

  it('auto: chooses introspection when the AS advertises it and client credentials are set', async () => {
    const v = await createExternalValidator({ config: config(creds), logger });
    assert.equal(v.strategy, 'introspection');
    as.tokens.set('tok', { active: true, sub: 'u', client_id: 'c', scope: 'mcp', aud: `${BASE}/mcp`, iss: as.issuer, exp: Math.floor(Date.now() / 1000) + 60 });
    assert.equal((await v.validate('tok')).subject, 'u');
  });

  it('auto: chooses JWT when there are no introspection credentials', async () => {
    const v = await createExternalValidator({ config: config(), logger });
    assert.equal(v.strategy, 'jwt');
    const key = await makeKey('k');
    as.jwks.keys = [key.jwk];
    const token = await signToken(key, { iss: as.issuer, aud: `${BASE}/mcp`, sub: 'u', exp: Math.floor(Date.now() / 1000) + 60 }, { typ: 'at+jwt' });
    assert.equal((await v.validate(token)).subject, 'u');
  });

  it('uses TOKEN_AUDIENCE instead of the canonical MCP URL when set', async () => {
    const v = await createExternalValidator({ config: config({ ...creds, TOKEN_AUDIENCE: 'api://mcp' }), logger });
    as.tokens.set('tok', { active: true, sub: 'u', aud: 'api://mcp', exp: Math.floor(Date.now() / 1000) + 60 });
    assert.equal((await v.validate('tok')).subject, 'u');
  });

  it('fails start-up, naming the variable, when introspection is forced without credentials', async () => {
    await assert.rejects(createExternalValidator({ config: config({ TOKEN_VALIDATION: 'introspection' }), logger }), { variable: 'INTROSPECTION_CLIENT_ID' });
  });

  it('fails start-up when JWT is forced and the AS advertises no jwks_uri', async () => {
    as.behaviour.metadata = { jwks_uri: undefined };
    await assert.rejects(createExternalValidator({ config: config({ TOKEN_VALIDATION: 'jwt' }), logger }), { variable: 'TOKEN_VALIDATION' });
  });

  it('fails start-up when the metadata issuer differs from AUTH_SERVER_URL', async () => {
    await assert.rejects(createExternalValidator({ config: loadConfig({ AUTH_MODE: 'external', AUTH_SERVER_URL: `${as.issuer}/`, BASE_URI: BASE }), logger }), {
      variable: 'AUTH_SERVER_URL'
    });
  });

  it('starts while the AS is down, answers unavailable, and recovers when the AS comes up', async () => {
    const port = await freePort();
    const cfg = loadConfig({ AUTH_MODE: 'external', AUTH_SERVER_URL: `http://127.0.0.1:${port}`, BASE_URI: BASE, ...creds });
    const v = await createExternalValidator({ config: cfg, logger, discoveryRetryMs: 50, timeoutMs: 1000 });
    await assert.rejects(v.validate('tok'), ValidatorUnavailableError);
    const late = await startTestAs({ port });
    try {
      late.tokens.set('tok', { active: true, sub: 'u', aud: `${BASE}/mcp`, iss: late.issuer, exp: Math.floor(Date.now() / 1000) + 60 });
      await new Promise(r => setTimeout(r, 60));
      assert.equal((await v.validate('tok')).subject, 'u');
      assert.equal(v.strategy, 'introspection');
    } finally {
      await late.close();
    }
  });
});
