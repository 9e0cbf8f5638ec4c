/**
 * Proves the hand-written .proto files under proto/ match the real OTLP wire format.
 *
 * Real SDK objects are serialized with the official OpenTelemetry JS serializer
 * (@opentelemetry/otlp-transformer, which has its own hand-rolled encoder and does not
 * read our files), then decoded with OUR schema. Two checks per signal:
 *  - walkWire(): every field the official encoder wrote is declared in our schema with a
 *    compatible wire type (protobufjs would otherwise skip unknown fields silently);
 *  - value assertions: each decoded field holds the value the SDK recorded.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { context, trace, SpanKind, SpanStatusCode, ValueType } from '@opentelemetry/api';
import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  InstrumentType,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
// sdk-logs is installed as a transitive dependency of the OTLP exporters (not a direct devDependency).
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  ExportLogsServiceRequest,
  ExportLogsServiceResponse,
  ExportMetricsServiceRequest,
  ExportMetricsServiceResponse,
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
  Status,
  protoDir,
} from '../support/otlp-proto.js';

// ---------------------------------------------------------------------------------------------
// helpers

/** Decoded message as a plain object: 64-bit ints as decimal strings, enums as names. */
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function decode(type: protobuf.Type, bytes: Uint8Array): Obj {
  return type.toObject(type.decode(bytes), { longs: String, enums: String, oneofs: true });
}

const WIRE_LENGTH_DELIMITED = 2;

/**
 * Walks raw bytes against `type` and fails on any field number the schema does not declare,
 * or whose wire type does not fit the declared field type. Recurses into sub-messages.
 */
function walkWire(type: protobuf.Type, bytes: Uint8Array, where = type.name): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    const field = type.fieldsById[id];
    if (!field) throw new Error(`${where}: field number ${id} (wire type ${wireType}) is not declared in our schema`);
    const scalarWire = (protobuf.types.basic as Record<string, number | undefined>)[field.type];
    let expected: number;
    if (scalarWire !== undefined) expected = scalarWire;
    else if (field.resolvedType instanceof protobuf.Enum) expected = 0;
    else expected = WIRE_LENGTH_DELIMITED;
    const packed = field.repeated && scalarWire !== undefined && wireType === WIRE_LENGTH_DELIMITED && expected !== WIRE_LENGTH_DELIMITED;
    if (wireType !== expected && !packed) {
      throw new Error(`${where}.${field.name} (#${id}): wire type ${wireType} on the wire, schema expects ${expected}`);
    }
    if (field.resolvedType instanceof protobuf.Type) {
      walkWire(field.resolvedType, reader.bytes(), `${where}.${field.name}`);
    } else {
      reader.skipType(wireType);
    }
  }
}

/** Attributes list -> { key: AnyValue-as-object }. */
function attrs(list: Obj[] | undefined): Record<string, Obj> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value]));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

const resource = resourceFromAttributes({ 'service.name': 'proto-check', 'service.version': '9.9.9' });

// 2023-11-14T22:13:20.123456789Z and one second (and a bit) later, as HrTime.
const START: [number, number] = [1_700_000_000, 123_456_789];
const END: [number, number] = [1_700_000_001, 500];
const START_NS = '1700000000123456789';
const END_NS = '1700000001000000500';

// ---------------------------------------------------------------------------------------------

describe('proto/ files', () => {
  it('load from proto/ with protobufjs, including google.rpc.Status and its google.protobuf.Any import', () => {
    expect(path.isAbsolute(protoDir())).toBe(true);
    expect(readFileSync(path.join(protoDir(), 'opentelemetry/proto/trace/v1/trace.proto'), 'utf8')).toContain(
      'package opentelemetry.proto.trace.v1;',
    );
    expect(ExportTraceServiceRequest.fullName).toBe('.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
    expect(Status.fields.details.resolvedType?.fullName).toBe('.google.protobuf.Any');
  });

  it('decode traces serialized by the official OTLP serializer', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('proto-files-test', '1.2.3');

    const parent = tracer.startSpan(
      'GET /checkout',
      {
        kind: SpanKind.SERVER,
        startTime: START,
        attributes: {
          'http.response.status_code': 503,
          'sample.ratio': 0.25,
          'cache.hit': true,
          'http.route': '/checkout',
          'tags': ['a', 'b'],
        },
      },
      context.active(),
    );
    parent.addEvent('retry', { attempt: 2 }, [1_700_000_000, 900_000_000]);
    parent.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });

    const child = tracer.startSpan(
      'charge card',
      { kind: SpanKind.CLIENT, startTime: START, links: [{ context: parent.spanContext(), attributes: { why: 'x' } }] },
      trace.setSpan(context.active(), parent),
    );
    child.setStatus({ code: SpanStatusCode.OK });
    child.end(END);
    parent.end(END);

    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    const bytes = ProtobufTraceSerializer.serializeRequest(spans);
    expect(bytes).toBeInstanceOf(Uint8Array);

    walkWire(ExportTraceServiceRequest, bytes!);
    const req = decode(ExportTraceServiceRequest, bytes!);

    expect(req.resourceSpans).toHaveLength(1);
    const rs = req.resourceSpans[0];
    expect(attrs(rs.resource.attributes)['service.name']).toEqual({ stringValue: 'proto-check', value: 'stringValue' });
    expect(rs.scopeSpans[0].scope).toMatchObject({ name: 'proto-files-test', version: '1.2.3' });

    const byName = Object.fromEntries(rs.scopeSpans[0].spans.map((s: Obj) => [s.name, s]));
    const p = byName['GET /checkout'];
    const c = byName['charge card'];

    expect(p.kind).toBe('SPAN_KIND_SERVER');
    expect(c.kind).toBe('SPAN_KIND_CLIENT');
    expect(p.traceId).toHaveLength(16);
    expect(p.spanId).toHaveLength(8);
    expect(hex(p.traceId)).toBe(parent.spanContext().traceId);
    expect(hex(p.spanId)).toBe(parent.spanContext().spanId);
    expect(p.parentSpanId ?? new Uint8Array()).toHaveLength(0);
    expect(hex(c.parentSpanId)).toBe(parent.spanContext().spanId);
    expect(hex(c.traceId)).toBe(hex(p.traceId));

    expect(p.startTimeUnixNano).toBe(START_NS);
    expect(p.endTimeUnixNano).toBe(END_NS);

    const a = attrs(p.attributes);
    expect(a['http.response.status_code']).toMatchObject({ intValue: '503' });
    expect(a['sample.ratio']).toMatchObject({ doubleValue: 0.25 });
    expect(a['cache.hit']).toMatchObject({ boolValue: true });
    expect(a['http.route']).toMatchObject({ stringValue: '/checkout' });
    expect(a['tags'].arrayValue.values.map((v: Obj) => v.stringValue)).toEqual(['a', 'b']);

    expect(p.status).toMatchObject({ code: 'STATUS_CODE_ERROR', message: 'upstream timeout' });
    expect(c.status).toMatchObject({ code: 'STATUS_CODE_OK' });

    expect(p.events).toHaveLength(1);
    expect(p.events[0]).toMatchObject({ name: 'retry', timeUnixNano: '1700000000900000000' });
    expect(attrs(p.events[0].attributes).attempt).toMatchObject({ intValue: '2' });

    // sampled (0x01) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK (0x100); parent is local
    expect(p.flags).toBe(0x101);
    expect(c.links).toHaveLength(1);
    expect(hex(c.links[0].traceId)).toBe(parent.spanContext().traceId);
    expect(hex(c.links[0].spanId)).toBe(parent.spanContext().spanId);
    expect(attrs(c.links[0].attributes).why).toMatchObject({ stringValue: 'x' });
    expect(c.links[0].flags).toBe(0x101);

    await provider.shutdown();
  });

  it('decode metrics serialized by the official OTLP serializer', async () => {
    class ManualReader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new ManualReader({
      aggregationTemporalitySelector: (t) =>
        t === InstrumentType.COUNTER ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
    });
    const provider = new MeterProvider({
      resource,
      readers: [reader],
      views: [{ instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const meter = provider.getMeter('proto-files-test', '1.2.3');

    const requests = meter.createCounter('requests', { unit: '{request}', description: 'served', valueType: ValueType.INT });
    requests.add(3, { route: '/checkout' });
    requests.add(4, { route: '/checkout' });

    const inflight = meter.createUpDownCounter('inflight', { valueType: ValueType.DOUBLE });
    inflight.add(2.5);

    const depth = meter.createGauge('queue.depth');
    depth.record(12.5, { queue: 'emails' });

    const latency = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 50, 100] } });
    for (const v of [5, 20, 70, 300]) latency.record(v, { route: '/checkout' });

    const size = meter.createHistogram('payload.size', { unit: 'By' });
    for (const v of [1, 2, 4, 1000]) size.record(v);

    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const bytes = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
    expect(bytes).toBeInstanceOf(Uint8Array);

    walkWire(ExportMetricsServiceRequest, bytes!);
    const req = decode(ExportMetricsServiceRequest, bytes!);

    expect(req.resourceMetrics).toHaveLength(1);
    const rm = req.resourceMetrics[0];
    expect(attrs(rm.resource.attributes)['service.name']).toMatchObject({ stringValue: 'proto-check' });
    expect(rm.scopeMetrics[0].scope).toMatchObject({ name: 'proto-files-test', version: '1.2.3' });
    const m = Object.fromEntries(rm.scopeMetrics[0].metrics.map((x: Obj) => [x.name, x]));

    // Monotonic delta sum with an int value
    expect(m.requests).toMatchObject({ unit: '{request}', description: 'served', data: 'sum' });
    expect(m.requests.sum).toMatchObject({ aggregationTemporality: 'AGGREGATION_TEMPORALITY_DELTA', isMonotonic: true });
    expect(m.requests.sum.dataPoints).toHaveLength(1);
    const rp = m.requests.sum.dataPoints[0];
    expect(rp).toMatchObject({ value: 'asInt', asInt: '7' });
    expect(attrs(rp.attributes).route).toMatchObject({ stringValue: '/checkout' });
    expect(BigInt(rp.timeUnixNano)).toBeGreaterThanOrEqual(BigInt(rp.startTimeUnixNano));
    expect(BigInt(rp.startTimeUnixNano)).toBeGreaterThan(10n ** 18n); // a real epoch-ns timestamp

    // Non-monotonic cumulative sum with a double value
    expect(m.inflight.sum).toMatchObject({ aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE' });
    expect(m.inflight.sum.isMonotonic ?? false).toBe(false);
    expect(m.inflight.sum.dataPoints[0]).toMatchObject({ value: 'asDouble', asDouble: 2.5 });

    // Gauge
    expect(m['queue.depth'].data).toBe('gauge');
    expect(m['queue.depth'].gauge.dataPoints[0]).toMatchObject({ value: 'asDouble', asDouble: 12.5 });
    expect(attrs(m['queue.depth'].gauge.dataPoints[0].attributes).queue).toMatchObject({ stringValue: 'emails' });

    // Explicit-bucket histogram
    expect(m.latency).toMatchObject({ unit: 'ms', data: 'histogram' });
    expect(m.latency.histogram.aggregationTemporality).toBe('AGGREGATION_TEMPORALITY_CUMULATIVE');
    const hp = m.latency.histogram.dataPoints[0];
    expect(hp.explicitBounds).toEqual([10, 50, 100]);
    expect(hp.bucketCounts).toEqual(['1', '1', '1', '1']);
    expect(hp).toMatchObject({ count: '4', sum: 395, min: 5, max: 300 });
    expect(attrs(hp.attributes).route).toMatchObject({ stringValue: '/checkout' });

    // Exponential histogram
    expect(m['payload.size'].data).toBe('exponentialHistogram');
    const ep = m['payload.size'].exponentialHistogram.dataPoints[0];
    expect(ep).toMatchObject({ count: '4', sum: 1007, min: 1, max: 1000 });
    expect(typeof ep.scale).toBe('number');
    const positive = ep.positive.bucketCounts.map(Number).reduce((x: number, y: number) => x + y, 0);
    expect(positive + Number(ep.zeroCount ?? 0)).toBe(4);

    await provider.shutdown();
  });

  it('decode logs serialized by the official OTLP serializer', async () => {
    const exporter = new InMemoryLogRecordExporter();
    // sdk-logs 0.2xx takes an options object here (sdk-trace-base's shim still takes the exporter).
    const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('proto-files-test', '1.2.3');

    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    logger.emit({
      timestamp: START,
      observedTimestamp: END,
      severityNumber: 13, // SeverityNumber.WARN
      severityText: 'WARN',
      body: 'disk almost full',
      eventName: 'disk.pressure',
      attributes: { 'disk.free_bytes': 1024, mount: '/var' },
      context: trace.setSpanContext(context.active(), spanContext),
    });

    await provider.forceFlush();
    const records = exporter.getFinishedLogRecords();
    expect(records).toHaveLength(1);
    const bytes = ProtobufLogsSerializer.serializeRequest(records);
    expect(bytes).toBeInstanceOf(Uint8Array);

    walkWire(ExportLogsServiceRequest, bytes!);
    const req = decode(ExportLogsServiceRequest, bytes!);

    const rl = req.resourceLogs[0];
    expect(attrs(rl.resource.attributes)['service.name']).toMatchObject({ stringValue: 'proto-check' });
    expect(rl.scopeLogs[0].scope).toMatchObject({ name: 'proto-files-test', version: '1.2.3' });
    const lr = rl.scopeLogs[0].logRecords[0];
    expect(lr).toMatchObject({
      timeUnixNano: START_NS,
      observedTimeUnixNano: END_NS,
      severityNumber: 'SEVERITY_NUMBER_WARN',
      severityText: 'WARN',
      eventName: 'disk.pressure',
      flags: 1,
    });
    expect(lr.body).toMatchObject({ stringValue: 'disk almost full' });
    expect(attrs(lr.attributes)['disk.free_bytes']).toMatchObject({ intValue: '1024' });
    expect(attrs(lr.attributes).mount).toMatchObject({ stringValue: '/var' });
    expect(hex(lr.traceId)).toBe(spanContext.traceId);
    expect(hex(lr.spanId)).toBe(spanContext.spanId);

    await provider.shutdown();
  });

  it('encode Export*ServiceResponse partial_success that the official client decodes', () => {
    const traceBytes = ExportTraceServiceResponse.encode(
      ExportTraceServiceResponse.fromObject({ partialSuccess: { rejectedSpans: 3, errorMessage: '3 spans too old' } }),
    ).finish();
    expect(ProtobufTraceSerializer.deserializeResponse(traceBytes)).toEqual({
      partialSuccess: { rejectedSpans: 3, errorMessage: '3 spans too old' },
    });
    expect(decode(ExportTraceServiceResponse, traceBytes)).toEqual({
      partialSuccess: { rejectedSpans: '3', errorMessage: '3 spans too old' },
    });

    const metricBytes = ExportMetricsServiceResponse.encode(
      ExportMetricsServiceResponse.fromObject({ partialSuccess: { rejectedDataPoints: 5, errorMessage: 'nan' } }),
    ).finish();
    expect(ProtobufMetricsSerializer.deserializeResponse(metricBytes)).toEqual({
      partialSuccess: { rejectedDataPoints: 5, errorMessage: 'nan' },
    });

    const logBytes = ExportLogsServiceResponse.encode(
      ExportLogsServiceResponse.fromObject({ partialSuccess: { rejectedLogRecords: 7, errorMessage: 'too big' } }),
    ).finish();
    expect(ProtobufLogsSerializer.deserializeResponse(logBytes)).toEqual({
      partialSuccess: { rejectedLogRecords: 7, errorMessage: 'too big' },
    });

    // An empty response (full success) is zero bytes on the wire.
    expect(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create()).finish()).toHaveLength(0);
  });

  // google.protobuf.Any comes from protobufjs' bundled JSON definition, whose field names are
  // not camel-cased: it is `type_url`, not `typeUrl` (see test/support/otlp-proto.ts).
  it('encode google.rpc.Status with the well-known field numbers', () => {
    const typeUrl = 'type.googleapis.com/google.rpc.RetryInfo';
    const detail = Uint8Array.from([0x0a, 0x02, 0x08, 0x05]); // RetryInfo{retry_delay: {seconds: 5}}
    const bytes = Status.encode(
      Status.fromObject({ code: 14, message: 'busy', details: [{ type_url: typeUrl, value: detail }] }),
    ).finish();

    const any = Buffer.concat([
      Buffer.from([0x0a, typeUrl.length]), Buffer.from(typeUrl), // Any.type_url = 1
      Buffer.from([0x12, detail.length]), Buffer.from(detail), // Any.value = 2
    ]);
    const expected = Buffer.concat([
      Buffer.from([0x08, 14]), // code = 1, varint
      Buffer.from([0x12, 4]), Buffer.from('busy'), // message = 2
      Buffer.from([0x1a, any.length]), any, // details = 3
    ]);
    expect(Buffer.from(bytes).toString('hex')).toBe(expected.toString('hex'));

    const back = decode(Status, bytes);
    expect(back).toMatchObject({ code: 14, message: 'busy' });
    expect(back.details[0].type_url).toBe(typeUrl);
    expect(Array.from(back.details[0].value as Uint8Array)).toEqual(Array.from(detail));
  });

  it('negative control: a schema with one wrong field number is caught', async () => {
    // Re-parse our trace files with Span.kind moved from 6 to 17, then decode real bytes with it.
    const read = (p: string) => readFileSync(path.join(protoDir(), p), 'utf8');
    const root = new protobuf.Root();
    protobuf.parse(read('opentelemetry/proto/common/v1/common.proto'), root);
    protobuf.parse(read('opentelemetry/proto/resource/v1/resource.proto'), root);
    const tracing = read('opentelemetry/proto/trace/v1/trace.proto');
    expect(tracing).toContain('SpanKind kind = 6;');
    protobuf.parse(tracing.replace('SpanKind kind = 6;', 'SpanKind kind = 17;'), root);
    protobuf.parse(read('opentelemetry/proto/collector/trace/v1/trace_service.proto'), root);
    root.resolveAll();
    const broken = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.getTracer('t').startSpan('s', { kind: SpanKind.SERVER }).end();
    const bytes = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;

    expect(() => walkWire(broken, bytes)).toThrow(/field number 6/);
    const span = decode(broken, bytes).resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.kind).not.toBe('SPAN_KIND_SERVER');
    await provider.shutdown();
  });
});
