/**
 * OpenTelemetry traces through the real app (startServer on port 0, memory
 * store), recorded by an in-memory exporter (InMemorySpanExporter) on a real
 * NodeTracerProvider (AsyncLocalStorage context, W3C propagators):
 *
 * - an OAuth flow gives one HTTP SERVER span per request with an `oauth2.*`
 *   step span inside; a `traceparent` header puts both in the caller's trace;
 * - an MCP tools/call gives a `tools/call echo` SERVER span with the MCP
 *   semantic conventions' attributes, inside the HTTP span, or parented by
 *   `params._meta.traceparent` (with a link to the HTTP span) when present;
 * - no token, code or secret appears in any span attribute;
 * - the OTEL_* variables decide whether tracing is on (off by default).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

import { startServer, type RunningServer } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { obtainTokens, type ObtainedTokens } from '../helpers/oauth.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
const traceparent = () => {
  const traceId = hex(32);
  const spanId = hex(16);
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
};

const spans = () => exporter.getFinishedSpans();
const byId = (id: string | undefined) => spans().find(s => s.spanContext().spanId === id);
const parentOf = (s: ReadableSpan) => byId(s.parentSpanContext?.spanId);

/** The span's spans are recorded when the response is finished; wait (bounded) until `find` sees one. */
async function waitForSpan(find: (s: ReadableSpan) => boolean, what: string): Promise<ReadableSpan> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hit = spans().find(find);
    if (hit) return hit;
    if (Date.now() > deadline) assert.fail(`no span: ${what}; recorded: ${spans().map(s => s.name).join(', ')}`);
    await new Promise(r => setTimeout(r, 10));
  }
}

describe('OpenTelemetry traces (in-memory exporter, real app)', () => {
  let server: RunningServer;
  let tokens: ObtainedTokens;
  const secrets: string[] = [];

  before(async () => {
    const config = loadConfig({ NODE_ENV: 'test', AUTH_MODE: 'internal', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000' });
    server = await startServer(config, { logger: createLogger('silent'), tracerProvider: provider });
    tokens = await obtainTokens(server.url, { scope: 'mcp offline_access', clientName: 'Tracing test' });
    secrets.push(tokens.accessToken, tokens.refreshToken!);
  });
  after(async () => {
    await server?.close();
    await provider.shutdown();
  });

  it('gives each OAuth step its span inside the HTTP request span', async () => {
    for (const [step, http] of [
      ['register', 'POST /register'],
      ['authorize', 'GET /authorize'],
      ['consent', 'POST /authorize/consent'],
      ['idp', 'POST /mock-upstream-idp/authorize'],
      ['token', 'POST /token']
    ] as const) {
      const span = await waitForSpan(s => s.name === `oauth2.${step}` && parentOf(s)?.name === http, `oauth2.${step} in ${http}`);
      const parent = parentOf(span);
      assert.equal(parent?.name, http, `oauth2.${step} is not inside its HTTP span`);
      assert.equal(parent?.kind, SpanKind.SERVER);
      assert.equal(parent?.attributes['http.route'], http.split(' ')[1]);
      assert.equal(span.spanContext().traceId, parent?.spanContext().traceId);
    }
    const token = await waitForSpan(s => s.name === 'oauth2.token', 'token');
    assert.equal(token.attributes['oauth2.grant_type'], 'authorization_code');
    assert.equal(token.attributes['oauth2.client_id'], tokens.clientId);
  });

  it('joins the caller’s trace from the traceparent header: refresh, introspect, revoke, and a refused grant with its error code', async () => {
    const tp = traceparent();
    const post = (path: string, form: Record<string, string>) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', traceparent: tp.header }, body: new URLSearchParams(form) });
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: tokens.refreshToken!, client_id: tokens.clientId });
    assert.equal(refreshed.status, 200);
    const body = (await refreshed.json()) as { access_token: string; refresh_token: string };
    secrets.push(body.access_token, body.refresh_token);
    await (await post('/introspect', { token: body.access_token, client_id: tokens.clientId })).text();
    await (await post('/revoke', { token: body.access_token, client_id: tokens.clientId })).text();
    const refused = await post('/token', { grant_type: 'refresh_token', refresh_token: 'not-a-token', client_id: tokens.clientId });
    assert.equal(refused.status, 400);

    const inTrace = (name: string) => spans().filter(s => s.name === name && s.spanContext().traceId === tp.traceId);
    await waitForSpan(s => s.name === 'oauth2.token' && s.spanContext().traceId === tp.traceId && s.attributes['error.type'] !== undefined, 'refused token');
    const tokenSpans = inTrace('oauth2.token');
    assert.equal(tokenSpans.length, 2);
    const ok = tokenSpans.find(s => s.attributes['error.type'] === undefined)!;
    const failed = tokenSpans.find(s => s.attributes['error.type'] !== undefined)!;
    assert.equal(ok.attributes['oauth2.grant_type'], 'refresh_token');
    assert.equal(failed.attributes['error.type'], 'invalid_grant');
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    for (const name of ['oauth2.token', 'oauth2.introspect', 'oauth2.revoke']) {
      const span = inTrace(name)[0];
      assert.ok(span, `${name} not in the caller's trace`);
      const http = parentOf(span)!;
      assert.equal(http.kind, SpanKind.SERVER);
      // The HTTP span's parent is the caller's span named in traceparent.
      assert.equal(http.parentSpanContext?.spanId, tp.spanId);
      assert.equal(http.parentSpanContext?.isRemote, true);
    }
  });

  it('gives an MCP tools/call a `tools/call echo` span with the MCP conventions’ attributes, parented by the HTTP span or by _meta.traceparent', async () => {
    const header = traceparent();
    const meta = traceparent();
    const call = (id: number, extraMeta: Record<string, string>) =>
      fetch(server.config.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens.accessToken}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'echo',
          traceparent: header.header
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: {
            name: 'echo',
            arguments: { message: 'traced' },
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 'tracing-test', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': {},
              ...extraMeta
            }
          }
        })
      });
    const first = await call(7, {});
    assert.equal(first.status, 200);
    assert.match(await first.text(), /Echo: traced/);
    const second = await call(8, { traceparent: meta.header });
    assert.equal(second.status, 200);
    await second.text();

    // Header only: the MCP span is a child of the HTTP span, in the caller's trace.
    const viaHeader = await waitForSpan(s => s.name === 'tools/call echo' && s.attributes['jsonrpc.request.id'] === '7', 'tools/call echo (id 7)');
    assert.equal(viaHeader.kind, SpanKind.SERVER);
    assert.equal(viaHeader.spanContext().traceId, header.traceId);
    const http = parentOf(viaHeader)!;
    assert.equal(http.name, 'POST /mcp');
    assert.equal(http.parentSpanContext?.spanId, header.spanId);
    assert.equal(viaHeader.attributes['mcp.method.name'], 'tools/call');
    assert.equal(viaHeader.attributes['gen_ai.tool.name'], 'echo');
    assert.equal(viaHeader.attributes['gen_ai.operation.name'], 'execute_tool');
    assert.equal(viaHeader.attributes['mcp.protocol.version'], '2026-07-28');
    assert.equal(viaHeader.attributes['network.transport'], 'tcp');

    // _meta.traceparent wins as the parent; the HTTP span is linked.
    const viaMeta = await waitForSpan(s => s.name === 'tools/call echo' && s.attributes['jsonrpc.request.id'] === '8', 'tools/call echo (id 8)');
    assert.equal(viaMeta.spanContext().traceId, meta.traceId);
    assert.equal(viaMeta.parentSpanContext?.spanId, meta.spanId);
    assert.equal(viaMeta.links.length, 1);
    assert.equal(viaMeta.links[0]!.context.traceId, header.traceId);
    assert.equal(byId(viaMeta.links[0]!.context.spanId)?.name, 'POST /mcp');
  });

  it('names the session on a 2025-11-25 session’s spans, and records a JSON-RPC error with its code', async () => {
    const headers = { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(server.config.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } })
    });
    await init.text();
    const sessionId = init.headers.get('mcp-session-id')!;
    const session = { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    await (await fetch(server.config.mcpUrl, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    await (await fetch(server.config.mcpUrl, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 'p1', method: 'prompts/get', params: { name: 'no_such_prompt' } }) })).text();
    const span = await waitForSpan(s => s.name === 'prompts/get no_such_prompt', 'prompts/get');
    assert.equal(span.attributes['mcp.session.id'], sessionId);
    assert.equal(span.attributes['mcp.protocol.version'], '2025-11-25');
    assert.equal(span.attributes['gen_ai.prompt.name'], 'no_such_prompt');
    assert.equal(span.attributes['jsonrpc.request.id'], 'p1');
    assert.equal(span.attributes['error.type'], '-32602');
    assert.equal(span.attributes['rpc.response.status_code'], '-32602');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    await fetch(server.config.mcpUrl, { method: 'DELETE', headers: session });
  });

  it('puts no token, code or secret in any span attribute', () => {
    assert.ok(spans().length > 20, 'too few spans to search');
    const values = spans().flatMap(s => [s.name, ...Object.values(s.attributes).map(String)]);
    for (const secret of secrets) assert.ok(!values.some(v => v.includes(secret)), 'a token reached a span attribute');
    assert.ok(!values.some(v => /[?&](code|state|code_verifier)=/.test(v)), 'a query string reached a span attribute');
  });
});

describe('OTEL_* variables turn tracing on (off by default)', () => {
  it('is off with nothing set, with OTEL_TRACES_EXPORTER=none and with OTEL_SDK_DISABLED', () => {
    assert.equal(loadConfig({}).tracing.exporter, undefined);
    assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing.exporter, undefined);
    assert.equal(loadConfig({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).tracing.exporter, undefined);
  });

  it('is on with an OTLP endpoint or OTEL_TRACES_EXPORTER, and refuses an exporter it does not have', () => {
    const t = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=mcp', OTEL_SERVICE_NAME: 'ref' }).tracing;
    assert.deepEqual(t, { serviceName: 'ref', exporter: 'otlp', endpoint: 'http://collector:4318/v1/traces', headers: { authorization: 'Bearer abc', 'x-team': 'mcp' } });
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' }).tracing.endpoint, 'http://c:4318/custom');
    assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'console' }).tracing.exporter, 'console');
    assert.throws(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }), (err: unknown) => err instanceof ConfigError && err.variable === 'OTEL_TRACES_EXPORTER');
  });
});
