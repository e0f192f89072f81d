/**
 * Tasks (SEP-2663) across instances on one real Redis: two MCP apps (the
 * stand-in bearer gate of test/mcp/helpers/app.ts: `Bearer test:<subject>`),
 * SDK v2 clients pinned to 2026-07-28. A task created on A is read on B,
 * answered through B while its work runs on A, and cancelled through B
 * (A's work stops and the task stays cancelled); another subject cannot see it.
 * Status notifications reach a listen stream on B for a task running on A,
 * and nobody else's. Tasks of an instance that stops fail: at once on a
 * graceful stop, after its lease on a crash.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createLogger } from '../../src/logger.js';
import { taskKeys } from '../../src/mcp/extensions/tasks/records.js';
import { RedisStore } from '../../src/store/redis.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { connectTasksClient, type TasksClient } from '../helpers/tasks-client.js';
import { startMcpApp, type McpTestApp } from '../mcp/helpers/app.js';

const newStore = async (url: string) => {
  const store = new RedisStore({ url, logger: createLogger('silent') });
  await store.connect();
  return store;
};

describe('Tasks on a shared Redis', { timeout: 120_000 }, () => {
  let redis: TestRedis;
  let a: McpTestApp;
  let b: McpTestApp;
  let onA: TasksClient;
  let onB: TasksClient;
  let probe: RedisStore;

  before(async () => {
    redis = await startTestRedis();
    a = await startMcpApp({ store: await newStore(redis.url) });
    b = await startMcpApp({ store: await newStore(redis.url) });
    onA = await connectTasksClient(`${a.url}/mcp`, 'test:alice', { name: 'on-a' });
    onB = await connectTasksClient(`${b.url}/mcp`, 'test:alice', { name: 'on-b' });
    probe = await newStore(redis.url);
  });

  after(async () => {
    await onA?.close();
    await onB?.close();
    await Promise.all([a?.close(), b?.close()]);
    await probe?.close();
    await redis?.stop();
  });

  it('a task created on A is read on B, answered through B, and completes (its work runs on A)', async () => {
    const { taskId } = await onA.createTask('confirm_delete', { filename: 'report.txt' });
    // Durable create: readable on the other instance straight away.
    assert.ok(['working', 'input_required'].includes((await onB.get(taskId)).status));
    const asking = await onB.until(taskId, t => t.status === 'input_required', 'the question, seen on B');
    assert.match(String(asking.inputRequests?.['confirm']?.params['message']), /report\.txt/);
    await onB.update(taskId, { confirm: { action: 'accept', content: { confirm: true } } });
    const done = await onB.until(taskId, t => t.status === 'completed', 'completion, seen on B');
    assert.deepEqual(done.result?.content?.map(c => c.text), ['Deleted report.txt']);
    assert.deepEqual((await onA.get(taskId)).result, done.result);
  });

  it('cancelled through B, a task running on A stops and stays cancelled', async () => {
    const { taskId } = await onA.createTask('slow_compute', { seconds: 2, label: 'cross' });
    await onB.cancel(taskId);
    assert.equal((await onA.get(taskId)).status, 'cancelled');
    // Past the moment the work would have finished: it did not overwrite the outcome.
    await new Promise(r => setTimeout(r, 2500));
    assert.equal((await onA.get(taskId)).status, 'cancelled');
    assert.equal((await onB.get(taskId)).status, 'cancelled');
  });

  it('an answer recorded in the store without its pub/sub message (lost) still reaches the work, through the poll', async () => {
    const { taskId } = await onA.createTask('confirm_delete', { filename: 'quiet.txt' });
    await onA.until(taskId, t => t.status === 'input_required', 'the question');
    // What tasks/update on another instance writes, minus the message on channel mcp:tasks.
    const ttl = await probe.ttl(taskKeys.live(taskId));
    assert.ok(ttl !== undefined && ttl > 0);
    await probe.set(taskKeys.response(taskId, 'confirm'), JSON.stringify({ action: 'accept', content: { confirm: true } }), ttl);
    const done = await onB.until(taskId, t => t.status === 'completed', 'completion without the message');
    assert.deepEqual(done.result?.content?.map(c => c.text), ['Deleted quiet.txt']);
  });

  it('notifications/tasks reach the owner\u2019s listen stream on B for a task running on A; another subject\u2019s stream on B hears nothing', async () => {
    const { taskId } = await onA.createTask('confirm_delete', { filename: 'notes.txt' });
    const mine = await onB.listenTasks([taskId]);
    const bob = await connectTasksClient(`${b.url}/mcp`, 'test:bob', { name: 'bob' });
    try {
      const theirs = await bob.listenTasks([taskId], { toolsListChanged: true });
      const asking = await mine.next(t => t.status === 'input_required', 'input_required on B');
      assert.match(String(asking.inputRequests?.['confirm']?.params['message']), /notes\.txt/);
      await onA.update(taskId, { confirm: { action: 'accept', content: { confirm: true } } });
      const done = await mine.next(t => t.status === 'completed', 'completed on B');
      assert.deepEqual(done.result?.content?.map(c => c.text), ['Deleted notes.txt']);
      assert.equal(await mine.subscription.closed, 'graceful');
      assert.deepEqual(theirs.notes, []);
      await theirs.subscription.close();
    } finally {
      await bob.close();
    }
  });

  it("another subject gets -32602 for the task on either instance", async () => {
    const { taskId } = await onA.createTask('slow_compute', { seconds: 30 });
    const bob = await connectTasksClient(`${b.url}/mcp`, 'test:bob', { name: 'bob' });
    try {
      await assert.rejects(bob.get(taskId), (err: { code?: number }) => err.code === -32602);
      await assert.rejects(bob.cancel(taskId), (err: { code?: number }) => err.code === -32602);
      assert.equal((await onB.get(taskId)).status, 'working');
    } finally {
      await bob.close();
      await onA.cancel(taskId);
    }
  });
});

describe('Tasks of an instance that stops, on a shared Redis', { timeout: 120_000 }, () => {
  const env = { TASKS_LEASE_SECONDS: '0.6' };
  let redis: TestRedis;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  const pair = async () => {
    const a = await startMcpApp({ store: await newStore(redis.url), env });
    const b = await startMcpApp({ store: await newStore(redis.url), env });
    return { a, b, onA: await connectTasksClient(`${a.url}/mcp`, 'test:alice', { name: 'on-a' }), onB: await connectTasksClient(`${b.url}/mcp`, 'test:alice', { name: 'on-b' }) };
  };

  it('graceful stop of A: its unfinished task fails at once (reason shutdown), heard on a listen stream on B', async () => {
    const { a, b, onA, onB } = await pair();
    try {
      const { taskId } = await onA.createTask('slow_compute', { seconds: 60 });
      const listen = await onB.listenTasks([taskId]);
      await listen.next(t => t.status === 'working', 'the first state');
      await onA.close();
      await a.close();
      const t = await onB.get(taskId);
      assert.equal(t.status, 'failed');
      assert.deepEqual(t.error, { code: -32603, message: 'Task interrupted: the server instance running it shut down', data: { reason: 'shutdown' } });
      assert.equal((await listen.next(n => n.status === 'failed', 'failed on B')).error?.message, t.error?.message);
    } finally {
      await onB.close();
      await b.close();
    }
  });

  it('crash of A: its unfinished tasks fail once its lease lapses (reason lease_expired), settled by B', async () => {
    const { a, b, onA, onB } = await pair();
    const probe = await newStore(redis.url);
    try {
      const slow = await onA.createTask('slow_compute', { seconds: 60 });
      const asking = await onA.createTask('confirm_delete', { filename: 'never.txt' });
      await onB.until(asking.taskId, t => t.status === 'input_required', 'the question');
      const listen = await onB.listenTasks([slow.taskId, asking.taskId]);
      await onA.close().catch(() => undefined);
      await a.crash();
      await a.store.close(); // its own Redis connection (crash leaves a passed-in store open)
      for (const { taskId } of [slow, asking]) {
        const t = await onB.until(taskId, x => x.status !== 'working' && x.status !== 'input_required', 'the orphaned task to settle');
        assert.equal(t.status, 'failed');
        assert.deepEqual((t.error as { data?: unknown }).data, { reason: 'lease_expired' });
        assert.equal(t.inputRequests, undefined);
        await listen.next(n => n.taskId === taskId && n.status === 'failed', `failed on B for ${taskId}`);
        // Settled in the store, once: the terminal record is there, the live sets no longer list it.
        assert.ok((await probe.get(taskKeys.final(taskId))) !== undefined);
        assert.ok(!(await probe.members(taskKeys.liveSet)).includes(taskId));
      }
      assert.equal(await listen.subscription.closed, 'graceful');
    } finally {
      await probe.close();
      await onB.close();
      await b.close();
    }
  });
});
