/**
 * Cross-cutting HTTP behaviour shared by every route: request ids, the access
 * log, and the final error handler (JSON, never a stack trace on the wire).
 */
import { randomUUID } from 'node:crypto';

import type { ErrorRequestHandler, RequestHandler } from 'express';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/metrics.js';

declare module 'express-serve-static-core' {
  interface Request {
    id?: string;
    log?: Logger;
  }
}

export function createHttpBasics(_config: Config, logger: Logger, metrics?: Metrics): RequestHandler {
  return (req, res, next) => {
    const id = randomUUID();
    req.id = id;
    req.log = logger.child({ reqId: id });
    res.setHeader('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (metrics) {
        // Route templates only (a closed set), never the raw URL.
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : res.statusCode === 404 ? 'unmatched' : req.path.startsWith('/.well-known/') ? req.path : 'other';
        metrics.observeRequest(route, req.method, res.statusCode, ms / 1000);
      }
      // The path only: query strings can carry codes and state.
      req.log!.debug({ method: req.method, path: req.path, status: res.statusCode, ms }, 'request');
    });
    next();
  };
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
