/**
 * `notifications/tasks` on `subscriptions/listen` (SEP-2663, "Task Status
 * Notifications"): a client lists the tasks it follows in
 * `params.notifications.taskIds`; the acknowledgement names the ones the
 * server agreed to (the caller's own, known tasks: another subject's id, or
 * an unknown one, is left out, exactly as it is unknown to `tasks/get`);
 * then every status change of a followed task arrives as a
 * `notifications/tasks` whose params are the `DetailedTask` `tasks/get`
 * would return at that moment, stamped with the subscription id.
 *
 * SDK 2.4's listen router (inside `createMcpHandler`) knows four fixed
 * filters and has no extension point, so this is a narrow wrapper around
 * the handler's `fetch`, for listen requests that carry `taskIds` only:
 *
 *   1. check the ids (array of strings, else -32602) and the Tasks
 *      extension in the request's client capabilities (else -32021);
 *   2. keep the caller's own tasks (at most `maxTaskIds`);
 *   3. hand the request, without `taskIds`, to the SDK, which serves the
 *      standard filters (ack, list changes, resource updates, keep-alive,
 *      graceful close);
 *   4. on its SSE answer: add `taskIds` to the acknowledgement, send each
 *      followed task's current state after it, then its status changes.
 *
 * A stream that follows tasks only (no standard filter, so the SDK would
 * end it at once) stays open until every followed task has settled and its
 * final notification is sent, then ends gracefully (the SDK's own closing
 * response); so does a stream when the server shuts down.
 *
 * Status changes come from the runtime's watchers (this instance and, over
 * the store's `mcp:tasks` channel, every other); a slow poll of the followed
 * tasks covers a lost message. Notifications are read from the store, so
 * they are the same on every instance.
 */
import { CLIENT_CAPABILITIES_META_KEY, SUBSCRIPTION_ID_META_KEY, type McpHttpHandler } from '@modelcontextprotocol/server';

import type { Logger } from '../../../logger.js';
import type { TaskRuntime, TaskView } from './runtime.js';
import { TASKS_EXTENSION_ID, missingTasksCapability } from './tools.js';

export interface TaskListenOptions {
  runtime: TaskRuntime;
  logger: Logger;
  /** SSE keep-alive interval for streams held open for tasks only (ms). */
  keepAliveMs: number;
  /** Re-read of followed tasks, in case a status message was lost (ms). Default 1000. */
  pollMs?: number;
  /** Task ids one stream may follow. Default 100. */
  maxTaskIds?: number;
  /** Streams held open for tasks only, at once. Default 1024. */
  maxStreams?: number;
}

export interface TaskListenHandler extends McpHttpHandler {
  /** Ends the streams held open for tasks only, gracefully (shutdown; the SDK ends the others). */
  closeStreams(): void;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const encoder = new TextEncoder();

interface ListenMessage {
  jsonrpc: '2.0';
  id: string | number;
  method: 'subscriptions/listen';
  params: { notifications: Record<string, unknown> & { taskIds?: unknown }; _meta?: Record<string, unknown> };
}

function asTaskListen(body: unknown): ListenMessage | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const m = body as Partial<ListenMessage>;
  if (m.method !== 'subscriptions/listen' || (typeof m.id !== 'string' && typeof m.id !== 'number')) return undefined;
  const notifications = m.params?.notifications;
  if (typeof notifications !== 'object' || notifications === null || !Object.hasOwn(notifications, 'taskIds')) return undefined;
  return m as ListenMessage;
}

function rpcError(id: string | number, status: number, error: { code: number; message: string; data?: unknown }): Response {
  return Response.json({ jsonrpc: '2.0', id, error }, { status });
}

const frame = (message: unknown) => encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`);

/** What a client would act on: a notification goes out when it changes. */
const signature = (t: TaskView) => JSON.stringify([t.status, t.statusMessage ?? null, Object.keys(t.inputRequests ?? {}).sort()]);

export function withTaskNotifications(handler: McpHttpHandler, options: TaskListenOptions): TaskListenHandler {
  const { runtime, logger } = options;
  const pollMs = options.pollMs ?? 1000;
  const maxTaskIds = options.maxTaskIds ?? 100;
  const maxStreams = options.maxStreams ?? 1024;
  /** Streams held open for tasks only: their graceful end. */
  const held = new Set<() => void>();

  // Not async itself: every other request passes straight through, without
  // a promise and frame of its own (bench/alloc.ts showed them per request).
  const fetch: McpHttpHandler['fetch'] = (request, requestOptions) => {
    const message = asTaskListen(requestOptions?.parsedBody);
    return message ? followTasks(request, requestOptions, message) : handler.fetch(request, requestOptions);
  };

  const followTasks = async (request: Request, requestOptions: Parameters<McpHttpHandler['fetch']>[1], message: NonNullable<ReturnType<typeof asTaskListen>>): Promise<Response> => {

    // 1. the ids and the capability
    const wanted = message.params.notifications.taskIds;
    if (!Array.isArray(wanted) || !wanted.every(id => typeof id === 'string')) {
      return rpcError(message.id, 200, { code: -32602, message: "Invalid params: 'notifications.taskIds' must be an array of task id strings" });
    }
    const caps = message.params._meta?.[CLIENT_CAPABILITIES_META_KEY] as { extensions?: Record<string, unknown> } | undefined;
    if (caps?.extensions?.[TASKS_EXTENSION_ID] === undefined) {
      const err = missingTasksCapability();
      return rpcError(message.id, 400, { code: err.code, message: err.message, data: err.data });
    }

    // 2. the caller's own tasks
    const subject = requestOptions?.authInfo?.extra?.['subject'];
    const owner = typeof subject === 'string' ? subject : '';
    const initial = new Map<string, TaskView>();
    for (const taskId of [...new Set(wanted as string[])].slice(0, maxTaskIds)) {
      const view = await runtime.get(owner, taskId).catch((err: unknown) => {
        if ((err as { code?: unknown }).code === -32602) return undefined;
        throw err;
      });
      if (view) initial.set(taskId, view);
    }

    // 3. the SDK serves the rest
    const { taskIds: _ours, ...standard } = message.params.notifications;
    const forwarded = { ...message, params: { ...message.params, notifications: standard } };
    const response = await handler.fetch(request, { ...requestOptions, parsedBody: forwarded });
    if (initial.size === 0 || !response.body || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return response;
    const standardHonored = ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'].some(k => standard[k] === true) || (Array.isArray(standard['resourceSubscriptions']) && standard['resourceSubscriptions'].length > 0);
    if (!standardHonored && held.size >= maxStreams) {
      await response.body.cancel().catch(() => undefined);
      return rpcError(message.id, 200, { code: -32603, message: 'Subscription limit reached' });
    }

    // 4. the merged stream
    return new Response(merge(response.body, request.signal, message.id, owner, initial), { status: response.status, headers: response.headers });
  };

  function merge(inner: ReadableStream<Uint8Array>, signal: AbortSignal, subscriptionId: string | number, owner: string, initial: Map<string, TaskView>): ReadableStream<Uint8Array> {
    const reader = inner.getReader();
    const decoder = new TextDecoder();
    const last = new Map<string, string>();
    const chains = new Map<string, Promise<void>>();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let buffer = '';
    let acked = false;
    let closed = false;
    /** The SDK's closing response, held while tasks are still followed. */
    let closing: string | undefined;
    let unwatch: (() => void) | undefined;
    let poll: NodeJS.Timeout | undefined;
    let keepAlive: NodeJS.Timeout | undefined;

    const write = (bytes: Uint8Array) => {
      if (closed) return;
      try {
        controller.enqueue(bytes);
      } catch {
        // the consumer went away
      }
    };
    const notify = (view: TaskView) => {
      last.set(view.taskId, signature(view));
      write(frame({ jsonrpc: '2.0', method: 'notifications/tasks', params: { ...view, _meta: { [SUBSCRIPTION_ID_META_KEY]: subscriptionId } } }));
      if (TERMINAL.has(view.status)) follows.delete(view.taskId);
    };
    const follows = new Set(initial.keys());

    const stopFollowing = () => {
      signal.removeEventListener('abort', finish);
      unwatch?.();
      unwatch = undefined;
      clearInterval(poll);
      clearInterval(keepAlive);
      held.delete(endGracefully);
    };
    const finish = () => {
      if (closed) return;
      stopFollowing();
      closed = true;
      reader.cancel().catch(() => undefined);
      try {
        controller.close();
      } catch {
        // already closed
      }
    };
    function endGracefully() {
      if (closing !== undefined) write(encoder.encode(closing));
      finish();
    }
    const settledAll = () => {
      if (follows.size > 0) return;
      stopFollowing();
      if (closing !== undefined) endGracefully();
    };

    /** Reads a followed task and sends it when it changed; one read at a time per task, in order. */
    const refresh = (taskId: string) => {
      if (!follows.has(taskId) || closed) return;
      const next = (chains.get(taskId) ?? Promise.resolve()).then(async () => {
        if (!follows.has(taskId) || closed) return;
        let view: TaskView;
        try {
          view = await runtime.get(owner, taskId);
        } catch (err) {
          // Expired (its TTL passed) or unreadable now: an expired task is no longer followed.
          if ((err as { code?: unknown }).code === -32602) follows.delete(taskId);
          else logger.debug({ err, taskId }, 'tasks: could not read a followed task; retried on the next poll');
          return;
        }
        if (last.get(taskId) !== signature(view)) notify(view);
      });
      chains.set(taskId, next);
      void next.finally(() => {
        if (chains.get(taskId) === next) chains.delete(taskId);
        settledAll();
      });
    };

    const onFrame = (raw: string) => {
      const data = raw
        .split('\n')
        .filter(l => l.startsWith('data:'))
        .map(l => l.slice(5).trimStart())
        .join('\n');
      let parsed: { method?: string; id?: unknown; result?: unknown; error?: unknown; params?: { notifications?: Record<string, unknown> } } | undefined;
      try {
        parsed = data ? JSON.parse(data) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!acked && parsed?.method === 'notifications/subscriptions/acknowledged' && parsed.params) {
        acked = true;
        standardPartOpen = Object.keys(parsed.params.notifications ?? {}).length > 0;
        parsed.params.notifications = { ...parsed.params.notifications, taskIds: [...initial.keys()] };
        write(frame(parsed));
        for (const view of initial.values()) notify(view);
        if (follows.size === 0) return;
        unwatch = runtime.watch(refresh);
        poll = setInterval(() => {
          for (const id of follows) refresh(id);
        }, pollMs);
        poll.unref();
        return;
      }
      if (parsed && parsed.id === subscriptionId && (parsed.result !== undefined || parsed.error !== undefined)) {
        // The SDK ends its part: at once when no standard filter was honored
        // (hold the response while tasks are followed), or at shutdown.
        closing = `${raw}\n\n`;
        if (follows.size > 0 && !standardPartOpen) {
          held.add(endGracefully);
          keepAlive = setInterval(() => write(encoder.encode(': keepalive\n\n')), options.keepAliveMs);
          keepAlive.unref();
          return;
        }
        endGracefully();
        return;
      }
      write(encoder.encode(`${raw}\n\n`));
    };
    /** The SDK honored a standard filter: its stream stays open until the client or the server ends it. */
    let standardPartOpen = false;

    return new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        // The client went away.
        if (signal.aborted) return finish();
        signal.addEventListener('abort', finish, { once: true });
        void (async () => {
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              buffer += decoder.decode(value, { stream: true });
              let at: number;
              while ((at = buffer.indexOf('\n\n')) >= 0) {
                const raw = buffer.slice(0, at);
                buffer = buffer.slice(at + 2);
                if (raw.startsWith(':')) write(encoder.encode(`${raw}\n\n`));
                else if (raw.length > 0) onFrame(raw);
              }
            }
          } catch {
            // the SDK's stream was torn down (client gone)
          }
          // The SDK's stream ended: a held stream lives on until its tasks settle; anything else ends with it.
          if (!held.has(endGracefully)) finish();
        })();
      },
      cancel() {
        finish();
      }
    });
  }

  return {
    ...handler,
    fetch,
    close: handler.close,
    closeStreams() {
      for (const end of [...held]) end();
    }
  };
}
