/**
 * The Tasks runtime (SEP-2663): creates tasks, runs their work detached from
 * the request that started them, and answers `tasks/get`, `tasks/update` and
 * `tasks/cancel` from the shared store, so any instance can serve them.
 *
 * The work runs on the instance that created the task. Other instances reach
 * it through the store's pub/sub (channel `mcp:tasks`): an answer or a
 * cancellation recorded elsewhere wakes it at once, and a slow poll of the
 * store covers a lost message. If that instance stops, its tasks stay
 * readable until their TTL and never settle (docs/architecture.md).
 */
import { randomUUID } from 'node:crypto';

import { ProtocolError, ProtocolErrorCode, type CallToolResult, type InputRequests } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { Logger } from '../../../logger.js';
import type { Store } from '../../../store/store.js';
import { TaskRecords, taskKeys, type TaskRecord } from './records.js';

export interface TaskLimits {
  /** Default task lifetime (`ttlMs`) in ms. */
  ttlMs: number;
  /** `pollIntervalMs` suggested to clients. */
  pollIntervalMs: number;
  /** Live tasks one subject may have at once. */
  maxPerSubject: number;
  /** Live tasks on the whole deployment at once. */
  maxLive: number;
}

export const DEFAULT_TASK_LIMITS: TaskLimits = { ttlMs: 3_600_000, pollIntervalMs: 500, maxPerSubject: 20, maxLive: 1000 };

/** JSON-RPC error for a refused task creation (too many live tasks). */
export const TASK_LIMIT_ERROR = -32000;

/** What a task's work sees. */
export interface TaskContext {
  readonly taskId: string;
  /** Aborted when the task is cancelled. */
  readonly signal: AbortSignal;
  /** Sets `statusMessage` (stays `working`). */
  progress(message: string): Promise<void>;
  /**
   * Asks the client (status `input_required`, `inputRequests` on
   * `tasks/get`) and resolves with every answer once all have arrived
   * through `tasks/update`. Keys must not repeat over the task's life.
   */
  ask(inputRequests: InputRequests, message?: string): Promise<Record<string, Record<string, unknown>>>;
  /** Waits, or rejects when the task is cancelled. */
  sleep(ms: number): Promise<void>;
}

export type TaskWork = (task: TaskContext) => Promise<CallToolResult>;

/** The flat `CreateTaskResult` / `DetailedTask` fields of a record (never its owner or tool). */
export type TaskView = Omit<TaskRecord, 'owner' | 'tool'>;

interface Running {
  controller: AbortController;
  wake(): void;
}

const InputResponsesSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
const BusMessageSchema = z.object({ taskId: z.string(), event: z.enum(['cancel', 'input']) });

const unknownTask = () => new ProtocolError(ProtocolErrorCode.InvalidParams, 'Failed to retrieve task: Task not found');

export class TaskRuntime {
  readonly records: TaskRecords;
  private readonly running = new Map<string, Running>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    readonly limits: TaskLimits = DEFAULT_TASK_LIMITS,
    /** Fallback poll of the store while work waits for an answer or a cancellation (ms). */
    private readonly pollMs = 1000
  ) {
    this.records = new TaskRecords(store);
  }

  /** Joins the `mcp:tasks` channel (answers and cancellations from other instances). */
  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe(taskKeys.channel, message => {
      let parsed: z.infer<typeof BusMessageSchema>;
      try {
        parsed = BusMessageSchema.parse(JSON.parse(message));
      } catch {
        return;
      }
      const running = this.running.get(parsed.taskId);
      if (!running) return;
      if (parsed.event === 'cancel') running.controller.abort();
      else running.wake();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.running.values()) r.controller.abort();
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** Throws the JSON-RPC error (-32000) when `owner`, or the deployment, has as many live tasks as allowed. */
  async checkLimits(owner: string): Promise<void> {
    if ((await this.records.countLive(taskKeys.subjectSet(owner))) >= this.limits.maxPerSubject) {
      throw new ProtocolError(TASK_LIMIT_ERROR, `Too many live tasks: at most ${this.limits.maxPerSubject} per user (TASKS_MAX_PER_SUBJECT); wait for one to finish or cancel one`, {
        limit: 'per_subject',
        max: this.limits.maxPerSubject
      });
    }
    if ((await this.records.members(taskKeys.liveSet)) >= this.limits.maxLive && (await this.records.countLive(taskKeys.liveSet)) >= this.limits.maxLive) {
      throw new ProtocolError(TASK_LIMIT_ERROR, `Too many live tasks on this server: at most ${this.limits.maxLive} (TASKS_MAX_LIVE); try again later`, {
        limit: 'global',
        max: this.limits.maxLive
      });
    }
  }

  /**
   * Creates a task owned by `owner` and starts `work` detached from the
   * caller; resolves once the task is durably stored (a `tasks/get` for the
   * id succeeds from any instance).
   */
  async create(owner: string, tool: string, work: TaskWork, statusMessage?: string): Promise<TaskView> {
    await this.checkLimits(owner);
    const now = new Date().toISOString();
    const record: TaskRecord = {
      taskId: randomUUID(),
      owner,
      tool,
      status: 'working',
      ...(statusMessage ? { statusMessage } : {}),
      createdAt: now,
      lastUpdatedAt: now,
      ttlMs: this.limits.ttlMs,
      pollIntervalMs: this.limits.pollIntervalMs
    };
    await this.records.writeLive(record);
    await this.records.track(record);
    await this.records.replicate(record.taskId);
    this.logger.debug({ taskId: record.taskId, tool }, 'task created');
    this.execute(record, work);
    return view(record);
  }

  /** `tasks/get`: the task as its owner may see it; -32602 for an unknown id or another subject's task. */
  async get(owner: string, taskId: string): Promise<TaskView> {
    const record = await this.records.read(taskId);
    if (!record || record.owner !== owner) throw unknownTask();
    if (record.status !== 'input_required' || !record.inputRequests) return view(record);
    // Answers recorded since the work last wrote: those requests are no longer outstanding.
    const pending: Record<string, Record<string, unknown>> = {};
    for (const [key, request] of Object.entries(record.inputRequests)) {
      if ((await this.records.response(taskId, key)) === undefined) pending[key] = request;
    }
    if (Object.keys(pending).length > 0) return view({ ...record, inputRequests: pending });
    const { inputRequests: _answered, statusMessage: _asked, ...rest } = record;
    return view({ ...rest, status: 'working' });
  }

  /** `tasks/update`: records answers to outstanding requests (others are ignored) and wakes the work. */
  async update(owner: string, taskId: string, inputResponses: unknown): Promise<void> {
    const responses = InputResponsesSchema.safeParse(inputResponses);
    if (!responses.success) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'inputResponses must map input request keys to response objects');
    const record = await this.records.read(taskId);
    if (!record || record.owner !== owner) throw unknownTask();
    if (record.status !== 'input_required' || !record.inputRequests) return;
    let answered = 0;
    for (const [key, response] of Object.entries(responses.data)) {
      if (Object.hasOwn(record.inputRequests, key) && (await this.records.answer(record, key, response))) answered++;
    }
    if (answered > 0) await this.signal(taskId, 'input');
  }

  /** `tasks/cancel`: settles a live task as cancelled and stops its work; a terminal task is left as it is. */
  async cancel(owner: string, taskId: string): Promise<void> {
    const record = await this.records.read(taskId);
    if (!record || record.owner !== owner) throw unknownTask();
    if (record.status !== 'working' && record.status !== 'input_required') return;
    const { inputRequests: _dropped, ...rest } = record;
    const cancelled: TaskRecord = { ...rest, status: 'cancelled', statusMessage: 'Cancelled at the client\u2019s request.', lastUpdatedAt: new Date().toISOString() };
    if (await this.records.settle(cancelled)) this.logger.debug({ taskId }, 'task cancelled');
    await this.signal(taskId, 'cancel');
  }

  private async signal(taskId: string, event: 'cancel' | 'input'): Promise<void> {
    const local = this.running.get(taskId);
    if (local) {
      if (event === 'cancel') local.controller.abort();
      else local.wake();
      return;
    }
    await this.store.publish(taskKeys.channel, JSON.stringify({ taskId, event })).catch(err => this.logger.warn({ err, taskId }, 'tasks: could not publish to other instances'));
  }

  private execute(initial: TaskRecord, work: TaskWork): void {
    const controller = new AbortController();
    let wakeUp: () => void = () => undefined;
    const running: Running = { controller, wake: () => wakeUp() };
    this.running.set(initial.taskId, running);
    let current = initial;
    const usedKeys = new Set<string>();
    const write = async (patch: Partial<TaskRecord>) => {
      current = { ...current, ...patch, lastUpdatedAt: new Date().toISOString() };
      if (!controller.signal.aborted) await this.records.writeLive(current);
    };
    const cancelled = () => new DOMException('The task was cancelled', 'AbortError');
    const nap = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (controller.signal.aborted) return reject(cancelled());
        const done = () => {
          clearTimeout(timer);
          controller.signal.removeEventListener('abort', onAbort);
          wakeUp = () => undefined;
          resolve();
        };
        const onAbort = () => {
          clearTimeout(timer);
          wakeUp = () => undefined;
          reject(cancelled());
        };
        const timer = setTimeout(done, ms);
        wakeUp = done;
        controller.signal.addEventListener('abort', onAbort, { once: true });
      });
    // Cancellation recorded by another instance while its message was lost: noticed by this poll.
    const watchdog = setInterval(() => {
      void this.records.readFinal(current.taskId).then(
        final => {
          if (final) controller.abort();
        },
        () => undefined
      );
    }, this.pollMs);
    watchdog.unref();

    const context: TaskContext = {
      taskId: initial.taskId,
      signal: controller.signal,
      progress: message => write({ status: 'working', statusMessage: message, inputRequests: undefined }),
      sleep: async ms => {
        const until = Date.now() + ms;
        while (Date.now() < until) await nap(until - Date.now());
      },
      ask: async (inputRequests, message) => {
        for (const key of Object.keys(inputRequests)) {
          if (usedKeys.has(key)) throw new Error(`input request key ${key} was already used by this task`);
          usedKeys.add(key);
        }
        await write({ status: 'input_required', inputRequests: inputRequests as Record<string, Record<string, unknown>>, ...(message ? { statusMessage: message } : {}) });
        for (;;) {
          const answers: Record<string, Record<string, unknown>> = {};
          for (const key of Object.keys(inputRequests)) {
            const answer = await this.records.response(current.taskId, key);
            if (answer !== undefined) answers[key] = answer;
          }
          if (Object.keys(answers).length === Object.keys(inputRequests).length) {
            await write({ status: 'working', inputRequests: undefined, statusMessage: undefined });
            return answers;
          }
          await nap(this.pollMs);
        }
      }
    };

    const settle = async (outcome: Pick<TaskRecord, 'status' | 'statusMessage' | 'result' | 'error'>) => {
      const { inputRequests: _done, statusMessage: _last, ...rest } = current;
      const final: TaskRecord = { ...rest, ...outcome, lastUpdatedAt: new Date().toISOString() };
      for (const [k, v] of Object.entries(final)) if (v === undefined) delete (final as Record<string, unknown>)[k];
      if (await this.records.settle(final)) this.logger.debug({ taskId: final.taskId, status: final.status }, 'task settled');
    };

    void (async () => {
      try {
        const result = await work(context);
        if (!controller.signal.aborted) await settle({ status: 'completed', result: result as Record<string, unknown> });
      } catch (err) {
        if (controller.signal.aborted) return; // tasks/cancel settled it
        if (err instanceof ProtocolError) {
          await settle({ status: 'failed', statusMessage: `Tool execution failed: ${err.message}`, error: { code: err.code, message: err.message, ...(err.data === undefined ? {} : { data: err.data }) } });
        } else {
          this.logger.warn({ err, taskId: current.taskId }, 'task work failed');
          await settle({ status: 'failed', statusMessage: 'Tool execution failed: internal error', error: { code: ProtocolErrorCode.InternalError, message: 'Internal error' } });
        }
      }
    })()
      .catch(err => this.logger.warn({ err, taskId: current.taskId }, 'tasks: could not record the outcome'))
      .finally(() => {
        clearInterval(watchdog);
        this.running.delete(initial.taskId);
      });
  }

  /** Tasks whose work runs on this instance (metrics, shutdown). */
  get runningCount(): number {
    return this.running.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function view(record: TaskRecord): TaskView {
  const { owner: _owner, tool: _tool, ...rest } = record;
  for (const [k, v] of Object.entries(rest)) if (v === undefined) delete (rest as Record<string, unknown>)[k];
  return rest;
}
