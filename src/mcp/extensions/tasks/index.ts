/**
 * Tasks (SEP-2663, extension `io.modelcontextprotocol/tasks`, protocol
 * revision 2026-07-28): a `tools/call` may answer with a task handle instead
 * of a result, and the client follows the task with
 *
 * - `tasks/get`: the `DetailedTask` (status, progress message, outstanding
 *   `inputRequests`, the inlined `result` or `error` once terminal);
 * - `tasks/update`: answers (`inputResponses`) to some or all outstanding
 *   requests; an empty acknowledgement;
 * - `tasks/cancel`: an empty acknowledgement, also for a task already settled.
 *
 * The extension is advertised in `server/discover` under
 * `capabilities.extensions` (never the 2025 `capabilities.tasks`). Requests
 * that do not declare it in their client capabilities get -32021 from the
 * three methods; an unknown task id, or another subject's, gets -32602.
 * `tasks/result` and `tasks/list` (SEP-1686) do not exist: -32601. The SDK's
 * HTTP entry checks that `Mcp-Name` equals `params.taskId` (-32020).
 *
 * 2025-era sessions: no tasks (the experimental SEP-1686 tasks are not
 * served); the tools that can run without one run inline (./tools.ts).
 */
import type { McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { Logger } from '../../../logger.js';
import type { Store } from '../../../store/store.js';
import { DEFAULT_TASK_LIMITS, TaskRuntime, type TaskLimits } from './runtime.js';
import { TASKS_EXTENSION_ID, guardTaskTools, missingTasksCapability, ownerOf, tasksNegotiated, type TasksEra } from './tools.js';

export { TASKS_EXTENSION_ID, TASK_ONLY_TOOLS, TASK_TOOLS, guardTaskTools, registerTaskTools } from './tools.js';
export { DEFAULT_TASK_LIMITS, TASK_LIMIT_ERROR, TaskRuntime, taskLimitsFrom, type AbandonReason, type TaskLimits, type TaskView } from './runtime.js';
export { withTaskNotifications, type TaskListenHandler } from './listen.js';

/** The runtime for one process; `start` joins the cross-instance channel. */
export async function startTaskRuntime(store: Store, logger: Logger, limits: Partial<TaskLimits> = {}): Promise<TaskRuntime> {
  const runtime = new TaskRuntime(store, logger, { ...DEFAULT_TASK_LIMITS, ...limits });
  await runtime.start();
  return runtime;
}

const TaskIdParams = z.looseObject({ taskId: z.string().min(1).max(200) });
// `inputResponses` is lifted out of params by the SDK (ctx.mcpReq.inputResponses), as on a multi round-trip retry.
const UpdateParams = z.looseObject({ taskId: z.string().min(1).max(200), inputResponses: z.unknown().optional() });

/**
 * On 2026-07-28, the task methods, the extension's capability and the
 * -32021 guard, on one server instance (before it connects). The
 * task-running tools themselves are part of the shared catalogue
 * (`registerTaskTools`); 2025-era instances need nothing of their own.
 */
export function attachTasks(server: McpServer, runtime: TaskRuntime, era: TasksEra): void {
  if (era !== 'modern') return;
  guardTaskTools(server, runtime);
  const low = server.server;
  const gate = (ctx: ServerContext) => {
    if (!tasksNegotiated(ctx)) throw missingTasksCapability();
    return ownerOf(ctx);
  };
  low.registerCapabilities({ extensions: { [TASKS_EXTENSION_ID]: {} } });
  low.setRequestHandler('tasks/get', { params: TaskIdParams }, async (params, ctx) => ({ ...(await runtime.get(gate(ctx), params.taskId)) }));
  low.setRequestHandler('tasks/update', { params: UpdateParams }, async (params, ctx) => {
    await runtime.update(gate(ctx), params.taskId, params.inputResponses ?? ctx.mcpReq.inputResponses ?? {});
    return {};
  });
  low.setRequestHandler('tasks/cancel', { params: TaskIdParams }, async (params, ctx) => {
    await runtime.cancel(gate(ctx), params.taskId);
    return {};
  });
}
