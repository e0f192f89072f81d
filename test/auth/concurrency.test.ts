/**
 * Single use and rotation under concurrency, through the real token endpoint,
 * on both storage implementations (Redis: a real redis-server): a code
 * redeemed by 50 concurrent requests yields exactly one token pair, and a
 * refresh token used by 50 concurrent requests rotates once (without the
 * grace window) or serves every concurrent retry within it without revoking
 * the grant (with it, docs/oauth.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { authorizeCode, introspect, obtainTokens, pkcePair, refreshRequest, registerClient, randomLoopbackRedirect, tokenRequest } from '../helpers/oauth.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

/** 50 concurrent calls of `send`, each answer as its status and JSON body. */
const fifty = (send: () => Promise<Response>) =>
  Promise.all(
    Array.from({ length: 50 }, async () => {
      const res = await send();
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    })
  );

const RS = { clientId: 'concurrency-rs', clientSecret: 'concurrency-rs-secret-0123456789abcdefXYZ', authMethod: 'client_secret_basic' as const };

for (const storage of ['memory', 'redis'] as const) {
  describe(`token endpoint under 50 concurrent requests (${storage})`, () => {
    let redis: TestRedis | undefined;
    let strict: RunningServer;
    let graceful: RunningServer;

    before(async () => {
      if (storage === 'redis') redis = await startTestRedis();
      const env = (grace: string) =>
        loadConfig({
          PORT: '0',
          NODE_ENV: 'test',
          RATE_LIMIT_MAX: '100000',
          REFRESH_GRACE_SECONDS: grace,
          INTROSPECTION_CLIENT_ID: RS.clientId,
          INTROSPECTION_CLIENT_SECRET: RS.clientSecret,
          ...(redis ? { REDIS_URL: redis.url } : {})
        });
      strict = await startServer(env('0'), { logger: createLogger('silent') });
      graceful = await startServer(env('10'), { logger: createLogger('silent') });
    });
    after(async () => {
      await strict?.close();
      await graceful?.close();
      await redis?.stop();
    });

    it('redeems a code exactly once: one 200 with a token pair, 49 invalid_grant', async () => {
      const client = await registerClient(strict.url, { redirectUris: [randomLoopbackRedirect()] });
      const { verifier, challenge } = pkcePair();
      const { code, metadata } = await authorizeCode(strict.url, client, { challenge });
      const params = { grant_type: 'authorization_code', code, redirect_uri: client.redirectUris[0]!, code_verifier: verifier, resource: `${metadata.issuer}/mcp` };
      const answers = await fifty(() => tokenRequest(metadata, client, params));
      const ok = answers.filter(a => a.status === 200);
      assert.equal(ok.length, 1, `successes: ${ok.length}`);
      assert.equal(typeof ok[0]!.body.access_token, 'string');
      assert.equal(typeof ok[0]!.body.refresh_token, 'string');
      for (const a of answers.filter(a => a.status !== 200)) {
        assert.equal(a.status, 400);
        assert.equal(a.body.error, 'invalid_grant');
      }
    });

    it('without a grace window, rotates a refresh token once: one 200, 49 invalid_grant, and the reuse revokes the grant', async () => {
      const tokens = await obtainTokens(strict.url);
      const answers = await fifty(() => refreshRequest(tokens, tokens.refreshToken!));
      const ok = answers.filter(a => a.status === 200);
      assert.equal(ok.length, 1, `successes: ${ok.length}`);
      assert.ok(answers.filter(a => a.status !== 200).every(a => a.status === 400 && a.body.error === 'invalid_grant'));
      // Reuse of a rotated token is theft (RFC 9700 §4.14.2): the pair the winner got is revoked too.
      const check = await introspect(tokens.metadata, RS, String(ok[0]!.body.access_token));
      assert.equal(check.body.active, false);
    });

    it('within the grace window, answers every concurrent retry and keeps the grant alive', async () => {
      const tokens = await obtainTokens(graceful.url);
      const answers = await fifty(() => refreshRequest(tokens, tokens.refreshToken!));
      assert.deepEqual(
        answers.map(a => a.status),
        answers.map(() => 200)
      );
      const accessTokens = new Set(answers.map(a => String(a.body.access_token)));
      assert.equal(accessTokens.size, 50, 'every retry gets its own pair');
      for (const token of accessTokens) assert.equal((await introspect(tokens.metadata, RS, token)).body.active, true);
      // The original refresh token itself no longer rotates once the window is over; not waited for here.
    });
  });
}
