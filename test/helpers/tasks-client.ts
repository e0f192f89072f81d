/**
 * An SDK v2 client that speaks the Tasks extension (SEP-2663) on 2026-07-28.
 *
 * SDK 2.4's client declares the extension (`capabilities.extensions`) and
 * sends `tasks/get`, `tasks/update` and `tasks/cancel` through
 * `client.request`, but it refuses a `tools/call` answered with
 * `resultType: "task"` (UnsupportedResultType, without the result). So the
 * transport's `fetch` keeps the last `tools/call` response body, and
 * `createTask` reads the `CreateTaskResult` from it after the SDK refused it.
 * Everything else (envelope, headers, bearer token) is the SDK's own.
 */
import { Client, StreamableHTTPClientTransport, type McpSubscription } from '@modelcontextprotocol/client';
import { z } from 'zod';

export const TASKS = 'io.modelcontextprotocol/tasks';

export const TaskSchema = z.looseObject({
  taskId: z.string(),
  status: z.enum(['working', 'input_required', 'completed', 'failed', 'cancelled']),
  statusMessage: z.string().optional(),
  createdAt: z.string(),
  lastUpdatedAt: z.string(),
  ttlMs: z.number().nullable(),
  pollIntervalMs: z.number().optional(),
  inputRequests: z.record(z.string(), z.looseObject({ method: z.string(), params: z.looseObject({}) })).optional(),
  result: z.looseObject({ content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })).optional(), isError: z.boolean().optional() }).optional(),
  error: z.looseObject({ code: z.number(), message: z.string() }).optional()
});
export type TaskState = z.infer<typeof TaskSchema>;
const Empty = z.looseObject({});

export const TaskNotificationSchema = z.object({ method: z.literal('notifications/tasks'), params: TaskSchema });

export interface TaskListen {
  subscription: McpSubscription;
  /** The `notifications/tasks` params received on this stream, in order. */
  notes: TaskState[];
  /** Resolves with the first note for which `done` holds (bounded). */
  next(done: (t: TaskState) => boolean, what?: string): Promise<TaskState>;
}

export interface TasksClient {
  client: Client;
  /** The raw result of the last `tools/call`. */
  lastCall(): Record<string, unknown> | undefined;
  /** `tools/call` that must create a task: resolves with the flat CreateTaskResult. */
  createTask(name: string, args?: Record<string, unknown>): Promise<Record<string, unknown> & { taskId: string }>;
  get(taskId: string): Promise<TaskState>;
  update(taskId: string, inputResponses: Record<string, unknown>): Promise<Record<string, unknown>>;
  cancel(taskId: string): Promise<Record<string, unknown>>;
  /**
   * Opens a `subscriptions/listen` stream following `taskIds` (plus any
   * standard `filter` fields); `notes` collects the `notifications/tasks`
   * it delivers (the SDK's own listen, with a schema for the extension's notification).
   */
  listenTasks(taskIds: unknown, filter?: Record<string, unknown>): Promise<TaskListen>;
  /** Polls `tasks/get` until `done` holds (bounded). */
  until(taskId: string, done: (t: TaskState) => boolean, what?: string): Promise<TaskState>;
  close(): Promise<void>;
}

function bodyResult(text: string): Record<string, unknown> | undefined {
  const candidates = text.trim().startsWith('{')
    ? [text]
    : text
        .split('\n')
        .filter(l => l.startsWith('data:'))
        .map(l => l.slice(5).trim());
  for (const c of candidates) {
    try {
      const msg = JSON.parse(c) as { result?: Record<string, unknown> };
      if (msg.result) return msg.result;
    } catch {
      // not JSON (priming event)
    }
  }
  return undefined;
}

export async function connectTasksClient(
  mcpUrl: string,
  token: string | undefined,
  options: { declareTasks?: boolean; declareElicitation?: boolean; headers?: Record<string, string>; name?: string } = {}
): Promise<TasksClient> {
  let last: Record<string, unknown> | undefined;
  const capturingFetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(options.headers ?? {})) headers.set(k, v);
    const res = await fetch(input, { ...init, headers });
    if (headers.get('mcp-method') === 'tools/call') last = bodyResult(await res.clone().text());
    return res;
  };
  const client = new Client(
    { name: options.name ?? 'tasks-test', version: '1.0.0' },
    {
      capabilities: { ...(options.declareElicitation === false ? {} : { elicitation: { form: {} } }), ...(options.declareTasks === false ? {} : { extensions: { [TASKS]: {} } }) } as never,
      versionNegotiation: { mode: { pin: '2026-07-28' } }
    }
  );
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: token ? { token: async () => token } : undefined, fetch: capturingFetch });
  await client.connect(transport);
  const get = (taskId: string) => client.request({ method: 'tasks/get', params: { taskId } } as never, TaskSchema);
  // The SDK lifts the subscription id out of _meta before the handler runs: each listen keeps the notes about its own task ids.
  const streams = new Set<{ ids: Set<string>; notes: TaskState[] }>();
  const waiters = new Set<() => void>();
  client.setNotificationHandler('notifications/tasks', { params: TaskSchema.extend({ _meta: z.looseObject({}).optional() }) }, async params => {
    const { _meta, ...task } = params;
    for (const s of streams) if (s.ids.has(task.taskId)) s.notes.push(task as TaskState);
    for (const w of [...waiters]) w();
  });
  return {
    client,
    lastCall: () => last,
    async createTask(name, args = {}) {
      last = undefined;
      try {
        const r = await client.callTool({ name, arguments: args });
        throw new Error(`${name} answered without a task: ${JSON.stringify(r)}`);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== 'UNSUPPORTED_RESULT_TYPE' || last?.['resultType'] !== 'task') throw err;
        return last as Record<string, unknown> & { taskId: string };
      }
    },
    get,
    update: (taskId, inputResponses) => client.request({ method: 'tasks/update', params: { taskId, inputResponses } } as never, Empty),
    cancel: taskId => client.request({ method: 'tasks/cancel', params: { taskId } } as never, Empty),
    async listenTasks(taskIds, filter = {}) {
      const notes: TaskState[] = [];
      streams.add({ ids: new Set(Array.isArray(taskIds) ? taskIds.map(String) : []), notes });
      const subscription = await client.listen({ ...filter, taskIds } as never);
      return {
        subscription,
        notes,
        next: (done, what = 'a task notification') =>
          new Promise<TaskState>((resolve, reject) => {
            const check = () => {
              const hit = notes.find(done);
              if (!hit) return;
              clearTimeout(timer);
              waiters.delete(check);
              resolve(hit);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              reject(new Error(`timed out waiting for ${what}; notes: ${JSON.stringify(notes.map(n => n.status))}`));
            }, 15_000);
            waiters.add(check);
            check();
          })
      };
    },
    async until(taskId, done, what = 'the task state') {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const t = await get(taskId);
        if (done(t)) return t;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(t)}`);
        await new Promise(r => setTimeout(r, 100));
      }
    },
    close: () => client.close()
  };
}
