/**
 * The legacy HTTP+SSE transport (`GET /sse` + `POST /message`) is the same
 * protected resource as `/mcp`, reachable at another URL: its challenges name
 * its own RFC 9728 document, a token issued for either URL works on every
 * endpoint, and a token for another server is still refused. Real app, real
 * AS, tokens obtained through the scripted OAuth flow (test/helpers/oauth.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openLegacySession, SseStream } from '../mcp/helpers/http.js';
import { obtainTokens } from '../helpers/oauth.js';

const INVALID_TOKEN_DESCRIPTION = 'The access token is invalid, expired or not meant for this server';

function captureLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _e, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    }
  });
  return { logger: createLogger('info', sink), entries: () => lines.map(l => JSON.parse(l) as Record<string, unknown>) };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function postMessage(url: string, endpoint: string, message: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL(endpoint, url), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(message) });
}

/** Opens GET /sse with `token`, initializes over POST /message, calls echo; returns the echoed text. */
async function echoOverLegacySse(url: string, token: string, message: string): Promise<string> {
  const sse = new SseStream(`${url}/sse`, { headers: { accept: 'text/event-stream', ...bearer(token) } });
  try {
    await sse.opened;
    assert.equal(sse.status, 200, 'GET /sse accepted the token');
    const endpoint = await sse.waitFor(s => s.events.find(e => e.event === 'endpoint')?.data);
    const init = await postMessage(url, endpoint, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '1' } }
    }, bearer(token));
    assert.equal(init.status, 202, 'POST /message accepted the token');
    await sse.waitFor(s => s.messages().find(m => m.id === 1));
    assert.equal((await postMessage(url, endpoint, { jsonrpc: '2.0', method: 'notifications/initialized' }, bearer(token))).status, 202);
    const call = await postMessage(url, endpoint, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message } } }, bearer(token));
    assert.equal(call.status, 202);
    const result = await sse.waitFor(s => s.messages().find(m => m.id === 2));
    return (result.result.content as Array<{ text: string }>).map(c => c.text).join('');
  } finally {
    sse.close();
  }
}

/** Opens a 2025-11-25 session on /mcp with `token` and calls echo. */
async function echoOverMcp(url: string, token: string, message: string): Promise<string> {
  const session = await openLegacySession(`${url}/mcp`, `Bearer ${token}`);
  const res = await session.post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message } } });
  assert.equal(res.status, 200);
  return (res.messages[0]!.result.content as Array<{ text: string }>).map(c => c.text).join('');
}

describe('legacy HTTP+SSE as a protected resource (internal mode)', () => {
  let server: RunningServer;
  let url: string;
  before(async () => {
    server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
    url = server.url;
  });
  after(() => server.close());

  const ssePrm = () => `${url}/.well-known/oauth-protected-resource/sse`;
  const mcpPrm = () => `${url}/.well-known/oauth-protected-resource/mcp`;

  it('GET /sse and POST /message without a token answer 401 naming the /sse metadata document', async () => {
    const open = await fetch(`${url}/sse`, { headers: { accept: 'text/event-stream' } });
    assert.equal(open.status, 401);
    assert.equal(open.headers.get('www-authenticate'), `Bearer resource_metadata="${ssePrm()}", scope="mcp"`);
    assert.match(open.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    await open.body?.cancel();

    const message = await postMessage(url, '/message?sessionId=00000000-0000-4000-8000-000000000000', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(message.status, 401);
    assert.equal(message.headers.get('www-authenticate'), `Bearer resource_metadata="${ssePrm()}", scope="mcp"`);
    await message.body?.cancel();

    // /mcp keeps its own document.
    const mcp = await fetch(`${url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(mcp.status, 401);
    assert.equal(mcp.headers.get('www-authenticate'), `Bearer resource_metadata="${mcpPrm()}", scope="mcp"`);
    await mcp.body?.cancel();
  });

  it('an invalid token on /sse gets invalid_token naming the /sse document', async () => {
    const res = await fetch(`${url}/sse`, { headers: { accept: 'text/event-stream', ...bearer('not-a-real-token') } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer error="invalid_token", error_description="${INVALID_TOKEN_DESCRIPTION}", resource_metadata="${ssePrm()}", scope="mcp"`);
    await res.body?.cancel();
  });

  it('the /sse metadata document names this server as the AS and resource = the /sse URL', async () => {
    const doc = (await (await fetch(ssePrm())).json()) as Record<string, unknown>;
    assert.equal(doc.resource, `${url}/sse`);
    assert.equal(doc.resource, server.config.legacySseUrl);
    assert.deepEqual(doc.authorization_servers, [server.config.issuer]);
  });

  it('a token issued for the /sse URL works on /sse and /message, and on /mcp', async () => {
    const t = await obtainTokens(url, { resource: `${url}/sse` });
    assert.equal(await echoOverLegacySse(url, t.accessToken, 'legacy'), 'Echo: legacy');
    assert.equal(await echoOverMcp(url, t.accessToken, 'modern'), 'Echo: modern');
  });

  it('a token issued for the /mcp URL works on /sse and /message too (one server)', async () => {
    const t = await obtainTokens(url, { resource: `${url}/mcp` });
    assert.equal(await echoOverLegacySse(url, t.accessToken, 'from mcp'), 'Echo: from mcp');
  });

  it('a step-up on /message answers 403 insufficient_scope naming the /sse document', async () => {
    const t = await obtainTokens(url, { resource: `${url}/sse` });
    const res = await postMessage(url, '/message?sessionId=00000000-0000-4000-8000-000000000000', {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'adminStats', arguments: {} }
    }, bearer(t.accessToken));
    assert.equal(res.status, 403);
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer error="insufficient_scope", error_description="The access token lacks the scope this operation requires", resource_metadata="${ssePrm()}", scope="mcp:admin"`
    );
    await res.body?.cancel();
  });
});

describe('legacy HTTP+SSE: tokens for another server are refused (external mode, introspection)', () => {
  const OTHER = 'https://other.example';
  let as: RunningServer;
  let rs: RunningServer;
  const log = captureLogger();
  before(async () => {
    const creds = { INTROSPECTION_CLIENT_ID: 'rs-client', INTROSPECTION_CLIENT_SECRET: randomBytes(32).toString('base64url') };
    // An AS that issues tokens for another MCP server (its /mcp and /sse URLs).
    as = await startServer(loadConfig({ AUTH_MODE: 'auth_server', PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', LOG_LEVEL: 'silent', MCP_RESOURCE_URL: `${OTHER}/mcp`, ...creds }), {
      logger: createLogger('silent')
    });
    rs = await startServer(
      loadConfig({
        AUTH_MODE: 'external',
        AUTH_SERVER_URL: as.url,
        PORT: '0',
        HOST: '127.0.0.1',
        NODE_ENV: 'test',
        TOKEN_VALIDATION: 'introspection',
        INTROSPECTION_CACHE_TTL: '0',
        ...creds
      }),
      { logger: log.logger }
    );
  });
  after(async () => {
    await rs?.close();
    await as?.close();
  });

  it('refuses on /sse, /message and /mcp a token whose audience is the other server’s /sse or /mcp URL', async () => {
    for (const resource of [`${OTHER}/sse`, `${OTHER}/mcp`]) {
      const { accessToken } = await obtainTokens(as.url, { resource });
      const attempts: Array<[string, Promise<Response>]> = [
        ['GET /sse', fetch(`${rs.url}/sse`, { headers: { accept: 'text/event-stream', ...bearer(accessToken) } })],
        ['POST /message', postMessage(rs.url, '/message?sessionId=00000000-0000-4000-8000-000000000000', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, bearer(accessToken))],
        [
          'POST /mcp',
          fetch(`${rs.url}/mcp`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(accessToken) },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
          })
        ]
      ];
      for (const [what, pending] of attempts) {
        const res = await pending;
        assert.equal(res.status, 401, `${what} with aud ${resource}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/, what);
        await res.body?.cancel();
      }
    }
    const refusals = log.entries().filter(e => e.event === 'auth_failure');
    assert.equal(refusals.length, 6);
    assert.ok(refusals.every(e => e.reason === 'audience'), JSON.stringify(refusals.map(e => e.reason)));
  });
});
