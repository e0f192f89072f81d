/**
 * The admin endpoint the troubleshooting CLI calls with `--url`, so that
 * `npm run admin` works in memory mode too, where the state lives inside the
 * server process and nothing outside can read it.
 *
 *   POST /admin/v1/{command}   JSON body: the command's arguments
 *                              JSON answer: the command's result (./operations.ts)
 *
 * Off unless `ADMIN_TOKEN` is configured. When on, a request is served only if
 * ALL of these hold, otherwise it is answered 404 (as if the route did not
 * exist) or 401:
 *
 * 1. it arrived on a loopback socket (the TCP peer is 127.0.0.0/8 or ::1: the
 *    socket address, never X-Forwarded-For, whatever TRUST_PROXY says);
 * 2. it carries no proxy header (Forwarded, X-Forwarded-For, X-Real-IP, Via):
 *    a reverse proxy on the same host would make remote callers look local;
 * 3. `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (401);
 * 4. `Content-Type: application/json` (no HTML form can send it, so no CSRF
 *    even from a local browser), body at most 8 KiB.
 *
 * Token values travel in the POST body, never in a URL, and nothing here
 * logs them. Every admin call is logged as an audit event (command, outcome).
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';

import { safeEqual } from '../auth/crypto.js';
import type { Logger } from '../logger.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { ADMIN_COMMANDS, AdminOperations, AdminUsageError, type AdminCommand } from './operations.js';

export const ADMIN_PATH = '/admin/v1';
export const MIN_ADMIN_TOKEN_LENGTH = 32;

export interface AdminEndpointOptions {
  store: Store;
  logger: Logger;
  /** `ADMIN_TOKEN`. Undefined or empty: the endpoint does not exist (every request falls through). */
  token?: string;
}

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via'];

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

export function createAdminEndpoint(options: AdminEndpointOptions): Router {
  const router = Router();
  const { token, store, logger } = options;
  if (!token) return router;
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new Error(`ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (generate one with \`openssl rand -base64 32\`).`);
  }
  const log = logger.child({ component: 'admin' });
  const ops = new AdminOperations(store, log);

  const notFound = (res: Response) => res.status(404).set('Cache-Control', 'no-store').json({ error: 'not_found' });

  const guard = (req: Request, res: Response, next: NextFunction) => {
    if (!isLoopbackAddress(req.socket.remoteAddress) || PROXY_HEADERS.some(h => req.headers[h] !== undefined)) {
      log.warn({ event: 'admin_refused', reason: 'not a direct loopback connection' }, 'admin endpoint refused a request');
      return void notFound(res);
    }
    const auth = req.headers.authorization ?? '';
    const presented = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!safeEqual(presented, token)) {
      log.warn({ event: 'admin_refused', reason: 'bad or missing admin token' }, 'admin endpoint refused a request');
      return void res.status(401).set({ 'Cache-Control': 'no-store', 'WWW-Authenticate': 'Bearer realm="admin"' }).json({ error: 'unauthorized' });
    }
    if (!req.is('application/json')) {
      return void res.status(415).set('Cache-Control', 'no-store').json({ error: 'unsupported_media_type', error_description: 'send application/json' });
    }
    next();
  };

  router.post(`${ADMIN_PATH}/:command`, guard, express.json({ limit: '8kb', strict: true }), async (req, res) => {
    const command = req.params.command as AdminCommand;
    res.set('Cache-Control', 'no-store');
    if (!ADMIN_COMMANDS.includes(command)) return void res.status(404).json({ error: 'unknown_command', commands: ADMIN_COMMANDS });
    const args = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    try {
      const result = await ops.run(command, args as never);
      log.info({ event: 'admin_command', command }, 'admin command');
      res.json(result);
    } catch (err) {
      if (err instanceof AdminUsageError) return void res.status(400).json({ error: 'invalid_request', error_description: err.message });
      if (err instanceof StoreUnavailableError) return void res.status(503).set('Retry-After', '2').json({ error: 'store_unavailable', error_description: err.message });
      log.error({ err, command }, 'admin command failed');
      res.status(500).json({ error: 'server_error' });
    }
  });
  // Malformed JSON and oversized bodies from express.json, without a stack trace.
  router.use(ADMIN_PATH, (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = (err as { status?: number }).status;
    if (status && status >= 400 && status < 500) return void res.status(status).set('Cache-Control', 'no-store').json({ error: 'invalid_request' });
    next(err);
  });
  return router;
}
