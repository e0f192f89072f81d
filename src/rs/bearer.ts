/**
 * The bearer-token gate in front of /mcp, /sse and /message (OAuth 2.1 §5.2,
 * RFC 6750, MCP authorization "Access Token Usage" and "Scope Challenge
 * Handling"). A request passes these named steps, each small enough to test
 * alone:
 *
 *   skipPreflight -> extractBearerToken -> validateToken -> requiredScopesFor -> checkScopes -> attachAuthInfo
 *
 * Every refusal is a `GateError`, answered in one place (`bearer-errors.ts`)
 * and written to the audit log with its reason, never with the token.
 *
 * Step-up (403 insufficient_scope) needs the JSON-RPC body: when nothing has
 * parsed it yet, the gate parses it (`express.json`, bounded by
 * `MAX_BODY_BYTES`) and leaves it in `req.body`, so the MCP handler must take
 * the pre-parsed body from there (`toNodeHandler(...)(req, res, req.body)`).
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { AuthInfo as SdkAuthInfo } from '@modelcontextprotocol/server';

import type { Logger } from '../logger.js';
import { InvalidTokenError, ValidatorUnavailableError, type AuthInfo, type TokenValidator } from '../validators/token-validator.js';
import { challengeResponse, GateError, type ChallengeContext } from './bearer-errors.js';

// The SDK's express adapter declares `req.auth`; make sure the declaration is in scope.
import type {} from '@modelcontextprotocol/express';

/** What the gate reports for metrics: closed set of outcomes, bounded set of reasons. */
export type GateOutcome = 'ok' | 'missing' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'unavailable';

export interface BearerGateOptions {
  validator: TokenValidator;
  /** Canonical MCP URL (RFC 8707 resource), set as `req.auth.resource`. */
  resource: string;
  /** RFC 9728 metadata URL for `resource_metadata="…"`. */
  resourceMetadataUrl: string;
  /** Scope(s) advertised in 401 challenges. Default `mcp`. */
  scope?: string;
  /** Tool name -> scopes a `tools/call` of that tool needs (step-up). */
  toolScopes?: Readonly<Record<string, readonly string[]>>;
  /** Broader scopes and the narrower ones they imply (MCP spec: servers account for scope hierarchies). */
  impliedScopes?: Readonly<Record<string, readonly string[]>>;
  /** Body limit when the gate has to parse the body itself. Default 1 MiB. */
  maxBodyBytes?: number;
  logger: Logger;
  /** Metrics hook, called once per gated request. Must not throw. */
  onOutcome?: (outcome: GateOutcome, reason: string) => void;
  /** Clock, seconds since the epoch (tests). */
  now?: () => number;
}

/** Token68 (RFC 7235 §2.1): the only characters a bearer token may have. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Reads the token from the Authorization header only. OAuth 2.1 §5.1 and the
 * MCP spec forbid tokens in the query string; one sent there is refused with
 * `invalid_request` rather than silently ignored, so the mistake is visible.
 */
export function extractBearerToken(authorization: string | undefined, query: unknown): string {
  if (query && typeof query === 'object' && 'access_token' in query) {
    throw new GateError('invalid_request', 'token_in_query');
  }
  if (!authorization) throw new GateError('missing_token', 'no_authorization_header');
  const match = /^Bearer(?:\s+(.*))?$/i.exec(authorization.trim());
  if (!match) throw new GateError('missing_token', 'not_bearer_scheme');
  const token = (match[1] ?? '').trim();
  if (!token) throw new GateError('invalid_token', 'empty_token');
  if (!TOKEN68.test(token)) throw new GateError('invalid_token', 'malformed_token');
  return token;
}

/** Maps the validator's two errors onto the gate's; anything else is a bug and propagates (500). */
export async function validateToken(validator: TokenValidator, token: string, nowSeconds: number): Promise<AuthInfo> {
  let info: AuthInfo;
  try {
    info = await validator.validate(token);
  } catch (err) {
    if (err instanceof InvalidTokenError) throw new GateError('invalid_token', err.reason);
    if (err instanceof ValidatorUnavailableError) throw new GateError('temporarily_unavailable', 'validator_unavailable', { retryAfterSeconds: err.retryAfterSeconds });
    throw err;
  }
  // Defence in depth: every validator checks these too.
  if (!info.subject) throw new GateError('invalid_token', 'missing_sub');
  if (!(info.expiresAt > nowSeconds)) throw new GateError('invalid_token', 'expired');
  return info;
}

/** Scopes the JSON-RPC message(s) in `body` need: the union over every `tools/call` of a listed tool. */
export function requiredScopesFor(body: unknown, toolScopes: Readonly<Record<string, readonly string[]>>): string[] {
  const needed = new Set<string>();
  for (const msg of Array.isArray(body) ? body : [body]) {
    if (!msg || typeof msg !== 'object') continue;
    const { method, params } = msg as { method?: unknown; params?: { name?: unknown } };
    if (method !== 'tools/call' || !params || typeof params.name !== 'string') continue;
    if (!Object.hasOwn(toolScopes, params.name)) continue;
    for (const s of toolScopes[params.name] ?? []) needed.add(s);
  }
  return [...needed];
}

/** Throws `insufficient_scope` naming every scope the operation needs (one challenge, not one per retry). */
export function checkScopes(granted: readonly string[], required: readonly string[], implied: Readonly<Record<string, readonly string[]>> = {}): void {
  if (required.length === 0) return;
  const have = new Set(granted);
  for (const g of granted) for (const s of implied[g] ?? []) have.add(s);
  if (!required.every(s => have.has(s))) throw new GateError('insufficient_scope', 'missing_scope', { scopes: required });
}

/**
 * The SDK's AuthInfo, forwarded by `toNodeHandler` to handlers as `ctx.http.authInfo`.
 * `resource` may be a URL the gate parsed once and hands to every request:
 * read it, never modify it.
 */
export function toSdkAuthInfo(info: AuthInfo, resource: string | URL, resourceMetadataUrl: string): SdkAuthInfo {
  return {
    token: info.token,
    clientId: info.clientId,
    scopes: [...info.scopes],
    expiresAt: info.expiresAt,
    resource: typeof resource === 'string' ? new URL(resource) : resource,
    resourceMetadataUrl,
    extra: { subject: info.subject, issuer: info.issuer }
  };
}

/** Browsers must be able to read the challenge of a cross-origin request. */
function exposeToCors(res: Response, headers: readonly string[]): void {
  if (!res.getHeader('Access-Control-Allow-Origin')) res.setHeader('Access-Control-Allow-Origin', '*');
  const existing = String(res.getHeader('Access-Control-Expose-Headers') ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  const merged = [...existing];
  for (const h of headers) if (!merged.some(e => e.toLowerCase() === h.toLowerCase())) merged.push(h);
  res.setHeader('Access-Control-Expose-Headers', merged.join(', '));
}

export function createBearerGate(options: BearerGateOptions): RequestHandler {
  const { validator, resource, resourceMetadataUrl, logger, onOutcome } = options;
  const toolScopes = options.toolScopes ?? {};
  const implied = options.impliedScopes ?? {};
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const ctx: ChallengeContext = { resourceMetadataUrl, scope: options.scope ?? 'mcp' };
  const needsBody = Object.keys(toolScopes).length > 0;
  // Parsed once: a URL per request was 1% of the 2025 session path's busy time (docs/performance.md).
  const resourceUrl = new URL(resource);
  const parseJson = express.json({ limit: options.maxBodyBytes ?? 1024 * 1024 });

  const report = (outcome: GateOutcome, reason: string) => {
    try {
      onOutcome?.(outcome, reason);
    } catch {
      // metrics must never break the request
    }
  };

  /** Parses the JSON body if no one has yet; resolves false when it has answered the request itself. */
  function ensureBody(req: Request, res: Response): Promise<boolean> {
    // Already read upstream (parsed, or marked unparseable for the MCP layer to answer): nothing to do.
    if (!needsBody || req.method !== 'POST' || req.body !== undefined || req.readableEnded) return Promise.resolve(true);
    return new Promise(resolve => {
      parseJson(req, res, (err?: unknown) => {
        if (!err) return resolve(true);
        const e = err as { type?: string; status?: number };
        // The same answers the MCP transport gives for these (JSON-RPC, id null).
        const tooLarge = e.type === 'entity.too.large';
        res
          .status(tooLarge ? 413 : 400)
          .json({ jsonrpc: '2.0', id: null, error: tooLarge ? { code: -32600, message: 'Request body too large' } : { code: -32700, message: 'Parse error' } });
        resolve(false);
      });
    });
  }

  function refuse(req: Request, res: Response, err: GateError, who?: AuthInfo): void {
    const outcome: GateOutcome =
      err.code === 'missing_token' ? 'missing' : err.code === 'temporarily_unavailable' ? 'unavailable' : err.code;
    report(outcome, err.reason);
    const log = req.log ?? logger;
    const entry = {
      event: 'auth_failure',
      outcome,
      reason: err.reason,
      method: req.method,
      path: req.path,
      ...(who ? { subject: who.subject, clientId: who.clientId } : {}),
      ...(err.extra.scopes ? { requiredScopes: err.extra.scopes } : {})
    };
    // A missing token is every client's first step; the rest are worth a warning.
    if (outcome === 'missing') log.info(entry, 'bearer token required');
    else if (outcome === 'unavailable') log.error(entry, 'token validation unavailable');
    else log.warn(entry, 'bearer token refused');

    const answer = challengeResponse(err, ctx);
    res.status(answer.status);
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
    exposeToCors(res, ['WWW-Authenticate', 'Retry-After']);
    res.json(answer.body);
  }

  return async (req, res, next) => {
    // CORS preflights carry no credentials (Fetch standard); the CORS layer answers them.
    if (req.method === 'OPTIONS') return next();
    let info: AuthInfo | undefined;
    try {
      // `req.query` parses the query string on every read: only when there is one.
      const token = extractBearerToken(req.headers.authorization, req.url.includes('?') ? req.query : undefined);
      info = await validateToken(validator, token, now());
      if (!(await ensureBody(req, res))) return;
      checkScopes(info.scopes, requiredScopesFor(req.body, toolScopes), implied);
    } catch (err) {
      if (err instanceof GateError) return refuse(req, res, err, info);
      return next(err);
    }
    req.auth = toSdkAuthInfo(info, resourceUrl, resourceMetadataUrl);
    report('ok', 'ok');
    // Checked first: reading req.log builds the request's child logger (src/http/basics.ts), for a line that is usually off.
    if (logger.isLevelEnabled('debug')) (req.log ?? logger).debug({ event: 'auth_ok', subject: info.subject, clientId: info.clientId }, 'bearer token accepted');
    next();
  };
}
