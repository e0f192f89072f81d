/**
 * src/http/basics.ts: every request gets an id (`X-Request-Id`), and what a
 * request logs carries it (`reqId`), although the request's child logger is
 * only built when something logs; the access metrics count every request by
 * route template.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import express from 'express';

import { createHttpBasics } from '../../src/http/basics.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';

describe('request basics', { timeout: 10_000 }, () => {
  let server: Server;
  let base: string;
  let metrics: Metrics;
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      }
    });
    const logger = createLogger('info', sink);
    metrics = createMetrics();
    const app = express();
    app.use(createHttpBasics(loadConfig({ PORT: '0', NODE_ENV: 'test' }), logger, metrics));
    app.get('/logs', (req, res) => {
      req.log!.warn({ step: 'handler' }, 'a line from the handler');
      // The same logger on a second read.
      res.json({ same: req.log === req.log });
    });
    app.get('/quiet', (req, res) => res.json({ id: req.id }));
    app.get('/assigns', (req, res) => {
      req.log = logger.child({ custom: true });
      req.log.warn('assigned');
      res.end();
    });
    server = createServer(app);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    metrics.close();
    return new Promise<void>(resolve => server.close(() => resolve()));
  });

  it('puts the request id on the response and on every line the request logs', async () => {
    const [a, b] = await Promise.all([fetch(`${base}/logs`), fetch(`${base}/logs`)]);
    assert.deepEqual(await a.json(), { same: true });
    await b.text();
    const ids = [a.headers.get('x-request-id'), b.headers.get('x-request-id')];
    for (const id of ids) assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(ids[0], ids[1]);
    const logged = lines.filter(l => l.step === 'handler').map(l => l.reqId);
    assert.deepEqual([...logged].sort(), [...ids].sort());
  });

  it('gives every request an id even when it logs nothing, and lets a handler assign its own logger', async () => {
    const res = await fetch(`${base}/quiet`);
    assert.equal(((await res.json()) as { id: string }).id, res.headers.get('x-request-id'));
    const assigned = await fetch(`${base}/assigns`);
    await assigned.text();
    const line = lines.find(l => l.msg === 'assigned');
    assert.equal(line?.custom, true);
    assert.equal(line?.reqId, undefined);
  });

  it('counts finished requests by route template', async () => {
    await (await fetch(`${base}/quiet`)).text();
    const text = await metrics.registry.metrics();
    assert.match(text, /http_requests_total\{route="\/quiet",method="GET",status="200"\} [1-9]/);
  });
});
