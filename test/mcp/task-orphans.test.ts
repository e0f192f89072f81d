/**
 * Tasks whose instance stops before they finish (memory store shared by two
 * MCP apps in one process, as two instances share one Redis): a graceful
 * shutdown settles them as failed at once; a crash (the app stops without
 * settling, its lease no longer renewed) leaves them to the other instance,
 * which settles them as failed once the lease has lapsed. The client sees
 * it through tasks/get and on its listen stream.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { MemoryStore } from '../../src/store/memory.js';
import { connectTasksClient, type TasksClient } from '../helpers/tasks-client.js';
import { startMcpApp, type McpTestApp } from './helpers/app.js';

const env = { TASKS_LEASE_SECONDS: '0.6' };

describe('tasks of an instance that stops (memory store shared by two instances)', () => {
  let a: McpTestApp;
  let b: McpTestApp;
  let onA: TasksClient;
  let onB: TasksClient;
  let aDown = false;
  beforeEach(async () => {
    const shared = new MemoryStore();
    a = await startMcpApp({ store: shared, env });
    b = await startMcpApp({ store: new MemoryStore({ shareWith: shared }), env });
    onA = await connectTasksClient(a.mcpUrl, 'test:alice', { name: 'on-a' });
    onB = await connectTasksClient(b.mcpUrl, 'test:alice', { name: 'on-b' });
    aDown = false;
  });
  afterEach(async () => {
    await onA.close().catch(() => undefined);
    await onB.close();
    if (!aDown) await a.close();
    await b.close();
  });

  it('graceful shutdown: its unfinished tasks fail at once with reason "shutdown"; a listen stream on the other instance hears it', async () => {
    const slow = await onA.createTask('slow_compute', { seconds: 60 });
    const asking = await onA.createTask('confirm_delete', { filename: 'kept.txt' });
    await onB.until(asking.taskId, t => t.status === 'input_required', 'the question');
    const listen = await onB.listenTasks([slow.taskId, asking.taskId]);
    await onA.close();
    await a.close();
    aDown = true;
    for (const { taskId } of [slow, asking]) {
      const t = await onB.get(taskId);
      assert.equal(t.status, 'failed', 'settled before the shutdown finished');
      assert.equal(t.error?.code, -32603);
      assert.deepEqual((t.error as { data?: unknown }).data, { reason: 'shutdown' });
      assert.match(t.statusMessage ?? '', /shut down before it finished/);
      assert.equal(t.inputRequests, undefined);
      assert.equal((await listen.next(n => n.taskId === taskId && n.status === 'failed', `failed for ${taskId}`)).error?.message, t.error?.message);
    }
    assert.equal(await listen.subscription.closed, 'graceful');
  });

  it('crash: the tasks fail with reason "lease_expired" once the lease lapses, seen from the other instance (tasks/get and listen)', async () => {
    const slow = await onA.createTask('slow_compute', { seconds: 60 });
    const listen = await onB.listenTasks([slow.taskId]);
    await listen.next(n => n.status === 'working', 'the first state');
    await onA.close().catch(() => undefined);
    await a.crash();
    aDown = true;
    const failed = await onB.until(slow.taskId, t => t.status !== 'working', 'the orphaned task to settle');
    assert.equal(failed.status, 'failed');
    assert.deepEqual((failed.error as { data?: unknown }).data, { reason: 'lease_expired' });
    assert.match(failed.statusMessage ?? '', /stopped responding before it finished/);
    assert.equal((await listen.next(n => n.status === 'failed', 'failed on the stream')).error?.code, -32603);
    // Settled once: later reads agree.
    assert.deepEqual(await onB.get(slow.taskId), failed);
  });

  it('crash: the per-person limit counts the orphaned task as ended once its lease has lapsed', async () => {
    await a.close();
    await b.close();
    const shared = new MemoryStore();
    a = await startMcpApp({ store: shared, env: { ...env, TASKS_MAX_PER_SUBJECT: '1' } });
    b = await startMcpApp({ store: new MemoryStore({ shareWith: shared }), env: { ...env, TASKS_MAX_PER_SUBJECT: '1' } });
    await onA.close();
    await onB.close();
    onA = await connectTasksClient(a.mcpUrl, 'test:alice', { name: 'on-a' });
    onB = await connectTasksClient(b.mcpUrl, 'test:alice', { name: 'on-b' });
    await onA.createTask('slow_compute', { seconds: 60 });
    await onA.close().catch(() => undefined);
    await a.crash();
    aDown = true;
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        assert.equal((await onB.createTask('slow_compute', { seconds: 0 }))['status'], 'working');
        break;
      } catch (err) {
        assert.equal((err as { code?: unknown }).code, -32000, 'refused by the limit only while the lease holds');
        if (Date.now() > deadline) throw err;
        await new Promise(r => setTimeout(r, 200));
      }
    }
  });
});
