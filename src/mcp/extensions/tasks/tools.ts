/**
 * Tools that run as tasks: the fixtures the conformance suite's `tasks-*`
 * scenarios call, and `researchReport`, a catalogue tool that shows a task to
 * a person (progress messages, a question halfway, a report at the end).
 *
 * `taskTool` decides, per call, how a tool runs:
 * - 2026-07-28 request that declares `io.modelcontextprotocol/tasks` in its
 *   client capabilities (on every request, or on this one only): a task is
 *   created and the flat `CreateTaskResult` returned at once;
 * - no declaration: a `required` tool answers -32021 (Missing Required Client
 *   Capability, naming the extension); an `optional` one runs inline and
 *   returns its `CallToolResult`;
 * - 2025-era sessions have no tasks here: `optional` tools run inline,
 *   `required` ones are not listed.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  acceptedContent,
  inputRequired,
  type CallToolResult,
  type McpServer,
  type ServerContext
} from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { TaskContext, TaskRuntime, TaskWork } from './runtime.js';

export const TASKS_EXTENSION_ID = 'io.modelcontextprotocol/tasks';

export type TasksEra = 'legacy' | 'modern';

const text = (t: string, isError = false): CallToolResult => ({ content: [{ type: 'text', text: t }], ...(isError ? { isError: true } : {}) });

/** The caller's subject (`""` when authorization is off): a task's owner. */
export function ownerOf(ctx: ServerContext): string {
  const subject = ctx.http?.authInfo?.extra?.['subject'];
  return typeof subject === 'string' ? subject : '';
}

/** Did this request declare form elicitation (`elicitation: {}` or `elicitation.form`) in its client capabilities? */
function formElicitationDeclared(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const elicitation = (envelope?.[CLIENT_CAPABILITIES_META_KEY] as { elicitation?: Record<string, unknown> } | undefined)?.elicitation;
  return elicitation !== undefined && (Object.keys(elicitation).length === 0 || elicitation.form !== undefined);
}

/** Did this 2026-07-28 request declare the Tasks extension in its client capabilities? */
export function tasksNegotiated(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const caps = envelope?.[CLIENT_CAPABILITIES_META_KEY] as { extensions?: Record<string, unknown> } | undefined;
  return caps?.extensions?.[TASKS_EXTENSION_ID] !== undefined;
}

export function missingTasksCapability(): MissingRequiredClientCapabilityError {
  return new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } }, 'Missing required client capability');
}

/** Runs task work inside the request (no task): no questions, progress only in the log. */
function inline(ctx: ServerContext): TaskContext {
  const signal = ctx.mcpReq.signal;
  return {
    taskId: '',
    signal,
    progress: async () => undefined,
    ask: () => Promise.reject(new ProtocolError(ProtocolErrorCode.InternalError, 'this tool asks questions only when it runs as a task')),
    sleep: ms =>
      new Promise((resolve, reject) => {
        if (signal.aborted) return reject(new DOMException('cancelled', 'AbortError'));
        const t = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => (clearTimeout(t), reject(new DOMException('cancelled', 'AbortError'))), { once: true });
      })
  };
}

interface TaskToolSpec<S extends z.ZodObject> {
  name: string;
  title?: string;
  description: string;
  inputSchema: S;
  taskSupport: 'optional' | 'required';
  /** The message the task starts with. */
  startMessage?: string;
  /**
   * Runs in the request before any task exists (multi round-trip input that
   * decides what the task will do): return an `input_required` result to ask,
   * or the work to run.
   */
  prepare?: (args: z.infer<S>, ctx: ServerContext) => Promise<ReturnType<typeof inputRequired> | TaskWork>;
  work?: (args: z.infer<S>) => TaskWork;
}

/** Tools that run only as tasks: a 2026-07-28 `tools/call` for one without the extension declared gets -32021. */
export const TASK_ONLY_TOOLS = new Set<string>();
/** Every tool that may create a task. */
export const TASK_TOOLS = new Set<string>();

type CallHandler = (request: { params?: { name?: unknown } }, ctx: ServerContext) => Promise<unknown>;
interface HandlerTable {
  _getRequestHandler(method: string): CallHandler | undefined;
  _requestHandlers: Map<string, CallHandler>;
}

/**
 * Puts two checks in front of the server's `tools/call` handler (2026-07-28
 * instances, after the tools are registered): -32021 for a task-only tool
 * called without the extension, and the live-task limits (-32000) before a
 * task is created. They cannot live in a tool's own handler: the SDK turns
 * anything a tool handler throws into an `isError: true` tool result, and
 * these must be JSON-RPC errors. SDK 2.4 has no public hook here, so the
 * stored handler is replaced in the protocol's handler table: going through
 * `setRequestHandler` would wrap the SDK's `tools/call` seam a second time
 * (request-state verification and input_required checks would run twice).
 */
export function guardTaskTools(server: McpServer, runtime: TaskRuntime): void {
  const table = server.server as unknown as HandlerTable;
  const inner = table._getRequestHandler('tools/call');
  if (!inner || !(table._requestHandlers instanceof Map)) return;
  table._requestHandlers.set('tools/call', async (request, ctx) => {
    const name = request.params?.name;
    if (typeof name === 'string' && TASK_TOOLS.has(name)) {
      if (!tasksNegotiated(ctx)) {
        if (TASK_ONLY_TOOLS.has(name)) throw missingTasksCapability();
      } else {
        await runtime.checkLimits(ownerOf(ctx));
      }
    }
    return inner(request, ctx);
  });
}

function taskTool<S extends z.ZodObject>(server: McpServer, runtime: TaskRuntime, era: TasksEra, spec: TaskToolSpec<S>): void {
  TASK_TOOLS.add(spec.name);
  if (spec.taskSupport === 'required') TASK_ONLY_TOOLS.add(spec.name);
  if (era === 'legacy' && spec.taskSupport === 'required') return;
  const tag = spec.taskSupport === 'required' ? 'Runs only as a task' : 'Runs as a task when the client supports tasks';
  server.registerTool(
    spec.name,
    { title: spec.title, description: `${spec.description} [${tag}: ${TASKS_EXTENSION_ID}]`, inputSchema: spec.inputSchema as unknown as z.ZodObject<Record<string, never>> },
    async (rawArgs: unknown, ctx: ServerContext): Promise<CallToolResult> => {
      const args = rawArgs as z.infer<S>;
      const negotiated = era === 'modern' && tasksNegotiated(ctx);
      if (!negotiated && spec.taskSupport === 'required') throw missingTasksCapability();
      let work: TaskWork;
      if (spec.prepare) {
        const prepared = await spec.prepare(args, ctx);
        if (typeof prepared !== 'function') return prepared as unknown as CallToolResult;
        work = prepared;
      } else {
        work = spec.work!(args);
      }
      if (!negotiated) return work(inline(ctx));
      const task = await runtime.create(ownerOf(ctx), spec.name, work, spec.startMessage);
      // CreateTaskResult: Result & Task, flat, resultType "task" (SEP-2663).
      return { resultType: 'task', ...task } as unknown as CallToolResult;
    }
  );
}

const confirmSchema = { type: 'object' as const, properties: { confirm: { type: 'boolean' as const, title: 'Confirm' } }, required: ['confirm'] };
const nameSchema = { type: 'object' as const, properties: { name: { type: 'string' as const, title: 'Name' } }, required: ['name'] };

/** Registers every task-running tool on `server` for `era`. */
export function registerTaskTools(server: McpServer, runtime: TaskRuntime, era: TasksEra): void {
  // ------------------------------------------------ conformance fixtures (tasks-* scenarios)
  server.registerTool(
    'greet',
    { description: '[conformance fixture] Synchronous tool (never a task): returns "Hello, {name}!".', inputSchema: z.object({ name: z.string().default('World') }) },
    async ({ name }) => text(`Hello, ${name}!`)
  );
  taskTool(server, runtime, era, {
    name: 'slow_compute',
    description: '[conformance fixture] Sleeps `seconds` seconds, then returns a result; cancellable.',
    inputSchema: z.object({ seconds: z.number().min(0).max(3600).default(1), label: z.string().max(200).optional() }),
    taskSupport: 'optional',
    startMessage: 'Computing.',
    work:
      ({ seconds, label }) =>
      async task => {
        await task.sleep(seconds * 1000);
        return text(`Computed${label ? ` ${label}` : ''} after ${seconds} s`);
      }
  });
  taskTool(server, runtime, era, {
    name: 'failing_job',
    description: '[conformance fixture] After about a second, returns a tool execution error (isError: true).',
    inputSchema: z.object({}),
    taskSupport: 'required',
    work: () => async task => {
      await task.sleep(1000);
      return text('The job failed: the input data is invalid (simulated tool error).', true);
    }
  });
  taskTool(server, runtime, era, {
    name: 'protocol_error_job',
    description: '[conformance fixture] Fails with a JSON-RPC error (a protocol-level failure, not a tool error).',
    inputSchema: z.object({}),
    taskSupport: 'optional',
    work: () => async task => {
      await task.sleep(200);
      throw new ProtocolError(ProtocolErrorCode.InternalError, 'Simulated protocol-level failure');
    }
  });
  taskTool(server, runtime, era, {
    name: 'confirm_delete',
    description: '[conformance fixture] Asks the client to confirm (form elicitation) before "deleting" `filename`.',
    inputSchema: z.object({ filename: z.string().min(1).max(500) }),
    taskSupport: 'required',
    work:
      ({ filename }) =>
      async task => {
        const answers = await task.ask({ confirm: inputRequired.elicit({ message: `Delete ${filename}?`, requestedSchema: confirmSchema }) }, `Waiting for confirmation to delete ${filename}.`);
        const confirmed = acceptedContent<{ confirm?: boolean }>(answers, 'confirm')?.confirm === true;
        return text(confirmed ? `Deleted ${filename}` : `Kept ${filename}: not confirmed`);
      }
  });
  taskTool(server, runtime, era, {
    name: 'multi_input',
    description: '[conformance fixture] Asks two questions at once; completes when both are answered (in one update or two).',
    inputSchema: z.object({}),
    taskSupport: 'required',
    work: () => async task => {
      const answers = await task.ask(
        {
          first: inputRequired.elicit({ message: 'First input: your name?', requestedSchema: nameSchema }),
          second: inputRequired.elicit({ message: 'Second input: confirm?', requestedSchema: confirmSchema })
        },
        'Waiting for two inputs.'
      );
      const name = acceptedContent<{ name?: string }>(answers, 'first')?.name ?? '(none)';
      const confirm = acceptedContent<{ confirm?: boolean }>(answers, 'second')?.confirm === true;
      return text(`Both inputs received: name=${name}, confirm=${confirm}`);
    }
  });
  taskTool(server, runtime, era, {
    name: 'test_tool_with_task',
    description: '[conformance fixture] Asks for user_name through a multi round-trip request, then runs as a task that greets them.',
    inputSchema: z.object({}),
    taskSupport: 'required',
    prepare: async (_args, ctx) => {
      const name = acceptedContent<{ name?: string }>(ctx.mcpReq.inputResponses, 'user_name')?.name;
      if (!name) return inputRequired({ inputRequests: { user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: nameSchema }) } });
      return async task => {
        await task.sleep(300);
        return text(`Hello, ${name}! (greeted by a task)`);
      };
    }
  });

  // ------------------------------------------------ catalogue: a task a person can follow
  taskTool(server, runtime, era, {
    name: 'researchReport',
    title: 'Research report (task)',
    description:
      'Researches a topic in the background: reports progress as it goes, asks which angle to take halfway, and returns a short report. Follow it with tasks/get; answer its question with tasks/update.',
    inputSchema: z.object({
      topic: z.string().min(1).max(200).describe('What to research'),
      stepSeconds: z.number().min(0).max(60).default(2).describe('Seconds each step takes (the demo is simulated)')
    }),
    taskSupport: 'required',
    startMessage: 'Starting the research.',
    // MRTR: a server must not put an input request in front of a client that did not declare the capability.
    prepare: async ({ topic, stepSeconds }, ctx) => {
      const mayAsk = formElicitationDeclared(ctx);
      return async task => {
        const step = stepSeconds * 1000;
        await task.progress(`Step 1/4: searching sources about "${topic}"`);
        await task.sleep(step);
        const sources = 3 + (topic.length % 5);
        await task.progress(`Step 2/4: reading ${sources} sources`);
        await task.sleep(step);
        const question = {
          angle: inputRequired.elicit({
            message: `Found ${sources} sources about "${topic}". Which angle should the report take?`,
            requestedSchema: {
              type: 'object',
              properties: { angle: { type: 'string', title: 'Angle', enum: ['overview', 'technical', 'history'], default: 'overview' } },
              required: ['angle']
            }
          })
        };
        const answers = mayAsk ? await task.ask(question, 'Step 3/4: waiting for your choice of angle') : {};
        const angle = acceptedContent<{ angle?: string }>(answers, 'angle')?.angle ?? 'overview';
        await task.progress(`Step 4/4: writing the ${angle} report`);
        await task.sleep(step);
        return {
          content: [{ type: 'text', text: `Report on "${topic}" (${angle}): ${sources} sources read; the key findings would go here in a real research tool.` }],
          structuredContent: { topic, angle, sources }
        };
      };
    }
  });
}
