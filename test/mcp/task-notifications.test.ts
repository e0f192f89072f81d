/**
 * `notifications/tasks` on `subscriptions/listen` (SEP-2663) on one instance
 * (memory store, the stand-in bearer gate `Bearer test:<subject>`): the SDK
 * v2 client follows its own task through every status; raw HTTP checks the
 * acknowledgement's `taskIds`, the errors, and that another subject's
 * stream hears nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { connectTasksClient, TASKS, type TasksClient } from '../helpers/tasks-client.js';
import { startMcpApp, type McpTestApp } from './helpers/app.js';
import { modernHeaders, modernRequest, raw, SseStream } from './helpers/http.js';

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

describe('notifications/tasks on subscriptions/listen', () => {
  let app: McpTestApp;
  let alice: TasksClient;
  before(async () => {
    app = await startMcpApp();
    alice = await connectTasksClient(app.mcpUrl, 'test:alice', { name: 'alice' });
  });
  after(async () => {
    await alice?.close();
    await app?.close();
  });

  const listenRaw = (id: number, subject: string, notifications: Record<string, unknown>, capabilities: Record<string, unknown> = { extensions: { [TASKS]: {} } }) =>
    new SseStream(app.mcpUrl, {
      method: 'POST',
      headers: modernHeaders('subscriptions/listen', undefined, { authorization: `Bearer test:${subject}` }),
      body: JSON.stringify(modernRequest(id, 'subscriptions/listen', { notifications }, capabilities))
    });

  it("the owner's stream hears every status of its task, each a full DetailedTask, and ends gracefully after the last", async () => {
    const { taskId } = await alice.createTask('confirm_delete', { filename: 'plan.txt' });
    const listen = await alice.listenTasks([taskId]);
    const asking = await listen.next(t => t.status === 'input_required', 'input_required');
    assert.equal(asking.taskId, taskId);
    assert.equal(asking.inputRequests?.['confirm']?.method, 'elicitation/create');
    assert.deepEqual(asking, await alice.get(taskId).then(({ resultType: _r, _meta, ...t }) => t), 'identical to tasks/get');

    await alice.update(taskId, { confirm: { action: 'accept', content: { confirm: true } } });
    const done = await listen.next(t => t.status === 'completed', 'completed');
    assert.deepEqual(done.result?.content?.map(c => c.text), ['Deleted plan.txt']);
    assert.equal(await listen.subscription.closed, 'graceful', 'a stream following tasks only ends once they have settled');
    // In order; a status never repeats back to back.
    const statuses = listen.notes.map(n => n.status);
    assert.equal(statuses.at(-1), 'completed');
    assert.ok(statuses.includes('input_required') && statuses.indexOf('input_required') < statuses.indexOf('completed'), statuses.join(' > '));
    assert.ok(statuses.every((s, i) => i === 0 || s !== statuses[i - 1] || listen.notes[i]!.statusMessage !== listen.notes[i - 1]!.statusMessage), statuses.join(' > '));
  });

  it('cancelled and failed tasks reach the stream with their outcome', async () => {
    const slow = await alice.createTask('slow_compute', { seconds: 60 });
    const broken = await alice.createTask('protocol_error_job');
    const listen = await alice.listenTasks([slow.taskId, broken.taskId]);
    await alice.cancel(slow.taskId);
    assert.equal((await listen.next(t => t.taskId === slow.taskId && t.status === 'cancelled', 'cancelled')).status, 'cancelled');
    const failed = await listen.next(t => t.taskId === broken.taskId && t.status === 'failed', 'failed');
    assert.equal(failed.error?.code, -32603);
    assert.equal(await listen.subscription.closed, 'graceful');
  });

  it('the acknowledgement names the tasks followed: the caller\u2019s own only; another subject\u2019s stream hears nothing', async () => {
    const { taskId } = await alice.createTask('slow_compute', { seconds: 60 });
    const mine = listenRaw(41, 'alice', { taskIds: [taskId, '00000000-0000-4000-8000-000000000000'] });
    const theirs = listenRaw(42, 'bob', { taskIds: [taskId], toolsListChanged: true });
    try {
      await Promise.all([mine.opened, theirs.opened]);
      const ackMine = await mine.waitFor(x => x.messages().find(m => m.method === 'notifications/subscriptions/acknowledged'));
      assert.deepEqual(ackMine.params.notifications, { taskIds: [taskId] });
      assert.equal(ackMine.params._meta[SUBSCRIPTION_ID], 41);
      const ackTheirs = await theirs.waitFor(x => x.messages().find(m => m.method === 'notifications/subscriptions/acknowledged'));
      assert.deepEqual(ackTheirs.params.notifications, { toolsListChanged: true }, "bob's filter: no taskIds");
      await alice.cancel(taskId);
      const cancelled = await mine.waitFor(x => x.messages().find(m => m.method === 'notifications/tasks' && m.params.status === 'cancelled'));
      assert.equal(cancelled.params._meta[SUBSCRIPTION_ID], 41);
      // Bob's stream is still open (toolsListChanged) and carried nothing about the task.
      assert.equal(theirs.ended, false);
      assert.deepEqual(
        theirs.messages().filter(m => m.method !== 'notifications/subscriptions/acknowledged'),
        []
      );
    } finally {
      mine.close();
      theirs.close();
    }
  });

  it('errors: -32021 without the Tasks extension, -32602 for taskIds that are not a list of strings', async () => {
    const body = (id: number, notifications: unknown, capabilities: Record<string, unknown>) =>
      JSON.stringify(modernRequest(id, 'subscriptions/listen', { notifications }, capabilities));
    const headers = modernHeaders('subscriptions/listen', undefined, { authorization: 'Bearer test:alice' });
    const missing = await raw(app.mcpUrl, { method: 'POST', headers, body: body(1, { taskIds: [] }, {}) });
    assert.equal(missing.status, 400);
    const err = JSON.parse(missing.body) as { id: number; error: { code: number; data: unknown } };
    assert.equal(err.id, 1);
    assert.equal(err.error.code, -32021);
    assert.deepEqual(err.error.data, { requiredCapabilities: { extensions: { [TASKS]: {} } } });
    const bad = await raw(app.mcpUrl, { method: 'POST', headers, body: body(2, { taskIds: 'all' }, { extensions: { [TASKS]: {} } }) });
    assert.equal((JSON.parse(bad.body) as { error: { code: number } }).error.code, -32602);
  });
});
