/**
 * src/http/direct.ts: the steps of one endpoint run without Express's router,
 * on a real `node:http` server, with Express's request/response helpers, the
 * app's error handler for thrown and rejected steps, and every request it
 * does not take left to the app; and a server whose requests are born with
 * the app's prototypes (`expressNodeClasses`).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import express, { type ErrorRequestHandler, type RequestHandler } from 'express';

import { createDirectRoute, expressNodeClasses } from '../../src/http/direct.js';

describe('direct route', { timeout: 10_000 }, () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  /** For each request, whether it arrived with the app's prototypes already. */
  const bornExpress: boolean[] = [];

  before(async () => {
    const app = express();
    app.set('trust proxy', true);
    const mark: RequestHandler = (req, _res, next) => {
      seen.push(`before ${req.method} ${req.path}`);
      next();
    };
    const first: RequestHandler = (req, res, next) => {
      res.setHeader('x-step', 'first');
      (req as { note?: string }).note = String(req.query.q ?? '');
      next();
    };
    const answer: RequestHandler = (req, res) => {
      res.status(201).json({ note: (req as { note?: string }).note, ip: req.ip, route: req.route?.path, baseUrl: req.baseUrl });
    };
    const rejects: RequestHandler = async () => {
      throw new Error('step failed');
    };
    const onError: ErrorRequestHandler = (err, _req, res, _next) => {
      res.status(500).json({ error: (err as Error).message });
    };
    app.use((_req, res) => res.status(200).send('from the app'));
    const direct = createDirectRoute(app, { path: '/x', methods: { POST: [first, answer], DELETE: [rejects] } }, [mark], onError);
    server = createServer(expressNodeClasses(app), (req, res) => {
      bornExpress.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
      if (!direct(req, res)) app(req, res);
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>(resolve => server.close(() => resolve())));

  it('runs the steps in order, with Express helpers, the query string and trust proxy', async () => {
    const res = await fetch(`${base}/x?q=hello`, { method: 'POST', headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-step'), 'first');
    assert.deepEqual(await res.json(), { note: 'hello', ip: '203.0.113.9', route: '/x', baseUrl: '' });
    assert.ok(seen.includes('before POST /x'), 'the shared first steps ran');
  });

  it('hands a rejected step to the error handler', async () => {
    const res = await fetch(`${base}/x`, { method: 'DELETE' });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: 'step failed' });
  });

  it('leaves other paths, other methods and other shapes of the path to the app', async () => {
    for (const [method, path] of [
      ['GET', '/x'],
      ['POST', '/x/'],
      ['POST', '/xy'],
      ['POST', '/other']
    ]) {
      const res = await fetch(`${base}${path}`, { method });
      assert.equal(await res.text(), 'from the app', `${method} ${path}`);
    }
  });

  it('builds requests and responses with the app prototypes from the start (expressNodeClasses)', () => {
    assert.ok(bornExpress.length > 0);
    assert.ok(bornExpress.every(Boolean), 'every request and response was born with the app prototypes');
  });
});
