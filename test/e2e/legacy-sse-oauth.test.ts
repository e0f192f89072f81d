/**
 * The whole OAuth flow for a 2024-11-05 client on the deprecated HTTP+SSE
 * transport, with the SDK v2 client's `SSEClientTransport` and an
 * `OAuthClientProvider`, black box over real sockets:
 *
 *   GET /sse -> 401 naming /.well-known/oauth-protected-resource/sse ->
 *   resource = <BASE_URI>/sse (the SDK's checkResourceAllowed accepts it) ->
 *   AS metadata -> dynamic registration -> PKCE + resource=/sse ->
 *   consent + demo IdP (scripted HTTP, test/helpers/oauth.ts) -> finishAuth ->
 *   GET /sse + POST /message with the token -> tools/call echo.
 *
 * Before the /sse document existed the SDK fell back to the root document
 * (resource = /mcp) and refused it ("Protected resource … does not match expected …/sse").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client, SSEClientTransport, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../helpers/free-port.js';
import { OAuthBrowser } from '../helpers/oauth.js';
import { TestOAuthProvider } from './support.js';

// Never dialled: the scripted browser never follows the redirect to the client.
const REDIRECT = `http://127.0.0.1:${await freePort()}/callback`;

async function echo(client: Client, message: string): Promise<string> {
  const result = (await client.callTool({ name: 'echo', arguments: { message } })) as { content: Array<{ type: string; text?: string }> };
  return result.content.map(c => c.text ?? '').join('');
}

/** Plays the person at the browser over plain HTTP: consent (Approve), then the demo IdP; returns the callback URL. */
async function approve(issuer: string, authorizationUrl: URL): Promise<URL> {
  const browser = new OAuthBrowser(issuer);
  const { fields } = await browser.openConsent(authorizationUrl.href);
  const idp = await browser.decide(fields, 'approve');
  return new URL(await browser.signIn(idp, 'alice'));
}

describe('OAuth end to end on the legacy HTTP+SSE transport (SDK v2 SSEClientTransport)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
  });
  after(() => server.close());

  it('discovers the AS from the /sse 401, registers, authorizes with PKCE and resource=/sse, then calls echo over /sse + /message', async () => {
    const sseUrl = new URL(`${server.url}/sse`);
    const provider = new TestOAuthProvider(REDIRECT);

    // 1. No token: the SDK reads the challenge, discovers, registers and sends the user to /authorize.
    const first = new SSEClientTransport(sseUrl, { authProvider: provider });
    await assert.rejects(new Client({ name: 'e2e-sse', version: '1.0.0' }).connect(first), UnauthorizedError);
    const authorizationUrl = provider.authorizationUrls.at(-1);
    assert.ok(authorizationUrl, 'the SDK sent the user to the authorization server');
    assert.equal(`${authorizationUrl.origin}${authorizationUrl.pathname}`, `${server.config.issuer}/authorize`);
    const registered = provider.info?.client_id;
    assert.ok(registered && !registered.startsWith('http'), 'registered dynamically (RFC 7591)');
    assert.equal(authorizationUrl.searchParams.get('client_id'), registered);
    assert.equal(authorizationUrl.searchParams.get('resource'), `${server.url}/sse`);
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorizationUrl.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((authorizationUrl.searchParams.get('scope') ?? '').split(' ').includes('mcp'));
    assert.equal(provider.discoveryState()?.resourceMetadataUrl, `${server.url}/.well-known/oauth-protected-resource/sse`);

    // 2. Consent and the demo IdP, then the code exchange (with resource=/sse).
    const callback = await approve(server.config.issuer, authorizationUrl);
    assert.equal(callback.searchParams.get('state'), provider.lastState);
    assert.equal(callback.searchParams.get('iss'), server.config.issuer);
    assert.ok(callback.searchParams.get('code'));
    await first.finishAuth(callback.searchParams);
    const token = provider.tokens()?.access_token;
    assert.ok(token, 'the SDK stored an access token');

    // 3. Connected over GET /sse + POST /message with the token.
    const client = new Client({ name: 'e2e-sse', version: '1.0.0' });
    await client.connect(new SSEClientTransport(sseUrl, { authProvider: provider }));
    assert.equal(await echo(client, 'over legacy SSE'), 'Echo: over legacy SSE');
    await client.close();

    // 4. The same token (aud = /sse) is good on /mcp: one server, two transports.
    const modern = new Client({ name: 'e2e-mcp', version: '1.0.0' });
    await modern.connect(new StreamableHTTPClientTransport(new URL(server.config.mcpUrl), { authProvider: { token: async () => token } }));
    assert.equal(await echo(modern, 'over /mcp'), 'Echo: over /mcp');
    await modern.close();
  });
});
