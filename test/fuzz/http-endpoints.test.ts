/**
 * Property-based fuzzing (fast-check) of every HTTP endpoint of the running
 * server (startServer on port 0, memory store, AUTH_MODE=internal):
 * JSON-RPC bodies for every MCP method on /mcp, /sse and /message; the OAuth
 * endpoints' forms and query strings (/register, /authorize, consent, the demo
 * IdP, /token, /introspect, /revoke); the headers Host, Origin,
 * Authorization, MCP-Protocol-Version, Mcp-Session-Id, Last-Event-ID.
 *
 * Properties of every answer (./properties.ts): never a 5xx, never a crash
 * (the server runs in this process), never a stack trace or internal path in
 * a body, errors in the spec's shape (OAuth error JSON from the RFC set,
 * JSON-RPC error objects, WWW-Authenticate on 401); and a rejected request
 * (4xx) changes nothing in the store but the rate-limit counters.
 *
 * `npm test` runs a bounded number of cases (FUZZ_RUNS, default 30 per
 * endpoint group, a few seconds); `npm run fuzz -- --runs N [--seed S]` runs
 * long ones and prints which answers the cases reached (FUZZ_STATS).
 * A failure prints the seed and the shrunk request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { authorizationUrl, authorizeCode, obtainTokens, OAuthBrowser, parseHiddenFields, pkcePair, registerClient, type AsMetadata } from '../helpers/oauth.js';
import { authorizeRequest, interactionRequest, introspectOrRevokeRequest, mcpRequest, registerRequest, tokenRequest, type FuzzRequest, type Known } from './arbitraries.js';
import { checkResponse, send, storeChanges } from './properties.js';

/** A few turns of the event loop and timers (no assertion depends on it). */
const settle = () => new Promise(resolve => setTimeout(resolve, 5));

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

describe('fuzzing every HTTP endpoint (fast-check)', () => {
  let server: RunningServer;
  let store: MemoryStore;
  let known: Known;
  let metadata: AsMetadata;
  let redirectUri: string;
  let publicClientId: string;
  const live = { consent: {} as Record<string, string>, idp: {} as Record<string, string>, cookie: '', sessionId: '' };
  /** Fresh codes (with their verifiers) and refresh tokens of the public client; used ones stay for replays. */
  const codes: Array<{ code: string; verifier: string; used: boolean }> = [];
  const refreshTokens: string[] = [];
  let mcpToken: string;

  /** Opens a fresh consent page and a fresh IdP page, so that live hidden fields exist. */
  async function refreshInteractions(): Promise<void> {
    const browser = new OAuthBrowser(server.url);
    const open = () => browser.openConsent(authorizationUrl(metadata, { clientId: publicClientId, redirectUri, challenge: pkcePair().challenge, scope: 'mcp', state: 's', resource: `${server.url}/mcp` }));
    const first = await open();
    const idpUrl = await browser.decide(first.fields, 'approve');
    const idpPage = await browser.get(idpUrl);
    live.idp = parseHiddenFields(await idpPage.text());
    live.consent = (await open()).fields;
    live.cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Runs the browser part of the flow for one more code. */
  async function addCode(): Promise<void> {
    const { verifier, challenge } = pkcePair();
    const { code } = await authorizeCode(server.url, { clientId: publicClientId, redirectUris: [redirectUri], authMethod: 'none' }, { challenge, scope: 'mcp offline_access' });
    codes.push({ code, verifier, used: false });
  }

  /** Opens a 2025-11-25 session (again, after a fuzzed DELETE ended it). */
  async function openSession(): Promise<void> {
    const init = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mcpToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } })
    });
    await init.text();
    const sessionId = init.headers.get('mcp-session-id');
    assert.ok(sessionId, `initialize answered ${init.status} without a session`);
    live.sessionId = sessionId;
  }

  before(async () => {
    store = new MemoryStore();
    const config = loadConfig({
      NODE_ENV: 'test',
      AUTH_MODE: 'internal',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_MAX: '1000000',
      RESOURCE_UPDATE_INTERVAL: '3600',
      LOG_MESSAGE_INTERVAL: '3600'
    });
    server = await startServer(config, { store, logger: createLogger('silent') });
    const mcp = await obtainTokens(server.url, { scope: 'mcp mcp:admin', clientName: 'Fuzz MCP' });
    const spare = await obtainTokens(server.url, { scope: 'mcp', clientName: 'Fuzz spare' });
    const confidential = await registerClient(server.url, { authMethod: 'client_secret_basic', clientName: 'Fuzz confidential' });
    metadata = mcp.metadata;
    redirectUri = mcp.redirectUri;
    publicClientId = mcp.clientId;
    mcpToken = mcp.accessToken;
    await openSession();
    await refreshInteractions();
    // Refresh tokens of their own grants (a reuse revokes its grant, never the MCP token's).
    for (let i = 0; i < 3; i++) {
      const { verifier, challenge } = pkcePair();
      const { code } = await authorizeCode(server.url, { clientId: publicClientId, redirectUris: [redirectUri], authMethod: 'none' }, { challenge, scope: 'mcp offline_access' });
      const res = await fetch(metadata.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: publicClientId })
      });
      const rt = ((await res.json()) as { refresh_token?: string }).refresh_token;
      assert.ok(rt, 'no refresh token for the pool');
      refreshTokens.push(rt);
    }
    for (let i = 0; i < 3; i++) await addCode();
    known = {
      port: server.config.port,
      mcpToken: mcp.accessToken,
      spareToken: spare.accessToken,
      sessionId: () => live.sessionId,
      clientId: mcp.clientId,
      confidentialClientId: confidential.clientId,
      confidentialClientSecret: confidential.clientSecret!,
      redirectUri,
      consentFields: () => live.consent,
      idpFields: () => live.idp,
      cookie: () => live.cookie,
      nextCode: () => {
        const fresh = codes.find(c => !c.used) ?? codes[Math.floor(Math.random() * codes.length)]!;
        fresh.used = true;
        return fresh;
      },
      nextRefreshToken: () => refreshTokens[Math.floor(Math.random() * refreshTokens.length)]!
    };
  });

  after(() => server?.close());

  /** One fuzz case: send, check the answer, and for a rejection compare the store. */
  async function exercise(req: FuzzRequest): Promise<number> {
    // Let the previous case's asynchronous aftermath (stream and session
    // cleanup) land before the snapshot, so that it is not blamed on this one.
    await settle();
    const before = store.snapshot();
    const res = await send(known.port, req);
    checkResponse(req, res);
    if (res.status >= 400) {
      await settle();
      const changes = storeChanges(before, store.snapshot());
      // By design, a failed code or refresh exchange may only delete: a code is
      // single-use even when its exchange fails (RFC 6749 §4.1.2), and a
      // replayed code or a reused refresh token revokes its grant (§10.5,
      // RFC 9700 §4.14.2).
      const allowed = req.path === '/token' && res.status === 400 ? changes.filter(c => !/^- auth:(pending|grant|installation|refresh|refresh-used|refresh-line|exch):/.test(c)) : changes;
      assert.deepEqual(allowed, [], `${req.method} ${req.path.slice(0, 80)} was rejected with ${res.status} but changed the store`);
    }
    // A fuzzed DELETE may end the live session: open another for the next cases.
    if (req.method === 'DELETE' && res.status === 200) await openSession();
    return res.status;
  }

  const groups: Array<[string, (k: Known) => fc.Arbitrary<FuzzRequest>]> = [
    ['MCP endpoints (/mcp, /sse, /message): JSON-RPC bodies, batches, headers', k => mcpRequest(k)],
    ['POST /register', k => registerRequest(k)],
    ['GET /authorize', k => authorizeRequest(k)],
    ['consent and the demo IdP', k => interactionRequest(k)],
    ['POST /token', k => tokenRequest(k)],
    ['POST /introspect and /revoke', k => introspectOrRevokeRequest(k)]
  ];

  for (const [name, arbitrary] of groups) {
    it(`${name}: no 5xx, no leak, spec-shaped errors, rejections change nothing`, { timeout: Math.max(120_000, RUNS * 1000) }, async t => {
      let n = 0;
      const statuses = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.constant(null).chain(() => arbitrary(known)),
          async req => {
            // Live consent/IdP pages and codes are single-use: make new ones now and then.
            n++;
            if (name.startsWith('consent') && n % 20 === 0) await refreshInteractions();
            if (name.startsWith('POST /token') && n % 10 === 0) await addCode();
            const status = await exercise(req);
            const key = `${req.method} ${req.path.split('?')[0]} ${status}`;
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
          }
        ),
        { numRuns: RUNS, seed: SEED, includeErrorInReport: true }
      );
      // Which answers the cases reached (npm run fuzz prints them: did the fuzzer get past the first checks?).
      if (process.env.FUZZ_STATS) t.diagnostic([...statuses].sort().map(([k, c]) => `${k}: ${c}`).join('\n'));
    });
  }
});
