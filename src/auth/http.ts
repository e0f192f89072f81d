/**
 * Small HTTP steps shared by the AS endpoints (each endpoint is a list of
 * these plus its own named steps).
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

import { drainThenAnswer } from '../http/drain.js';
import { bodyTooLarge, OAuthError } from './errors.js';

/** One step of an endpoint. Throwing (or rejecting) hands the error to the route's error handler. */
export type Step = (req: Request, res: Response, next: NextFunction) => void | Promise<void>;

/** Largest form or JSON body an AS endpoint reads. */
export const BODY_LIMIT = '16kb';
const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * A body declared larger than the AS reads is refused with 413 without
 * being parsed: the body is discarded (bounded) and then answered, so that a
 * client writing the whole body at once reads the answer instead of a reset
 * (src/http/drain.ts). Undeclared (chunked) bodies are counted by the parser,
 * which also reads them to the end before answering 413.
 */
export const limitDeclaredBody: RequestHandler = (req, res, next) => {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > BODY_LIMIT_BYTES) return drainThenAnswer(req, res, () => next(bodyTooLarge()));
  next();
};

export function wrap(step: Step): RequestHandler {
  return (req, res, next) => {
    try {
      Promise.resolve(step(req, res, next)).catch(next);
    } catch (err) {
      next(err);
    }
  };
}

/** Errors on this route are answered as an HTML page (a person's browser is on the other end). */
export const markPage: RequestHandler = (_req, res, next) => {
  res.locals.page = true;
  next();
};

/** RFC 6749 §5.1: responses carrying tokens or credentials are never cached. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  next();
};

/**
 * Public, credential-less CORS for endpoints browsers call cross-origin
 * (metadata, register, token, revoke). No cookies are involved there, so
 * `*` is safe; OPTIONS preflights answer 204.
 */
export function allowCors(methods: string): RequestHandler {
  return (req, res, next) => {
    res.set({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': `${methods}, OPTIONS`,
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, MCP-Protocol-Version',
      'Access-Control-Max-Age': '600'
    });
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

const urlencoded = express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 50 });

/**
 * Reads an `application/x-www-form-urlencoded` body into `res.locals.form`:
 * a flat string map. A repeated parameter is `invalid_request` (RFC 6749 §3.1,
 * §3.2); any other content type is `invalid_request`.
 */
export const parseForm: RequestHandler = (req, res, next) => {
  limitDeclaredBody(req, res, tooLarge => (tooLarge ? next(tooLarge) : readForm(req, res, next)));
};

const readForm: RequestHandler = (req, res, next) => {
  urlencoded(req, res, err => {
    if (err) return next(err);
    if (!req.is('application/x-www-form-urlencoded')) return next(new OAuthError('invalid_request', { reason: 'body is not form-encoded' }));
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
      if (typeof v !== 'string') return next(new OAuthError('invalid_request', { reason: `parameter repeated: ${k.slice(0, 40)}` }));
      if (v !== '') form[k] = v;
    }
    res.locals.form = form;
    next();
  });
};

export function form(res: Response): Record<string, string> {
  return (res.locals.form ?? {}) as Record<string, string>;
}

/** A required form parameter, or `invalid_request`. */
export function required(res: Response, name: string): string {
  const v = form(res)[name];
  if (v === undefined) throw new OAuthError('invalid_request', { reason: `missing ${name}` });
  return v;
}
