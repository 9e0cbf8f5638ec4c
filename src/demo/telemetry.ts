/**
 * The fleet's instrumentation: one OpenTelemetry SDK per service, as each would have in its own
 * process (its resource, tracer provider, meter provider and OTLP/gRPC exporters), all pointed
 * at the sidecar. Traffic plans come in; real SDK spans with real trace context go out.
 */
import { type Context, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ServiceName } from './topology.js';
import type { SpanPlan, TracePlan } from './traffic.js';

/** Options of {@link FleetTelemetry}. */
export interface FleetTelemetryOptions {
  /** OTLP/gRPC endpoint of the sidecar, e.g. `http://127.0.0.1:4317`. */
  readonly endpoint: string;
  /** How often each service exports its metrics, wall ms. */
  readonly metricIntervalMs: number;
  /** The service's CPU utilization (0–1) now, read whenever the metrics are collected. */
  readonly cpu: (service: ServiceName) => number;
}

interface ServiceSdk {
  readonly tracer: Tracer;
  readonly traces: BasicTracerProvider;
  readonly metrics: MeterProvider;
}

const KIND: Record<SpanPlan['kind'], SpanKind> = { server: SpanKind.SERVER, client: SpanKind.CLIENT };

// Spans are exported every 200 ms rather than the SDK's default 5 s: the sidecar windows by
// receive time, and 5 s bursts would make every 2 s window look like a traffic drop or a surge.
const SPAN_EXPORT_DELAY_MS = 200;

/** The SDKs of the whole fleet. */
export class FleetTelemetry {
  private readonly sdks = new Map<ServiceName, ServiceSdk>();
  private sent = 0;
  private closed: Promise<void> | undefined;

  constructor(services: readonly ServiceName[], options: FleetTelemetryOptions) {
    for (const service of services) {
      const resource = resourceFromAttributes({
        'service.name': service,
        'service.namespace': 'shop',
        'service.version': '1.4.2',
        'service.instance.id': `${service}-0`,
        'deployment.environment.name': 'demo',
      });
      const traces = new BasicTracerProvider({
        resource,
        spanProcessors: [
          new BatchSpanProcessor(new OTLPTraceExporter({ url: options.endpoint }), {
            scheduledDelayMillis: SPAN_EXPORT_DELAY_MS,
            maxExportBatchSize: 1024,
            maxQueueSize: 16_384,
          }),
        ],
      });
      const interval = Math.max(100, Math.round(options.metricIntervalMs));
      const metrics = new MeterProvider({
        resource,
        readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: options.endpoint }), exportIntervalMillis: interval, exportTimeoutMillis: interval })],
      });
      metrics
        .getMeter('otel-friction-demo')
        .createObservableGauge('system.cpu.utilization', { unit: '1', description: 'CPU utilization of the service host (0-1)' })
        .addCallback((result) => result.observe(options.cpu(service)));
      this.sdks.set(service, { tracer: traces.getTracer('otel-friction-demo', '1.0.0'), traces, metrics });
    }
  }

  /** Spans handed to the SDKs so far. */
  get spansSent(): number {
    return this.sent;
  }

  /** Records one planned trace whose root span ends at `endEpochMs` (wall clock). */
  emit(plan: TracePlan, endEpochMs: number): void {
    if (this.closed !== undefined) return;
    this.record(plan.root, endEpochMs - plan.root.durationMs, ROOT_CONTEXT);
  }

  private record(plan: SpanPlan, traceStartMs: number, parent: Context): void {
    const sdk = this.sdks.get(plan.service);
    if (sdk === undefined) return;
    const start = traceStartMs + plan.startMs;
    // Parent context passed explicitly: the in-process stand-in for the traceparent header a
    // real client would inject and the callee's server instrumentation would extract.
    const span = sdk.tracer.startSpan(plan.name, { kind: KIND[plan.kind], startTime: start, attributes: plan.attributes }, parent);
    if (plan.error) span.setStatus({ code: SpanStatusCode.ERROR, message: plan.kind === 'server' ? 'internal error' : 'downstream call failed' });
    const context = trace.setSpan(parent, span);
    for (const child of plan.children) this.record(child, traceStartMs, context);
    span.end(start + plan.durationMs);
    this.sent++;
  }

  /**
   * Flushes what the SDKs hold and shuts them down, all services at once; gives up waiting
   * after `timeoutMs` (an exporter retrying against a dead sidecar must not hang the exit).
   * Idempotent.
   */
  shutdown(timeoutMs: number): Promise<void> {
    this.closed ??= (async () => {
      const all = [...this.sdks.values()].flatMap((s) => [s.traces.shutdown(), s.metrics.shutdown()]);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([Promise.allSettled(all), deadline]);
      clearTimeout(timer);
    })();
    return this.closed;
  }
}
