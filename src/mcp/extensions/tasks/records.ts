/**
 * Where a task lives: the shared `Store` (memory, or Redis for every
 * instance), under the keys docs/storage-schema.md lists.
 *
 * - `mcp:task:{<taskId>}`: the live record (working / input_required,
 *   progress message, outstanding input requests). Written by the instance
 *   running the work, and at creation.
 * - `mcp:task:{<taskId>}:final`: the terminal record (completed / failed /
 *   cancelled), written once with `setIfAbsent`: whoever settles the task
 *   first (the work finishing, or `tasks/cancel` from any instance) wins, and
 *   nothing written later can turn a terminal task back into a live one.
 * - `mcp:task:{<taskId>}:response:<key>`: one answer to one input request
 *   (`tasks/update`), first answer wins.
 * - `mcp:tasks:live` and `mcp:tasks:live:<sha256(subject)>`: the live task
 *   ids, for the global ceiling and the per-subject limit.
 * - `mcp:tasks:instance:<runnerId>`: the lease of the instance running work
 *   (a heartbeat it renews); a live task whose runner's lease has lapsed is
 *   settled as failed by whichever instance reads it next.
 *
 * Every key of a task expires with the task (`createdAt + ttlMs`); the ids are
 * random UUIDs, and a task belongs to the subject that created it.
 */
import { createHash } from 'node:crypto';

import { z } from 'zod';

import type { Store } from '../../../store/store.js';

export const LIVE_STATUSES = ['working', 'input_required'] as const;
export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;

const json = z.record(z.string(), z.unknown());

export const TaskRecordSchema = z.object({
  taskId: z.string(),
  /** Token subject of the creator (`""` when authorization is off). */
  owner: z.string(),
  /** The tool whose call created the task (for logs and the troubleshooting CLI). */
  tool: z.string(),
  /** Id of the instance running the work (its lease: `taskKeys.lease`); absent on records written before leases. */
  runner: z.string().optional(),
  status: z.enum([...LIVE_STATUSES, ...TERMINAL_STATUSES]),
  statusMessage: z.string().optional(),
  createdAt: z.string(),
  lastUpdatedAt: z.string(),
  ttlMs: z.number().int().positive(),
  pollIntervalMs: z.number().int().positive(),
  /** Outstanding input requests (input_required), keyed by the server's keys. */
  inputRequests: z.record(z.string(), json).optional(),
  result: json.optional(),
  error: json.optional()
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;

const tag = (taskId: string) => `{${taskId}}`;
export const taskKeys = {
  live: (taskId: string) => `mcp:task:${tag(taskId)}`,
  final: (taskId: string) => `mcp:task:${tag(taskId)}:final`,
  response: (taskId: string, key: string) => `mcp:task:${tag(taskId)}:response:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
  liveSet: 'mcp:tasks:live',
  subjectSet: (owner: string) => `mcp:tasks:live:${createHash('sha256').update(owner).digest('hex')}`,
  lease: (runner: string) => `mcp:tasks:instance:${runner}`,
  channel: 'mcp:tasks'
};

/** Task ids are server-minted UUIDs; anything else is unknown without a store round trip. */
export const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class TaskRecords {
  constructor(private readonly store: Store) {}

  /** Milliseconds the task has left (at least 1: a key is never written without a TTL). */
  remaining(record: Pick<TaskRecord, 'createdAt' | 'ttlMs'>, now = Date.now()): number {
    return Math.max(1, Date.parse(record.createdAt) + record.ttlMs - now);
  }

  async readLive(taskId: string): Promise<TaskRecord | undefined> {
    return parse(await this.store.get(taskKeys.live(taskId)));
  }

  async readFinal(taskId: string): Promise<TaskRecord | undefined> {
    return parse(await this.store.get(taskKeys.final(taskId)));
  }

  /** The task as it stands: the terminal record when there is one, else the live one. */
  async read(taskId: string): Promise<TaskRecord | undefined> {
    if (!TASK_ID.test(taskId)) return undefined;
    return (await this.readFinal(taskId)) ?? (await this.readLive(taskId));
  }

  async writeLive(record: TaskRecord): Promise<void> {
    await this.store.set(taskKeys.live(record.taskId), JSON.stringify(record), this.remaining(record));
  }

  /** Settles the task; false when it was already settled (the earlier outcome stands). */
  async settle(record: TaskRecord): Promise<boolean> {
    const won = await this.store.setIfAbsent(taskKeys.final(record.taskId), JSON.stringify(record), this.remaining(record));
    if (won) await this.forget(record);
    return won;
  }

  async track(record: TaskRecord): Promise<void> {
    const ttl = this.remaining(record);
    await this.store.addToSet(taskKeys.liveSet, record.taskId, ttl);
    await this.store.addToSet(taskKeys.subjectSet(record.owner), record.taskId, ttl);
  }

  async forget(record: Pick<TaskRecord, 'taskId' | 'owner'>): Promise<void> {
    await this.store.removeFromSet(taskKeys.liveSet, record.taskId);
    await this.store.removeFromSet(taskKeys.subjectSet(record.owner), record.taskId);
  }

  /**
   * Live tasks in a set. The sets are cleaned as tasks settle; a task whose
   * instance stopped before settling it stays listed until its records
   * expire, so the members are checked (and stale ones removed) here.
   */
  async countLive(setKey: string, orphaned: (record: TaskRecord) => Promise<boolean> = async () => false): Promise<number> {
    let live = 0;
    for (const taskId of await this.store.members(setKey)) {
      const [liveRecord, final] = await Promise.all([this.readLive(taskId), this.store.get(taskKeys.final(taskId))]);
      if (liveRecord !== undefined && final === undefined && !(await orphaned(liveRecord))) live++;
      else await this.store.removeFromSet(setKey, taskId);
    }
    return live;
  }

  /** Renews the lease of instance `runner` for `ms`. */
  async renewLease(runner: string, ms: number): Promise<void> {
    await this.store.set(taskKeys.lease(runner), '1', ms);
  }

  async dropLease(runner: string): Promise<void> {
    await this.store.delete(taskKeys.lease(runner));
  }

  async leaseHeld(runner: string): Promise<boolean> {
    return (await this.store.get(taskKeys.lease(runner))) !== undefined;
  }

  async members(setKey: string): Promise<number> {
    return (await this.store.members(setKey)).length;
  }

  /** Records the first answer to input request `key`; false when it was answered before. */
  async answer(record: TaskRecord, key: string, response: Record<string, unknown>): Promise<boolean> {
    return this.store.setIfAbsent(taskKeys.response(record.taskId, key), JSON.stringify(response), this.remaining(record));
  }

  async response(taskId: string, key: string): Promise<Record<string, unknown> | undefined> {
    const raw = await this.store.get(taskKeys.response(taskId, key));
    if (raw === undefined) return undefined;
    const parsed = json.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  /** Makes sure the task's creation has reached the replicas the deployment asks for (durable create). */
  async replicate(taskId: string): Promise<void> {
    await this.store.replicate([taskKeys.live(taskId)]);
  }
}

function parse(raw: string | undefined): TaskRecord | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = TaskRecordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
