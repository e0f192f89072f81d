/**
 * /mcp refuses what it must refuse with the spec's HTTP status and a
 * JSON-RPC error body, never a stack trace: DNS-rebinding Host/Origin,
 * oversized bodies, non-JSON, malformed JSON, wrong verbs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { ACCEPT, LEGACY, raw } from './helpers/http.js';

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 't', version: '1' } }
});

describe('HTTP protections on /mcp', () => {
  let app: McpTestApp;
  before(async () => {
    app = await startMcpApp({ env: { MAX_BODY_BYTES: '2048', ALLOWED_HOSTS: 'mcp.internal,proxy.example:8443', ALLOWED_ORIGINS: 'https://inspector.example' } });
  });
  after(() => app.close());

  const post = (headers: Record<string, string>, body: string) =>
    raw(app.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers }, body });

  it('rejects a foreign Host header with 403 and a JSON-RPC error', async () => {
    const res = await post({ host: 'evil.example.com' }, initialize);
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.body), { jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: Host header not allowed' }, id: null });
  });

  it('rejects a foreign Origin with 403 even when Host is localhost', async () => {
    const res = await post({ origin: 'http://evil.example.com' }, initialize);
    assert.equal(res.status, 403);
    assert.equal(JSON.parse(res.body).error.message, 'Forbidden: Origin not allowed');
  });

  it('rejects the opaque origin "null"', async () => {
    const res = await post({ origin: 'null' }, initialize);
    assert.equal(res.status, 403);
  });

  it('accepts loopback hosts on any port, ALLOWED_HOSTS entries and ALLOWED_ORIGINS', async () => {
    const cases: Array<Record<string, string>> = [
      { host: `127.0.0.1:${app.port}` },
      { host: '[::1]:9' },
      { host: 'mcp.internal:1234' },
      { host: 'proxy.example:8443' },
      { origin: `http://localhost:${app.port}` },
      { origin: 'https://inspector.example' }
    ];
    for (const headers of cases) {
      const res = await post(headers, initialize);
      assert.equal(res.status, 200, `expected 200 for ${JSON.stringify(headers)}`);
    }
  });

  it('holds a port-qualified ALLOWED_HOSTS entry to that port', async () => {
    const res = await post({ host: 'proxy.example:9999' }, initialize);
    assert.equal(res.status, 403);
  });

  it('answers a body over MAX_BODY_BYTES with 413 and JSON-RPC -32000', async () => {
    const res = await post({}, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(4096) } }));
    assert.equal(res.status, 413);
    assert.deepEqual(JSON.parse(res.body), { jsonrpc: '2.0', error: { code: -32000, message: 'Payload Too Large: the request body exceeds 2048 bytes' }, id: null });
  });

  it('answers a streamed (chunked) body over the limit with 413 too', async () => {
    const res = await raw(app.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'transfer-encoding': 'chunked' },
      body: `{"pad":"${'y'.repeat(5000)}"}`
    });
    assert.equal(res.status, 413);
  });

  it('answers malformed JSON with 400 and -32700', async () => {
    const res = await post({}, '{"jsonrpc": "2.0", "id": 1, "method": ');
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body), { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: Invalid JSON' }, id: null });
  });

  it('answers a non-JSON media type with 415', async () => {
    const res = await post({ 'content-type': 'text/plain' }, initialize);
    assert.equal(res.status, 415);
    assert.equal(JSON.parse(res.body).error.code, -32000);
  });

  it('answers GET without a session with 405 and DELETE without a session with 405', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await raw(app.mcpUrl, { method, headers: { accept: 'text/event-stream' } });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers['allow'], 'POST');
    }
  });

  it('answers other verbs with 405', async () => {
    const res = await raw(app.mcpUrl, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 405);
    assert.equal(JSON.parse(res.body).error.message, 'Method not allowed');
  });

  it('answers a wrong verb on /sse and /message with 405, Allow and a JSON-RPC error, not an HTML 404 (found by the fuzzer)', async () => {
    const base = app.mcpUrl.replace(/\/mcp$/, '');
    for (const [path, method, allow] of [['/sse', 'POST', 'GET, OPTIONS'], ['/message', 'GET', 'POST, OPTIONS'], ['/message', 'PUT', 'POST, OPTIONS']] as const) {
      const res = await raw(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.allow, allow);
      const body = JSON.parse(res.body) as { jsonrpc: string; error: { code: number; message: string } };
      assert.equal(body.jsonrpc, '2.0');
      assert.equal(body.error.message, 'Method not allowed');
    }
  });

  it('answers HEAD on /mcp and /sse with 405 at once instead of opening a stream it never answers (found by the fuzzer)', async () => {
    const base = app.mcpUrl.replace(/\/mcp$/, '');
    for (const path of ['/mcp', '/sse']) {
      const res = await raw(`${base}${path}`, { method: 'HEAD', headers: { accept: 'text/event-stream', 'mcp-protocol-version': LEGACY } });
      assert.equal(res.status, 405, path);
      assert.match(String(res.headers.allow), /^GET/);
    }
  });

  it('answers a 2025 request without a session id with 400', async () => {
    const res = await post({}, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }));
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).error.message, 'Bad Request: Mcp-Session-Id header is required');
  });

  it('answers a CORS preflight without authentication, exposing the MCP headers', async () => {
    const res = await raw(app.mcpUrl, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, mcp-param-region' }
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:6274');
    assert.equal(res.headers['access-control-allow-headers'], 'authorization, mcp-param-region');
  });

  it('exposes Mcp-Session-Id, WWW-Authenticate and MCP-Protocol-Version to browsers', async () => {
    const res = await post({ origin: 'http://localhost:6274' }, initialize);
    assert.equal(res.status, 200);
    const exposed = String(res.headers['access-control-expose-headers']).split(',');
    for (const h of ['Mcp-Session-Id', 'WWW-Authenticate', 'MCP-Protocol-Version']) assert.ok(exposed.includes(h), h);
    assert.match(String(res.headers['vary']), /Origin/);
  });

  it('sends no CORS headers to a request without Origin (not a browser CORS request), but still Vary: Origin', async () => {
    const res = await post({}, initialize);
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-expose-headers'], undefined);
    assert.match(String(res.headers['vary']), /Origin/);
  });

  it('answers OPTIONS without Origin through the CORS handler too (204, not 405)', async () => {
    const res = await raw(app.mcpUrl, { method: 'OPTIONS', headers: {} });
    assert.equal(res.status, 204);
  });
});
