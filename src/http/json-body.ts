/**
 * JSON body reading for the JSON-RPC endpoints (`/mcp`, `/message`), with a
 * hard size limit and JSON-RPC shaped errors:
 *
 * - a body over `limit` bytes: HTTP 413, JSON-RPC -32000 (as the SDK's own
 *   transports answer), once the rest has been read and discarded (bounded,
 *   drain.ts), so that a client that wrote the whole body at once reads the
 *   413 rather than a connection reset;
 * - a POST whose media type is not `application/json`: HTTP 415;
 * - a body that is not JSON: HTTP 400, JSON-RPC -32700 Parse error.
 *
 * The parse error is *deferred*: `jsonBody` only marks the request and
 * `rejectMalformedJson` answers it, so the authentication gate can run in
 * between (an anonymous caller gets 401, not a parser diagnosis) and read
 * `req.body` when it needs the JSON-RPC method (step-up scopes).
 */
import type { RequestHandler } from 'express';

import { drainThenAnswer } from './drain.js';
import { JSONRPC_PARSE_ERROR, JSONRPC_SERVER_ERROR, sendJsonRpcError } from './jsonrpc-error.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `jsonBody` when the POST body was not valid JSON. */
    jsonBodyInvalid?: boolean;
  }
}

export interface JsonBodyOptions {
  /** Maximum body size in bytes (`MAX_BODY_BYTES`). */
  limit: number;
}

function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  if (contentType === 'application/json') return true; // what nearly every client sends
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  return essence === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(essence);
}

export function jsonBody(options: JsonBodyOptions): RequestHandler {
  const { limit } = options;
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    if (!isJsonMediaType(req.headers['content-type'])) {
      sendJsonRpcError(res, 415, JSONRPC_SERVER_ERROR, 'Unsupported Media Type: Content-Type must be application/json');
      return;
    }
    // Discard the rest (bounded) before answering: never a reset under a client still writing (drain.ts).
    const tooLarge = () =>
      drainThenAnswer(req, res, () => sendJsonRpcError(res, 413, JSONRPC_SERVER_ERROR, `Payload Too Large: the request body exceeds ${limit} bytes`));
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return tooLarge();

    // A small body arrives in one chunk: no array, no concatenation for it.
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.off('data', onData);
        tooLarge();
        return;
      }
      if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    };
    req.on('data', onData);
    // `on`, not `once`: each is emitted at most once, and `once` wraps the listener per request.
    req.on('error', () => {
      done = true; // client went away; nothing to answer
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = more ? Buffer.concat(more).toString('utf8') : first ? first.toString('utf8') : '';
      try {
        req.body = JSON.parse(text) as unknown;
      } catch {
        req.body = undefined;
        req.jsonBodyInvalid = true;
      }
      next();
    });
  };
}

/** Answers the parse error `jsonBody` recorded (HTTP 400, JSON-RPC -32700). */
export const rejectMalformedJson: RequestHandler = (req, res, next) => {
  if (req.jsonBodyInvalid) {
    sendJsonRpcError(res, 400, JSONRPC_PARSE_ERROR, 'Parse error: Invalid JSON');
    return;
  }
  next();
};
