/**
 * Prometheus metrics (prom-client). One registry per process, built by the
 * composition root and handed to the components that count things; the
 * `/metrics` route exposes it. Labels are closed sets (route templates,
 * reasons), never user input, so cardinality stays bounded.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: RequestHistogram;
  /** Bearer-gate outcomes: ok, missing, invalid_token (with reason), insufficient_scope, unavailable. */
  readonly authOutcomes: Counter<'outcome' | 'reason'>;
  readonly tokensIssued: Counter<'grant_type'>;
  /**
   * Counts one finished HTTP request in `httpRequests` and `httpDuration`.
   * This runs on every request, so it touches no prom-client object: the
   * counts are kept in plain numbers per label set (route templates x
   * methods x statuses, a closed set), and the metrics read them when
   * scraped (see `createMetrics`).
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

/** One line of a scrape: `metricName{labels} value`. */
interface SeriesValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * `http_request_duration_seconds`, counted in plain arrays per label set
 * and handed to prom-client's registry as a metric of its own, which the
 * registry formats like any histogram. A prom-client `Histogram` (and its
 * `labels()` child) validates and hashes the label set on every
 * observation: with the request counter, ~5 µs of a ~380 µs 2026-07-28
 * request in a CPU profile (docs/performance.md, "Issue 15").
 */
export class RequestHistogram {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'HTTP request latency (time to response headers and body end)';
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly series = new Map<string, { labels: { route: string; method: string }; buckets: Float64Array; sum: number; count: number }>();

  constructor(readonly upperBounds: readonly number[]) {}

  observe(route: string, method: string, seconds: number): void {
    const key = `${route} ${method}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: { route, method }, buckets: new Float64Array(this.upperBounds.length), sum: 0, count: 0 }));
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]!) {
        s.buckets[i]!++;
        break;
      }
    }
    s.sum += seconds;
    s.count++;
  }

  /** What prom-client's registry reads (the shape its own Histogram returns). */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: SeriesValue[] }> {
    const values: SeriesValue[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}

/**
 * A prom-client `Counter` whose labelled children are counted in plain
 * numbers on the hot path (`count(key, labels)`) and added to the counter
 * when it is read (its `collect`, which prom-client runs before every
 * `get`, so a scrape and `counter.get()` see every count).
 */
function pendingCounter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
  const pending = new Map<string, { labels: Record<L, string>; n: number }>();
  const counter = new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const p of pending.values()) {
        if (p.n === 0) continue;
        this.inc(p.labels, p.n);
        p.n = 0;
      }
    }
  });
  return {
    counter,
    count(key: string, labels: () => Record<L, string>): void {
      const p = pending.get(key);
      if (p) p.n++;
      else pending.set(key, { labels: labels(), n: 1 });
    }
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stopEventLoopDelay = eventLoopDelayHistogram(registry);
  const requests = pendingCounter(registry, 'http_requests_total', 'HTTP requests by route, method and status', ['route', 'method', 'status']);
  const httpDuration = new RequestHistogram([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  registry.registerMetric(httpDuration as unknown as Metric);
  const outcomes = pendingCounter(registry, 'auth_outcomes_total', 'Bearer token checks by outcome and reason', ['outcome', 'reason']);
  return {
    registry,
    httpRequests: requests.counter,
    httpDuration,
    observeRequest(route, method, status, seconds) {
      requests.count(`${route} ${method} ${status}`, () => ({ route, method, status: String(status) }));
      httpDuration.observe(route, method, seconds);
    },
    authOutcomes: outcomes.counter,
    countAuthOutcome(outcome, reason) {
      outcomes.count(`${outcome} ${reason}`, () => ({ outcome, reason }));
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
