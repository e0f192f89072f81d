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
  /**
   * Counts one finished HTTP request in `httpRequests` and `httpDuration`.
   * The labelled children are kept per label set (route templates x methods
   * x statuses, a closed set), so the per-request path does not hash label
   * objects again: this runs on every request.
   */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** Counts one bearer-gate outcome in `authOutcomes` (children kept per label set, as above). */
  countAuthOutcome(outcome: string, reason: string): void;
  /** Gauges read at scrape time from the component that owns the number. */
  gauge(name: string, help: string, read: () => number): void;
  /** Stops the event-loop delay sampler (graceful shutdown). */
  close(): void;
}

/** Buckets of `nodejs_eventloop_delay_seconds`: from a healthy loop (~10 ms sampling) to a stall. */
export const EVENT_LOOP_DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5];

/** How often the event-loop delay is sampled, ms. */
const EVENT_LOOP_SAMPLE_MS = 10;

/**
 * `nodejs_eventloop_delay_seconds`: a Prometheus histogram of event-loop
 * delay, so that stalls can be aggregated over time and instances (prom-client's
 * default `nodejs_eventloop_lag_p99_seconds` & co. are gauges over the last
 * scrape interval, which cannot be summed or re-quantiled). A timer every
 * 10 ms observes how late it fired. Not `perf_hooks.monitorEventLoopDelay`:
 * its HDR histogram can only be read as percentiles and must be reset between
 * scrapes, and the first interval after a reset is not recorded, so a stall
 * right after a scrape vanished (test/ops/health-metrics.test.ts); here every
 * interval is one observation, exactly.
 */
function eventLoopDelayHistogram(registry: Registry): () => void {
  const histogram = new Histogram({
    name: 'nodejs_eventloop_delay_seconds',
    help: `Event-loop delay: how late a ${EVENT_LOOP_SAMPLE_MS} ms timer fired`,
    buckets: EVENT_LOOP_DELAY_BUCKETS,
    registers: [registry]
  });
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    histogram.observe(Math.max(0, now - last - EVENT_LOOP_SAMPLE_MS) / 1000);
    last = now;
  }, EVENT_LOOP_SAMPLE_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stopEventLoopDelay = eventLoopDelayHistogram(registry);
  const httpRequests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency (time to response headers and body end)',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry]
  });
  const authOutcomes = new Counter({ name: 'auth_outcomes_total', help: 'Bearer token checks by outcome and reason', labelNames: ['outcome', 'reason'], registers: [registry] });
  const outcomeChildren = new Map<string, { inc: () => void }>();
  const requestChildren = new Map<string, { counter: { inc(): void }; histogram: { observe(seconds: number): void } }>();
  return {
    registry,
    httpRequests,
    httpDuration,
    observeRequest(route, method, status, seconds) {
      const key = `${route} ${method} ${status}`;
      let child = requestChildren.get(key);
      if (!child) {
        child = { counter: httpRequests.labels(route, method, String(status)), histogram: httpDuration.labels(route, method) };
        requestChildren.set(key, child);
      }
      child.counter.inc();
      child.histogram.observe(seconds);
    },
    authOutcomes,
    countAuthOutcome(outcome, reason) {
      const key = `${outcome} ${reason}`;
      let child = outcomeChildren.get(key);
      if (!child) outcomeChildren.set(key, (child = authOutcomes.labels(outcome, reason)));
      child.inc();
    },
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
    },
    close: stopEventLoopDelay
  };
}
