import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';

import express from 'express';

import { createLogger } from '../../src/logger.js';
import { createBearerGate, extractBearerToken, requiredScopesFor, checkScopes, type GateOutcome } from '../../src/rs/bearer.js';
import { GateError } from '../../src/rs/bearer-errors.js';
import { InvalidTokenError, ValidatorUnavailableError, type AuthInfo, type TokenValidator } from '../../src/validators/token-validator.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const NOW = Math.floor(Date.now() / 1000);

/** A fake validator (fine for a unit test of the gate): token string -> outcome. */
function fakeValidator(): TokenValidator & { answers: Map<string, AuthInfo | Error> } {
  const answers = new Map<string, AuthInfo | Error>();
  return {
    answers,
    async validate(token) {
      const a = answers.get(token) ?? new InvalidTokenError('unknown');
      if (a instanceof Error) throw a;
      return a;
    }
  };
}

const info = (token: string, scopes: string[], extra: Partial<AuthInfo> = {}): AuthInfo => ({
  token,
  subject: 'user-1',
  clientId: 'client-1',
  scopes,
  audience: [RESOURCE],
  expiresAt: NOW + 600,
  issuer: 'https://as.example.com',
  ...extra
});

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _e, done) {
      lines.push(String(chunk));
      done();
    }
  });
  return { logger: createLogger('debug', stream), lines };
}

describe('Bearer gate', () => {
  const validator = fakeValidator();
  const { logger, lines } = captureLogger();
  const outcomes: Array<[GateOutcome, string]> = [];
  let seen: { auth: unknown; body: unknown } | undefined;
  let server: http.Server;
  let base: string;

  before(async () => {
    const app = express();
    const gate = createBearerGate({
      validator,
      resource: RESOURCE,
      resourceMetadataUrl: PRM,
      toolScopes: { adminStats: ['mcp:admin'] },
      impliedScopes: { 'mcp:admin': ['mcp'] },
      logger,
      onOutcome: (o, r) => outcomes.push([o, r])
    });
    const handler: express.RequestHandler = (req, res) => {
      seen = { auth: req.auth, body: req.body };
      res.json({ ok: true });
    };
    app.all('/mcp', gate, handler);
    // A route whose body was already parsed upstream.
    app.post('/parsed', express.json(), gate, handler);
    // A route whose body was read upstream but could not be parsed (the MCP layer answers that later).
    const consume: express.RequestHandler = (req, _res, next) => {
      req.resume();
      req.once('end', () => next());
    };
    app.post('/consumed', consume, gate, handler);
    app.use(((err, _req, res, _next) => {
      res.status(500).json({ error: 'server_error', message: (err as Error).message });
    }) as express.ErrorRequestHandler);
    server = app.listen(0, '127.0.0.1');
    await new Promise(r => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    validator.answers.set('good', info('good', ['mcp']));
    validator.answers.set('admin', info('admin', ['mcp:admin']));
    validator.answers.set('audience', new InvalidTokenError('audience'));
    validator.answers.set('down', new ValidatorUnavailableError(undefined, 7));
    validator.answers.set('stale', info('stale', ['mcp'], { expiresAt: NOW - 1 }));
    validator.answers.set('buggy', new RangeError('validator bug'));
  });
  after(() => new Promise<void>(r => server.close(() => r())));
  beforeEach(() => {
    outcomes.length = 0;
    lines.length = 0;
    seen = undefined;
  });

  const call = (init: { token?: string; body?: unknown; method?: string; path?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${base}${init.path ?? '/mcp'}`, {
      method: init.method ?? 'POST',
      headers: {
        'content-type': 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...init.headers
      },
      body: init.method === 'GET' || init.method === 'OPTIONS' ? undefined : JSON.stringify(init.body ?? { jsonrpc: '2.0', id: 1, method: 'tools/list' })
    });
  const toolCall = (name: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } });

  it('answers a request without a token with 401 and the resource_metadata + scope challenge, no error code', async () => {
    const res = await call();
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${PRM}", scope="mcp"`);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    assert.deepEqual(await res.json(), { error: 'invalid_token', error_description: 'An access token is required' });
    assert.deepEqual(outcomes, [['missing', 'no_authorization_header']]);
  });

  it('treats another authentication scheme like no token', async () => {
    const res = await call({ headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${PRM}", scope="mcp"`);
  });

  it('answers an invalid token with 401 error="invalid_token" added to the challenge', async () => {
    const res = await call({ token: 'nope' });
    assert.equal(res.status, 401);
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer error="invalid_token", error_description="The access token is invalid, expired or not meant for this server", resource_metadata="${PRM}", scope="mcp"`
    );
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { error: 'invalid_token', error_description: 'The access token is invalid, expired or not meant for this server' });
  });

  it('refuses a token for another audience with 401 invalid_token and audits the reason, never the token', async () => {
    const res = await call({ token: 'audience' });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate')!, /^Bearer error="invalid_token"/);
    assert.deepEqual(outcomes, [['invalid_token', 'audience']]);
    const audit = lines.map(l => JSON.parse(l) as Record<string, unknown>).find(l => l.event === 'auth_failure');
    assert.equal(audit?.reason, 'audience');
    assert.equal(audit?.path, '/mcp');
    assert.ok(lines.every(l => !l.includes('Bearer audience')));
  });

  it('never writes the token value to the log', async () => {
    validator.answers.set('s3cr3t-token-value', new InvalidTokenError('revoked'));
    await call({ token: 's3cr3t-token-value' });
    await call({ token: 'good', body: toolCall('adminStats') });
    assert.ok(lines.length >= 2);
    assert.ok(lines.every(l => !l.includes('s3cr3t-token-value') && !l.includes('"good"')), lines.join('\n'));
  });

  it('refuses a token whose expiry has passed even if the validator returned it', async () => {
    const res = await call({ token: 'stale' });
    assert.equal(res.status, 401);
    assert.deepEqual(outcomes, [['invalid_token', 'expired']]);
  });

  it('refuses a malformed token value with 401 invalid_token', async () => {
    const res = await call({ headers: { authorization: 'Bearer a b"c' } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
  });

  it('never reads a token from the query string: access_token there is 400 invalid_request', async () => {
    const res = await call({ path: '/mcp?access_token=good' });
    assert.equal(res.status, 400);
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer error="invalid_request", error_description="The request carries the access token in an unsupported way; send it only in the Authorization header", resource_metadata="${PRM}"`
    );
    assert.equal((await res.json() as { error: string }).error, 'invalid_request');
    assert.equal(seen, undefined);
  });

  it('answers 503 with Retry-After and a JSON error when the validator cannot decide', async () => {
    const res = await call({ token: 'down' });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { error: 'temporarily_unavailable', error_description: 'The access token cannot be checked right now; retry later' });
    assert.deepEqual(outcomes, [['unavailable', 'validator_unavailable']]);
  });

  it('passes an unexpected validator failure to the error handler (500), never as 401', async () => {
    const res = await call({ token: 'buggy' });
    assert.equal(res.status, 500);
  });

  it('answers a tools/call of a scoped tool without that scope with 403 insufficient_scope naming the scope', async () => {
    const res = await call({ token: 'good', body: toolCall('adminStats') });
    assert.equal(res.status, 403);
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer error="insufficient_scope", error_description="The access token lacks the scope this operation requires", resource_metadata="${PRM}", scope="mcp:admin"`
    );
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await res.json(), { error: 'insufficient_scope', error_description: 'The access token lacks the scope this operation requires' });
    assert.deepEqual(outcomes, [['insufficient_scope', 'missing_scope']]);
    assert.equal(seen, undefined);
  });

  it('finds a scoped tools/call inside a JSON-RPC batch', async () => {
    const res = await call({ token: 'good', body: [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, toolCall('adminStats')] });
    assert.equal(res.status, 403);
  });

  it('lets the scoped tool through when the token has the scope, and a broader scope implies mcp', async () => {
    const res = await call({ token: 'admin', body: toolCall('adminStats') });
    assert.equal(res.status, 200);
    assert.deepEqual(checkScopes(['mcp:admin'], ['mcp'], { 'mcp:admin': ['mcp'] }), undefined);
  });

  it('lets other tools through with the base scope', async () => {
    const res = await call({ token: 'good', body: toolCall('echo') });
    assert.equal(res.status, 200);
  });

  it('sets req.auth to the SDK AuthInfo and leaves the parsed body in req.body', async () => {
    const body = toolCall('echo');
    const res = await call({ token: 'good', body });
    assert.equal(res.status, 200);
    const auth = seen!.auth as Record<string, unknown>;
    assert.deepEqual(
      { ...auth, resource: String(auth.resource) },
      {
        token: 'good',
        clientId: 'client-1',
        scopes: ['mcp'],
        expiresAt: NOW + 600,
        resource: RESOURCE,
        resourceMetadataUrl: PRM,
        extra: { subject: 'user-1', issuer: 'https://as.example.com' }
      }
    );
    assert.ok(auth.resource instanceof URL);
    assert.deepEqual(seen!.body, body);
    assert.deepEqual(outcomes, [['ok', 'ok']]);
  });

  it('uses a body that was already parsed upstream', async () => {
    const res = await call({ token: 'good', path: '/parsed', body: toolCall('adminStats') });
    assert.equal(res.status, 403);
    const ok = await call({ token: 'admin', path: '/parsed', body: toolCall('adminStats') });
    assert.equal(ok.status, 200);
    assert.deepEqual(seen!.body, toolCall('adminStats'));
  });

  it('answers a malformed JSON body from an authenticated client with a JSON-RPC parse error', async () => {
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer good' }, body: '{"jsonrpc":' });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  });

  it('does not read a body that an upstream reader already consumed', async () => {
    const res = await fetch(`${base}/consumed`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer good' }, body: '{"jsonrpc":' });
    assert.equal(res.status, 200);
    assert.equal(seen!.body, undefined);
  });

  it('does not gate CORS preflights', async () => {
    const res = await call({ method: 'OPTIONS' });
    assert.equal(res.status, 200);
    assert.deepEqual(outcomes, []);
  });

  it('gates GET (the SSE stream) with the same challenge', async () => {
    const res = await call({ method: 'GET' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${PRM}", scope="mcp"`);
  });
});

describe('Bearer gate steps', () => {
  it('extracts the token from "Bearer <token>" case-insensitively', () => {
    assert.equal(extractBearerToken('Bearer abc.DEF-123_~+/=', {}), 'abc.DEF-123_~+/=');
    assert.equal(extractBearerToken('bearer abc', {}), 'abc');
  });

  it('classifies header problems', () => {
    const code = (h: string | undefined, q: unknown = {}) => {
      try {
        extractBearerToken(h, q);
        return 'ok';
      } catch (e) {
        return `${(e as GateError).code}/${(e as GateError).reason}`;
      }
    };
    assert.equal(code(undefined), 'missing_token/no_authorization_header');
    assert.equal(code('Basic x'), 'missing_token/not_bearer_scheme');
    assert.equal(code('Bearer'), 'invalid_token/empty_token');
    assert.equal(code('Bearer a,b'), 'invalid_token/malformed_token');
    assert.equal(code('Bearer abc', { access_token: 'abc' }), 'invalid_request/token_in_query');
  });

  it('collects the union of scopes over every scoped tools/call', () => {
    const map = { a: ['s1'], b: ['s1', 's2'] };
    assert.deepEqual(requiredScopesFor({ method: 'tools/call', params: { name: 'b' } }, map), ['s1', 's2']);
    assert.deepEqual(requiredScopesFor([{ method: 'tools/call', params: { name: 'a' } }, { method: 'tools/call', params: { name: 'x' } }], map), ['s1']);
    assert.deepEqual(requiredScopesFor({ method: 'tools/call', params: { name: 'toString' } }, map), []);
    assert.deepEqual(requiredScopesFor(undefined, map), []);
  });

  it('names every required scope in one challenge, not one at a time', () => {
    assert.throws(
      () => checkScopes(['mcp'], ['mcp', 'files:write', 'mcp:admin']),
      (e: unknown) => e instanceof GateError && e.code === 'insufficient_scope' && e.extra.scopes?.join(' ') === 'mcp files:write mcp:admin'
    );
  });
});
