/**
 * The aggregator end to end: spans with a known latency distribution go through the official
 * gRPC exporter into the real process, and the percentiles read back from /api/v1/series match
 * the exact percentiles of what was sent. Metric points from the official metrics exporter show
 * up as metric series, and the aggregator's counters appear in /metrics.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as TracesGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TracesHttp } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SidecarProcess, startSidecarProcess } from '../support/sidecar-process.js';

let sidecar: SidecarProcess;

beforeAll(async () => {
  // span_end time with lateness: every span of a test lands in one window however the
  // exporter splits it into requests, and the window closes a few seconds later.
  sidecar = await startSidecarProcess({
    extraYaml: () => `aggregation:
  window: 1s
  time: span_end
  allowed_lateness: 3s
  exemplars: 3
  max_series: 50
  operation_rules:
    - { match: "/user/\\\\d+", replace: "/user/{id}" }
`,
  });
});

afterAll(async () => {
  expect(await sidecar.stop()).toBe(0);
});

/** Seeded lognormal latencies in ms (median 40 ms, sigma 0.9): a realistic long tail. */
function latencies(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => {
    const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    // Whole microseconds, as the SDK's hrtime keeps them.
    return Math.round(40 * Math.exp(0.9 * g) * 1000) / 1000;
  });
}

/** Exact quantile: the value at rank ceil(q·n) of the sorted data. */
function exact(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

interface SeriesRow {
  service: string;
  operation: string;
  kind: string;
  overflow: boolean;
  window: { count: number; errors: number; error_ratio: number; p50: number; p90: number; p99: number; max: number; min: number; rate: number; exemplars: { traceId: string; durationMs: number; error: boolean }[] } | null;
}

async function series(query: string): Promise<{ total: number; series: SeriesRow[] }> {
  const res = await fetch(`http://127.0.0.1:${sidecar.adminPort}/api/v1/series?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { total: number; series: SeriesRow[] };
}

/** Polls until a series of `service` has a closed window with `count` spans. */
async function closedWindow(service: string, count: number, timeoutMs = 15_000): Promise<SeriesRow[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { series: rows } = await series(`service=${encodeURIComponent(service)}&limit=1000`);
    if (rows.reduce((n, r) => n + (r.window?.count ?? 0), 0) >= count || Date.now() > until) return rows;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Sends `durations` as spans that all end in the current 1 s window. */
async function sendSpans(exporter: SpanExporter, service: string, name: (i: number) => string, durations: number[], error: (i: number) => boolean = () => false): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 2048, maxQueueSize: 50_000, scheduledDelayMillis: 20 })],
  });
  const tracer = provider.getTracer('e2e-aggregation');
  const end = Math.floor(Date.now() / 1000) * 1000 + 500;
  durations.forEach((ms, i) => {
    const span = tracer.startSpan(name(i), { startTime: end - ms, kind: 1 });
    if (error(i)) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
  });
  await provider.forceFlush();
  await provider.shutdown();
}

describe('aggregation end to end', () => {
  it('percentiles read back from /api/v1/series are within 1% of the exact ones (gRPC exporter)', async () => {
    // Enough spans that neighbouring order statistics near p99 sit well under 1% apart, so
    // "exact" is not ambiguous at the precision we assert.
    const N = 20_000;
    const data = latencies(N, 7);
    await sendSpans(new TracesGrpc({ url: `http://127.0.0.1:${sidecar.grpcPort}` }), 'latency-e2e', () => 'GET /latency', data, (i) => i % 100 === 0);
    const rows = await closedWindow('latency-e2e', N);
    expect(rows).toHaveLength(1);
    const w = rows[0].window;
    expect(w).not.toBeNull();
    if (w === null) return;
    expect(rows[0]).toMatchObject({ operation: 'GET /latency', kind: 'server', overflow: false });
    expect(w.count).toBe(N);
    expect(w.errors).toBe(N / 100);
    expect(w.error_ratio).toBeCloseTo(0.01, 6);
    const sorted = [...data].sort((a, b) => a - b);
    for (const [q, key] of [[0.5, 'p50'], [0.9, 'p90'], [0.99, 'p99']] as const) {
      const want = exact(sorted, q);
      const got = w[key];
      expect(Math.abs(got - want) / want, `${key}: got ${got}, exact ${want}`).toBeLessThanOrEqual(0.01);
    }
    expect(w.max).toBeCloseTo(sorted[N - 1], 2);
    expect(w.min).toBeCloseTo(sorted[0], 2);
    // Exemplars: failed spans first, as real trace ids.
    expect(w.exemplars).toHaveLength(3);
    expect(w.exemplars[0].error).toBe(true);
    expect(w.exemplars[0].traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('renames operations by rule and folds keys past the series cap into __overflow__ (HTTP/JSON exporter)', async () => {
    const exporter = new TracesHttp({ url: `http://127.0.0.1:${sidecar.httpPort}/v1/traces` });
    const N = 400;
    await sendSpans(exporter, 'cardinality-e2e', (i) => (i < 100 ? `GET /user/${i}` : `op-${i}`), Array.from({ length: N }, () => 5));
    const rows = await closedWindow('cardinality-e2e', N);
    const byOp = new Map(rows.map((r) => [r.operation, r]));
    expect(byOp.get('GET /user/{id}')?.window?.count).toBe(100);
    const overflow = byOp.get('__overflow__');
    expect(overflow?.overflow).toBe(true);
    // 50 series in all: the one above took a slot, the previous test one; the rest overflowed.
    const regular = rows.filter((r) => !r.overflow).length;
    expect(rows.reduce((n, r) => n + (r.window?.count ?? 0), 0)).toBe(N);
    expect(overflow?.window?.count).toBe(N - 100 - (regular - 1));
    expect(await sidecar.metric('otel_friction_aggregator_overflow_spans_total')).toBe(overflow?.window?.count);
    expect(await sidecar.metric('otel_friction_aggregator_overflow_series')).toBe(1);
    expect(await sidecar.metric('otel_friction_aggregator_series')).toBe(50 + 1);
    expect(sidecar.output()).toMatch(/span series limit reached/);
    expect(sidecar.output().match(/span series limit reached/g)).toHaveLength(1);
  });

  it('turns cumulative SDK metrics into per-window increments and histogram quantiles (HTTP/protobuf exporter)', async () => {
    const reader = new PeriodicExportingMetricReader({ exporter: new MetricsProto({ url: `http://127.0.0.1:${sidecar.httpPort}/v1/metrics` }), exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'metrics-e2e' }), readers: [reader] });
    const meter = provider.getMeter('e2e');
    const orders = meter.createCounter('orders');
    const latency = meter.createHistogram('checkout.duration', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100] } });
    orders.add(5, { region: 'eu' });
    for (let i = 0; i < 100; i++) latency.record(i + 0.5);
    await reader.forceFlush(); // cumulative: the first export sets the baseline
    await new Promise((r) => setTimeout(r, 1100)); // next window
    orders.add(7, { region: 'eu' });
    for (let i = 0; i < 100; i++) latency.record(i + 0.5);
    await provider.shutdown(); // second cumulative export: the increments
    type Row = { metric: string; type: string; attributes: Record<string, string>; window: { points: number; value: number; count: number; p50: number; p90: number } | null };
    // The first export only sets the cumulative baseline (its window shows an increment of 0);
    // the window of the second export holds the increments. Poll until it has closed.
    const secondWindow = (r: Row): boolean =>
      r.window !== null && r.window.points === 1 && (r.type === 'histogram' ? r.window.count === 100 : r.window.value === 7);
    const until = Date.now() + 10_000;
    let seen: Row[] = [];
    while (Date.now() < until) {
      const res = await fetch(`http://127.0.0.1:${sidecar.adminPort}/api/v1/metric-series?service=metrics-e2e`);
      seen = ((await res.json()) as { series: Row[] }).series;
      if (seen.length === 2 && seen.every(secondWindow)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const counter = seen.find((r) => r.metric === 'orders');
    const hist = seen.find((r) => r.metric === 'checkout.duration');
    expect(counter).toMatchObject({ type: 'sum', attributes: { region: 'eu' }, window: { points: 1, value: 7 } });
    expect(hist?.type).toBe('histogram');
    expect(hist?.window?.count).toBe(100);
    // Uniform 0..100 in 10 ms buckets: interpolation inside the bucket is exact here.
    expect(hist?.window?.p50).toBeCloseTo(50, 0);
    expect(hist?.window?.p90).toBeCloseTo(90, 0);
  });

  it('answers bad API queries with 400 and a coded error', async () => {
    const res = await fetch(`http://127.0.0.1:${sidecar.adminPort}/api/v1/series?sort=bogus`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'FRICTION_ERR_API_BAD_REQUEST' });
    const sorted = await series('sort=count&order=desc&limit=2');
    expect(sorted.series.length).toBeLessThanOrEqual(2);
  });
});
