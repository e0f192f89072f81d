/**
 * The bearer gate's one error type, its closed set of codes, and the one
 * place that maps them to the wire (STYLE.md habit 3): status,
 * `WWW-Authenticate` (RFC 6750 §3, RFC 9728 §5.1), `Retry-After`,
 * `Cache-Control: no-store` and the JSON body `{ error, error_description }`.
 *
 * | code                    | status | WWW-Authenticate                                                   |
 * |-------------------------|--------|--------------------------------------------------------------------|
 * | missing_token           | 401    | Bearer resource_metadata="…", scope="mcp"   (no error: RFC 6750 §3.1) |
 * | invalid_request         | 400    | Bearer error="invalid_request", error_description="…", resource_metadata="…" |
 * | invalid_token           | 401    | Bearer error="invalid_token", error_description="…", resource_metadata="…", scope="mcp" |
 * | insufficient_scope      | 403    | Bearer error="insufficient_scope", error_description="…", resource_metadata="…", scope="<needed>" |
 * | temporarily_unavailable | 503    | none (not a challenge); Retry-After instead                        |
 *
 * The wire carries generic descriptions only; the detailed `reason`
 * (expired, audience, revoked, ...) goes to the audit log and metrics.
 */

export type GateErrorCode = 'missing_token' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

export class GateError extends Error {
  override readonly name = 'GateError';
  constructor(
    readonly code: GateErrorCode,
    /** Internal reason for logs and metrics; never sent on the wire. */
    readonly reason: string,
    readonly extra: { scopes?: readonly string[]; retryAfterSeconds?: number } = {}
  ) {
    super(`${code}: ${reason}`);
  }
}

/** Public descriptions, one per code (two channels: these on the wire, `reason` in the log). */
const DESCRIPTIONS: Record<GateErrorCode, string> = {
  missing_token: 'An access token is required',
  invalid_request: 'The request carries the access token in an unsupported way; send it only in the Authorization header',
  invalid_token: 'The access token is invalid, expired or not meant for this server',
  insufficient_scope: 'The access token lacks the scope this operation requires',
  temporarily_unavailable: 'The access token cannot be checked right now; retry later'
};

export interface ChallengeContext {
  /** RFC 9728 metadata URL advertised in every challenge. */
  resourceMetadataUrl: string;
  /** Scope(s) a client should ask for to use this server (space-separated), e.g. `mcp`. */
  scope: string;
}

export interface GateResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/** RFC 7230 quoted-string content: escape `\` and `"`, drop what a header cannot carry. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, ' ')}"`;
}

function bearer(params: Array<[string, string]>): string {
  return `Bearer ${params.map(([k, v]) => `${k}=${quoted(v)}`).join(', ')}`;
}

/** The one mapping from a gate error to its HTTP answer. */
export function challengeResponse(err: GateError, ctx: ChallengeContext): GateResponse {
  const description = DESCRIPTIONS[err.code];
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  const rm: [string, string] = ['resource_metadata', ctx.resourceMetadataUrl];
  let status: number;
  let error: string;
  switch (err.code) {
    case 'missing_token':
      // RFC 6750 §3.1: no error code when the request had no authentication information.
      status = 401;
      error = 'invalid_token';
      headers['WWW-Authenticate'] = bearer([rm, ['scope', ctx.scope]]);
      break;
    case 'invalid_request':
      status = 400;
      error = 'invalid_request';
      headers['WWW-Authenticate'] = bearer([['error', error], ['error_description', description], rm]);
      break;
    case 'invalid_token':
      status = 401;
      error = 'invalid_token';
      headers['WWW-Authenticate'] = bearer([['error', error], ['error_description', description], rm, ['scope', ctx.scope]]);
      break;
    case 'insufficient_scope': {
      status = 403;
      error = 'insufficient_scope';
      const needed = (err.extra.scopes ?? []).join(' ') || ctx.scope;
      headers['WWW-Authenticate'] = bearer([['error', error], ['error_description', description], rm, ['scope', needed]]);
      break;
    }
    case 'temporarily_unavailable':
      status = 503;
      error = 'temporarily_unavailable';
      headers['Retry-After'] = String(Math.max(1, Math.round(err.extra.retryAfterSeconds ?? 5)));
      break;
  }
  return { status, headers, body: { error, error_description: description } };
}
