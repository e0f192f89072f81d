/**
 * Refresh-token forks (RFC 9700 §4.14.2), through the real token endpoint on
 * both storage implementations (Redis: a real redis-server). A rotated
 * refresh token is a concurrent retry within REFRESH_GRACE_SECONDS only
 * while its successor has not been used; once the grant's line went on,
 * presenting an earlier token (or a sibling a retry produced) revokes the
 * whole grant, with an audit line.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { introspect, obtainTokens, refreshRequest, type ObtainedTokens } from '../helpers/oauth.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { startAs, type TestAs } from './server.js';

const RS = { clientId: 'rotation-rs', clientSecret: 'rotation-rs-secret-0123456789abcdefXYZ', authMethod: 'client_secret_basic' as const };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const refresh = async (t: ObtainedTokens, token: string): Promise<Answer> => {
  const res = await refreshRequest(t, token);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

for (const storage of ['memory', 'redis'] as const) {
  describe(`refresh rotation forks (${storage})`, () => {
    let redis: TestRedis | undefined;
    let as: TestAs;

    before(async () => {
      if (storage === 'redis') redis = await startTestRedis();
      as = await startAs({
        REFRESH_GRACE_SECONDS: '60',
        RATE_LIMIT_MAX: '100000',
        INTROSPECTION_CLIENT_ID: RS.clientId,
        INTROSPECTION_CLIENT_SECRET: RS.clientSecret,
        ...(redis ? { REDIS_URL: redis.url } : {})
      });
    });
    after(async () => {
      await as?.close();
      await redis?.stop();
    });

    const active = async (t: ObtainedTokens, token: string) => (await introspect(t.metadata, RS, token)).body.active === true;
    const reuseLogged = (t: ObtainedTokens) => as.logs.some(l => l.event === 'refresh_reuse_detected' && l.clientId === t.clientId);

    it('within the grace window, a rotated token whose successor is unused is a retry: 200, and both pairs stay valid', async () => {
      const t = await obtainTokens(as.url);
      const rt2 = await refresh(t, t.refreshToken!);
      const retry = await refresh(t, t.refreshToken!);
      assert.equal(rt2.status, 200);
      assert.equal(retry.status, 200);
      assert.equal(await active(t, String(rt2.body.access_token)), true);
      assert.equal(await active(t, String(retry.body.access_token)), true);
      assert.equal(reuseLogged(t), false);
    });

    it('RT1 -> RT2 -> RT3, then RT1 again within the grace window: invalid_grant, the whole grant revoked, an audit line', async () => {
      const t = await obtainTokens(as.url);
      const second = await refresh(t, t.refreshToken!);
      assert.equal(second.status, 200);
      const third = await refresh(t, String(second.body.refresh_token));
      assert.equal(third.status, 200);

      const fork = await refresh(t, t.refreshToken!);
      assert.equal(fork.status, 400);
      assert.equal(fork.body.error, 'invalid_grant');
      assert.equal(await active(t, String(third.body.access_token)), false, 'the newest pair is revoked too');
      assert.equal(await active(t, String(second.body.access_token)), false);
      assert.equal((await refresh(t, String(third.body.refresh_token))).body.error, 'invalid_grant');
      assert.ok(reuseLogged(t), 'audit line refresh_reuse_detected');
    });

    it('RT1 -> RT2, RT2 used, then RT1 again: invalid_grant (the successor was used)', async () => {
      const t = await obtainTokens(as.url);
      const second = await refresh(t, t.refreshToken!);
      const third = await refresh(t, String(second.body.refresh_token));
      assert.equal(third.status, 200);
      const fork = await refresh(t, t.refreshToken!);
      assert.equal(fork.body.error, 'invalid_grant');
      assert.equal(await active(t, String(third.body.access_token)), false);
    });

    it('two truly concurrent refreshes of one token both succeed; once one successor is used, the other successor and the original are refused and the grant ends', async () => {
      const t = await obtainTokens(as.url);
      const [a, b] = await Promise.all([refresh(t, t.refreshToken!), refresh(t, t.refreshToken!)]);
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.notEqual(a.body.refresh_token, b.body.refresh_token);

      const next = await refresh(t, String(a.body.refresh_token));
      assert.equal(next.status, 200, 'the client keeps one line going');

      const sibling = await refresh(t, String(b.body.refresh_token));
      assert.equal(sibling.status, 400);
      assert.equal(sibling.body.error, 'invalid_grant');
      assert.equal(await active(t, String(next.body.access_token)), false);
      assert.equal((await refresh(t, t.refreshToken!)).body.error, 'invalid_grant');
      assert.ok(reuseLogged(t));
    });

    it('two truly concurrent refreshes, then the original again while neither successor was used: still a retry', async () => {
      const t = await obtainTokens(as.url);
      const [a, b] = await Promise.all([refresh(t, t.refreshToken!), refresh(t, t.refreshToken!)]);
      assert.deepEqual([a.status, b.status], [200, 200]);
      const again = await refresh(t, t.refreshToken!);
      assert.equal(again.status, 200);
      assert.equal(await active(t, String(a.body.access_token)), true);
      assert.equal(await active(t, String(b.body.access_token)), true);
    });
  });
}
