/**
 * The MCP Apps gallery: the ext-apps example servers at `/<slug>/mcp`, for
 * every protocol revision `/mcp` serves over Streamable HTTP (2026-07-28
 * stateless, and 2025-era clients through the SDK's stateless fallback: an
 * `initialize` is answered without a session).
 *
 *   /<slug>/mcp   hostOrigin → cors → findApp (404) → jsonBody → authenticate (per app) → rejectMalformedJson → serve
 *
 * Each app is started on the first request to its slug (./backend.ts), then
 * shared by every caller; an app that is not installed answers 503. The
 * project's own code never imports an app: they live in gallery/node_modules
 * and are loaded by path (scripts/check-boundaries.mjs keeps it so).
 *
 * Authorization is the composition root's choice (`authenticate`): by
 * default each app is an OAuth-protected resource of its own (a token's
 * audience is that app's URL); `EXAMPLE_APPS_PUBLIC=true` serves them without.
 */
import { createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { Router, type Request, type RequestHandler, type Response } from 'express';

import { jsonBody, rejectMalformedJson } from '../http/json-body.js';
import { JSONRPC_SERVER_ERROR, sendJsonRpcError } from '../http/jsonrpc-error.js';
import type { Logger } from '../logger.js';
import { findGalleryApp, GALLERY_APPS, type GalleryApp } from './apps.js';
import { GalleryAppUnavailableError, startGalleryBackend, type GalleryBackend } from './backend.js';
import { hostPrivacyRule } from './host-privacy.js';
import { buildGalleryServer } from './proxy.js';

export { GALLERY_APPS, findGalleryApp, type GalleryApp } from './apps.js';
export { resolveGalleryPackage } from './backend.js';

/** `BASE_URI/<slug>/mcp`. */
export const galleryAppUrl = (baseUri: string, slug: string) => `${baseUri}/${slug}/mcp`;

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
  /** The bearer gate for one app; undefined serves it without a token. */
  authenticate?: (app: GalleryApp) => RequestHandler;
}

export interface Gallery {
  router: Router;
  /** Start-up time of each app started so far (ms, import + initialize). */
  started(): Array<{ slug: string; startMs: number }>;
  close(): Promise<void>;
}

interface Running {
  backend: GalleryBackend;
  serve: (req: Request, res: Response, body: unknown) => Promise<void>;
  close(): Promise<void>;
}

export function createGallery(options: GalleryOptions): Gallery {
  const { logger } = options;
  const running = new Map<string, Promise<Running>>();
  const started: Array<{ slug: string; startMs: number }> = [];

  async function start(app: GalleryApp): Promise<Running> {
    // The debug app reads DEBUG_LOG_FILE once, when its module loads (default: a file in /tmp).
    if (app.slug === 'debug') process.env.DEBUG_LOG_FILE = options.debugLogFile;
    const backend = await startGalleryBackend(app, options.version);
    const rule = hostPrivacyRule(app.slug, { systemMonitorReal: options.systemMonitorReal });
    const handler = createMcpHandler(() => buildGalleryServer(backend, rule), {
      legacy: 'stateless',
      maxRequestBodySize: options.maxBodyBytes,
      onerror: err => logger.debug({ err, app: app.slug }, 'gallery request rejected or failed')
    });
    const node = toNodeHandler(handler, { maxRequestBodySize: options.maxBodyBytes, onerror: err => logger.error({ err, app: app.slug }, 'gallery handler failed') });
    started.push({ slug: app.slug, startMs: backend.startMs });
    logger.info({ app: app.slug, package: app.packageName, version: backend.serverInfo.version, startMs: Math.round(backend.startMs) }, 'gallery app started');
    return {
      backend,
      serve: (req, res, body) => node(req, res, body),
      close: async () => {
        await handler.close().catch(() => undefined);
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
      sendJsonRpcError(res, 404, JSONRPC_SERVER_ERROR, `No MCP server at ${req.path}: unknown example app (see the list on /)`);
      return;
    }
    res.locals['galleryApp'] = app;
    next();
  };
  const authenticate: RequestHandler = options.authenticate
    ? (() => {
        const gates = new Map(GALLERY_APPS.map(app => [app.slug, options.authenticate!(app)]));
        return (req, res, next) => gates.get((res.locals['galleryApp'] as GalleryApp).slug)!(req, res, next);
      })()
    : (_req, _res, next) => next();
  const serve: RequestHandler = async (req, res) => {
    const app = res.locals['galleryApp'] as GalleryApp;
    let r: Running;
    try {
      r = await runningApp(app);
    } catch (err) {
      if (err instanceof GalleryAppUnavailableError) {
        logger.warn({ app: app.slug, reason: err.message }, 'gallery app unavailable');
        sendJsonRpcError(res, 503, JSONRPC_SERVER_ERROR, `The example app ${app.slug} is not installed on this server`);
      } else {
        logger.error({ err, app: app.slug }, 'gallery app failed to start');
        sendJsonRpcError(res, 500, -32603, 'Internal error');
      }
      return;
    }
    await r.serve(req, res, req.body);
  };

  const router = Router();
  const path = '/:slug/mcp';
  router.use(path, options.guard);
  router.all(path, findApp, jsonBody({ limit: options.maxBodyBytes }), authenticate, rejectMalformedJson, serve);

  return {
    router,
    started: () => [...started],
    close: async () => {
      const all = [...running.values()];
      running.clear();
      for (const r of await Promise.allSettled(all)) if (r.status === 'fulfilled') await r.value.close();
    }
  };
}
