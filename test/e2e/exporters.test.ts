/**
 * Interop: the official OpenTelemetry JS exporters — the clients our users run — against the
 * real sidecar process, over gRPC, HTTP/protobuf and HTTP/JSON, for traces, metrics and logs.
 * The sidecar must count exactly what the SDKs sent.
 */
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as LogsHttp } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricsHttp } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TracesGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TracesHttp } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TracesProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SidecarProcess, startSidecarProcess } from '../support/sidecar-process.js';

let sidecar: SidecarProcess;

beforeAll(async () => {
  sidecar = await startSidecarProcess();
});

afterAll(async () => {
  expect(await sidecar.stop()).toBe(0);
});

type Transport = 'grpc' | 'proto' | 'json';
const TRANSPORTS: Transport[] = ['grpc', 'proto', 'json'];
const protocolOf = (t: Transport): string => (t === 'grpc' ? 'grpc' : 'http');

function traceExporter(t: Transport): SpanExporter {
  if (t === 'grpc') return new TracesGrpc({ url: `http://127.0.0.1:${sidecar.grpcPort}` });
  const url = `http://127.0.0.1:${sidecar.httpPort}/v1/traces`;
  return t === 'proto' ? new TracesProto({ url }) : new TracesHttp({ url });
}

function metricExporter(t: Transport): PushMetricExporter {
  if (t === 'grpc') return new MetricsGrpc({ url: `http://127.0.0.1:${sidecar.grpcPort}` });
  const url = `http://127.0.0.1:${sidecar.httpPort}/v1/metrics`;
  return t === 'proto' ? new MetricsProto({ url }) : new MetricsHttp({ url });
}

function logExporter(t: Transport): LogRecordExporter {
  if (t === 'grpc') return new LogsGrpc({ url: `http://127.0.0.1:${sidecar.grpcPort}` });
  const url = `http://127.0.0.1:${sidecar.httpPort}/v1/logs`;
  return t === 'proto' ? new LogsProto({ url }) : new LogsHttp({ url });
}

describe.each(TRANSPORTS)('official exporters over %s', (transport) => {
  const protocol = protocolOf(transport);

  it('counts every span the SDK exported', async () => {
    const before = await sidecar.metric('otel_friction_receiver_accepted_spans_total', { protocol });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': `checkout-${transport}` }),
      spanProcessors: [new BatchSpanProcessor(traceExporter(transport), { maxExportBatchSize: 64, scheduledDelayMillis: 50 })],
    });
    const tracer = provider.getTracer('e2e');
    const SPANS = 300;
    for (let i = 0; i < SPANS; i++) {
      const span = tracer.startSpan(`GET /items/${i % 7}`, { attributes: { 'http.response.status_code': i % 50 === 0 ? 500 : 200, 'user.id': `u${i}` } });
      if (i % 50 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
      span.addEvent('work', { step: i });
      span.end();
    }
    await provider.forceFlush();
    await provider.shutdown();
    const after = await sidecar.metric('otel_friction_receiver_accepted_spans_total', { protocol });
    expect(after - before).toBe(SPANS);
    expect(await sidecar.metric('otel_friction_receiver_refused_spans_total', { protocol })).toBe(0);
  });

  it('counts every metric data point the SDK exported', async () => {
    const before = await sidecar.metric('otel_friction_receiver_accepted_metric_points_total', { protocol });
    const reader = new PeriodicExportingMetricReader({ exporter: metricExporter(transport), exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': `payments-${transport}` }), readers: [reader] });
    const meter = provider.getMeter('e2e');
    const orders = meter.createCounter('orders');
    for (const region of ['eu', 'us', 'ap']) orders.add(3, { region }); // 3 points
    const latency = meter.createHistogram('latency', { unit: 'ms' });
    for (let i = 0; i < 100; i++) latency.record(i * 1.5, { route: i % 2 === 0 ? '/a' : '/b' }); // 2 points
    const queue = meter.createUpDownCounter('queue.depth');
    queue.add(5, { queue: 'q1' }); // 1 point
    meter.createObservableGauge('cpu.utilization').addCallback((r) => {
      r.observe(0.4, { cpu: '0' });
      r.observe(0.7, { cpu: '1' });
    }); // 2 points
    // Shutdown collects and exports once; a forceFlush before it would export the
    // cumulative points a second time.
    await provider.shutdown();
    const after = await sidecar.metric('otel_friction_receiver_accepted_metric_points_total', { protocol });
    expect(after - before).toBe(8);
  });

  it('counts every log record the SDK exported', async () => {
    const before = await sidecar.metric('otel_friction_receiver_accepted_log_records_total', { protocol });
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': `email-${transport}` }),
      processors: [new BatchLogRecordProcessor({ exporter: logExporter(transport), scheduledDelayMillis: 50 })],
    });
    const logger = provider.getLogger('e2e');
    for (let i = 0; i < 40; i++) logger.emit({ body: `message ${i}`, severityNumber: SeverityNumber.INFO, attributes: { i } });
    await provider.forceFlush();
    await provider.shutdown();
    const after = await sidecar.metric('otel_friction_receiver_accepted_log_records_total', { protocol });
    expect(after - before).toBe(40);
  });
});

describe('request accounting', () => {
  it('counts successful requests and received bytes per protocol and signal', async () => {
    for (const protocol of ['grpc', 'http']) {
      for (const signal of ['traces', 'metrics', 'logs']) {
        expect(await sidecar.metric('otel_friction_receiver_requests_total', { protocol, signal, outcome: 'success' })).toBeGreaterThan(0);
        expect(await sidecar.metric('otel_friction_receiver_received_bytes_total', { protocol, signal })).toBeGreaterThan(0);
      }
    }
    expect(await sidecar.metric('otel_friction_receiver_inflight_bytes')).toBe(0);
    expect(await sidecar.metric('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('logs nothing per request at info level', () => {
    const lines = sidecar.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).msg).toBe('otel-friction listening');
  });
});
