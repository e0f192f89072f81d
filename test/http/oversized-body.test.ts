/**
 * Bodies over the limit: the client reads the 413 even when it writes the
 * whole body at once, without `Expect: 100-continue` (what fetch and the SDK
 * do). The server answers, reads and discards the rest of the body (bounded),
 * then closes; it never resets the connection under a client that is still
 * writing. A plain node:http client writes 2 MB in one go, with a declared
 * Content-Length and chunked, on the MCP endpoints (JSON-RPC error) and the
 * AS endpoints (OAuth error), directly and through a TCP relay.
 *
 * Why the relay: on loopback the server's response reaches the client's
 * receive buffer before the reset does, and Linux hands buffered data out
 * before the error, so a direct connection rarely shows the reset (the
 * issue saw it "in some runs"). On a real network the response is still in
 * flight when the reset arrives, and the reset erases it. The relay plays
 * that network: it forwards the server's bytes after a delay and propagates
 * a reset at once, as load balancers do. Through it, closing under a client
 * that is still writing loses the 413 every time.
 *
 * A client that keeps sending far past the drain bound is cut off.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

const TWO_MB = Buffer.alloc(2 * 1024 * 1024, 'a');
const ROUNDS = 15;
const RELAY_ROUNDS = 5;

/** A TCP relay to `port` that delays server-to-client bytes by `delayMs` and propagates a reset from the server at once. */
async function startRelay(port: number, delayMs = 50): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const relay = net.createServer(down => {
    const up = net.connect(port, '127.0.0.1');
    sockets.add(down).add(up);
    down.on('close', () => sockets.delete(down));
    up.on('close', () => sockets.delete(up));
    down.pipe(up);
    up.on('data', chunk => setTimeout(() => down.writable && down.write(chunk), delayMs));
    up.on('end', () => setTimeout(() => down.end(), delayMs));
    up.on('error', () => down.resetAndDestroy());
    down.on('error', () => up.destroy());
  });
  await new Promise<void>(resolve => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>(resolve => {
        for (const s of sockets) s.destroy();
        relay.close(() => resolve());
      })
  };
}

type Outcome = { status: number; body: string } | { error: string };

function sendAtOnce(base: URL, path: string, contentType: string, body: Buffer, chunked: boolean): Promise<Outcome> {
  return new Promise(resolve => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (!settled) resolve(o);
      settled = true;
    };
    const req = http.request({
      host: base.hostname,
      port: base.port,
      path,
      method: 'POST',
      agent: false,
      headers: {
        'content-type': contentType,
        accept: 'application/json, text/event-stream',
        ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) })
      }
    });
    req.on('response', res => {
      const chunks: Buffer[] = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => settle({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', err => settle({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
    req.on('error', err => settle({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(body);
  });
}

describe('a body over MAX_BODY_BYTES written in one go', () => {
  let server: RunningServer;
  let base: URL;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let viaRelay: URL;
  before(async () => {
    server = await startServer(loadConfig({ PORT: '0', NODE_ENV: 'test', RATE_LIMIT_MAX: '100000' }), { logger: createLogger('silent') });
    base = new URL(server.url);
    relay = await startRelay(Number(base.port));
    viaRelay = new URL(`http://localhost:${relay.port}`);
  });
  after(async () => {
    await relay?.close();
    await server?.close();
  });

  const endpoints = [
    { path: '/mcp', type: 'application/json', kind: 'jsonrpc' },
    { path: '/message?sessionId=00000000-0000-0000-0000-000000000000', type: 'application/json', kind: 'jsonrpc' },
    { path: '/token', type: 'application/x-www-form-urlencoded', kind: 'oauth' },
    { path: '/register', type: 'application/json', kind: 'oauth' }
  ] as const;

  const check = (e: (typeof endpoints)[number], outcomes: Outcome[]) => {
    const failures = outcomes.filter(o => 'error' in o || o.status !== 413);
    assert.deepEqual(failures, [], `${failures.length} of ${outcomes.length} did not read the 413: ${JSON.stringify(failures.slice(0, 3)).slice(0, 300)}`);
    for (const o of outcomes as Array<{ status: number; body: string }>) {
      const body = JSON.parse(o.body) as Record<string, unknown>;
      if (e.kind === 'jsonrpc') {
        assert.equal(body.jsonrpc, '2.0');
        assert.equal((body.error as { code: number }).code, -32000);
        assert.equal(body.id, null);
      } else {
        assert.equal(body.error, 'invalid_request');
        assert.equal(typeof body.error_description, 'string');
      }
    }
  };

  for (const e of endpoints) {
    for (const chunked of [false, true]) {
      const framing = chunked ? 'chunked' : 'Content-Length';
      const shape = e.kind === 'jsonrpc' ? 'a JSON-RPC' : 'an OAuth';
      it(`${e.path.split('?')[0]} (${framing}, through the relay): 413 with ${shape} error, every one of ${RELAY_ROUNDS} times`, async () => {
        const outcomes: Outcome[] = [];
        for (let i = 0; i < RELAY_ROUNDS; i++) outcomes.push(await sendAtOnce(viaRelay, e.path, e.type, TWO_MB, chunked));
        check(e, outcomes);
      });
      it(`${e.path.split('?')[0]} (${framing}, direct): 413 with ${shape} error, every one of ${ROUNDS} times`, async () => {
        const outcomes: Outcome[] = [];
        for (let i = 0; i < ROUNDS; i++) outcomes.push(await sendAtOnce(base, e.path, e.type, TWO_MB, chunked));
        check(e, outcomes);
      });
    }
  }

  it('the server keeps serving normal requests afterwards', async () => {
    const res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
  });

  for (const [path, type] of [
    ['/mcp', 'application/json'],
    ['/token', 'application/x-www-form-urlencoded']
  ] as const) {
    it(`${path}: a client that keeps writing far past the drain bound gets its 413 and is then cut off`, async () => {
      const socket = net.connect(Number(base.port), base.hostname);
      await new Promise<void>(resolve => socket.once('connect', () => resolve()));
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${base.host}\r\nContent-Type: ${type}\r\nContent-Length: ${1024 * 1024 * 1024}\r\n\r\n`);
      let received = '';
      socket.on('data', c => (received += c.toString('latin1')));
      const closed = new Promise<void>(resolve => socket.once('close', () => resolve()));
      socket.on('error', () => undefined);
      const chunk = Buffer.alloc(256 * 1024, 'a');
      const cap = 64 * 1024 * 1024;
      // Write until the server closes: it must, long before the declared gigabyte.
      let sent = 0;
      let open = true;
      void closed.then(() => (open = false));
      while (open && sent < cap) {
        if (!socket.write(chunk)) await new Promise(resolve => socket.once('drain', resolve).once('close', resolve));
        sent += chunk.length;
      }
      socket.end();
      await closed;
      assert.ok(sent < cap, `the server read ${sent} bytes without closing`);
      assert.match(received, /^HTTP\/1\.1 413 /);
    });
  }
});
