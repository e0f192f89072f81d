/**
 * Process composition: the only module (with `index.ts`) that sees both the
 * authorization server (src/auth) and the resource server (src/mcp, src/rs).
 * They meet only through the `TokenValidator` built here (DESIGN.md).
 *
 * `startServer` binds the listener first, so that tests can ask for port 0 and
 * still get a correct `BASE_URI` (issuer, resource and metadata URLs all derive
 * from it), then builds the components for that address.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Transport } from '@modelcontextprotocol/server';
import type { TracerProvider } from '@opentelemetry/api';
import express, { type RequestHandler } from 'express';

import { checkAuthorizationServerConfig, createAuthorizationServer, type AuthorizationServer } from './auth/index.js';
import { legacySseUrlFor, type Config } from './config.js';
import { createHttpBasics, finalErrorHandler } from './http/basics.js';
import { traceHttp } from './observability/http-spans.js';
import { startTracing } from './observability/tracing.js';
import { createDirectRoute, expressNodeClasses } from './http/direct.js';
import { createLogger, type Logger } from './logger.js';
import { createGallery, GALLERY_APPS, galleryAppUrl, galleryResourceUrls, resolveGalleryPackage } from './gallery/index.js';
import { mcpCors } from './http/cors.js';
import { hostOriginGuard } from './http/host-origin.js';
import { loadReferenceSkills } from './mcp/extensions/skills/index.js';
import { SERVER_INFO } from './mcp/server.js';
import { createMcpResourceServer, type McpResourceServer, type McpTimingOptions } from './mcp/index.js';
import { serveMcpOverStdio, type RunningStdioServer } from './mcp/stdio.js';
import { createAdminEndpoint } from './cli/admin-endpoint.js';
import { createOpsRouter, type ReadinessCheck } from './ops/health.js';
import { createLandingRouter, type GalleryListing } from './ops/landing.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { createAdditionalProtectedResource, createProtectedResource } from './rs/index.js';
import { createStore } from './store/index.js';
import { agreeOnSharedSecrets } from './store/shared-secrets.js';
import { isStoreUnavailable, type Store } from './store/store.js';
import { createExternalValidator } from './validators/external.js';
import { createInProcessValidator } from './validators/in-process.js';
import { createLazyValidator } from './validators/lazy.js';
import type { TokenValidator } from './validators/token-validator.js';

/** How long shutdown waits for in-flight requests before ending everything. */
const SHUTDOWN_DRAIN_MS = 8000;

export interface RunningServer {
  readonly config: Config;
  readonly url: string;
  readonly store: Store;
  readonly logger: Logger;
  readonly httpServer: http.Server;
  readonly metrics: Metrics;
  /** Graceful stop: refuse new connections, finish in-flight work, end streams, close storage. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Inject a store (tests); otherwise built from `config.redis`. */
  store?: Store;
  /** OpenTelemetry tracer provider (tests: an in-memory exporter); otherwise built from `config.tracing`, or off. */
  tracerProvider?: TracerProvider;
  /** Shorter MCP intervals (tests): session idle time, periodic updates, log messages. */
  mcpTiming?: McpTimingOptions;
  /** Where the MCP Apps gallery's packages are installed (tests); default `gallery/`. */
  galleryRoot?: string;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  if (config.mode !== 'external') checkAuthorizationServerConfig(config);
  // Until the components are built, a request gets 503 rather than silence
  // (the listener is bound first so that port 0 yields the real address).
  let handle: http.RequestListener = (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'The server is starting' }));
  };
  // The app exists before the listener so that requests are born with its
  // request/response prototypes (src/http/direct.ts); its routes come later.
  const app = express();
  const httpServer = http.createServer(expressNodeClasses(app), (req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  if (config.port === 0) {
    // An ephemeral port was requested: derive every URL from the real one.
    const baseUri = `http://localhost:${port}`;
    // A resource named explicitly (auth_server mode, MCP_RESOURCE_URL) stays as it is.
    const mcpUrl = config.mcpUrl === `${config.baseUri}/mcp` ? `${baseUri}/mcp` : config.mcpUrl;
    config = {
      ...config,
      port,
      baseUri,
      mcpUrl,
      legacySseUrl: legacySseUrlFor(mcpUrl),
      issuer: config.mode === 'external' ? config.issuer : baseUri
    };
  }

  const tracing = await startTracing(config.tracing, logger, options.tracerProvider);
  const store = options.store ?? (await createStore(config, logger));
  const closers: Array<() => Promise<void>> = [];
  if (config.mode !== 'auth_server') {
    // Several instances on one Redis agree on INSTANCE_SECRET / MCP_REQUEST_STATE_KEY when unset (src/store/shared-secrets.ts).
    try {
      const shared = await agreeOnSharedSecrets(config, store, logger);
      config = shared.config;
      closers.push(async () => shared.stop());
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      logger.warn({ err }, 'Redis is unreachable at start-up: INSTANCE_SECRET / MCP_REQUEST_STATE_KEY, where unset, are per process until a restart');
    }
  }
  const metrics = createMetrics();
  const checks: ReadinessCheck[] = [{ name: 'storage', check: () => store.ping() }];
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy === '' ? false : config.trustProxy);
  const basics = createHttpBasics(config, logger, metrics);
  app.use(basics);
  // Routers are built below and mounted at the end, MCP first: every request
  // walks the router stack in order, and the MCP endpoints are the hot path
  // (a request to /mcp then skips the AS's and the pages' route layers; the
  // path sets are disjoint, so the order changes nothing else).
  const late: RequestHandler[] = [
    createOpsRouter({ checks, metrics }),
    createLandingRouter({ config, storeKind: store.kind, gallery: galleryListing(config, options.galleryRoot) }),
    createAdminEndpoint({ store, logger, token: config.adminToken })
  ];

  let as: AuthorizationServer | undefined;
  if (config.mode !== 'external') {
    as = createAuthorizationServer({
      config,
      store,
      logger: logger.child({ component: 'as' }),
      onTokensIssued: grantType => metrics.tokensIssued.inc({ grant_type: grantType }),
      additionalResources: galleryProtected(config) ? GALLERY_APPS.flatMap(a => Object.values(galleryResourceUrls(config.mcpUrl, a.slug))) : [],
      tracer: tracing.tracer
    });
    late.push(as.router);
    closers.push(() => as!.close());
    // The provider unreachable at start-up: start anyway; /ready names it and authorize answers temporarily_unavailable.
    const idpReady = as.identityProvider.ready;
    if (idpReady) checks.push({ name: 'identity_provider', check: idpReady });
  }

  let mcp: McpResourceServer | undefined;
  if (config.mode !== 'auth_server') {
    const validator: TokenValidator = as
      ? createInProcessValidator({ introspect: as.introspect, audience: [config.mcpUrl, config.legacySseUrl] })
      : await createExternalValidator({ config, logger: logger.child({ component: 'validator' }) });
    const rs = createProtectedResource({
      config,
      validator,
      logger: logger.child({ component: 'rs' }),
      onOutcome: (outcome, reason) => metrics.countAuthOutcome(outcome, reason)
    });
    late.push(rs.router);
    mcp = createMcpResourceServer({ config, store, logger: logger.child({ component: 'mcp' }), authenticate: rs.authenticate, authenticateLegacySse: rs.authenticateLegacySse, timing: options.mcpTiming, upstream: as?.upstream, skills: await loadReferenceSkills(logger), tracing });
    const mcpStats = mcp.stats.bind(mcp);
    metrics.gauge('mcp_active_sessions', 'Open 2025-era Streamable HTTP sessions on this instance', () => mcpStats().streamableSessions);
    metrics.gauge('mcp_active_sse_sessions', 'Open legacy HTTP+SSE sessions on this instance', () => mcpStats().sseSessions);
    metrics.gauge('mcp_listen_streams', 'Open subscriptions/listen streams on this instance', () => mcpStats().listenStreams);
    closers.push(() => mcp!.close());
    if (validator.close) closers.push(() => validator.close!());
    if (validator.stats) {
      const stats = validator.stats.bind(validator);
      metrics.gauge('token_validations_total', 'Bearer tokens checked by the validator', () => stats().validations);
      metrics.gauge('introspection_calls_total', 'HTTP calls made to the introspection endpoint', () => stats().introspectionCalls ?? 0);
      metrics.gauge('introspection_cache_hits_total', 'Token checks answered from the introspection cache', () => stats().cacheHits ?? 0);
    }
    if (validator.ready) checks.push({ name: 'authorization_server', check: () => validator.ready!() });
  }

  // The MCP Apps gallery at /<slug>/mcp and /<slug>/sse (src/gallery), after every other route; in external mode its tokens come from the AS at AUTH_SERVER_URL.
  if (config.mode !== 'auth_server') {
    const guard = hostOriginGuard({ baseUri: config.baseUri, allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins });
    const cors = mcpCors();
    const gallery = createGallery({
      logger: logger.child({ component: 'gallery' }),
      version: SERVER_INFO.version,
      maxBodyBytes: config.maxBodyBytes,
      systemMonitorReal: config.exampleApps.systemMonitorReal,
      debugLogFile: config.exampleApps.debugLogFile,
      ...(options.galleryRoot ? { root: options.galleryRoot } : {}),
      guard: (req, res, next) => guard(req, res, err => (err === undefined ? cors(req, res, next) : next(err))),
      authenticate: config.exampleApps.public
        ? undefined
        : galleryApp => {
            // Each app is a protected resource of its own, at two URLs as for /mcp: a token's audience is one of them.
            const urls = galleryResourceUrls(config.mcpUrl, galleryApp.slug);
            // External mode: the AS at AUTH_SERVER_URL (e.g. AUTH_MODE=auth_server, which knows these URLs), checked as for /mcp with the app's URLs as audience; built on first use.
            const validator = as
              ? createInProcessValidator({ introspect: as.introspect, audience: [urls.mcp, urls.sse] })
              : createLazyValidator(() => createExternalValidator({ config: { ...config, mcpUrl: urls.mcp, legacySseUrl: urls.sse }, logger: logger.child({ component: 'validator', resource: galleryApp.slug }) }));
            if (validator.close) closers.push(() => validator.close!());
            const [mcpGate, sseGate] = [urls.mcp, urls.sse].map(resource => {
              const protectedApp = createAdditionalProtectedResource({
                config,
                validator,
                logger: logger.child({ component: 'rs', resource: galleryApp.slug }),
                resource,
                resourceName: `${galleryApp.title} (MCP Apps example)`,
                onOutcome: (outcome, reason) => metrics.countAuthOutcome(outcome, reason)
              });
              late.push(protectedApp.router);
              return protectedApp.authenticate;
            });
            return { mcp: mcpGate!, sse: sseGate! };
          },
      sessions: spec => mcp!.host(spec)
    });
    late.push(gallery.router);
    closers.push(() => gallery.close());
    metrics.gauge('gallery_active_sessions', 'Open 2025-era Streamable HTTP sessions of the MCP Apps gallery on this instance', () => gallery.stats().streamableSessions);
    metrics.gauge('gallery_active_sse_sessions', 'Open legacy HTTP+SSE sessions of the MCP Apps gallery on this instance', () => gallery.stats().sseSessions);
  }

  mcp?.mount(app);
  for (const router of late) app.use(router);
  const onError = finalErrorHandler(logger);
  app.use(onError);
  // The MCP hot path (`/mcp` POST, GET, DELETE) runs its steps without
  // Express's router (src/http/direct.ts); everything else, and any other
  // shape of those URLs, goes through the app, which mounts the same steps.
  const direct = mcp ? createDirectRoute(app, mcp.direct, [basics], onError) : undefined;

  // In-flight requests, minus the long-lived streams (GET /mcp, GET /sse,
  // subscriptions/listen), which shutdown ends rather than waits for.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  // One listener for every response ('close' is emitted once), not a closure per request.
  const requestClosed = () => {
    if (--inFlight === 0) drained?.();
  };
  // One span per HTTP request when tracing is on (the listener is unchanged when off).
  handle = traceHttp(tracing, (req, res) => {
    const stream = (req.method === 'GET' && /^\/(mcp|sse)(\?|$)/.test(req.url ?? '')) || req.headers['mcp-method'] === 'subscriptions/listen';
    if (!stream) {
      inFlight++;
      res.on('close', requestClosed);
    }
    if (!direct?.(req, res)) app(req, res);
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting, let in-flight requests finish (bounded), then end long-lived streams.
      const stopped = new Promise<void>(resolve => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>(resolve => {
          drained = resolve;
          setTimeout(resolve, SHUTDOWN_DRAIN_MS).unref();
        });
      }
      for (const c of closers.reverse()) {
        await c().catch(err => logger.warn({ err }, 'error while closing a component'));
      }
      const timer = setTimeout(() => httpServer.closeAllConnections(), 1500);
      await stopped;
      clearTimeout(timer);
      await store.close().catch(() => undefined);
      await tracing.shutdown();
      metrics.close();
    })());

  return { config, url: config.baseUri, store, logger, httpServer, metrics, close };
}

/**
 * `--stdio`: the MCP server alone on this process's stdin/stdout (no HTTP
 * listener, no authorization server: the local user is the identity; see
 * src/mcp/stdio.ts). `logger` must write to stderr. Storage is the same
 * choice as over HTTP (`REDIS_URL` or memory).
 */
export async function startStdioServer(config: Config, options: { logger: Logger; transport?: Transport }): Promise<RunningStdioServer & { store: Store }> {
  const { logger } = options;
  const store = await createStore(config, logger);
  const skills = await loadReferenceSkills(logger);
  const stdio = serveMcpOverStdio({ config, store, logger: logger.child({ component: 'mcp-stdio' }), skills, transport: options.transport });
  const closed = stdio.closed.then(() => store.close().catch(() => undefined));
  return {
    store,
    closed,
    close: async () => {
      await stdio.close();
      await closed;
    }
  };
}

/**
 * The AS issues tokens for the gallery apps (`/<slug>/mcp`, `/<slug>/sse`,
 * derived from the MCP URL: `galleryResourceUrls`) unless they are public:
 * in internal mode, and in auth_server mode for the MCP server at
 * `MCP_RESOURCE_URL`.
 */
function galleryProtected(config: Config): boolean {
  return config.mode !== 'external' && !config.exampleApps.public;
}

/** What the landing page shows of the gallery (nothing when this process serves no MCP). */
function galleryListing(config: Config, root?: string): GalleryListing | undefined {
  if (config.mode === 'auth_server') return undefined;
  return {
    public: config.exampleApps.public,
    // Read on each page view: the packages may be installed while the server runs (the apps then load on their next request).
    get apps() {
      return GALLERY_APPS.map(a => ({
        slug: a.slug,
        title: a.title,
        url: galleryAppUrl(config.baseUri, a.slug),
        installed: resolveGalleryPackage(a, root) !== undefined,
        offline: a.offline,
        needsNetwork: a.needsNetwork
      }));
    }
  };
}
