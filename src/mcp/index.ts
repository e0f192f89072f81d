/**
 * The MCP resource server: `/mcp` for every protocol revision and the
 * deprecated 2024-11-05 HTTP+SSE transport (`GET /sse` + `POST /message`).
 *
 * Each route is a visible list of steps:
 *
 *   /mcp POST     hostOrigin → cors → jsonBody → authenticate → rejectMalformedJson → era routing
 *   /mcp GET|DEL  hostOrigin → cors → authenticate → session routing
 *   /sse GET      hostOrigin → cors → authenticateLegacySse → open stream
 *   /message POST hostOrigin → cors → jsonBody → authenticateLegacySse → rejectMalformedJson → deliver
 *
 * In the app (src/app.ts) the three `/mcp` lists run directly, without
 * Express's router (`direct`, src/http/direct.ts): the hot path; `mount`
 * registers the same steps for every other shape of request and for tests.
 *
 * Host/Origin first (DNS rebinding: a foreign page gets 403 before anything
 * else), then CORS (preflights never need a token), then the body (so the
 * bearer gate can read the JSON-RPC method for step-up scopes), then the
 * bearer gate from src/rs (sets `req.auth`).
 *
 * Several instances sharing one Redis behave as one server
 * (docs/architecture.md "Several instances"): 2026-07-28 requests are
 * stateless; a 2025-era session request reaching an instance that does not
 * hold the session is forwarded to the one that does (./http/forward.ts);
 * resumable streams are logged in the store; change events travel on the
 * store's pub/sub (./events.ts).
 */
import { randomUUID } from 'node:crypto';

import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import { Router, type RequestHandler } from 'express';

import { loadConfig, type Config } from '../config.js';
import { CallerQuota } from './caller-limits.js';
import type { Quotas } from './http/admission.js';
import { mcpCors } from '../http/cors.js';
import type { DirectRoute } from '../http/direct.js';
import { hostOriginGuard } from '../http/host-origin.js';
import { jsonBody, rejectMalformedJson } from '../http/json-body.js';
import { JSONRPC_SERVER_ERROR, sendJsonRpcError } from '../http/jsonrpc-error.js';
import type { Logger } from '../logger.js';
import type { UpstreamAccount } from '../shared/upstream-account.js';
import type { Store } from '../store/store.js';
import { startActivity } from './activity.js';
import { ClientTestingServices, createWireFaults, DEFAULT_LIMITS, prefetchCatalogue } from './client-testing/index.js';
import { ListenRegistry, McpEventBus, notifierFor } from './events.js';
import { createForwarder } from './http/forward.js';
import { createLegacySseEndpoints } from './http/legacy-sse.js';
import { SessionRegistry, type InstanceIdentity } from './http/sessions.js';
import { createStreamableEndpoint, type ConnectableServer } from './http/streamable.js';
import type { ReferenceSkills } from './extensions/skills/index.js';
import { TaskRuntime, taskLimitsFrom, withTaskNotifications } from './extensions/tasks/index.js';
import { createStateCodec } from './request-state.js';
import { buildMcpServer, prepareCatalogues, SERVER_INFO, type BuildContext, type FeatureServices } from './server.js';
import { serveIcon, serverIconUrls } from './icons.js';
import { mcpRouteOf } from './route.js';
import { traceMcpRequests } from '../observability/mcp-spans.js';
import type { Tracing } from '../observability/tracing.js';

export { TOOL_REQUIRED_SCOPES } from './features/scopes.js';

/** Overrides for tests; otherwise from `config.mcp` (`SESSION_IDLE_TIMEOUT`, `RESOURCE_UPDATE_INTERVAL`, `LOG_MESSAGE_INTERVAL`). */
export interface McpTimingOptions {
  /** Close 2025-era sessions idle this long (default `SESSION_IDLE_TIMEOUT`, 30 min). */
  sessionIdleMs?: number;
  /** Periodic `notifications/resources/updated` for followed URIs (default `RESOURCE_UPDATE_INTERVAL`, 10 s). */
  resourceUpdateIntervalMs?: number;
  /** Periodic log message to 2025-era sessions (default `LOG_MESSAGE_INTERVAL`, 15 s). */
  logIntervalMs?: number;
  /** SSE `retry` hint on resumable streams (default 1 s). */
  sseRetryMs?: number;
  /** SSE keep-alive comment interval (default 15 s). */
  keepAliveMs?: number;
}

export interface McpResourceServerOptions {
  config: Config;
  store: Store;
  logger: Logger;
  /** Bearer gate from src/rs: sets `req.auth` (SDK AuthInfo with `extra.subject`) or answers the challenge. */
  authenticate: RequestHandler;
  /**
   * The gate for `GET /sse` and `POST /message` (its challenges name the /sse
   * metadata document, so legacy clients can discover the AS). Default: `authenticate`.
   */
  authenticateLegacySse?: RequestHandler;
  timing?: McpTimingOptions;
  /** The person's identity-provider account (internal mode; src/shared/upstream-account.ts). Undefined: `whoami` shows no provider and `upstreamProfile` says so. */
  upstream?: UpstreamAccount;
  /** The Skills extension's catalog (`loadReferenceSkills`); without it no skills are served. */
  skills?: ReferenceSkills;
  /** OpenTelemetry: when on, every MCP request gets its span (src/observability/mcp-spans.ts). */
  tracing?: Tracing;
}

/**
 * Another MCP server on this origin whose 2025-era sessions and legacy
 * HTTP+SSE connections run on `/mcp`'s machinery (a gallery app's
 * `/<slug>/mcp`, `/<slug>/sse`, `/<slug>/message`): the same session
 * ownership, store records, resumable event logs, forwarding between
 * instances and caller limits, in a registry of its own (`scope`).
 */
export interface HostedServerSpec<S extends ConnectableServer> {
  /** Registry scope, unique per hosted server (e.g. `gallery:<slug>`). */
  scope: string;
  /** Where legacy SSE clients POST (e.g. `/<slug>/message`), named in the stream's `endpoint` event. */
  messagePath: string;
  /** The server of one session (2025-era Streamable HTTP or legacy SSE). */
  build: () => S;
  /** The 2026-07-28 requests' handler (stateless; built with `legacy: 'reject'`). */
  modern: McpHttpHandler;
  logger: Logger;
}

/** A hosted server's endpoints; each expects the same steps before it as its `/mcp` twin (guard, CORS, body, bearer gate). */
export interface HostedServerEndpoints {
  /** POST `…/mcp`: 2026-07-28 stateless, 2025-era sessions. */
  post: RequestHandler;
  /** GET `…/mcp`: a session's standalone SSE stream (resumable). */
  get: RequestHandler;
  /** DELETE `…/mcp`: ends a session. */
  delete: RequestHandler;
  /** GET `…/sse`: a legacy HTTP+SSE connection. */
  sseOpen: RequestHandler;
  /** POST `…/message?sessionId=`: a legacy client's message. */
  sseMessage: RequestHandler;
  /** Open sessions of this server on this instance, by transport. */
  stats(): { streamableSessions: number; sseSessions: number };
  close(): Promise<void>;
}

export interface McpResourceServer {
  /** The MCP endpoints as a router (tests mount this). */
  router: Router;
  /**
   * Registers the same endpoints directly on `target` (the app): one router
   * level fewer on the hot path than mounting `router`.
   */
  mount(target: Router): void;
  /**
   * The hot endpoint (`/mcp` POST, GET, DELETE) as steps by method, for
   * `createDirectRoute` (src/http/direct.ts): the same handlers `mount`
   * registers, in the same order, run without Express's router.
   */
  direct: DirectRoute;
  /** This process as other instances see it (id, `INSTANCE_URL`). */
  instance: InstanceIdentity;
  /** Serves another MCP server's sessions on this one's machinery (see `HostedServerSpec`). */
  host<S extends ConnectableServer>(spec: HostedServerSpec<S>): HostedServerEndpoints;
  /** Live counts for metrics: sessions by transport, open `subscriptions/listen` streams. */
  stats(): { streamableSessions: number; sseSessions: number; listenStreams: number };
  /**
   * Ends open streams and sessions (graceful shutdown); unfinished tasks
   * running here are settled as failed first. `settleTasks: false` leaves
   * them as a crash would (tests): they fail once this instance's lease lapses.
   */
  close(options?: { settleTasks?: boolean }): Promise<void>;
}

export function createMcpResourceServer(options: McpResourceServerOptions): McpResourceServer {
  const { config, store, logger, authenticate } = options;
  const ms = (seconds: number | undefined, fallback: number) => Math.max(1, Math.round((seconds ?? fallback) * 1000));
  const timing = {
    sessionIdleMs: options.timing?.sessionIdleMs ?? ms(config.mcp?.sessionIdleSeconds, 30 * 60),
    resourceUpdateIntervalMs: options.timing?.resourceUpdateIntervalMs ?? ms(config.mcp?.resourceUpdateIntervalSeconds, 10),
    logIntervalMs: options.timing?.logIntervalMs ?? ms(config.mcp?.logMessageIntervalSeconds, 15),
    sseRetryMs: options.timing?.sseRetryMs ?? 1000,
    keepAliveMs: options.timing?.keepAliveMs ?? 15_000
  };

  const instance: InstanceIdentity = { id: randomUUID(), url: config.mcp?.instanceUrl ?? defaultInstanceUrl(config.host, config.port) };
  const secret = config.mcp?.instanceSecret;
  if (store.kind === 'redis') {
    if (secret) logger.info({ instance: instance.id, instanceUrl: instance.url }, 'several instances: session requests for other instances are forwarded to them');
    else
      logger.warn(
        { instance: instance.id, instanceUrl: instance.url },
        'INSTANCE_SECRET is not set: requests for a 2025-era session held by another instance are not forwarded and answer 404 (the client re-initializes). With several instances behind one load balancer, set the same INSTANCE_SECRET on each (or route sessions stickily).'
      );
  }
  const forwarder = createForwarder({ secret, logger });

  const bus = new McpEventBus(store, logger);
  void bus.start();
  const listens = new ListenRegistry();
  const registry = new SessionRegistry({ store, logger, idleTimeoutMs: timing.sessionIdleMs, instance });
  const startedAt = Date.now();
  const clientTesting = new ClientTestingServices(store, logger, config.mcp?.clientTesting ?? DEFAULT_LIMITS, bus);

  const tasks = new TaskRuntime(store, logger, taskLimitsFrom(config.mcp?.tasks));
  void tasks.start().catch(err => logger.warn({ err }, 'tasks: cannot join the cross-instance channel; answers and cancellations from other instances are noticed by polling'));

  const services: FeatureServices = {
    store,
    logger,
    baseUri: config.baseUri,
    stateCodec: createStateCodec(config.requestStateKey, logger),
    notify: notifierFor(bus),
    upstream: options.upstream,
    skills: options.skills,
    tasks,
    stats: () => ({ startedAt, streamableSessions: registry.count('streamable'), sseSessions: registry.count('sse'), listenStreams: listens.size }),
    sessionOf: id => registry.local(id),
    serverIcons: serverIconUrls(config.baseUri),
    clientTesting
  };
  prepareCatalogues(services);
  const tracing = options.tracing;
  // With tracing off nothing is wrapped: the hot path stays as it is.
  const build = tracing?.enabled
    ? (ctx: BuildContext) => {
        const server = buildMcpServer(services, ctx);
        traceMcpRequests(server, tracing);
        return server;
      }
    : (ctx: BuildContext) => buildMcpServer(services, ctx);

  // Synchronous unless the request can see the caller's own catalogue (client testing), which is read first.
  const sdkModern = createMcpHandler(ctx => {
    const route = mcpRouteOf(ctx.requestInfo);
    const catalogue = prefetchCatalogue(clientTesting, route, ctx.authInfo);
    const context: BuildContext = { era: ctx.era, authInfo: ctx.authInfo, route };
    return catalogue ? catalogue.then(callerCatalogue => build({ ...context, callerCatalogue })) : build(context);
  }, {
    // Legacy traffic never reaches this handler: ./http/streamable.ts routes
    // it to sessions first.
    legacy: 'reject',
    bus,
    keepAliveMs: timing.keepAliveMs,
    maxRequestBodySize: config.maxBodyBytes,
    onerror: err => logger.debug({ err }, 'MCP request rejected or failed')
  });
  // `notifications/tasks` on subscriptions/listen (the Tasks extension's narrow wrapper: ./extensions/tasks/listen.ts).
  const modern = withTaskNotifications(sdkModern, { runtime: tasks, logger, keepAliveMs: timing.keepAliveMs });
  // The client test bench's HTTP-level faults (src/mcp/http/fault-hook.ts).
  const faults = createWireFaults(clientTesting, { name: SERVER_INFO.name, version: SERVER_INFO.version });
  // Per-instance caller limits (src/mcp/caller-limits.ts, MAX_SESSIONS*, MAX_STREAMS*).
  const limits = config.limits ?? loadConfig({}).limits;
  const quotas: Quotas = { sessions: new CallerQuota('session', limits.sessions), streams: new CallerQuota('stream', limits.streams) };
  const streamable = createStreamableEndpoint({
    quotas,
    modern,
    faults,
    build,
    registry,
    forwarder,
    listens,
    store,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    retryIntervalMs: timing.sseRetryMs,
    eventTtlMs: timing.sessionIdleMs
  });
  const sse = createLegacySseEndpoints({ quotas, build, registry, forwarder, logger, faults });
  const stopActivity = startActivity({ registry, listens, bus, logger, resourceUpdateIntervalMs: timing.resourceUpdateIntervalMs, logIntervalMs: timing.logIntervalMs });

  const guard = hostOriginGuard({ baseUri: config.baseUri, allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins });
  const cors = mcpCors();
  const body = jsonBody({ limit: config.maxBodyBytes });
  // Any other method on an MCP path: 405 with Allow and a JSON-RPC error body (never Express's HTML 404).
  const methodNotAllowed =
    (allow: string): RequestHandler =>
    (_req, res) => {
      res.setHeader('Allow', `${allow}, OPTIONS`);
      sendJsonRpcError(res, 405, JSONRPC_SERVER_ERROR, 'Method not allowed');
    };

  const authenticateLegacy = options.authenticateLegacySse ?? authenticate;
  // The Host/Origin guard, then CORS, as one middleware (one layer to walk).
  const guardThenCors: RequestHandler = (req, res, next) => guard(req, res, err => (err === undefined ? cors(req, res, next) : next(err)));
  const mcpSteps = {
    POST: [body, authenticate, rejectMalformedJson, streamable.post],
    GET: [authenticate, streamable.get],
    DELETE: [authenticate, streamable.delete]
  };
  const mount = (router: Router) => {
    router.use(['/mcp', '/sse', '/message'], guardThenCors);
    // Express answers HEAD with the GET route; on /mcp and /sse that would open
    // a stream (and a session) whose headers a HEAD never receives.
    router.head('/mcp', methodNotAllowed('GET, POST, DELETE'));
    router.head('/sse', methodNotAllowed('GET'));
    router.post('/mcp', ...mcpSteps.POST);
    router.get('/mcp', ...mcpSteps.GET);
    router.delete('/mcp', ...mcpSteps.DELETE);
    router.all('/mcp', methodNotAllowed('GET, POST, DELETE'));
    router.get('/sse', authenticateLegacy, sse.open);
    router.all('/sse', methodNotAllowed('GET'));
    router.post('/message', body, authenticateLegacy, rejectMalformedJson, sse.message);
    router.all('/message', methodNotAllowed('POST'));
    // serverInfo's icons (./icons.ts): public files, no token.
    router.get('/icons/:file', serveIcon);
  };
  const router = Router();
  mount(router);

  const hosted = new Set<HostedServerEndpoints>();
  function host<S extends ConnectableServer>(spec: HostedServerSpec<S>): HostedServerEndpoints {
    const hostedRegistry = new SessionRegistry<S>({ store, logger: spec.logger, idleTimeoutMs: timing.sessionIdleMs, instance, scope: spec.scope });
    const hostedStreamable = createStreamableEndpoint({
      quotas,
      modern: spec.modern,
      build: spec.build,
      registry: hostedRegistry,
      forwarder,
      store,
      logger: spec.logger,
      maxBodyBytes: config.maxBodyBytes,
      retryIntervalMs: timing.sseRetryMs,
      eventTtlMs: timing.sessionIdleMs
    });
    const hostedSse = createLegacySseEndpoints({ quotas, build: spec.build, registry: hostedRegistry, forwarder, logger: spec.logger, messagePath: spec.messagePath });
    let hostedClosing: Promise<void> | undefined;
    const endpoints: HostedServerEndpoints = {
      post: hostedStreamable.post,
      get: hostedStreamable.get,
      delete: hostedStreamable.delete,
      sseOpen: hostedSse.open,
      sseMessage: hostedSse.message,
      stats: () => ({ streamableSessions: hostedRegistry.count('streamable'), sseSessions: hostedRegistry.count('sse') }),
      close: () =>
        (hostedClosing ??= (async () => {
          hosted.delete(endpoints);
          await hostedRegistry.closeAll();
          await hostedStreamable.close();
          await hostedSse.close();
          await spec.modern.close().catch(err => spec.logger.warn({ err }, 'error closing a hosted MCP handler'));
        })())
    };
    hosted.add(endpoints);
    return endpoints;
  }

  let closing: Promise<void> | undefined;
  const direct: DirectRoute = {
    path: '/mcp',
    methods: {
      POST: [guardThenCors, ...mcpSteps.POST],
      GET: [guardThenCors, ...mcpSteps.GET],
      DELETE: [guardThenCors, ...mcpSteps.DELETE]
    }
  };

  return {
    router,
    mount,
    direct,
    instance,
    host,
    stats: () => services.stats(),
    close: (closeOptions = {}) =>
      (closing ??= (async () => {
        stopActivity();
        // Unfinished tasks running here fail with a clear message before anything else stops (their listen streams hear it).
        await tasks.close({ graceful: closeOptions.settleTasks ?? true });
        await Promise.all([...hosted].map(h => h.close()));
        await modern.close().catch(err => logger.warn({ err }, 'error closing the modern MCP handler'));
        modern.closeStreams();
        await registry.closeAll();
        await streamable.close();
        await sse.close();
        await bus.close();
        forwarder.close();
      })())
  };
}

/** `http://127.0.0.1:<port>` for a server bound to loopback or every interface, else the bound host. */
export function defaultInstanceUrl(host: string, port: number): string {
  const h = host.trim();
  if (['', '0.0.0.0', '::', '127.0.0.1', 'localhost'].includes(h)) return `http://127.0.0.1:${port}`;
  return h.includes(':') && !h.startsWith('[') ? `http://[${h}]:${port}` : `http://${h}:${port}`;
}
