import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import express from 'express';

import { legacySseUrlFor, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createProtectedResource } from '../../src/rs/index.js';
import { protectedResourceMetadataPaths, protectedResourceMetadataUrl } from '../../src/rs/protected-resource-metadata.js';
import type { TokenValidator } from '../../src/validators/token-validator.js';

const logger = createLogger('silent');
const noValidator: TokenValidator = { validate: async () => Promise.reject(new Error('not used')) };

async function serve(config: ReturnType<typeof loadConfig>) {
  const app = express();
  const rs = createProtectedResource({ config, validator: noValidator, logger });
  app.use(rs.router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise(r => server.once('listening', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, rs };
}

describe('Protected resource metadata (RFC 9728)', () => {
  const config = loadConfig({ BASE_URI: 'http://localhost:4777' });
  let server: http.Server;
  let base: string;
  before(async () => {
    ({ server, base } = await serve(config));
  });
  after(() => new Promise<void>(r => server.close(() => r())));

  const expected = {
    resource: 'http://localhost:4777/mcp',
    authorization_servers: ['http://localhost:4777'],
    scopes_supported: ['mcp', 'mcp:admin'],
    bearer_methods_supported: ['header'],
    resource_name: 'MCP Feature Reference Server'
  };

  it('serves the document at the path of the MCP endpoint, with resource equal to the canonical MCP URL', async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await res.json(), expected);
  });

  it('serves the same document at the root well-known URI', async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await res.json(), expected);
  });

  it('serves a document for the legacy HTTP+SSE endpoint at /.well-known/oauth-protected-resource/sse, resource = the /sse URL', async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/sse`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await res.json(), { ...expected, resource: 'http://localhost:4777/sse' });
  });

  it('leaves the root document to the MCP URL and serves nothing for other paths', async () => {
    assert.equal(((await (await fetch(`${base}/.well-known/oauth-protected-resource`)).json()) as { resource: string }).resource, 'http://localhost:4777/mcp');
    for (const path of ['/.well-known/oauth-protected-resource/message', '/.well-known/oauth-protected-resource/sse/x']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
  });

  it('advertises the /sse document in the legacy challenges', () => {
    assert.equal(config.legacySseUrl, 'http://localhost:4777/sse');
    const rs = createProtectedResource({ config, validator: noValidator, logger });
    assert.equal(rs.resourceMetadataUrl, 'http://localhost:4777/.well-known/oauth-protected-resource/mcp');
    assert.equal(rs.legacySseResourceMetadataUrl, 'http://localhost:4777/.well-known/oauth-protected-resource/sse');
  });

  it('derives the legacy SSE URL from the MCP URL: same origin, sibling path (MCP_RESOURCE_URL in auth_server mode)', () => {
    assert.equal(legacySseUrlFor('https://mcp.example.com/mcp'), 'https://mcp.example.com/sse');
    assert.equal(legacySseUrlFor('https://host.example/tenant/mcp'), 'https://host.example/tenant/sse');
    assert.equal(loadConfig({ BASE_URI: 'https://host.example/tenant' }).legacySseUrl, 'https://host.example/tenant/sse');
    const as = loadConfig({ AUTH_MODE: 'auth_server', BASE_URI: 'https://as.example.com', MCP_RESOURCE_URL: 'https://mcp.example.com/mcp/' });
    assert.equal(as.mcpUrl, 'https://mcp.example.com/mcp');
    assert.equal(as.legacySseUrl, 'https://mcp.example.com/sse');
  });

  it('answers CORS preflights on every metadata route with 204 and the allowed methods and headers', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/sse']) {
      const res = await fetch(`${base}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'http://inspector.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' }
      });
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD, OPTIONS');
      assert.match(res.headers.get('access-control-allow-headers')!, /MCP-Protocol-Version/);
    }
  });

  it('answers other methods with 405 and an Allow header', async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  it('advertises the path-specific URL in challenges', () => {
    assert.equal(protectedResourceMetadataUrl('http://localhost:4777/mcp'), 'http://localhost:4777/.well-known/oauth-protected-resource/mcp');
    assert.deepEqual(protectedResourceMetadataPaths('https://host.example/tenant/mcp'), ['/.well-known/oauth-protected-resource/tenant/mcp', '/.well-known/oauth-protected-resource']);
  });

  it('names the external authorization server in external mode', async () => {
    const ext = loadConfig({ AUTH_MODE: 'external', AUTH_SERVER_URL: 'https://tenant.auth0.com/', BASE_URI: 'https://mcp.example.com' });
    const s = await serve(ext);
    try {
      const doc = (await (await fetch(`${s.base}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
      assert.equal(doc.resource, 'https://mcp.example.com/mcp');
      assert.deepEqual(doc.authorization_servers, ['https://tenant.auth0.com/']);
      assert.equal(s.rs.resourceMetadataUrl, 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
      const sse = (await (await fetch(`${s.base}/.well-known/oauth-protected-resource/sse`)).json()) as Record<string, unknown>;
      assert.equal(sse.resource, 'https://mcp.example.com/sse');
      assert.deepEqual(sse.authorization_servers, ['https://tenant.auth0.com/']);
    } finally {
      await new Promise<void>(r => s.server.close(() => r()));
    }
  });
});
