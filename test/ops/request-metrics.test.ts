/**
 * The per-request metrics (src/ops/metrics.ts): counted in plain numbers on
 * the hot path, they must scrape exactly as prom-client's own Counter and
 * Histogram would for the same observations, and count every request
 * between scrapes (fast-check: random request sequences, scraped at random
 * points, compared with prom-client fed the same sequence).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';

import { createMetrics } from '../../src/ops/metrics.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** prom-client fed directly: the reference. */
function reference() {
  const registry = new Registry();
  const requests = new Counter({ name: 'http_requests_total', help: 'h', labelNames: ['route', 'method', 'status'], registers: [registry] });
  const duration = new Histogram({ name: 'http_request_duration_seconds', help: 'h', labelNames: ['route', 'method'], buckets: BUCKETS, registers: [registry] });
  const outcomes = new Counter({ name: 'auth_outcomes_total', help: 'h', labelNames: ['outcome', 'reason'], registers: [registry] });
  return { registry, requests, duration, outcomes };
}

/** The sample lines of the three metrics, sorted (HELP texts and series order are not compared). */
async function samples(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter(l => /^(http_requests_total|http_request_duration_seconds|auth_outcomes_total)/.test(l))
    .sort();
}

const request = fc.record({
  route: fc.constantFrom('/mcp', '/token', 'other', 'unmatched'),
  method: fc.constantFrom('GET', 'POST', 'DELETE'),
  status: fc.constantFrom(200, 202, 401, 404),
  // Bucket bounds exactly, and values between and beyond them.
  seconds: fc.oneof(fc.constantFrom(...BUCKETS, 0, 10), fc.double({ min: 0, max: 8, noNaN: true })),
  outcome: fc.constantFrom('ok', 'missing', 'invalid_token'),
  scrape: fc.boolean()
});

describe('per-request metrics', () => {
  it('scrape as prom-client’s own counter and histogram would, between any scrapes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { maxLength: 60 }), async sequence => {
        const ours = createMetrics();
        const ref = reference();
        try {
          for (const r of sequence) {
            ours.observeRequest(r.route, r.method, r.status, r.seconds);
            ours.countAuthOutcome(r.outcome, 'x');
            ref.requests.inc({ route: r.route, method: r.method, status: String(r.status) });
            ref.duration.observe({ route: r.route, method: r.method }, r.seconds);
            ref.outcomes.inc({ outcome: r.outcome, reason: 'x' });
            if (r.scrape) assert.deepEqual(await samples(ours.registry), await samples(ref.registry));
          }
          assert.deepEqual(await samples(ours.registry), await samples(ref.registry));
        } finally {
          ours.close();
        }
      }),
      { numRuns: 150 }
    );
  });

  it('counts what was observed before a direct read of the counter', async () => {
    const m = createMetrics();
    try {
      m.observeRequest('/mcp', 'POST', 200, 0.01);
      m.observeRequest('/mcp', 'POST', 200, 0.02);
      const { values } = await m.httpRequests.get();
      assert.deepEqual(values.map(v => [v.labels, v.value]), [[{ route: '/mcp', method: 'POST', status: '200' }, 2]]);
    } finally {
      m.close();
    }
  });
});
