/**
 * Issue 15, "Redis Cluster": the whole server on a real local Redis Cluster
 * (3 masters, 3 replicas, test/helpers/redis-cluster.ts) through
 * `REDIS_CLUSTER_NODES`: the Store contract, the hash tags that keep related
 * keys on one slot, sharded pub/sub, a full OAuth flow and MCP in both eras,
 * and a failover (a master killed with SIGKILL, its replica promoted) that the
 * service survives with the tokens it issued before.
 *
 * One cluster serves the whole file (starting it is most of the cost); the
 * failover runs last because it changes the topology.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { main as adminCli } from '../../src/cli/admin.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { instanceKey, ownerKey } from '../../src/mcp/http/sessions.js';
import { EVENT_BUS_CHANNEL } from '../../src/store/event-bus.js';
import { streamLogKey } from '../../src/store/event-store.js';
import { createStore } from '../../src/store/index.js';
import { RedisStore } from '../../src/store/redis.js';
import { freePort } from '../helpers/free-port.js';
import { obtainTokens, refreshTokens } from '../helpers/oauth.js';
import { connect, startTestServer, texts, type TestServer } from '../helpers/mcp-harness.js';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { eventually, storeContract } from '../store/store.contract.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

describe('Redis Cluster (REDIS_CLUSTER_NODES)', { timeout: 150_000 }, () => {
  let cluster: TestRedisCluster;
  const stores: RedisStore[] = [];

  /** A store on the cluster, as the server builds it; closed after the file. */
  const clusterStore = async () => {
    const store = new RedisStore({ url: cluster.urls[0]!, clusterNodes: cluster.urls, logger: createLogger('silent') });
    await store.connect();
    stores.push(store);
    return store;
  };
  const slotOf = async (key: string) => Number((await cluster.cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', key)).trim());

  before(async () => {
    const started = Date.now();
    cluster = await startTestRedisCluster({ nodeTimeoutMs: 1000 });
    console.log(`# redis cluster (3 masters, 3 replicas) ready in ${Date.now() - started} ms`);
  });

  after(async () => {
    await Promise.all(stores.map(s => s.close()));
    await cluster?.stop();
  });

  describe('configuration', () => {
    const base = { AUTH_MODE: 'internal', LOG_LEVEL: 'silent' };

    it('builds a cluster store from REDIS_CLUSTER_NODES, whichever seeds answer', async () => {
      const dead = `redis://127.0.0.1:${await freePort()}`;
      const store = await createStore(loadConfig({ ...base, REDIS_CLUSTER_NODES: ` ${dead}, ${cluster.urls[1]}` }), createLogger('silent'));
      try {
        assert.ok(store instanceof RedisStore);
        assert.equal(store.topology, 'cluster');
        await store.ping();
      } finally {
        await store.close();
      }
    });

    it('rejects REDIS_CLUSTER_NODES together with REDIS_URL, and seeds that are not redis URLs', () => {
      const names = (env: Record<string, string>) => {
        try {
          loadConfig({ ...base, ...env });
        } catch (err) {
          assert.ok(err instanceof ConfigError);
          return err.variable;
        }
        return 'accepted';
      };
      assert.equal(names({ REDIS_CLUSTER_NODES: cluster.urls[0]!, REDIS_URL: cluster.urls[0]! }), 'REDIS_CLUSTER_NODES');
      assert.equal(names({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }), 'REDIS_CLUSTER_NODES');
      assert.equal(names({ REDIS_CLUSTER_NODES: 'redis://a:1,http://b:2' }), 'REDIS_CLUSTER_NODES');
      assert.equal(names({ REDIS_CLUSTER_NODES: ' , ' }), 'REDIS_CLUSTER_NODES');
    });

    it('waits for one replica by default on a cluster and for none on a single Redis; REDIS_WAIT_* are checked', () => {
      assert.equal(loadConfig({ ...base, REDIS_CLUSTER_NODES: cluster.urls[0]! }).redis?.waitReplicas, 1);
      assert.equal(loadConfig({ ...base, REDIS_URL: cluster.urls[0]! }).redis?.waitReplicas, 0);
      const custom = loadConfig({ ...base, REDIS_CLUSTER_NODES: cluster.urls[0]!, REDIS_WAIT_REPLICAS: '2', REDIS_WAIT_TIMEOUT_MS: '250' }).redis;
      assert.deepEqual([custom?.waitReplicas, custom?.waitTimeoutMs], [2, 250]);
      for (const bad of [{ REDIS_WAIT_REPLICAS: '-1' }, { REDIS_WAIT_TIMEOUT_MS: '5000' }, { REDIS_WAIT_TIMEOUT_MS: '0' }]) {
        assert.throws(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: cluster.urls[0]!, ...bad }), (err: unknown) => err instanceof ConfigError && err.variable === Object.keys(bad)[0]);
      }
    });

    it('refuses to start in production when no seed answers, naming REDIS_CLUSTER_NODES and never the password', async () => {
      const config = loadConfig({ ...base, NODE_ENV: 'production', REDIS_CLUSTER_NODES: `redis://:hunter2@127.0.0.1:${await freePort()}` });
      await assert.rejects(createStore(config, createLogger('silent'), { startupTimeoutMs: 500 }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.variable, 'REDIS_CLUSTER_NODES');
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    });
  });

  storeContract('redis cluster', { create: clusterStore, createPeer: clusterStore });

  describe('keys and channels', () => {
    it('keeps one MCP session’s records and event logs in one slot (the session id is the hash tag)', async () => {
      const sessionId = randomUUID();
      const keys = [ownerKey(sessionId), instanceKey(sessionId), streamLogKey(sessionId, '_GET_stream'), streamLogKey(sessionId, randomUUID())];
      const slots = await Promise.all(keys.map(slotOf));
      assert.equal(new Set(slots).size, 1, `${keys.join(', ')} -> slots ${slots.join(', ')}`);
      // …and one DEL takes them all on the node that owns them (no CROSSSLOT).
      const store = await clusterStore();
      for (const k of keys.slice(0, 2)) await store.set(k, 'v', 10_000);
      await store.append(keys[2]!, '{}', { ttlMs: 10_000, maxLength: 10 });
      const master = await cluster.masterOf(keys[0]!);
      assert.equal((await cluster.cli(master.port, 'DEL', ...keys)).trim(), '3');
    });

    it('spreads unrelated sessions over the masters (a tag never names a shared prefix)', async () => {
      const slots = new Set(await Promise.all(Array.from({ length: 24 }, () => slotOf(ownerKey(randomUUID())))));
      assert.ok(slots.size > 12, `24 sessions landed on only ${slots.size} slots`);
    });

    it('deletes keys of different slots in one delete call, counting each', async () => {
      const store = await clusterStore();
      const keys = Array.from({ length: 6 }, (_, i) => `test:${randomUUID()}:${i}`);
      assert.ok(new Set(await Promise.all(keys.map(slotOf))).size > 1);
      for (const k of keys) await store.set(k, 'v', 10_000);
      assert.equal(await store.delete(...keys, `test:${randomUUID()}:missing`), 6);
      for (const k of keys) assert.equal(await store.get(k), undefined);
    });

    it('uses sharded pub/sub (SSUBSCRIBE on the master that owns the channel’s slot)', async () => {
      const store = await clusterStore();
      const channel = `test:${randomUUID()}:channel`;
      const got: string[] = [];
      const off = await store.subscribe(channel, m => got.push(m));
      const master = await cluster.masterOf(channel);
      const reply = (await cluster.cli(master.port, 'PUBSUB', 'SHARDNUMSUB', channel)).trim().split('\n');
      assert.deepEqual(reply, [channel, '1']);
      await store.publish(channel, 'sharded');
      await eventually(() => got.length === 1, 2000, 'delivery');
      await off();
    });
  });

  describe('the server on the cluster', () => {
    let server: TestServer;
    const logFile = join(process.cwd(), 'test-artifacts', 'integration', 'redis-cluster.log');
    /** The server's `replication_unconfirmed` warnings so far. */
    const warnings = () =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(line => line.includes('"replication_unconfirmed"'))
        .map(line => JSON.parse(line) as Record<string, unknown>);

    before(async () => {
      server = await startTestServer({ name: 'redis-cluster', env: { REDIS_CLUSTER_NODES: cluster.urls.join(','), RESOURCE_UPDATE_INTERVAL: '3600', LOG_MESSAGE_INTERVAL: '3600' } });
    });
    after(async () => {
      await server?.close();
    });

    it('issues tokens through the full OAuth flow and keeps them on the cluster', async () => {
      assert.ok(server.authOn, 'the server asks for a token');
      assert.ok(server.token, 'the OAuth flow issued an access token');
      const store = await clusterStore();
      const record = JSON.parse((await store.get(`auth:installation:${sha256(server.token)}`))!);
      assert.equal(record.clientId, server.oauthClientId);
      assert.ok(await store.get(`auth:grant:${record.grantId}`), 'the grant record is on the cluster');
    });

    it('serves a 2025 session: its records and stream logs live on the cluster, in the session’s slot', async () => {
      const conn = await connect(server, '2025');
      try {
        const sessionId = (conn.transport as unknown as { sessionId: string }).sessionId;
        const echo = await conn.client.callTool({ name: 'echo', arguments: { message: 'on the cluster' } });
        assert.deepEqual(texts(echo), ['Echo: on the cluster']);
        const sampled = await conn.client.callTool({ name: 'sampleLLM', arguments: { prompt: 'cluster' } });
        assert.equal(texts(sampled).length, 1);
        const store = await clusterStore();
        assert.equal(await store.get(ownerKey(sessionId)), (JSON.parse((await store.get(`auth:installation:${sha256(server.token!)}`))!) as { subject: string }).subject);
        const master = await cluster.masterOf(ownerKey(sessionId));
        const logs = (await cluster.cli(master.port, '--scan', '--pattern', `mcp:session:{${sessionId}}:stream:*`)).trim().split('\n').filter(Boolean);
        assert.ok(logs.length > 0, 'the session’s stream logs are on the master that holds its records');
      } finally {
        await conn.close();
      }
    });

    it('serves the 2026-07-28 era (stateless requests) on the same tokens', async () => {
      const conn = await connect(server, '2026');
      try {
        const who = await conn.client.callTool({ name: 'whoami', arguments: {} });
        assert.equal((who.structuredContent as { clientId: string }).clientId, server.oauthClientId);
        const echo = await conn.client.callTool({ name: 'echo', arguments: { message: 'modern' } });
        assert.deepEqual(texts(echo), ['Echo: modern']);
      } finally {
        await conn.close();
      }
    });

    it('listens to the event bus on sharded pub/sub', async () => {
      const master = await cluster.masterOf(EVENT_BUS_CHANNEL);
      const [, subscribers] = (await cluster.cli(master.port, 'PUBSUB', 'SHARDNUMSUB', EVENT_BUS_CHANNEL)).trim().split('\n');
      assert.ok(Number(subscribers) >= 1, `SHARDNUMSUB ${EVENT_BUS_CHANNEL} = ${subscribers}`);
    });

    it('lets the troubleshooting CLI find sessions and show and revoke tokens on the cluster', async () => {
      const env = { REDIS_CLUSTER_NODES: cluster.urls.join(',') };
      const run = async (...argv: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await adminCli(argv, { env, stdout: l => out.push(l), stderr: l => err.push(l), readStdin: async () => '' });
        return { code, out: out.join('\n'), err: err.join('\n') };
      };
      const dave = await obtainTokens(server.baseUrl, { identity: 'dave', clientName: 'cli on the cluster' });
      const conn = await connect(server, '2025', { token: dave.accessToken });
      try {
        const sessionId = (conn.transport as unknown as { sessionId: string }).sessionId;
        const subject = (JSON.parse((await (await clusterStore()).get(`auth:installation:${sha256(dave.accessToken)}`))!) as { subject: string }).subject;
        const sessions = await run('sessions', subject);
        assert.equal(sessions.code, 0, sessions.err);
        assert.ok(sessions.out.includes(sessionId), `the session is found by scanning every master: ${sessions.out}`);
        assert.match((await run('token', 'show', dave.accessToken)).out, /^Access token: ACTIVE/);
        const revoked = await run('token', 'revoke', dave.refreshToken!);
        assert.equal(revoked.code, 0, revoked.err);
        // The grant ended: its access token is gone too, and the server refuses it.
        const gone = await run('token', 'show', dave.accessToken);
        assert.equal(gone.code, 1);
        assert.match(gone.out, /^No access or refresh token with this value/);
        const refused = await fetch(server.mcpUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${dave.accessToken}` },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
        });
        await refused.body?.cancel();
        assert.equal(refused.status, 401);
      } finally {
        await conn.close();
      }
    });

    it('waits for a replica before handing out a client or tokens; when none confirms in time it answers anyway and logs it', async () => {
      assert.deepEqual(warnings(), [], 'with the replicas up, every write so far was confirmed (WAIT 1) before its answer');

      const replicas = (await cluster.nodes()).filter(n => n.role === 'replica');
      assert.equal(replicas.length, 3);
      for (const r of replicas) cluster.pause(r.port);
      let tokens;
      try {
        tokens = await obtainTokens(server.baseUrl, { identity: 'bob', clientName: 'replicas paused' });
      } finally {
        for (const r of replicas) cluster.resume(r.port);
      }
      assert.match(tokens.accessToken, /^[\w-]{43}$/, 'the answer still went out');
      // Registration and token issuance each waited, and each said that no replica confirmed.
      await eventually(() => warnings().length >= 2, 5000, 'the warnings');
      for (const w of warnings()) {
        assert.equal(w.wanted, 1);
        assert.equal(w.acknowledged, 0);
        assert.equal(w.level, 40);
      }
      const text = readFileSync(logFile, 'utf8');
      assert.ok(!text.includes(tokens.accessToken) && !text.includes(tokens.refreshToken!), 'no token in the log');
      await cluster.waitUntilHealthy();
      await cluster.waitForReplicas();
    });

    it('answers again after a master is killed and its replica promoted; tokens issued before still work, and so does pub/sub on its shard', async () => {
      // Issued with every replica up: the token endpoint waited (WAIT 1) for them, and they confirmed.
      const unconfirmed = warnings().length;
      const issued = await obtainTokens(server.baseUrl, { identity: 'carol', clientName: 'before the failover' });
      await sleep(100); // the log is written asynchronously
      assert.equal(warnings().length, unconfirmed, 'every replica confirmed the client and the tokens');
      const token = issued.accessToken;
      const tokenKey = `auth:installation:${sha256(token)}`;
      const victim = await cluster.masterOf(tokenKey);
      const replica = (await cluster.nodes()).find(n => n.masterId === victim.id);
      assert.ok(replica, 'the master of the token has a replica');

      // A sharded subscription on a channel that lives on the master about to die.
      let channel = '';
      do channel = `test:${randomUUID()}:events`;
      while ((await cluster.masterOf(channel)).port !== victim.port);
      const [subscriber, publisher] = [await clusterStore(), await clusterStore()];
      const received: string[] = [];
      await subscriber.subscribe(channel, m => received.push(m));
      await publisher.publish(channel, 'before');
      await eventually(() => received.includes('before'), 2000, 'delivery before the failover');

      const call = async () => {
        const res = await fetch(server.mcpUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'failover', version: '1' } } }),
          signal: AbortSignal.timeout(5000)
        }).catch(() => undefined);
        await res?.body?.cancel();
        return res?.status;
      };
      assert.equal(await call(), 200, 'answers before the failover');

      const killedAt = Date.now();
      await cluster.kill(victim.port);
      const statuses = new Set<number | undefined>();
      const deadline = killedAt + 30_000; // generous: fail instead of hanging
      let status: number | undefined;
      while ((status = await call()) !== 200) {
        statuses.add(status);
        assert.ok(Date.now() < deadline, `no answer within 30 s of the kill (saw ${[...statuses].join(', ')})`);
        await sleep(50);
      }
      const recoveredMs = Date.now() - killedAt;
      console.log(`# failover: master :${victim.port} killed, service answered again after ${recoveredMs} ms (cluster-node-timeout 1000 ms; statuses meanwhile: ${[...statuses].join(', ') || 'none'})`);
      for (const s of statuses) assert.ok(s === undefined || s === 503, `only 503 while the master was down, saw ${s}`);

      // The replica took over the token's slot, and the token is still valid.
      assert.equal((await cluster.masterOf(tokenKey)).port, replica.port);
      const conn = await connect(server, '2025', { token });
      try {
        assert.deepEqual(texts(await conn.client.callTool({ name: 'echo', arguments: { message: 'after failover' } })), ['Echo: after failover']);
      } finally {
        await conn.close();
      }
      // The refresh token too; its rotation is written to the promoted master (which has no replica now: not confirmed, still answered).
      const refreshed = await refreshTokens(server.baseUrl, issued);
      assert.notEqual(refreshed.accessToken, token);

      // A store started now is told that the promoted master has no replica left to wait for.
      const lines: Array<Record<string, unknown>> = [];
      const late = new RedisStore({
        url: cluster.urls[0]!,
        clusterNodes: cluster.urls,
        waitReplicas: 1,
        logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) })
      });
      stores.push(late);
      await late.connect();
      const alone = lines.filter(l => l.level === 40 && l.replicas === 0);
      assert.deepEqual(alone.map(l => l.redis), [`127.0.0.1:${replica.port}`]);

      // The subscription followed its shard to the promoted replica.
      await eventually(
        async () => {
          await publisher.publish(channel, 'after').catch(() => undefined);
          await sleep(100);
          return received.includes('after');
        },
        10_000,
        'delivery after the failover'
      );
    });
  });

  // Last: it turns on a password on every node, which the earlier stores do not have.
  describe('credentials', () => {
    const password = 'cluster-secret-7f3a';

    before(async () => {
      const live = (await cluster.nodes()).map(n => n.port);
      for (const port of live) await cluster.cli(port, 'CONFIG', 'SET', 'masterauth', password);
      for (const port of live) await cluster.cli(port, 'CONFIG', 'SET', 'requirepass', password);
      cluster.usePassword(password);
    });

    /** Writes and reads keys until every master has served some: the discovered nodes got the credentials too. */
    async function usesEveryMaster(store: RedisStore): Promise<void> {
      const masters = new Set<number>();
      await store.ping();
      const masterPorts = (await cluster.nodes()).filter(n => n.role === 'master').map(n => n.port);
      for (let i = 0; i < 200 && masters.size < masterPorts.length; i++) {
        const k = `test:${randomUUID()}:auth`;
        await store.set(k, 'v', 10_000);
        assert.equal(await store.get(k), 'v');
        masters.add((await cluster.masterOf(k)).port);
      }
      assert.equal(masters.size, masterPorts.length);
    }

    it('sends REDIS_PASSWORD to every node it discovers, not only to the seeds', async () => {
      const store = new RedisStore({ url: cluster.urls[0]!, clusterNodes: cluster.urls, password, logger: createLogger('silent') });
      stores.push(store);
      await store.connect();
      await usesEveryMaster(store);
    });

    it('uses a password given in a seed URL for every node', async () => {
      const seeds = cluster.urls.map(u => u.replace('redis://', `redis://:${password}@`));
      const store = new RedisStore({ url: seeds[0]!, clusterNodes: seeds, logger: createLogger('silent') });
      stores.push(store);
      await store.connect();
      assert.doesNotMatch(store.url, new RegExp(password), 'the password never appears in the store address');
      await usesEveryMaster(store);
    });

    it('answers 503-style errors, not hangs, with a wrong password', async () => {
      const store = new RedisStore({ url: cluster.urls[0]!, clusterNodes: cluster.urls, password: 'wrong', logger: createLogger('silent'), maxReconnectDelayMs: 200 });
      stores.push(store);
      store.connect().catch(() => undefined);
      await assert.rejects(store.get('any'), (err: unknown) => (err as { code?: string }).code === 'store_unavailable');
    });
  });
});
