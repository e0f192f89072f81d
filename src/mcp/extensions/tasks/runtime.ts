/**
 * The Tasks runtime (SEP-2663): creates tasks, runs their work detached from
 * the request that started them, and answers `tasks/get`, `tasks/update` and
 * `tasks/cancel` from the shared store, so any instance can serve them.
 *
 * The work runs on the instance that created the task. Other instances reach
 * it through the store's pub/sub (channel `mcp:tasks`): an answer or a
 * cancellation recorded elsewhere wakes it at once, and a slow poll of the
 * store covers a lost message.
 *
 * Every status change is announced on the same channel (`status`), so the
 * `subscriptions/listen` streams following a task on any instance send
 * `notifications/tasks` (./listen.ts).
 *
 * If the instance running a task stops: on a graceful shutdown (`close`) it
 * settles its unfinished tasks as `failed` (error -32603, `data.reason`
 * `shutdown`); if it dies, its lease (`mcp:tasks:instance:<id>`, renewed
 * every third of `leaseMs`) lapses, and the next instance to read one of its
 * tasks settles it as `failed` (`data.reason` `lease_expired`).
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
  /** How long an instance's lease on its running tasks lasts without renewal (ms); renewed every third of it. */
  leaseMs: number;
}

export const DEFAULT_TASK_LIMITS: TaskLimits = { ttlMs: 3_600_000, pollIntervalMs: 500, maxPerSubject: 20, maxLive: 1000, leaseMs: 30_000 };

/** The limits from the `TASKS_*` settings (seconds in the config, ms here); the defaults without them. */
export function taskLimitsFrom(settings: { ttlSeconds: number; maxPerSubject: number; maxLive: number; leaseSeconds: number } | undefined): TaskLimits {
  if (!settings) return DEFAULT_TASK_LIMITS;
  return {
    ...DEFAULT_TASK_LIMITS,
    ttlMs: Math.round(settings.ttlSeconds * 1000),
    maxPerSubject: settings.maxPerSubject,
    maxLive: settings.maxLive,
    leaseMs: Math.round(settings.leaseSeconds * 1000)
  };
}

/** Why a task failed without its work finishing (`error.data.reason`). */
export type AbandonReason = 'shutdown' | 'lease_expired';
const ABANDONED: Record<AbandonReason, { statusMessage: string; message: string }> = {
  shutdown: {
    statusMessage: 'The server instance running this task shut down before it finished; start the task again.',
    message: 'Task interrupted: the server instance running it shut down'
  },
  lease_expired: {
    statusMessage: 'The server instance running this task stopped responding before it finished; start the task again.',
    message: 'Task abandoned: the server instance running it stopped (its lease lapsed)'
  }
};

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

/** The flat `CreateTaskResult` / `DetailedTask` fields of a record (never its owner, tool or runner). */
export type TaskView = Omit<TaskRecord, 'owner' | 'tool' | 'runner'>;

interface Running {
  controller: AbortController;
  wake(): void;
  /** Settles the task as failed (graceful shutdown), then stops the work. */
  interrupt(): Promise<void>;
}

const InputResponsesSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
const BusMessageSchema = z.object({ taskId: z.string(), event: z.enum(['cancel', 'input', 'status']), origin: z.string().optional() });

const unknownTask = () => new ProtocolError(ProtocolErrorCode.InvalidParams, 'Failed to retrieve task: Task not found');

export class TaskRuntime {
  readonly records: TaskRecords;
  /** This process as a runner of task work (its lease key names it). */
  readonly instanceId = randomUUID();
  private readonly running = new Map<string, Running>();
  private readonly watchers = new Set<(taskId: string) => void>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private leaseRenewedAt = 0;
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

  /**
   * Starts renewing this instance's lease and joins the `mcp:tasks` channel
   * (answers, cancellations and status changes from other instances).
   */
  async start(): Promise<void> {
    this.heartbeat ??= setInterval(() => void this.renewLease().catch(err => this.logger.warn({ err }, 'tasks: could not renew the lease on running tasks')), Math.max(1, Math.floor(this.limits.leaseMs / 3)));
    this.heartbeat.unref();
    this.unsubscribe = await this.store.subscribe(taskKeys.channel, message => {
      let parsed: z.infer<typeof BusMessageSchema>;
      try {
        parsed = BusMessageSchema.parse(JSON.parse(message));
      } catch {
        return;
      }
      if (parsed.event === 'status') {
        if (parsed.origin !== this.instanceId) this.notifyWatchers(parsed.taskId);
        return;
      }
      const running = this.running.get(parsed.taskId);
      if (!running) return;
      if (parsed.event === 'cancel') running.controller.abort();
      else running.wake();
    });
  }

  /**
   * Stops this instance's task work. Graceful (the default): every task
   * still running here is settled as failed (`data.reason: "shutdown"`)
   * before its work stops, and the lease is dropped. `{ graceful: false }`
   * stops the work and the lease renewal without writing anything, as a
   * crash would (tests): the tasks settle once the lease lapses.
   */
  async close(options: { graceful?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    const graceful = options.graceful ?? true;
    const running = [...this.running.values()];
    if (graceful) {
      const outcomes = await Promise.allSettled(running.map(r => r.interrupt()));
      const failed = outcomes.filter(o => o.status === 'rejected').length;
      if (failed > 0) this.logger.warn({ failed }, 'tasks: could not record the end of some running tasks at shutdown; they fail once the lease lapses');
      if (failed === 0) await this.records.dropLease(this.instanceId).catch(() => undefined);
    }
    for (const r of running) r.controller.abort();
    this.watchers.clear();
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** Calls `listener(taskId)` whenever a task's status may have changed (any instance). */
  watch(listener: (taskId: string) => void): () => void {
    const wrapped = (taskId: string) => listener(taskId);
    this.watchers.add(wrapped);
    return () => void this.watchers.delete(wrapped);
  }

  private notifyWatchers(taskId: string): void {
    for (const w of [...this.watchers]) {
      try {
        w(taskId);
      } catch (err) {
        this.logger.warn({ err, taskId }, 'tasks: a status watcher threw');
      }
    }
  }

  /** A task's status changed: tell the watchers here, and the other instances. */
  private async announce(taskId: string): Promise<void> {
    this.notifyWatchers(taskId);
    await this.store
      .publish(taskKeys.channel, JSON.stringify({ taskId, event: 'status', origin: this.instanceId }))
      .catch(err => this.logger.warn({ err, taskId }, 'tasks: could not announce a status change to other instances'));
  }

  private async renewLease(): Promise<void> {
    await this.records.renewLease(this.instanceId, this.limits.leaseMs);
    this.leaseRenewedAt = Date.now();
  }

  /** True when `record` is live but the instance running it has lost its lease (it stopped). */
  private async orphaned(record: TaskRecord): Promise<boolean> {
    if (record.status !== 'working' && record.status !== 'input_required') return false;
    if (record.runner === undefined || record.runner === this.instanceId) return false;
    return !(await this.records.leaseHeld(record.runner));
  }

  /** Settles a live task whose work stopped as failed; returns the task as it now stands. */
  private async abandon(record: TaskRecord, reason: AbandonReason): Promise<TaskRecord> {
    const { inputRequests: _dropped, statusMessage: _last, ...rest } = record;
    const text = ABANDONED[reason];
    const failed: TaskRecord = {
      ...rest,
      status: 'failed',
      statusMessage: text.statusMessage,
      error: { code: ProtocolErrorCode.InternalError, message: text.message, data: { reason } },
      lastUpdatedAt: new Date().toISOString()
    };
    if (await this.records.settle(failed)) {
      this.logger.info({ taskId: record.taskId, tool: record.tool, reason, runner: record.runner }, 'task failed: its work stopped before it finished');
      await this.announce(record.taskId);
      return failed;
    }
    return (await this.records.read(record.taskId)) ?? failed;
  }

  /** The task as it stands; a live task whose runner lost its lease is settled as failed first. */
  private async resolve(taskId: string): Promise<TaskRecord | undefined> {
    const record = await this.records.read(taskId);
    if (record && (await this.orphaned(record))) return this.abandon(record, 'lease_expired');
    return record;
  }

  /** Throws the JSON-RPC error (-32000) when `owner`, or the deployment, has as many live tasks as allowed. */
  async checkLimits(owner: string): Promise<void> {
    const orphaned = async (record: TaskRecord) => (await this.orphaned(record)) && (await this.abandon(record, 'lease_expired'), true);
    if ((await this.records.countLive(taskKeys.subjectSet(owner), orphaned)) >= this.limits.maxPerSubject) {
      throw new ProtocolError(TASK_LIMIT_ERROR, `Too many live tasks: at most ${this.limits.maxPerSubject} per user (TASKS_MAX_PER_SUBJECT); wait for one to finish or cancel one`, {
        limit: 'per_subject',
        max: this.limits.maxPerSubject
      });
    }
    if ((await this.records.members(taskKeys.liveSet)) >= this.limits.maxLive && (await this.records.countLive(taskKeys.liveSet, orphaned)) >= this.limits.maxLive) {
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
    if (this.closed) throw new ProtocolError(ProtocolErrorCode.InternalError, 'The server is shutting down; start the task again');
    await this.checkLimits(owner);
    // The lease must outlive the moment the record names this instance as its runner.
    if (Date.now() - this.leaseRenewedAt > this.limits.leaseMs / 3) await this.renewLease();
    const now = new Date().toISOString();
    const record: TaskRecord = {
      taskId: randomUUID(),
      owner,
      tool,
      runner: this.instanceId,
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
    const record = await this.resolve(taskId);
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
    const record = await this.resolve(taskId);
    if (!record || record.owner !== owner) throw unknownTask();
    if (record.status !== 'input_required' || !record.inputRequests) return;
    let answered = 0;
    for (const [key, response] of Object.entries(responses.data)) {
      if (Object.hasOwn(record.inputRequests, key) && (await this.records.answer(record, key, response))) answered++;
    }
    if (answered > 0) {
      await this.signal(taskId, 'input');
      await this.announce(taskId);
    }
  }

  /** `tasks/cancel`: settles a live task as cancelled and stops its work; a terminal task is left as it is. */
  async cancel(owner: string, taskId: string): Promise<void> {
    const record = await this.resolve(taskId);
    if (!record || record.owner !== owner) throw unknownTask();
    if (record.status !== 'working' && record.status !== 'input_required') return;
    const { inputRequests: _dropped, ...rest } = record;
    const cancelled: TaskRecord = { ...rest, status: 'cancelled', statusMessage: 'Cancelled at the client\u2019s request.', lastUpdatedAt: new Date().toISOString() };
    if (await this.records.settle(cancelled)) {
      this.logger.debug({ taskId }, 'task cancelled');
      await this.announce(taskId);
    }
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
    let current = initial;
    const running: Running = {
      controller,
      wake: () => wakeUp(),
      interrupt: async () => {
        if (!controller.signal.aborted) await this.abandon(current, 'shutdown');
        controller.abort();
      }
    };
    this.running.set(initial.taskId, running);
    const usedKeys = new Set<string>();
    const write = async (patch: Partial<TaskRecord>) => {
      const before = current;
      current = { ...current, ...patch, lastUpdatedAt: new Date().toISOString() };
      if (controller.signal.aborted) return;
      await this.records.writeLive(current);
      if (before.status !== current.status || before.statusMessage !== current.statusMessage) await this.announce(current.taskId);
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
      if (await this.records.settle(final)) {
        this.logger.debug({ taskId: final.taskId, status: final.status }, 'task settled');
        await this.announce(final.taskId);
      }
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
  const { owner: _owner, tool: _tool, runner: _runner, ...rest } = record;
  for (const [k, v] of Object.entries(rest)) if (v === undefined) delete (rest as Record<string, unknown>)[k];
  return rest;
}
