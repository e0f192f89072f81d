/**
 * Tasks (SEP-2663) across instances on one real Redis: two MCP apps (the
 * stand-in bearer gate of test/mcp/helpers/app.ts: `Bearer test:<subject>`),
 * SDK v2 clients pinned to 2026-07-28. A task created on A is read on B,
 * answered through B while its work runs on A, and cancelled through B
 * (A's work stops and the task stays cancelled); another subject cannot see it.
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
