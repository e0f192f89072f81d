/**
 * Cross-cutting HTTP behaviour shared by every route: request ids, the access
 * log, and the final error handler (JSON, never a stack trace on the wire).
 */
import { randomUUID } from 'node:crypto';

import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/metrics.js';

declare module 'express-serve-static-core' {
  interface Request {
    id?: string;
    log?: Logger;
    /** `performance.now()` when the request reached the basics (access metrics). */
    startedAt?: number;
  }
}

/**
 * Request id, access metrics and the request's logger. Per request this is
 * kept to what every request needs: the id (on the response as
 * `X-Request-Id`), the start time and one shared `finish` listener. The
 * child logger that puts `reqId` on every line (`req.log`) is built on first
 * use, by a getter on the app's request prototype: most requests never log
 * (the access line is at debug level), and building a pino child per
 * request showed in the profiles of the 2025 session path
 * (docs/performance.md).
 */
export function createHttpBasics(_config: Config, logger: Logger, metrics?: Metrics): RequestHandler {
  function finished(this: Response): void {
    const req = this.req;
    const ms = performance.now() - req.startedAt!;
    if (metrics) {
      // Route templates only (a closed set), never the raw URL.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : this.statusCode === 404 ? 'unmatched' : req.path.startsWith('/.well-known/') ? req.path : 'other';
      metrics.observeRequest(route, req.method, this.statusCode, ms / 1000);
    }
    // The path only: query strings can carry codes and state.
    if (logger.isLevelEnabled('debug')) req.log!.debug({ method: req.method, path: req.path, status: this.statusCode, ms }, 'request');
  }
  let prototype: object | undefined;
  return (req, res, next) => {
    const proto = Object.getPrototypeOf(req) as object;
    if (proto !== prototype) {
      prototype = proto;
      lazyRequestLogger(proto, logger);
    }
    const id = randomUUID();
    req.id = id;
    req.startedAt = performance.now();
    res.setHeader('X-Request-Id', id);
    res.on('finish', finished);
    next();
  };
}

/**
 * `req.log` on the requests of one app (`proto`: its request prototype,
 * which Express and the direct route give every request): the first read
 * builds `logger.child({ reqId })` and keeps it on the request; a request
 * without an id (not through the basics) has none (`req.log ?? logger`).
 * Assigning `req.log` still works (an own property).
 */
function lazyRequestLogger(proto: object, logger: Logger): void {
  if (Object.hasOwn(proto, 'log')) return;
  const own = (req: object, value: Logger | undefined) => Object.defineProperty(req, 'log', { value, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(proto, 'log', {
    configurable: true,
    get(this: Request): Logger | undefined {
      if (this.id === undefined) return undefined;
      const child = logger.child({ reqId: this.id });
      own(this, child);
      return child;
    },
    set(this: Request, value: Logger | undefined) {
      own(this, value);
    }
  });
}

/** Last resort: unknown errors are 500 and logged, never a 400 guess, never a stack trace on the wire. */
export function finalErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) (req.log ?? logger).error({ err }, 'unhandled error');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: status === 500 ? 'Internal server error' : 'The request could not be processed' });
  };
}
