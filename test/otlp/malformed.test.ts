/**
 * Malformed input: every body either decodes or is refused with FrictionError(OTLP_DECODE)
 * whose cause is a WireError (protobuf) — never another exception, a hang, deep recursion
 * or an allocation sized by the attacker.
 *
 * Requests are built byte by byte here on purpose: protobufjs cannot write most of them.
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { isFrictionError } from '../../src/errors.js';
import { LogBatch, PointBatch, SpanBatch } from '../../src/otlp/batch.js';
import { OtlpDecoder, type OtlpEncoding } from '../../src/otlp/decoder.js';
import { WireError, WireType } from '../../src/otlp/wire.js';
import {
  Random,
  encodeLogRequest,
  encodeMetricRequest,
  encodeTraceRequest,
  generateLogRequest,
  generateMetricRequest,
  generateTraceRequest,
  pointRows,
  spanRows,
} from '../support/generate.js';
import { ExportTraceServiceRequest, otlpRoot } from '../support/otlp-proto.js';

type Signal = 'traces' | 'metrics' | 'logs';

const decoder = new OtlpDecoder({ dimensions: ['region', 'http.route'] });
const spans = new SpanBatch();
const points = new PointBatch();
const logs = new LogBatch();

function decode(signal: Signal, body: Buffer, encoding: OtlpEncoding): void {
  if (signal === 'traces') decoder.decodeTraces(body, encoding, spans);
  else if (signal === 'metrics') decoder.decodeMetrics(body, encoding, points);
  else decoder.decodeLogs(body, encoding, logs);
}

/**
 * null when `body` decodes; the cause's message when it is refused cleanly. Anything else
 * (another exception type, a protobuf refusal not caused by a WireError) throws.
 */
function refusal(signal: Signal, body: Buffer, encoding: OtlpEncoding = 'protobuf', label = ''): string | null {
  try {
    decode(signal, body, encoding);
    return null;
  } catch (err) {
    if (!isFrictionError(err, 'OTLP_DECODE')) throw new Error(`${label} not a clean refusal: ${String(err)}`, { cause: err });
    const cause = err.cause as Error;
    if (encoding === 'protobuf' && !(cause instanceof WireError)) throw new Error(`${label} cause is not a WireError: ${String(cause)}`, { cause });
    return cause.message;
  }
}

// ---------------------------------------------------------------------------------------------
// byte builders

function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return Buffer.from(out);
}
const raw = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const tag = (no: number, wt: number): Buffer => varint(no * 8 + wt);
const len = (no: number, ...parts: Buffer[]): Buffer => {
  const payload = raw(...parts);
  return raw(tag(no, WireType.LEN), varint(payload.length), payload);
};
const str = (no: number, s: string): Buffer => len(no, Buffer.from(s));
const vfield = (no: number, n: number | bigint): Buffer => raw(tag(no, WireType.VARINT), varint(n));
const f64 = (no: number, d: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(d);
  return raw(tag(no, WireType.I64), b);
};
const fixed64 = (no: number, n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return raw(tag(no, WireType.I64), b);
};
/** Field `no` with wire type `wt` and a payload well formed for that wire type. */
function wrong(no: number, wt: number): Buffer {
  if (wt === WireType.VARINT) return vfield(no, 1);
  if (wt === WireType.I64) return raw(tag(no, wt), Buffer.alloc(8));
  if (wt === WireType.LEN) return str(no, 'x');
  return raw(tag(no, WireType.I32), Buffer.alloc(4));
}

const IDS = [len(1, Buffer.alloc(16, 1)), len(2, Buffer.alloc(8, 2))];
const traceRequest = (resource: Buffer[], span: Buffer[]): Buffer => len(1, len(1, ...resource), len(2, len(2, ...IDS, ...span)));
const metricRequest = (...metric: Buffer[]): Buffer => len(1, len(2, len(2, str(1, 'm'), ...metric)));
const logRequest = (...record: Buffer[]): Buffer => len(1, len(2, len(2, ...record)));

/**
 * An AnyValue nesting `depth` kvlists (or arrays) around a string, built back to front in one
 * buffer: protobufjs (recursive) cannot encode or decode this deep.
 */
function deepAnyValue(depth: number, kind: 'kvlist' | 'array'): Buffer {
  const buf = Buffer.alloc(depth * 24 + 16);
  let pos = buf.length;
  const prepend = (...bytes: number[]): void => {
    for (let i = bytes.length - 1; i >= 0; i--) buf[--pos] = bytes[i];
  };
  const prependLength = (): void => prepend(...varint(buf.length - pos));
  prepend(0x0a, 0x01, 0x78); // AnyValue { string_value: "x" }
  for (let i = 0; i < depth; i++) {
    if (kind === 'kvlist') {
      prependLength();
      prepend(0x0a, 0x01, 0x6b, 0x12); // KeyValue { key: "k", value: ... }
      prependLength();
      prepend(0x0a); // KeyValueList { values: ... }
      prependLength();
      prepend(0x32); // AnyValue { kvlist_value: ... }
    } else {
      prependLength();
      prepend(0x0a); // ArrayValue { values: ... }
      prependLength();
      prepend(0x2a); // AnyValue { array_value: ... }
    }
  }
  return buf.subarray(pos);
}

/** Offsets where a top-level field of `bytes` ends (0 included): cutting there stays valid. */
function fieldBoundaries(bytes: Uint8Array): Set<number> {
  const reader = protobuf.Reader.create(bytes);
  const ends = new Set([0]);
  while (reader.pos < reader.len) {
    reader.skipType(reader.uint32() & 7);
    ends.add(reader.pos);
  }
  return ends;
}

const SAMPLES: Record<Signal, Buffer[]> = {
  traces: [1, 3, 5].map((s) => encodeTraceRequest(generateTraceRequest(s))),
  metrics: [1, 3, 5].map((s) => encodeMetricRequest(generateMetricRequest(s))),
  logs: [1, 3, 5].map((s) => encodeLogRequest(generateLogRequest(s))),
};
const SIGNALS: Signal[] = ['traces', 'metrics', 'logs'];

// ---------------------------------------------------------------------------------------------

describe('malformed protobuf', () => {
  it.each(SIGNALS)('%s: a truncation decodes only when it cuts between top-level fields', (signal) => {
    let cuts = 0;
    for (const [i, bytes] of SAMPLES[signal].entries()) {
      const boundaries = fieldBoundaries(bytes);
      for (let cut = 0; cut < bytes.length; cut++) {
        const got = refusal(signal, bytes.subarray(0, cut), 'protobuf', `sample ${i} cut ${cut}:`);
        expect(got === null, `sample ${i} cut ${cut}: ${got}`).toBe(boundaries.has(cut));
        cuts++;
      }
    }
    expect(cuts).toBeGreaterThan(4000);
  });

  it.each(SIGNALS)('%s: 3000 requests with random bytes flipped decode or are refused cleanly', (signal) => {
    const outcomes = { decoded: 0, refused: 0 };
    for (let seed = 1; seed <= 3000; seed++) {
      const rng = new Random(seed);
      const bytes = Buffer.from(rng.pick(SAMPLES[signal]));
      for (let n = rng.int(1, 4); n > 0; n--) bytes[rng.int(0, bytes.length - 1)] ^= rng.int(1, 255);
      if (refusal(signal, bytes, 'protobuf', `seed ${seed}:`) === null) {
        outcomes.decoded++;
        // Whatever decoded must point inside the request.
        for (let i = 0; i < spans.length && signal === 'traces'; i++) {
          expect(spans.spans[i].traceIdOffset + 16).toBeLessThanOrEqual(bytes.length);
          expect(spans.spans[i].spanIdOffset + 8).toBeLessThanOrEqual(bytes.length);
        }
      } else outcomes.refused++;
    }
    // Both outcomes must be common, or the flips are not testing much.
    expect(outcomes.decoded).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });

  it('refuses random noise cleanly', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const rng = new Random(seed);
      const bytes = Buffer.from(rng.bytes(rng.int(0, 64)));
      for (const signal of SIGNALS) refusal(signal, bytes, 'protobuf', `seed ${seed}:`);
    }
  });

  it('still decodes correctly after refusing', () => {
    const good = SAMPLES.traces[0];
    refusal('traces', good, 'protobuf');
    const before = spanRows(spans);
    expect(refusal('traces', good.subarray(0, good.length - 1))).not.toBeNull();
    expect(refusal('traces', good)).toBeNull();
    expect(spanRows(spans)).toEqual(before);
    const goodPoints = SAMPLES.metrics[0];
    refusal('metrics', goodPoints);
    const beforePoints = pointRows(points);
    expect(refusal('metrics', Buffer.from([0x0a, 0x05, 0x0a]))).not.toBeNull();
    expect(refusal('metrics', goodPoints)).toBeNull();
    expect(pointRows(points)).toEqual(beforePoints);
  });

  describe('wrong wire type for a known field', () => {
    const { VARINT, I64, LEN, I32 } = WireType;
    const inSpan = (f: Buffer): Buffer => traceRequest([], [f]);
    const inKeyValue = (f: Buffer): Buffer => traceRequest([len(1, f)], []);
    const inServiceValue = (f: Buffer): Buffer => traceRequest([len(1, str(1, 'service.name'), len(2, f))], []);
    const inDimValue = (f: Buffer): Buffer => traceRequest([], [len(9, str(1, 'region'), len(2, f))]);
    const inNumberPoint = (f: Buffer): Buffer => metricRequest(len(5, len(1, f64(4, 1), f)));
    const inSum = (f: Buffer): Buffer => metricRequest(len(7, len(1, f64(4, 1)), f));
    const inHistogramPoint = (f: Buffer): Buffer => metricRequest(len(9, len(1, f)));
    const inExpPoint = (f: Buffer): Buffer => metricRequest(len(10, len(1, f)));
    const inSummaryPoint = (f: Buffer): Buffer => metricRequest(len(11, len(1, f)));

    // [field, signal, request around the field, the field written correctly, a wrong wire type]
    const cases: Array<[string, Signal, (f: Buffer) => Buffer, Buffer, number]> = [
      ['ExportTraceServiceRequest.resource_spans', 'traces', (f) => f, len(1), VARINT],
      ['ResourceSpans.resource', 'traces', (f) => len(1, f), len(1), VARINT],
      ['ResourceSpans.scope_spans', 'traces', (f) => len(1, f), len(2), I32],
      ['ScopeSpans.spans', 'traces', (f) => len(1, len(2, f)), len(2, ...IDS), VARINT],
      ['Resource.attributes', 'traces', (f) => len(1, len(1, f)), len(1, str(1, 'k')), VARINT],
      ['KeyValue.key', 'traces', inKeyValue, str(1, 'service.name'), VARINT],
      ['KeyValue.value', 'traces', inKeyValue, len(2, str(1, 'x')), I64],
      ['AnyValue.string_value', 'traces', inServiceValue, str(1, 'checkout'), VARINT],
      ['AnyValue.bool_value', 'traces', inDimValue, vfield(2, 1), LEN],
      ['AnyValue.int_value', 'traces', inDimValue, vfield(3, -5), I64],
      ['AnyValue.double_value', 'traces', inDimValue, f64(4, 1.5), VARINT],
      ['AnyValue.array_value', 'traces', inDimValue, len(5), VARINT],
      ['AnyValue.kvlist_value', 'traces', inDimValue, len(6), I32],
      ['AnyValue.bytes_value', 'traces', inDimValue, str(7, 'ab'), VARINT],
      ['Span.trace_id', 'traces', inSpan, len(1, Buffer.alloc(16, 3)), I64],
      ['Span.span_id', 'traces', inSpan, len(2, Buffer.alloc(8, 3)), VARINT],
      ['Span.parent_span_id', 'traces', inSpan, len(4, Buffer.alloc(8, 3)), I32],
      ['Span.name', 'traces', inSpan, str(5, 'op'), VARINT],
      ['Span.kind', 'traces', inSpan, vfield(6, 2), LEN],
      ['Span.start_time_unix_nano', 'traces', inSpan, fixed64(7, 5n), VARINT],
      ['Span.end_time_unix_nano', 'traces', inSpan, fixed64(8, 5n), LEN],
      ['Span.attributes', 'traces', inSpan, len(9, str(1, 'k')), VARINT],
      ['Span.status', 'traces', inSpan, len(15), VARINT],
      ['Status.code', 'traces', (f) => inSpan(len(15, f)), vfield(3, 2), I64],
      ['Metric.name', 'metrics', (f) => metricRequest(f), str(1, 'x'), VARINT],
      ['Metric.unit', 'metrics', (f) => metricRequest(f), str(3, 'ms'), I64],
      ['Metric.data', 'metrics', (f) => metricRequest(f), len(7), VARINT],
      ['aggregation_temporality', 'metrics', inSum, vfield(2, 1), LEN],
      ['Sum.is_monotonic', 'metrics', inSum, vfield(3, 1), I64],
      ['data_points', 'metrics', (f) => metricRequest(len(7, f)), len(1, f64(4, 1)), VARINT],
      ['NumberDataPoint.as_double', 'metrics', inNumberPoint, f64(4, 2), VARINT],
      ['NumberDataPoint.as_int', 'metrics', inNumberPoint, fixed64(6, 2n), LEN],
      ['time_unix_nano', 'metrics', inNumberPoint, fixed64(3, 5n), VARINT],
      ['flags', 'metrics', inNumberPoint, vfield(8, 1), I64],
      ['attributes', 'metrics', inNumberPoint, len(7, str(1, 'k')), VARINT],
      ['count', 'metrics', inHistogramPoint, fixed64(4, 1n), VARINT],
      ['sum', 'metrics', inHistogramPoint, f64(5, 1), LEN],
      ['repeated 64-bit field', 'metrics', inHistogramPoint, len(6, Buffer.alloc(8)), VARINT],
      ['repeated 64-bit field', 'metrics', inHistogramPoint, len(7, Buffer.alloc(8)), I32],
      ['min', 'metrics', inHistogramPoint, f64(11, 1), VARINT],
      ['max', 'metrics', inExpPoint, f64(13, 1), LEN],
      ['scale', 'metrics', inExpPoint, vfield(6, 3), I64],
      ['zero_count', 'metrics', inExpPoint, fixed64(7, 1n), VARINT],
      ['zero_threshold', 'metrics', inExpPoint, f64(14, 0.5), VARINT],
      ['buckets', 'metrics', inExpPoint, len(8), VARINT],
      ['Buckets.offset', 'metrics', (f) => inExpPoint(len(9, f)), vfield(1, 3), LEN],
      ['Buckets.bucket_counts', 'metrics', (f) => inExpPoint(len(8, f)), vfield(2, 3), I64],
      ['quantile_values', 'metrics', inSummaryPoint, len(6), VARINT],
      ['ValueAtQuantile', 'metrics', (f) => inSummaryPoint(len(6, f)), f64(1, 0.5), VARINT],
      ['LogRecord.trace_id', 'logs', (f) => logRequest(f), len(9, Buffer.alloc(16, 1)), VARINT],
      ['LogRecord.span_id', 'logs', (f) => logRequest(f), len(10, Buffer.alloc(8, 1)), I64],
      ['logs container', 'logs', (f) => len(1, f), len(2), VARINT],
    ];

    it.each(cases)('%s (%s)', (field, signal, around, good, wt) => {
      expect(refusal(signal, around(good))).toBeNull();
      const no = Number(protobuf.Reader.create(good).uint32() >>> 3);
      expect(refusal(signal, around(wrong(no, wt)))).toContain(`field ${field} has wire type ${wt}, want`);
    });
  });

  describe('structural damage', () => {
    const past = /runs past the end/;
    const varint11 = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
    const schemaUrl = str(3, 'y'.repeat(60)); // keeps the buffer going past the damaged message
    const cases: Array<[string, Signal, Buffer, RegExp]> = [
      ['a top-level length past the body', 'traces', raw(tag(1, 2), varint(100), Buffer.alloc(5)), past],
      ['a span name past its span, inside the buffer', 'traces', len(1, len(2, len(2, ...IDS, tag(5, 2), varint(50)), schemaUrl)), past],
      ['an attribute key past its KeyValue', 'traces', len(1, len(1, len(1, tag(1, 2), varint(40))), schemaUrl), past],
      ['packed bucket counts past the point', 'metrics', metricRequest(len(9, len(1, tag(6, 2), varint(64))), str(2, 'd'.repeat(80))), past],
      ['exponential buckets past the point', 'metrics', metricRequest(len(10, len(1, tag(8, 2), varint(30))), str(2, 'd'.repeat(80))), past],
      ['a length of 2^31 in a 10-byte body', 'traces', Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, 0, 0, 0, 0]), past],
      ['a length of 2^32-1', 'metrics', raw(tag(1, 2), varint(2 ** 32 - 1), Buffer.alloc(4)), past],
      ['a length of 2^32+5 followed by 5 valid bytes', 'traces', raw(tag(1, 2), varint(2n ** 32n + 5n), str(3, 'abc')), /length/],
      ['a length of 2^63 as a 10-byte varint', 'logs', raw(tag(1, 2), varint(2n ** 63n), str(3, 'abc')), /length/],
      ['an 11-byte varint tag', 'traces', varint11, /longer than 10 bytes/],
      ['an 11-byte varint length', 'metrics', raw(tag(1, 2), varint11), /longer than 10 bytes/],
      ['an 11-byte Span.kind', 'traces', traceRequest([], [tag(6, 0), varint11]), /longer than 10 bytes/],
      ['an 11-byte unknown varint field', 'logs', raw(tag(99, 0), varint11), /longer than 10 bytes/],
      ['an 11-byte exponential bucket count', 'metrics', metricRequest(len(10, len(1, len(8, len(2, varint11))))), /longer than 10 bytes/],
      ['a varint cut short', 'traces', Buffer.from([0x0a, 0x80]), /truncated varint/],
      ['a fixed64 cut short', 'traces', traceRequest([], [tag(7, 1), Buffer.alloc(3)]), /truncated|past the end/],
      ['field number 0 at the top', 'traces', Buffer.from([0x00, 0x00]), /field number 0/],
      ['field number 0 in a span', 'traces', traceRequest([], [Buffer.from([0x02, 0x00])]), /field number 0/],
      ['field number 0 in a data point', 'metrics', metricRequest(len(5, len(1, Buffer.from([0x00, 0x01])))), /field number 0/],
      ['field number 0 in a log record', 'logs', logRequest(Buffer.from([0x05, 0, 0, 0, 0])), /field number 0/],
      ['field number 0 inside a group', 'traces', raw(tag(99, 3), Buffer.from([0x00, 0x00]), tag(99, 4)), /field number 0/],
      ['wire type 6', 'traces', raw(tag(99, 6), Buffer.alloc(8)), /invalid wire type 6/],
      ['wire type 7', 'metrics', metricRequest(raw(tag(99, 7))), /invalid wire type 7/],
      ['an end group out of place', 'logs', raw(tag(99, 4)), /unexpected end group/],
      ['a group that never ends', 'traces', raw(tag(99, 3), vfield(1, 1)), /truncated/],
      ['a group closed by another field number', 'traces', raw(tag(99, 3), tag(98, 4)), /mismatched end group/],
      ['a packed 64-bit field of 7 bytes', 'metrics', metricRequest(len(9, len(1, len(7, Buffer.alloc(7))))), /multiple of 8/],
      ['100k nested groups at the top', 'traces', Buffer.concat(Array.from({ length: 100_000 }, () => tag(99, 3))), /nested too deeply/],
      ['100k nested groups in a span', 'traces', traceRequest([], [Buffer.concat(Array.from({ length: 100_000 }, () => tag(20, 3)))]), /nested too deeply|past the end/],
      ['100k nested groups in an attribute value', 'metrics', metricRequest(len(5, len(1, len(7, str(1, 'k'), len(2, Buffer.concat(Array.from({ length: 100_000 }, () => tag(9, 3)))))))), /nested too deeply/],
    ];

    it.each(cases)('refuses %s', (_name, signal, bytes, message) => {
      expect(refusal(signal, bytes)).toMatch(message);
    });

    it('skips well-formed groups like any unknown field', () => {
      const group = raw(tag(99, 3), ...Array.from({ length: 10 }, (_, i) => tag(100 + i, 3)), vfield(1, 7), f64(2, 1), str(3, 'g'), ...Array.from({ length: 10 }, (_, i) => tag(109 - i, 4)), tag(99, 4));
      const plain = traceRequest([], [str(5, 'op')]);
      expect(refusal('traces', raw(group, plain, group))).toBeNull();
      expect(spanRows(spans)).toMatchObject([{ name: 'op' }]);
    });
  });

  describe('deep nesting and huge lengths', () => {
    it('the deep-value builder writes what protobufjs reads (checked at a depth it can handle)', () => {
      const AnyValue = otlpRoot.lookupType('opentelemetry.proto.common.v1.AnyValue');
      let v = AnyValue.toObject(AnyValue.decode(deepAnyValue(3, 'kvlist')));
      expect(v).toEqual({ kvlistValue: { values: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'x' } }] } } }] } } }] } });
      v = AnyValue.toObject(AnyValue.decode(deepAnyValue(2, 'array')));
      expect(v).toEqual({ arrayValue: { values: [{ arrayValue: { values: [{ stringValue: 'x' }] } }] } });
    });

    it.each(['kvlist', 'array'] as const)('decodes attributes nesting 100k %s levels, rendering them as ""', (kind) => {
      const deep = deepAnyValue(100_000, kind);
      expect(deep.length).toBeGreaterThan(500_000);
      const deepAttr = (key: string): Buffer => len(1, str(1, key), len(2, deep));
      // As a span dimension, as the service name, as a data point attribute, as a log body.
      expect(refusal('traces', traceRequest([deepAttr('service.name')], [len(9, str(1, 'region'), len(2, deep))]))).toBeNull();
      expect(spanRows(spans)).toMatchObject([{ serviceName: '', dims: ['', ''] }]);
      expect(refusal('metrics', metricRequest(len(5, len(1, f64(4, 1), len(7, str(1, 'deep'), len(2, deep))))))).toBeNull();
      expect(pointRows(points)[0].attrs).toEqual(['deep', '']);
      expect(refusal('logs', logRequest(len(5, deep)))).toBeNull();
      expect(logs.length).toBe(1);
    });

    it('does not allocate for a length prefix of 2^31 in a 10-byte body', () => {
      const bytes = Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, 0, 0, 0, 0]);
      const used = (): number => {
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers + m.external;
      };
      const before = used();
      for (let i = 0; i < 1000; i++) for (const signal of SIGNALS) expect(refusal(signal, bytes)).toMatch(/runs past the end/);
      expect(used() - before).toBeLessThan(32 * 1024 * 1024);
    });
  });
});

describe('malformed OTLP-JSON', () => {
  it.each(SIGNALS)('%s: every truncation is refused cleanly', (signal) => {
    const type = otlpRoot.lookupType(
      { traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest', metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest', logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest' }[signal],
    );
    const doc = Buffer.from(JSON.stringify(type.toObject(type.decode(SAMPLES[signal][1]), { longs: String, json: true })));
    for (let cut = 0; cut < doc.length; cut++) expect(refusal(signal, doc.subarray(0, cut), 'json', `cut ${cut}:`), `cut ${cut}`).not.toBeNull();
  });

  it('refuses bodies of the wrong shape cleanly', () => {
    const bodies = [
      '', 'null', '[]', '"x"', '42', '{"resourceSpans":{}}', '{"resourceSpans":[1]}', '{"resourceSpans":[{"scopeSpans":"x"}]}',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]}',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"1.5"}]}]}]}',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}',
      '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"intValue":"12abc"}}]}}]}',
      '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"doubleValue":"fast"}}]}}]}',
      '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","histogram":{"dataPoints":[{"bucketCounts":"1"}]}}]}]}]}',
      '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":{}}]}}]}]}]}',
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":7}]}]}]}',
    ];
    for (const b of bodies) for (const signal of SIGNALS) refusal(signal, Buffer.from(b), 'json', b);
    expect(refusal('traces', Buffer.from(bodies[5]), 'json')).toMatch(/must be an array/);
  });

  it('decodes an attribute nesting 100k kvlists, rendering it as ""', () => {
    let value = '{"stringValue":"x"}';
    for (let i = 0; i < 100_000; i++) value = `{"kvlistValue":{"values":[{"key":"k","value":${value}}]}}`;
    const span = `{"traceId":"${'ab'.repeat(16)}","spanId":"${'cd'.repeat(8)}","attributes":[{"key":"region","value":${value}}]}`;
    expect(refusal('traces', Buffer.from(`{"resourceSpans":[{"scopeSpans":[{"spans":[${span}]}]}]}`), 'json')).toBeNull();
    expect(spanRows(spans)).toMatchObject([{ dims: ['', ''] }]);
  });
});

// Keep the sample set honest: every sample must decode as is.
it('samples decode', () => {
  for (const signal of SIGNALS) for (const bytes of SAMPLES[signal]) expect(refusal(signal, bytes)).toBeNull();
  expect(ExportTraceServiceRequest.decode(SAMPLES.traces[0])).toBeDefined();
});
