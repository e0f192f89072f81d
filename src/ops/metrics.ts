/**
 * Prometheus metrics (prom-client). One registry per process, built by the
 * composition root and handed to the components that count things; the
 * `/metrics` route exposes it. Labels are closed sets (route templates,
 * reasons), never user input, so cardinality stays bounded.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
  /** Bearer-gate outcomes: ok, missing, invalid_token (with reason), insufficient_scope, unavailable. */
  readonly authOutcomes: Counter<'outcome' | 'reason'>;
  readonly tokensIssued: Counter<'grant_type'>;
  /** Gauges read at scrape time from the component that owns the number. */
  gauge(name: string, help: string, read: () => number): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({ name: 'http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency (time to response headers and body end)',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry]
    }),
    authOutcomes: new Counter({ name: 'auth_outcomes_total', help: 'Bearer token checks by outcome and reason', labelNames: ['outcome', 'reason'], registers: [registry] }),
    tokensIssued: new Counter({ name: 'oauth_tokens_issued_total', help: 'Access tokens issued by grant type', labelNames: ['grant_type'], registers: [registry] }),
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        }
      });
    }
  };
}
