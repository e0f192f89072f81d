/**
 * What every answer of the server must satisfy, whatever the request
 * (the fuzzer's properties), and the raw HTTP client that sends the
 * fuzzer's requests (node:http, so that Host and every other header go out
 * exactly as generated).
 */
import assert from 'node:assert/strict';
import http from 'node:http';

import type { FuzzRequest } from './arbitraries.js';

export interface FuzzResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body was cut short: an event stream left open, or no end within the read limit. */
  partial: boolean;
}

/**
 * How long the fuzzer reads an answer before it stops (the answer is then
 * `partial` and only its status, headers and what arrived are checked): a
 * plain answer gets 3 s; an event stream (a GET stream, subscriptions/listen,
 * a 2025 session's SSE answer) 300 ms, as it may stay open by design.
 */
const READ_LIMIT_MS = 3000;
const STREAM_READ_LIMIT_MS = 300;
/** A request that gets no status line within this time fails the property (the server left it hanging). */
const ANSWER_LIMIT_MS = 10_000;

export function send(port: number, req: FuzzRequest): Promise<FuzzResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, setHost: !('host' in headers), agent: false }, res => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (partial: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (partial) res.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), partial });
      };
      const stream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      const timer = setTimeout(() => finish(true), stream ? STREAM_READ_LIMIT_MS : READ_LIMIT_MS);
      res.on('data', c => chunks.push(c as Buffer));
      res.on('end', () => finish(false));
      res.on('error', () => finish(true));
      res.on('close', () => finish(!res.complete));
    });
    r.on('error', err => reject(new Error(`request failed (did the server crash?): ${err.message}`)));
    // No status line at all within the limit: the server left the request hanging.
    r.setTimeout(ANSWER_LIMIT_MS, () => r.destroy(new Error(`no answer within ${ANSWER_LIMIT_MS} ms`)));
    r.end(req.body);
  });
}

/** RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1, RFC 7591 §3.2.2, RFC 8707 §2, RFC 6750 §3.1. */
export const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_response_type',
  'unsupported_token_type',
  'invalid_scope',
  'invalid_target',
  'access_denied',
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
  'temporarily_unavailable'
]);
export const BEARER_ERRORS = new Set(['invalid_request', 'invalid_token', 'insufficient_scope']);

const PROJECT = process.cwd();
const LEAKS: Array<[RegExp, string]> = [
  [/^\s*at .+(:\d+:\d+\)?|\(native\))$/m, 'a stack frame'],
  [/node:internal|node_modules/, 'an internal module path'],
  [new RegExp(PROJECT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the project path'],
  [/\b(?:TypeError|ReferenceError|SyntaxError|RangeError): /, 'a JavaScript error message']
];

const MCP_PATHS = /^\/(mcp|sse|message)(\/|\?|$)/;
const AS_JSON_PATHS = /^\/(token|register|introspect|revoke)(\?|$)/;

function isJsonRpcError(v: unknown): boolean {
  const m = v as { jsonrpc?: unknown; error?: { code?: unknown; message?: unknown } };
  return m?.jsonrpc === '2.0' && 'id' in (m as object) && Number.isInteger(m.error?.code) && typeof m.error?.message === 'string';
}

/** Each JSON-RPC message of a 2xx answer is well formed (a result, or an error object). */
function checkJsonRpcMessages(messages: unknown[]): void {
  for (const m of messages) {
    const msg = m as { jsonrpc?: unknown; error?: unknown; method?: unknown };
    assert.equal(msg.jsonrpc, '2.0', `not a JSON-RPC message: ${JSON.stringify(m).slice(0, 200)}`);
    if ('error' in msg) assert.ok(isJsonRpcError(m), `malformed JSON-RPC error: ${JSON.stringify(m).slice(0, 200)}`);
  }
}

function sseMessages(body: string): unknown[] {
  const out: unknown[] = [];
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter(l => l.startsWith('data:'))
      .map(l => l.slice(5).trimStart())
      .join('\n');
    if (data === '' || data === '{}') continue;
    out.push(JSON.parse(data));
  }
  return out;
}

/**
 * The properties of one answer. Throws (an assertion) when the server
 * answered 5xx, leaked a stack trace or an internal path, or answered an
 * error outside the spec's shape.
 */
export function checkResponse(req: FuzzRequest, res: FuzzResponse): void {
  const where = `${req.method} ${req.path.slice(0, 80)}`;
  assert.ok(res.status < 500, `${where} answered ${res.status}: ${res.body.slice(0, 300)}`);
  for (const [pattern, what] of LEAKS) assert.doesNotMatch(res.body, pattern, `${where} answer holds ${what}: ${res.body.slice(0, 300)}`);
  if (res.status === 401) assert.ok(res.headers['www-authenticate'], `${where}: 401 without WWW-Authenticate (RFC 9110 §15.5.2)`);
  if (res.status === 429 || res.status === 503) assert.ok(res.headers['retry-after'], `${where}: ${res.status} without Retry-After`);
  if (res.partial) return;

  const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
  const sse = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
  let body: unknown;
  if (json && res.body !== '') {
    try {
      body = JSON.parse(res.body);
    } catch {
      assert.fail(`${where}: Content-Type application/json but the body is not JSON: ${res.body.slice(0, 200)}`);
    }
  }

  if (AS_JSON_PATHS.test(req.path) && req.method === 'POST') {
    if (res.status >= 400) {
      assert.ok(json, `${where}: ${res.status} error is not JSON`);
      const e = body as { error?: unknown; error_description?: unknown };
      assert.ok(OAUTH_ERRORS.has(e.error as string), `${where}: ${res.status} with error ${JSON.stringify(e.error)} outside the RFC set`);
      if (e.error_description !== undefined) assert.equal(typeof e.error_description, 'string');
    }
    if (res.status === 401 && req.headers.authorization?.startsWith('Basic ')) assert.match(String(res.headers['www-authenticate']), /^Basic /i, `${where}: Basic auth failure without a Basic challenge (RFC 6749 §5.2)`);
  }

  if (MCP_PATHS.test(req.path) && (req.method === 'POST' || req.method === 'GET' || req.method === 'DELETE')) {
    if (res.status >= 400) {
      assert.ok(json, `${where}: ${res.status} error is not JSON (${res.headers['content-type']}): ${res.body.slice(0, 200)}`);
      const challenge = String(res.headers['www-authenticate'] ?? '');
      if (challenge.startsWith('Bearer')) {
        assert.ok(BEARER_ERRORS.has((body as { error?: string }).error ?? ''), `${where}: Bearer challenge with error ${JSON.stringify((body as { error?: unknown }).error)} (RFC 6750 §3.1)`);
      } else {
        assert.ok(isJsonRpcError(body), `${where}: ${res.status} body is not a JSON-RPC error: ${res.body.slice(0, 200)}`);
      }
    } else if (res.status < 300 && json && body !== undefined) {
      checkJsonRpcMessages(Array.isArray(body) ? body : [body]);
    } else if (res.status < 300 && sse) {
      checkJsonRpcMessages(sseMessages(res.body));
    }
  }

  if ((res.status === 302 || res.status === 303) && req.path.startsWith('/authorize')) {
    const location = String(res.headers.location ?? '');
    const error = URL.canParse(location) ? new URL(location).searchParams.get('error') : null;
    if (error) {
      assert.ok(OAUTH_ERRORS.has(error), `${where}: redirect with error ${error} outside the RFC set`);
      assert.ok(new URL(location).searchParams.get('iss'), `${where}: error redirect without iss (RFC 9207)`);
    }
  }
}

/** Keys that every request may touch by design: per-address rate-limit counters. */
const VOLATILE = /^ratelimit:/;

type Snapshot = Map<string, { value: string; expiresAt: number }>;

/**
 * The differences between two store snapshots (`+` added, `~` changed, `-`
 * removed), ignoring rate-limit counters and keys that simply expired in
 * between (their TTL is not the request's doing; a value written again with
 * the same content, e.g. a session's TTL refreshed on use, is no change).
 */
export function storeChanges(before: Snapshot, after: Snapshot, now = Date.now()): string[] {
  const changes: string[] = [];
  for (const [k, v] of after) {
    if (VOLATILE.test(k)) continue;
    if (!before.has(k)) changes.push(`+ ${k}`);
    else if (before.get(k)!.value !== v.value) changes.push(`~ ${k}`);
  }
  for (const [k, v] of before) if (!VOLATILE.test(k) && !after.has(k) && v.expiresAt > now) changes.push(`- ${k}`);
  return changes;
}
