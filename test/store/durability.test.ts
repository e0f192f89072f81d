/**
 * Durability of what a client was told about (docs/operations.md,
 * "Persistence: what a Redis crash can lose"): a real redis-server with an
 * append-only file and `appendfsync everysec`; a client registers and gets
 * tokens; more than a second later redis-server is killed with SIGKILL (no
 * shutdown save) and started again on the same directory. The client, the
 * access token and the refresh token still work, through the same running
 * server, which reconnected by itself.
 *
 * The control case runs the same steps on a Redis without persistence and
 * sees them lost, so this test can tell the difference.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { introspect, obtainTokens, refreshRequest, registerClient, type ObtainedTokens } from '../helpers/oauth.js';
import { startTestRedis, type TestRedis, type TestRedisOptions } from '../helpers/redis-server.js';

const RS = { clientId: 'durability-rs', clientSecret: 'durability-rs-secret-0123456789abcdefXYZ', authMethod: 'client_secret_basic' as const };
/** appendfsync everysec writes the file once a second: wait past two of them. */
const PAST_FSYNC_MS = 2500;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Polls /ready until storage answers again (bounded). */
async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${url}/ready`).catch(() => undefined))?.status === 200) return;
    await sleep(50);
  }
  throw new Error('server did not become ready after the Redis restart');
}

interface Outcome {
  accessActive: boolean;
  refreshStatus: number;
  clientKnown: boolean;
}

async function crashScenario(options: TestRedisOptions): Promise<Outcome> {
  if (process.env.REDIS_URL) throw new Error('this test starts its own redis-server; unset REDIS_URL');
  let redis: TestRedis | undefined;
  let server: RunningServer | undefined;
  try {
    redis = await startTestRedis(options);
    const config = loadConfig({
      PORT: '0',
      NODE_ENV: 'test',
      REDIS_URL: redis.url,
      RATE_LIMIT_MAX: '100000',
      INTROSPECTION_CLIENT_ID: RS.clientId,
      INTROSPECTION_CLIENT_SECRET: RS.clientSecret
    });
    server = await startServer(config, { logger: createLogger('silent') });
    const tokens: ObtainedTokens = await obtainTokens(server.url);
    const spare = await registerClient(server.url, { authMethod: 'client_secret_basic' });

    await sleep(PAST_FSYNC_MS);
    await redis.crash();
    await redis.start();
    await waitReady(server.url);

    const accessActive = (await introspect(tokens.metadata, RS, tokens.accessToken)).body.active === true;
    const refreshStatus = (await refreshRequest(tokens, tokens.refreshToken!)).status;
    // A registered client is known when its credentials authenticate: an unknown code is then invalid_grant, not invalid_client.
    const probe = await fetch(tokens.metadata.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${spare.clientId}:${spare.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c'.repeat(43), code_verifier: 'v'.repeat(43) }).toString()
    });
    const clientKnown = ((await probe.json()) as { error?: string }).error === 'invalid_grant';
    return { accessActive, refreshStatus, clientKnown };
  } finally {
    await server?.close();
    await redis?.stop();
  }
}

describe('a redis-server crash (SIGKILL) after the answers went out', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('with AOF and appendfsync everysec, tokens and clients issued more than a second earlier survive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-aof-'));
    dirs.push(dir);
    const outcome = await crashScenario({ aof: { dir, appendfsync: 'everysec' } });
    assert.deepEqual(outcome, { accessActive: true, refreshStatus: 200, clientKnown: true });
  });

  it('control: without persistence the same crash loses them (so the test above can fail)', async () => {
    const outcome = await crashScenario({});
    assert.deepEqual(outcome, { accessActive: false, refreshStatus: 401, clientKnown: false });
  });
});
