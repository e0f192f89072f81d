/**
 * Tasks when the process running them stops, with real processes: two
 * instances (`node src/index.ts`, AUTH_MODE=internal) on one real
 * redis-server behind the test balancer, alice's token from the real OAuth
 * flow, the SDK v2 client pinned to 2026-07-28 and to one instance.
 *
 * - SIGTERM (the graceful shutdown path of src/index.ts): A settles its
 *   unfinished task as failed before it exits; B reads it at once.
 * - SIGKILL: A dies without writing anything; once its lease
 *   (TASKS_LEASE_SECONDS) lapses, B settles the task as failed when read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { freePort } from '../helpers/free-port.js';
import { obtainTokens } from '../helpers/oauth.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { connectTasksClient, type TasksClient } from '../helpers/tasks-client.js';
import { BACKEND_HEADER, sharedInstanceEnv, startBalancer, startInstance, type Balancer, type Instance } from './support.js';

describe('tasks of a process that stops (real processes, real Redis)', { timeout: 240_000 }, () => {
  let redis: TestRedis;
  let lb: Balancer;
  const backends = new Map<string, string>();
  const instances: Record<'a' | 'b', Instance | undefined> = { a: undefined, b: undefined };
  let env: Record<string, string>;
  let token: string;
  const clients: TasksClient[] = [];

  const start = async (name: 'a' | 'b') => {
    instances[name] = await startInstance(`tasks-${name}`, await freePort(), env);
    backends.set(name, instances[name]!.directUrl);
  };
  const on = async (name: 'a' | 'b') => {
    const c = await connectTasksClient(`${lb.url}/mcp`, token, { headers: { [BACKEND_HEADER]: name }, name: `on-${name}` });
    clients.push(c);
    return c;
  };

  before(async () => {
    redis = await startTestRedis();
    lb = await startBalancer(backends);
    env = sharedInstanceEnv(lb.url, redis.url, { TASKS_LEASE_SECONDS: '1' });
    await Promise.all([start('a'), start('b')]);
    token = (await obtainTokens(lb.url, { identity: 'alice', scope: 'mcp', clientName: 'tasks shutdown test' })).accessToken;
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await Promise.all([instances.a?.stop(), instances.b?.stop()]);
    await lb?.close();
    await redis?.stop();
  });

  it('SIGTERM: the stopping process settles its unfinished task as failed (reason shutdown) before it exits', async () => {
    const onA = await on('a');
    const onB = await on('b');
    const { taskId } = await onA.createTask('slow_compute', { seconds: 120 });
    assert.equal((await onB.get(taskId)).status, 'working');
    await instances.a!.stop();
    const t = await onB.get(taskId);
    assert.equal(t.status, 'failed', 'settled by A on its way out, not by the lease');
    assert.deepEqual((t.error as { data?: unknown }).data, { reason: 'shutdown' });
    assert.match(t.statusMessage ?? '', /shut down before it finished/);
  });

  it('SIGKILL: the task fails (reason lease_expired) once the dead process\u2019s lease lapses, settled by the other instance', async () => {
    await start('a');
    const onA = await on('a');
    const onB = await on('b');
    const { taskId } = await onA.createTask('slow_compute', { seconds: 120 });
    await instances.a!.kill();
    const t = await onB.until(taskId, x => x.status !== 'working', 'the orphaned task to settle');
    assert.equal(t.status, 'failed');
    assert.deepEqual((t.error as { data?: unknown }).data, { reason: 'lease_expired' });
    assert.match(t.statusMessage ?? '', /stopped responding before it finished/);
  });
});
