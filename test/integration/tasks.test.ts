/**
 * Tasks (SEP-2663) through the SDK v2 client on 2026-07-28, with tokens from
 * the real OAuth flow (alice, and bob for ownership): a task's whole life
 * (created, followed, asked a question, answered, completed), cancellation,
 * partial answers, the errors, the per-subject limit, and what 2025-era
 * sessions get instead (no tasks; optional task tools run inline).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { z } from 'zod';

import { connect, startTestServer, texts, type TestServer } from '../helpers/mcp-harness.js';
import { obtainTokens } from '../helpers/oauth.js';
import { connectTasksClient, TASKS, type TasksClient } from '../helpers/tasks-client.js';

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return { code: (err as { code?: unknown }).code, message: (err as Error).message, data: (err as { data?: unknown }).data };
  }
  return { code: 'no error' };
};

let ts: TestServer;
let alice: TasksClient;
before(async () => {
  ts = await startTestServer({ name: 'tasks' });
  alice = await connectTasksClient(ts.mcpUrl, ts.token);
});
after(async () => {
  await alice?.close();
  await ts?.close();
});

describe('Tasks on 2026-07-28', () => {
  it('advertises the extension in server/discover, never the 2025 capabilities.tasks', () => {
    const caps = alice.client.getServerCapabilities() as Record<string, unknown> & { extensions?: Record<string, unknown> };
    assert.deepEqual(caps.extensions?.[TASKS], {});
    assert.equal(caps['tasks'], undefined);
  });

  it('a research task: created at once, reports progress, asks a question, takes the answer, completes with the report', async () => {
    const created = await alice.createTask('researchReport', { topic: 'tidal energy', stepSeconds: 0.3 });
    assert.equal(created['resultType'], 'task');
    assert.equal(created['status'], 'working');
    assert.equal(created['task'], undefined, 'flat CreateTaskResult, no nested task');
    assert.equal(created['result'], undefined);
    assert.equal(typeof created['ttlMs'], 'number');
    assert.equal(typeof created['pollIntervalMs'], 'number');
    assert.ok(!Number.isNaN(Date.parse(String(created['createdAt']))));

    const seen = new Set<string>();
    const asking = await alice.until(
      created.taskId,
      t => {
        if (t.statusMessage) seen.add(t.statusMessage);
        return t.status === 'input_required';
      },
      'the question'
    );
    assert.ok([...seen].some(m => m.startsWith('Step 1/4') || m.startsWith('Step 2/4')), `progress seen: ${[...seen].join(' | ')}`);
    const question = asking.inputRequests?.['angle'];
    assert.equal(question?.method, 'elicitation/create');
    assert.match(String(question?.params['message']), /tidal energy/);

    const ack = await alice.update(created.taskId, { angle: { action: 'accept', content: { angle: 'technical' } } });
    assert.deepEqual(Object.keys(ack).filter(k => k !== '_meta'), []);
    const done = await alice.until(created.taskId, t => t.status === 'completed', 'completion');
    assert.match(done.result?.content?.[0]?.text ?? '', /Report on "tidal energy" \(technical\)/);
    assert.equal(done.inputRequests, undefined);
  });

  it('a research task for a client that declared no elicitation never asks (MRTR: no input request without the capability) and takes the default angle', async () => {
    const mute = await connectTasksClient(ts.mcpUrl, ts.token, { declareElicitation: false, name: 'no-elicitation' });
    try {
      const created = await mute.createTask('researchReport', { topic: 'wind power', stepSeconds: 0.1 });
      const statuses = new Set<string>();
      const done = await mute.until(
        created.taskId,
        t => {
          statuses.add(t.status);
          return t.status === 'completed' || t.status === 'failed';
        },
        'completion'
      );
      assert.equal(done.status, 'completed');
      assert.ok(!statuses.has('input_required'), `statuses seen: ${[...statuses].join(', ')}`);
      assert.match(done.result?.content?.[0]?.text ?? '', /Report on "wind power" \(overview\)/);
    } finally {
      await mute.close();
    }
  });

  it('cancels a running task; cancelling again (a terminal task) is the same empty acknowledgement', async () => {
    const { taskId } = await alice.createTask('slow_compute', { seconds: 60 });
    assert.equal((await alice.get(taskId)).status, 'working');
    await alice.cancel(taskId);
    assert.equal((await alice.get(taskId)).status, 'cancelled');
    const again = await alice.cancel(taskId);
    assert.deepEqual(Object.keys(again).filter(k => k !== '_meta'), []);
    assert.equal((await alice.get(taskId)).status, 'cancelled');
  });

  it('partial answers: the answered request leaves inputRequests, the task waits for the other', async () => {
    const { taskId } = await alice.createTask('multi_input');
    const both = await alice.until(taskId, t => t.status === 'input_required' && Object.keys(t.inputRequests ?? {}).length === 2, 'two questions');
    assert.deepEqual(Object.keys(both.inputRequests!).sort(), ['first', 'second']);
    await alice.update(taskId, { first: { action: 'accept', content: { name: 'Ada' } }, never_asked: { action: 'accept', content: {} } });
    const one = await alice.get(taskId);
    assert.equal(one.status, 'input_required');
    assert.deepEqual(Object.keys(one.inputRequests!), ['second']);
    await alice.update(taskId, { second: { action: 'accept', content: { confirm: true } } });
    const done = await alice.until(taskId, t => t.status === 'completed', 'completion');
    assert.match(done.result?.content?.[0]?.text ?? '', /name=Ada, confirm=true/);
  });

  it('a tool error completes the task with isError; a protocol error fails it with the JSON-RPC error', async () => {
    const failing = await alice.createTask('failing_job');
    const completed = await alice.until(failing.taskId, t => t.status !== 'working', 'the tool error');
    assert.equal(completed.status, 'completed');
    assert.equal(completed.result?.isError, true);
    const broken = await alice.createTask('protocol_error_job');
    const failed = await alice.until(broken.taskId, t => t.status !== 'working', 'the protocol error');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, -32603);
    assert.equal(failed.result, undefined);
  });

  it("another subject's task is unknown to them (-32602), and stays the owner's", async () => {
    const { taskId } = await alice.createTask('slow_compute', { seconds: 30 });
    const bobToken = (await obtainTokens(ts.baseUrl, { scope: 'mcp', identity: 'bob', clientName: 'Tasks ownership test' })).accessToken;
    const bob = await connectTasksClient(ts.mcpUrl, bobToken, { name: 'bob' });
    try {
      for (const attempt of [() => bob.get(taskId), () => bob.update(taskId, {}), () => bob.cancel(taskId)]) assert.equal((await code(attempt())).code, -32602);
      assert.equal((await alice.get(taskId)).status, 'working', "bob's cancel did not touch alice's task");
    } finally {
      await bob.close();
      await alice.cancel(taskId);
    }
  });

  it('errors: unknown id -32602; without the extension -32021 (methods and task-only tools)', async () => {
    assert.equal((await code(alice.get('00000000-0000-4000-8000-000000000000'))).code, -32602);
    assert.equal((await code(alice.get('not-a-task-id'))).code, -32602);
    // tasks/result and tasks/list (-32601): the SDK client refuses to send them on 2026-07-28; the conformance scenario tasks-dispatch-and-envelope sends them.
    const plain = await connectTasksClient(ts.mcpUrl, ts.token, { declareTasks: false, name: 'no-tasks' });
    try {
      const { taskId } = await alice.createTask('slow_compute', { seconds: 30 });
      assert.equal((await code(plain.get(taskId))).code, -32021);
      assert.equal((await code(plain.cancel(taskId))).code, -32021);
      await alice.cancel(taskId);
      const refused = await code(plain.client.callTool({ name: 'failing_job', arguments: {} }));
      assert.equal(refused.code, -32021);
      assert.deepEqual((refused.data as { requiredCapabilities?: unknown }).requiredCapabilities, { extensions: { [TASKS]: {} } });
      // An optional task tool runs inline for a client without the extension.
      const inline = await plain.client.callTool({ name: 'slow_compute', arguments: { seconds: 0, label: 'inline' } });
      assert.deepEqual(texts(inline), ['Computed inline after 0 s']);
    } finally {
      await plain.close();
    }
  });
});

describe('Tasks on 2025-11-25 sessions', () => {
  it('no tasks: task-only tools are not listed, optional ones run inline, tasks/get does not exist', async () => {
    const c = await connect(ts, '2025');
    try {
      const names = (await c.client.listTools()).tools.map(t => t.name);
      assert.ok(names.includes('slow_compute') && names.includes('greet'));
      for (const taskOnly of ['researchReport', 'failing_job', 'confirm_delete', 'multi_input', 'test_tool_with_task']) assert.ok(!names.includes(taskOnly), taskOnly);
      assert.deepEqual(texts(await c.client.callTool({ name: 'slow_compute', arguments: { seconds: 0, label: 'legacy' } })), ['Computed legacy after 0 s']);
      assert.equal((await code(c.client.request({ method: 'tasks/get', params: { taskId: 'x' } } as never, z.looseObject({})))).code, -32601);
    } finally {
      await c.close();
    }
  });
});

describe('the global ceiling on live tasks', () => {
  let limited: TestServer;
  before(async () => {
    limited = await startTestServer({ name: 'tasks-ceiling', env: { TASKS_MAX_LIVE: '1' } });
  });
  after(async () => {
    await limited?.close();
  });

  it("one person's live task fills a ceiling of 1: another person's creation is refused with limit global", async () => {
    const alice1 = await connectTasksClient(limited.mcpUrl, limited.token!);
    const bobToken = (await obtainTokens(limited.baseUrl, { scope: 'mcp', identity: 'bob', clientName: 'Tasks ceiling test' })).accessToken;
    const bob = await connectTasksClient(limited.mcpUrl, bobToken, { name: 'bob' });
    try {
      const first = await alice1.createTask('slow_compute', { seconds: 60 });
      const refused = await code(bob.createTask('slow_compute', { seconds: 60 }));
      assert.equal(refused.code, -32000);
      assert.match(String(refused.message), /at most 1 \(TASKS_MAX_LIVE\)/);
      assert.equal((refused.data as { limit?: string }).limit, 'global');
      await alice1.cancel(first.taskId);
      assert.equal((await bob.createTask('slow_compute', { seconds: 0 }))['status'], 'working');
    } finally {
      await alice1.close();
      await bob.close();
    }
  });
});

describe('the per-subject limit on live tasks', () => {
  let limited: TestServer;
  let client: TasksClient;
  before(async () => {
    limited = await startTestServer({ name: 'tasks-limit', env: { TASKS_MAX_PER_SUBJECT: '2' } });
    client = await connectTasksClient(limited.mcpUrl, limited.token!);
  });
  after(async () => {
    await client?.close();
    await limited?.close();
  });

  it('refuses a third live task with a JSON-RPC error, and accepts one again once a task has ended', async () => {
    const first = await client.createTask('slow_compute', { seconds: 60 });
    await client.createTask('slow_compute', { seconds: 60 });
    const refused = await code(client.createTask('slow_compute', { seconds: 60 }));
    assert.equal(refused.code, -32000);
    assert.match(String(refused.message), /Too many live tasks: at most 2 per user/);
    await client.cancel(first.taskId);
    const third = await client.createTask('slow_compute', { seconds: 60 });
    assert.equal(third['status'], 'working');
  });
});
