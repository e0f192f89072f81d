/**
 * One error type for the whole authorization server, a closed set of RFC
 * error codes, and ONE place (`describeError`) that maps an error to the HTTP
 * status, headers and body the client sees (STYLE.md habit 3).
 *
 * Two channels (habit 4): `description` is the generic text that goes on the
 * wire; `reason` is the precise internal cause that goes to the log only.
 * Handlers throw; the router's single error handler (`index.ts`) answers.
 */
import type { Response } from 'express';

import { StoreUnavailableError } from '../store/store.js';

/**
 * RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2, RFC 8707 §2, RFC 7009 §2.2.1.
 * `temporarily_unavailable` also names rate limiting (429) and storage
 * outages (503): RFC 6749 has no closer code.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'server_error'
  | 'temporarily_unavailable';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  // RFC 6749 §5.2: 401 when the client tried to authenticate (always the case here).
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  server_error: 500,
  temporarily_unavailable: 503
};

/** Generic public descriptions: never the internal reason, never an echo of the request. */
const DESCRIPTION: Record<OAuthErrorCode, string> = {
  invalid_request: 'The request is missing a parameter, repeats one, or is otherwise malformed.',
  invalid_client: 'Client authentication failed.',
  invalid_grant: 'The authorization grant or refresh token is invalid, expired, revoked, or was issued to another client.',
  unauthorized_client: 'The client is not authorized to use this grant type.',
  unsupported_grant_type: 'The grant type is not supported.',
  unsupported_response_type: 'Only response_type=code is supported.',
  unsupported_token_type: 'The token type is not supported.',
  invalid_scope: 'The requested scope is invalid, unknown, or exceeds what was granted.',
  invalid_target: 'The requested resource is not served by this authorization server.',
  access_denied: 'The resource owner denied the request.',
  invalid_redirect_uri: 'One or more redirect URIs are not allowed.',
  invalid_client_metadata: 'The client metadata is invalid.',
  server_error: 'Internal server error.',
  temporarily_unavailable: 'The service is temporarily unavailable; retry later.'
};

export interface OAuthErrorOptions {
  /** Internal cause for the log; never sent. */
  reason?: string;
  /** Public description override (still generic: never built from request input). */
  description?: string;
  /** Seconds, for 429/503. */
  retryAfter?: number;
  /** Status override, only used by the factories below (413, 429). */
  status?: number;
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly reason: string;
  readonly description: string;
  readonly retryAfter?: number;
  readonly status: number;

  constructor(readonly code: OAuthErrorCode, options: OAuthErrorOptions = {}) {
    super(options.reason ?? code);
    this.reason = options.reason ?? code;
    this.description = options.description ?? DESCRIPTION[code];
    this.retryAfter = options.retryAfter;
    this.status = options.status ?? STATUS[code];
  }
}

export const rateLimited = (retryAfter: number) =>
  new OAuthError('temporarily_unavailable', { status: 429, retryAfter, reason: 'rate limit exceeded', description: 'Too many requests; retry later.' });

export const storeUnavailable = (reason = 'storage unavailable') =>
  new OAuthError('temporarily_unavailable', { status: 503, retryAfter: 5, reason });

export const bodyTooLarge = () =>
  new OAuthError('invalid_request', { status: 413, reason: 'request body too large', description: 'The request body is too large.' });

/** Anything thrown in the AS becomes an OAuthError; unknown errors become server_error (logged by the caller). */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof StoreUnavailableError) return storeUnavailable(err.message);
  const e = err as { type?: string; status?: number } | undefined;
  // body-parser errors: size limit, malformed bodies, unsupported charset.
  if (e?.type === 'entity.too.large') return bodyTooLarge();
  if (typeof e?.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new OAuthError('invalid_request', { reason: `body parse failure: ${e.type}` });
  }
  return new OAuthError('server_error', { reason: 'unexpected error' });
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: OAuthErrorCode; error_description: string };
}

/**
 * THE mapping from an error to the wire (status, WWW-Authenticate, Cache-Control, Retry-After, body).
 *
 * `on: 'page'` is an error shown to a person's browser (authorization
 * endpoint, consent, IdP): the browser did not authenticate, so a failed
 * client check there is 400, not a 401 it could not answer. On the API
 * endpoints every 401 carries a challenge (RFC 9110 §15.5.2) naming the
 * scheme this AS accepts for client authentication (RFC 6749 §5.2), also
 * when the client sent its credentials in the body.
 */
export function describeError(err: OAuthError, on: 'api' | 'page' = 'api'): ErrorResponse {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  const status = on === 'page' && err.status === 401 ? 400 : err.status;
  if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="oauth", charset="UTF-8"';
  if (err.retryAfter !== undefined) headers['Retry-After'] = String(err.retryAfter);
  return { status, headers, body: { error: err.code, error_description: err.description } };
}

export function sendJsonError(res: Response, err: OAuthError): void {
  const { status, headers, body } = describeError(err);
  res.status(status).set(headers).json(body);
}

/** Query string for an error redirected to the client (RFC 6749 §4.1.2.1, RFC 9207 `iss`). */
export function errorRedirectParams(err: OAuthError, state: string | undefined, issuer: string): URLSearchParams {
  const p = new URLSearchParams({ error: err.code, error_description: err.description });
  if (state !== undefined) p.set('state', state);
  p.set('iss', issuer);
  return p;
}

/**
 * Phase two of the authorization endpoint (STYLE.md habit 5): once the client
 * and its redirect URI are proven, errors go back to the client by redirect.
 */
export class RedirectToClient extends Error {
  override readonly name = 'RedirectToClient';
  constructor(
    readonly error: OAuthError,
    readonly redirectUri: string,
    readonly state: string | undefined
  ) {
    super(error.reason);
  }
}

/** Marks an error to be shown as an HTML page (the request came from a person's browser). */
export class PageError extends Error {
  override readonly name = 'PageError';
  constructor(
    readonly error: OAuthError,
    readonly title: string,
    /** Shown on the page: generic, never built from request input. */
    readonly pageMessage: string
  ) {
    super(error.reason);
  }
}
