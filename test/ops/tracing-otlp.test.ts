/**
 * Tracing configured the standard way (its own process: the SDK registers
 * itself globally): with no OTEL_* variable nothing is registered; with
 * OTEL_EXPORTER_OTLP_ENDPOINT the server loads the SDK and the OTLP/HTTP
 * exporter and sends its spans to that endpoint (here a local HTTP server
 * standing in for the collector), flushing them on shutdown.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { ProxyTracerProvider, trace } from '@opentelemetry/api';

import { startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

describe('tracing from the OTEL_* variables', () => {
  const received: Array<{ path: string; contentType: string; body: string }> = [];
  let collector: http.Server;
  let endpoint: string;

  before(async () => {
    collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c as Buffer));
      req.on('end', () => {
        received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>(resolve => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>(resolve => collector.close(() => resolve())));

  const delegate = () => (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();

  it('registers nothing without OTEL_* variables (the API stays a no-op)', async () => {
    const noop = delegate();
    const server = await startServer(loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
    await (await fetch(`${server.url}/health`)).text();
    await server.close();
    assert.equal(delegate(), noop);
    assert.equal(trace.getTracer('x').startSpan('probe').isRecording(), false);
  });

  it('exports spans over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, with OTEL_SERVICE_NAME, flushed on shutdown', async () => {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'reference-under-test' });
    const server = await startServer(config, { logger: createLogger('silent') });
    await (await fetch(`${server.url}/health`)).text();
    await server.close();
    const exported = received.filter(r => r.path === '/v1/traces');
    assert.ok(exported.length > 0, 'nothing reached the collector');
    const all = exported.map(r => r.body).join('\n');
    assert.match(all, /GET \/health/);
    assert.match(all, /reference-under-test/);
  });
});
