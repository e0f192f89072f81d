/**
 * The MCP Apps gallery: the ext-apps example servers, each served like
 * `/mcp` for every protocol revision:
 *
 *   /<slug>/mcp POST      hostOrigin → cors → findApp (404) → jsonBody → authenticate → rejectMalformedJson → post
 *   /<slug>/mcp GET|DEL   hostOrigin → cors → findApp (404) → authenticate → get | delete
 *   /<slug>/sse GET       hostOrigin → cors → findApp (404) → authenticateSse → sseOpen
 *   /<slug>/message POST  hostOrigin → cors → findApp (404) → jsonBody → authenticateSse → rejectMalformedJson → sseMessage
 *
 * 2026-07-28 requests are stateless; 2025-era clients get a session
 * (`Mcp-Session-Id`, GET stream, resumable streams, DELETE), and 2024-11-05
 * clients the legacy HTTP+SSE transport. Those run on `/mcp`'s machinery,
 * which the composition root hands in as `sessions` (src/mcp `host()`):
 * the same session ownership by subject, store records, event logs,
 * forwarding between instances and caller limits, in one registry per app.
 * The app's notifications reach the caller's session (./proxy.ts).
 *
 * Each app is started on the first request to its slug (./backend.ts), then
 * shared by every caller; an app that is not installed answers 503. The
 * project's own code never imports an app: they live in gallery/node_modules
 * and are loaded by path (scripts/check-boundaries.mjs keeps it so).
 *
 * Authorization is the composition root's choice (`authenticate`): by
 * default each app is an OAuth-protected resource of its own, two URLs as
 * for `/mcp` (`/<slug>/mcp`, and `/<slug>/sse` for the legacy transport; a
 * token's audience is one of them); `EXAMPLE_APPS_PUBLIC=true` serves them
 * without.
 */
import { createMcpHandler, type McpHttpHandler, type Server } from '@modelcontextprotocol/server';
import { Router, type RequestHandler } from 'express';

import { jsonBody, rejectMalformedJson } from '../http/json-body.js';
import { JSONRPC_SERVER_ERROR, sendJsonRpcError } from '../http/jsonrpc-error.js';
import type { Logger } from '../logger.js';
import { findGalleryApp, GALLERY_APPS, type GalleryApp } from './apps.js';
import { GALLERY_INSTALL_COMMAND, GalleryAppUnavailableError, startGalleryBackend, type GalleryBackend } from './backend.js';
import { hostPrivacyRule } from './host-privacy.js';
import { buildGalleryServer, forwardListChanges } from './proxy.js';

export { GALLERY_APPS, findGalleryApp, type GalleryApp } from './apps.js';
export { GALLERY_INSTALL_COMMAND, resolveGalleryPackage } from './backend.js';

/** `BASE_URI/<slug>/mcp`. */
export const galleryAppUrl = (baseUri: string, slug: string) => `${baseUri}/${slug}/mcp`;

/**
 * An app's two resource URLs, from the MCP server's URL the way the legacy
 * SSE URL is (`legacySseUrlFor`): siblings of its path's last segment.
 * `https://host/mcp` -> `https://host/<slug>/mcp` and `https://host/<slug>/sse`
 * (`https://host/t/mcp` -> `https://host/t/<slug>/…`). An authorization
 * server on its own (`AUTH_MODE=auth_server`) derives them from
 * `MCP_RESOURCE_URL`.
 */
export function galleryResourceUrls(mcpUrl: string, slug: string): { mcp: string; sse: string } {
  return { mcp: new URL(`${slug}/mcp`, mcpUrl).href, sse: new URL(`${slug}/sse`, mcpUrl).href };
}

/** The session machinery an app runs on (src/mcp's `host()`, wired by the composition root). */
export interface GallerySessionSpec {
  scope: string;
  messagePath: string;
  build: () => Server;
  modern: McpHttpHandler;
  logger: Logger;
}

export interface GallerySessionEndpoints {
  post: RequestHandler;
  get: RequestHandler;
  delete: RequestHandler;
  sseOpen: RequestHandler;
  sseMessage: RequestHandler;
  stats(): { streamableSessions: number; sseSessions: number };
  close(): Promise<void>;
}

/** The bearer gates of one app: `/<slug>/mcp`, and `/<slug>/sse` + `/<slug>/message`. */
export interface GalleryAuthentication {
  mcp: RequestHandler;
  sse: RequestHandler;
}

export interface GalleryOptions {
  logger: Logger;
  /** This server's version (the backend client's `clientInfo`). */
  version: string;
  maxBodyBytes: number;
  systemMonitorReal: boolean;
  /** Where the debug app appends its event log (the package reads `DEBUG_LOG_FILE` when it loads). */
  debugLogFile: string;
  /** Host/Origin guard then CORS, as for /mcp. */
  guard: RequestHandler;
  /** The bearer gates for one app; undefined serves it without a token. */
  authenticate?: (app: GalleryApp) => GalleryAuthentication;
  /** Sessions, legacy SSE and 2026-07-28 requests of one app, on `/mcp`'s machinery. */
  sessions: (spec: GallerySessionSpec) => GallerySessionEndpoints;
  /** Where the packages are installed (a folder with package.json and node_modules); default `gallery/`. */
  root?: string;
}

export interface Gallery {
  router: Router;
  /** Start-up time of each app started so far (ms, import + initialize). */
  started(): Array<{ slug: string; startMs: number }>;
  /** Open sessions of every started app on this instance, by transport (metrics). */
  stats(): { streamableSessions: number; sseSessions: number };
  close(): Promise<void>;
}

interface Running {
  backend: GalleryBackend;
  endpoints: GallerySessionEndpoints;
  close(): Promise<void>;
}

type Endpoint = 'post' | 'get' | 'delete' | 'sseOpen' | 'sseMessage';

export function createGallery(options: GalleryOptions): Gallery {
  const { logger } = options;
  const running = new Map<string, Promise<Running>>();
  const started: Array<{ slug: string; startMs: number }> = [];
  const live = new Set<GallerySessionEndpoints>();

  async function start(app: GalleryApp): Promise<Running> {
    // The debug app reads DEBUG_LOG_FILE once, when its module loads (default: a file in /tmp).
    if (app.slug === 'debug') process.env.DEBUG_LOG_FILE = options.debugLogFile;
    const backend = await startGalleryBackend(app, options.version, options.root);
    const rule = hostPrivacyRule(app.slug, { systemMonitorReal: options.systemMonitorReal });
    const log = logger.child({ app: app.slug });
    const modern = createMcpHandler(() => buildGalleryServer(backend, rule), {
      // 2025-era requests never reach it: the session machinery routes them first.
      legacy: 'reject',
      maxRequestBodySize: options.maxBodyBytes,
      onerror: err => log.debug({ err }, 'gallery request rejected or failed')
    });
    // The servers of this app's open sessions, for the app's list-change notifications.
    const sessions = new Set<Server>();
    const endpoints = options.sessions({
      scope: `gallery:${app.slug}`,
      messagePath: `/${app.slug}/message`,
      modern,
      logger: log,
      build: () => {
        const server = buildGalleryServer(backend, rule);
        sessions.add(server);
        server.onclose = () => sessions.delete(server);
        return server;
      }
    });
    forwardListChanges(backend, () => sessions, err => log.debug({ err }, 'a list change could not reach a session'));
    started.push({ slug: app.slug, startMs: backend.startMs });
    live.add(endpoints);
    logger.info({ app: app.slug, package: app.packageName, version: backend.serverInfo.version, startMs: Math.round(backend.startMs) }, 'gallery app started');
    return {
      backend,
      endpoints,
      close: async () => {
        live.delete(endpoints);
        await endpoints.close().catch(() => undefined);
        await backend.close();
      }
    };
  }

  /** The app's running instance; a failed start is forgotten, so the next request tries again. */
  function runningApp(app: GalleryApp): Promise<Running> {
    let r = running.get(app.slug);
    if (!r) {
      r = start(app);
      running.set(app.slug, r);
      r.catch(() => running.delete(app.slug));
    }
    return r;
  }

  const findApp: RequestHandler = (req, res, next) => {
    const app = findGalleryApp(String(req.params['slug']));
    if (!app) {
      sendJsonRpcError(res, 404, JSONRPC_SERVER_ERROR, `No MCP server at ${req.baseUrl}: unknown example app (see the list on /)`);
      return;
    }
    res.locals['galleryApp'] = app;
    next();
  };
  const gates = options.authenticate ? new Map(GALLERY_APPS.map(app => [app.slug, options.authenticate!(app)])) : undefined;
  const authenticate =
    (which: keyof GalleryAuthentication): RequestHandler =>
    (req, res, next) =>
      gates ? gates.get((res.locals['galleryApp'] as GalleryApp).slug)![which](req, res, next) : next();
  const serve =
    (endpoint: Endpoint): RequestHandler =>
    async (req, res, next) => {
      const app = res.locals['galleryApp'] as GalleryApp;
      let r: Running;
      try {
        r = await runningApp(app);
      } catch (err) {
        if (err instanceof GalleryAppUnavailableError) {
          logger.warn({ app: app.slug, reason: err.message }, 'gallery app unavailable');
          // The packages can be installed while the server runs: the next request loads the app.
          sendJsonRpcError(res, 503, JSONRPC_SERVER_ERROR, `The example app ${app.slug} is not installed on this server: its operator runs \`${GALLERY_INSTALL_COMMAND}\` in the server's folder (no restart needed)`);
        } else {
          logger.error({ err, app: app.slug }, 'gallery app failed to start');
          sendJsonRpcError(res, 500, -32603, 'Internal error');
        }
        return;
      }
      await r.endpoints[endpoint](req, res, next);
    };
  // Any other method: 405 with Allow and a JSON-RPC error body (HEAD included: it would open a stream).
  const methodNotAllowed =
    (allow: string): RequestHandler =>
    (_req, res) => {
      res.setHeader('Allow', `${allow}, OPTIONS`);
      sendJsonRpcError(res, 405, JSONRPC_SERVER_ERROR, 'Method not allowed');
    };

  const body = jsonBody({ limit: options.maxBodyBytes });
  const router = Router();
  const paths = { mcp: '/:slug/mcp', sse: '/:slug/sse', message: '/:slug/message' };
  router.use(Object.values(paths), options.guard, findApp);
  router.head(paths.mcp, methodNotAllowed('GET, POST, DELETE'));
  router.head(paths.sse, methodNotAllowed('GET'));
  router.post(paths.mcp, body, authenticate('mcp'), rejectMalformedJson, serve('post'));
  router.get(paths.mcp, authenticate('mcp'), serve('get'));
  router.delete(paths.mcp, authenticate('mcp'), serve('delete'));
  router.all(paths.mcp, methodNotAllowed('GET, POST, DELETE'));
  router.get(paths.sse, authenticate('sse'), serve('sseOpen'));
  router.all(paths.sse, methodNotAllowed('GET'));
  router.post(paths.message, body, authenticate('sse'), rejectMalformedJson, serve('sseMessage'));
  router.all(paths.message, methodNotAllowed('POST'));

  return {
    router,
    started: () => [...started],
    stats: () => {
      const total = { streamableSessions: 0, sseSessions: 0 };
      for (const e of live) {
        const s = e.stats();
        total.streamableSessions += s.streamableSessions;
        total.sseSessions += s.sseSessions;
      }
      return total;
    },
    close: async () => {
      const all = [...running.values()];
      running.clear();
      for (const r of await Promise.allSettled(all)) if (r.status === 'fulfilled') await r.value.close();
    }
  };
}
