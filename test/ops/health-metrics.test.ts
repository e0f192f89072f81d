/**
 * `/health`, `/ready` and `/metrics` on the real app: liveness always, readiness
 * following the storage, and the Prometheus counters moving with real traffic
 * (requests by route and status, auth outcomes, tokens issued, sessions), and
 * the event-loop delay histogram recording a blocked loop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { obtainTokens } from '../helpers/oauth.js';

/** A memory store whose ping can be made to fail, to drive `/ready`. */
class SwitchableStore extends MemoryStore {
  down = false;
  override async ping(): Promise<void> {
    if (this.down) throw new StoreUnavailableError('test: storage down');
    return super.ping();
  }
}

const LEGACY = '2025-11-25';

function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(x => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('health, readiness and metrics', () => {
  let server: RunningServer;
  let store: SwitchableStore;
  before(async () => {
    store = new SwitchableStore();
    server = await startServer(loadConfig({ PORT: '0', NODE_ENV: 'test' }), { logger: createLogger('silent'), store });
  });
  after(() => server.close());

  it('answers /health with 200 and no-store', async () => {
    const res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('answers /ready with 200 while storage answers and 503 naming the check while it does not', async () => {
    const ok = await fetch(`${server.url}/ready`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { status: 'ready', checks: { storage: 'ok' } });
    store.down = true;
    try {
      const down = await fetch(`${server.url}/ready`);
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), { status: 'unavailable', checks: { storage: 'unavailable' } });
    } finally {
      store.down = false;
    }
  });

  it('counts requests by route and status, auth outcomes, tokens issued and open sessions', async () => {
    const tokens = await obtainTokens(server.url);
    const anonymous = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymous.status, 401);
    const init = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': LEGACY },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'metrics-test', version: '1' } } })
    });
    await init.text();
    assert.equal(init.status, 200);

    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.equal(metric(text, 'oauth_tokens_issued_total', { grant_type: 'authorization_code' }), 1);
    assert.equal(metric(text, 'http_requests_total', { route: '/token', method: 'POST', status: '200' }), 1);
    assert.equal(metric(text, 'http_requests_total', { route: '/register', method: 'POST', status: '201' }), 1);
    assert.ok((metric(text, 'auth_outcomes_total', { outcome: 'ok' }) ?? 0) >= 1);
    assert.ok((metric(text, 'auth_outcomes_total', { outcome: 'missing' }) ?? 0) >= 1, 'the anonymous request is counted');
    assert.equal(metric(text, 'mcp_active_sessions'), 1);
    assert.ok((metric(text, 'http_request_duration_seconds_count', { route: '/mcp', method: 'POST' }) ?? 0) >= 2);
  });

  it('exports an event-loop delay histogram in which a blocked loop shows as a slow sample', async () => {
    const slowSamples = (text: string) => {
      const all = metric(text, 'nodejs_eventloop_delay_seconds_bucket', { le: '+Inf' });
      const fast = metric(text, 'nodejs_eventloop_delay_seconds_bucket', { le: '0.25' });
      assert.ok(all !== undefined && fast !== undefined, 'the histogram is exported with its buckets');
      assert.equal(metric(text, 'nodejs_eventloop_delay_seconds_count'), all);
      return all - fast;
    };
    const before = slowSamples(await (await fetch(`${server.url}/metrics`)).text());
    // The server runs in this process: hold its event loop for 400 ms, so the
    // delay monitor's next sample is at least ~390 ms late.
    const until = Date.now() + 400;
    while (Date.now() < until) {
      /* blocking on purpose */
    }
    await new Promise(resolve => setTimeout(resolve, 30));
    const after = slowSamples(await (await fetch(`${server.url}/metrics`)).text());
    assert.ok(after > before, `a sample above 250 ms is counted (before ${before}, after ${after})`);
  });
});
