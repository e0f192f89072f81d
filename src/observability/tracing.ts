/**
 * OpenTelemetry traces (`@opentelemetry/api`): one SERVER span per HTTP
 * request, one INTERNAL span per OAuth step (./oauth-spans.ts), one SERVER
 * span per MCP request following the semantic conventions for MCP
 * (./mcp-spans.ts).
 *
 * Off unless the standard `OTEL_*` variables configure an exporter
 * (`config.tracing`, read in src/config.ts). Off means nothing of the SDK is
 * loaded, no HTTP or MCP wrapper is installed, and the OAuth steps talk to
 * the API's no-op tracer. On, the SDK (`@opentelemetry/sdk-trace-node`) and
 * the OTLP/HTTP exporter are imported lazily here, registered globally (the
 * AsyncLocalStorage context manager and the W3C propagators), and flushed on
 * shutdown. Tests pass their own provider (an in-memory exporter).
 *
 * Incoming W3C `traceparent` / `tracestate` are honoured: on the HTTP request
 * (headers) and on each MCP request (`params._meta`, SEP-414).
 *
 * No span attribute ever holds a token, code, secret or verifier: only
 * methods, paths without their query, route names, client ids, grant types,
 * MCP method/tool/prompt names, resource URIs, JSON-RPC ids, session ids and
 * error codes.
 */
import { propagation, ROOT_CONTEXT, trace, type Context, type TextMapGetter, type Tracer, type TracerProvider } from '@opentelemetry/api';

import type { Logger } from '../logger.js';

export interface TracingOptions {
  /** Which exporter `OTEL_TRACES_EXPORTER` (or an OTLP endpoint) asks for; undefined: tracing off. */
  exporter?: 'otlp' | 'console';
  /** OTLP/HTTP traces URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`). */
  endpoint?: string;
  /** `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, parsed. */
  headers?: Record<string, string>;
  /** `OTEL_SERVICE_NAME`. */
  serviceName: string;
}

export interface Tracing {
  /** False: nothing is traced and no wrapper is installed (the hot paths check this once, at build time). */
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** The remote parent named by W3C trace-context fields in `carrier` (headers or `_meta`), on top of `base`. */
  extract(carrier: Record<string, unknown>, base?: Context): Context;
  /** Flushes and stops the exporter (graceful shutdown). */
  shutdown(): Promise<void>;
}

export const TRACER_NAME = 'mcp-reference-server';

/** Reads string fields of a plain object (HTTP headers or an MCP `_meta`). */
const getter: TextMapGetter<Record<string, unknown>> = {
  keys: carrier => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
  }
};

/** Tracing off: the API's no-op tracer, nothing loaded. */
export const TRACING_OFF: Tracing = {
  enabled: false,
  tracer: trace.getTracer(TRACER_NAME),
  extract: (_carrier, base = ROOT_CONTEXT) => base,
  shutdown: async () => undefined
};

function tracingWith(tracer: Tracer, shutdown: () => Promise<void>): Tracing {
  return {
    enabled: true,
    tracer,
    extract: (carrier, base = ROOT_CONTEXT) => propagation.extract(base, carrier, getter),
    shutdown
  };
}

/**
 * Builds the tracing for this process: `provider` when given (tests), else
 * the SDK with the configured exporter, else off.
 */
export async function startTracing(options: TracingOptions, logger: Logger, provider?: TracerProvider): Promise<Tracing> {
  if (provider) return tracingWith(provider.getTracer(TRACER_NAME), async () => undefined);
  if (!options.exporter) return TRACING_OFF;

  // Loaded only now: with tracing off none of this is ever imported.
  const [{ NodeTracerProvider, BatchSpanProcessor, ConsoleSpanExporter }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources')
  ]);
  const exporter = options.exporter === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter({ url: options.endpoint, headers: options.headers });
  const sdk = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)]
  });
  // Global context manager (AsyncLocalStorage) and W3C trace-context + baggage propagators.
  sdk.register();
  logger.info({ exporter: options.exporter, endpoint: options.exporter === 'otlp' ? options.endpoint : undefined }, 'OpenTelemetry tracing on');
  return tracingWith(sdk.getTracer(TRACER_NAME), () => sdk.shutdown().catch(err => logger.warn({ err }, 'error flushing traces')));
}
