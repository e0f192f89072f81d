/**
 * Refusing a request body that is over the size limit without resetting the
 * connection under the client.
 *
 * A client that sends its whole body at once, without `Expect: 100-continue`
 * (fetch and the MCP SDK do), is still writing when the server decides to
 * refuse. If the server answers and closes its socket with unread bytes in
 * it, the TCP stack sends a reset, and a reset can erase the response before
 * the client (or a proxy in between) has read it: the client sees
 * ECONNRESET instead of the 413 (RFC 9112 §9.6). Node closes that way by
 * itself as soon as the response is written when the client sent
 * `Connection: close` (as `agent: false` and many clients do).
 *
 * So the rest of the body is read and thrown away first, up to `maxBytes`
 * more and for at most `maxMs`, and the answer (with `Connection: close`)
 * goes out once the body has ended: the connection then closes cleanly, with
 * nothing unread. A client that keeps sending past the bound gets the answer
 * all the same and is cut off (a reset is then what it asked for).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface DrainOptions {
  /** Bytes read and discarded before answering anyway and cutting the connection. */
  maxBytes: number;
  /** Milliseconds the drain may take before answering anyway and cutting the connection. */
  maxMs: number;
}

/** 8 MiB or 10 s of discarded body, whichever comes first. */
export const DEFAULT_DRAIN: DrainOptions = { maxBytes: 8 * 1024 * 1024, maxMs: 10_000 };

/**
 * Discards the rest of `req`'s body (bounded), then calls `answer` (which
 * writes the refusal). Call it instead of answering directly.
 */
export function drainThenAnswer(req: IncomingMessage, res: ServerResponse, answer: () => void, options: DrainOptions = DEFAULT_DRAIN): void {
  let drained = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    req.off('data', onData);
    // Then close: once everything sent was read, Node's close after this answer leaves nothing unread (no reset).
    if (!res.headersSent) res.setHeader('Connection', 'close');
    answer();
  };
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > options.maxBytes) finish();
  };
  const timer = setTimeout(() => finish(), options.maxMs);
  timer.unref();
  req.on('data', onData);
  req.once('end', () => finish());
  // The client went away: nobody to answer.
  req.once('error', () => {
    done = true;
    clearTimeout(timer);
  });
  if (req.readableEnded) finish();
  else req.resume();
}
