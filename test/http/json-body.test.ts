/**
 * src/http/json-body.ts on a real server: a body in one chunk and a body in
 * many chunks parse alike; the media type is checked (with parameters,
 * `+json` types, and the exact `application/json` every client sends); an
 * empty or malformed body is a deferred parse error; a body over the limit
 * is 413 even when it arrives in pieces. (Oversized bodies against the whole
 * server: oversized-body.test.ts.)
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import express from 'express';

import { jsonBody, rejectMalformedJson } from '../../src/http/json-body.js';

const LIMIT = 256 * 1024;

describe('JSON body reader', { timeout: 10_000 }, () => {
  let server: Server;
  let port: number;

  before(async () => {
    const app = express();
    app.post('/echo', jsonBody({ limit: LIMIT }), rejectMalformedJson, (req, res) => res.json({ body: req.body as unknown }));
    server = createServer(app);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>(resolve => server.close(() => resolve())));

  /** POSTs `pieces` as separate writes (chunked framing), a short pause between them. */
  function post(pieces: string[], contentType = 'application/json'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path: '/echo', method: 'POST', headers: { 'content-type': contentType } }, res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', d => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      let i = 0;
      const next = () => {
        if (i === pieces.length) return req.end();
        req.write(pieces[i++]!);
        setTimeout(next, 5);
      };
      next();
    });
  }

  it('parses a body sent in one piece and the same body sent in many', async () => {
    const value = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'é'.repeat(50_000) } } };
    const text = JSON.stringify(value);
    const one = await post([text]);
    assert.equal(one.status, 200);
    assert.deepEqual(JSON.parse(one.body), { body: value });
    // Split inside a two-byte character too: the pieces are joined as bytes, then decoded.
    const bytes = Buffer.from(text);
    const pieces = [bytes.subarray(0, 1001), bytes.subarray(1001, 40_000), bytes.subarray(40_000)].map(b => b.toString('latin1'));
    const many = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path: '/echo', method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' } }, res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', d => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      for (const p of pieces) req.write(Buffer.from(p, 'latin1'));
      req.end();
    });
    assert.equal(many.status, 200);
    assert.deepEqual(JSON.parse(many.body), { body: value });
  });

  it('accepts +json media types and refuses others with 415', async () => {
    assert.equal((await post(['{"a":1}'], 'application/vnd.example+json')).status, 200);
    assert.equal((await post(['{"a":1}'], 'text/plain')).status, 415);
  });

  it('answers an empty or malformed body with a JSON-RPC parse error', async () => {
    for (const pieces of [[], ['{"a":'], ['{"a":', '1']]) {
      const res = await post(pieces);
      assert.equal(res.status, 400, JSON.stringify(pieces));
      assert.equal((JSON.parse(res.body) as { error: { code: number } }).error.code, -32700);
    }
  });

  it('answers 413 for a body over the limit that arrives in pieces', async () => {
    const piece = 'x'.repeat(64 * 1024);
    const res = await post(['{"a":"', piece, piece, piece, piece, piece, '"}']);
    assert.equal(res.status, 413);
  });
});
