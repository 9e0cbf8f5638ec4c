/**
 * The OTLP-JSON path fills the same batches as the wire path: for every generated request,
 * its OTLP-JSON form (protobuf JSON mapping, lowerCamelCase, hex ids, enums as integers,
 * int64 as strings) must give exactly the rows the protobuf bytes give.
 */
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { LogBatch, PointBatch, SpanBatch } from '../../src/otlp/batch.js';
import { OtlpDecoder } from '../../src/otlp/decoder.js';
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
  type Obj,
} from '../support/generate.js';
import { ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest } from '../support/otlp-proto.js';

const DIMS = ['http.route', 'deployment.environment', 'region', 'ключ', '🔑', 'absent.key'];
const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);
const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** Replaces base64 ids (protobuf JSON) by hex ids (OTLP-JSON), at any depth. */
function hexIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(hexIds);
  if (typeof v !== 'object' || v === null) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = ID_KEYS.has(k) && typeof x === 'string' ? Buffer.from(x, 'base64').toString('hex') : hexIds(x);
  return out;
}

/** The OTLP-JSON document for protobuf `bytes` of `type`. */
function otlpJson(type: protobuf.Type, bytes: Buffer, enums: typeof Number | typeof String = Number): Obj {
  return hexIds(type.toObject(type.decode(bytes), { longs: String, enums, bytes: String, json: true })) as Obj;
}

const body = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));

/** JSON has no -0 (JSON.stringify(-0) is "0"); compare numbers with the sign of zero dropped. */
function zeroUnsigned<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x) => (Object.is(x, -0) ? 0 : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)));
}

const decoder = new OtlpDecoder({ dimensions: DIMS });
const wire = { spans: new SpanBatch(), points: new PointBatch(), logs: new LogBatch() };
const json = { spans: new SpanBatch(), points: new PointBatch(), logs: new LogBatch() };

function traces(bytes: Buffer, doc: Obj, seed: number): void {
  decoder.decodeTraces(bytes, 'protobuf', wire.spans);
  decoder.decodeTraces(body(doc), 'json', json.spans);
  expect(spanRows(json.spans), `seed ${seed}`).toEqual(spanRows(wire.spans));
  expect([json.spans.rejected, json.spans.rejectReason], `seed ${seed}`).toEqual([wire.spans.rejected, wire.spans.rejectReason]);
}

function metrics(bytes: Buffer, doc: Obj, seed: number): void {
  decoder.decodeMetrics(bytes, 'protobuf', wire.points);
  decoder.decodeMetrics(body(doc), 'json', json.points);
  expect(zeroUnsigned(pointRows(json.points)), `seed ${seed}`).toEqual(zeroUnsigned(pointRows(wire.points)));
  expect([json.points.rejected, json.points.rejectReason], `seed ${seed}`).toEqual([wire.points.rejected, wire.points.rejectReason]);
}

/** Rewrites every value under one of `keys` with `fn`, at any depth (array elements included). */
function mapKeys(v: unknown, keys: ReadonlySet<string>, fn: (x: unknown) => unknown, inKey = false): unknown {
  if (Array.isArray(v)) return v.map((x) => mapKeys(x, keys, fn, inKey));
  if (typeof v === 'object' && v !== null) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) out[k] = mapKeys(x, keys, fn, keys.has(k));
    return out;
  }
  return inKey ? fn(v) : v;
}

const INT64_KEYS = new Set(['startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano', 'intValue', 'asInt', 'count', 'zeroCount', 'bucketCounts']);
/** Decimal int64 strings that a double holds exactly, written as JSON numbers instead. */
const safeIntsAsNumbers = (doc: Obj): Obj =>
  mapKeys(doc, INT64_KEYS, (x) => (typeof x === 'string' && Number.isSafeInteger(Number(x)) ? Number(x) : x)) as Obj;

/** Adds unknown fields, of every JSON type, to every object. */
function withUnknownFields(v: unknown, rng: Random): unknown {
  if (Array.isArray(v)) return v.map((x) => withUnknownFields(x, rng));
  if (typeof v !== 'object' || v === null) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = withUnknownFields(x, rng);
  out[rng.pick(['futureField', 'x_vendor', 'traceIdHex', 'résumé'])] = rng.pick([null, 1, 'two', [3, { four: 4 }], { nested: { deeper: true } }]);
  return out;
}

describe('OTLP-JSON scanning', () => {
  it('gives the same span rows, rejections and reasons as protobuf for 200 generated requests', () => {
    for (const seed of SEEDS) {
      const bytes = encodeTraceRequest(generateTraceRequest(seed));
      traces(bytes, otlpJson(ExportTraceServiceRequest, bytes), seed);
    }
  });

  it('gives the same data point rows, rejections and reasons as protobuf for 200 generated requests', () => {
    for (const seed of SEEDS) {
      const bytes = encodeMetricRequest(generateMetricRequest(seed));
      metrics(bytes, otlpJson(ExportMetricsServiceRequest, bytes), seed);
    }
  });

  it('counts the same log records as protobuf for 200 generated requests', () => {
    for (const seed of SEEDS) {
      const bytes = encodeLogRequest(generateLogRequest(seed));
      decoder.decodeLogs(bytes, 'protobuf', wire.logs);
      decoder.decodeLogs(body(otlpJson(ExportLogsServiceRequest, bytes)), 'json', json.logs);
      expect([json.logs.length, json.logs.rejected], `seed ${seed}`).toEqual([wire.logs.length, wire.logs.rejected]);
    }
  });

  it('accepts int64 values given as JSON numbers', () => {
    let converted = 0;
    for (const seed of SEEDS.slice(0, 50)) {
      const t = encodeTraceRequest(generateTraceRequest(seed));
      const m = encodeMetricRequest(generateMetricRequest(seed));
      const tDoc = safeIntsAsNumbers(otlpJson(ExportTraceServiceRequest, t));
      const mDoc = safeIntsAsNumbers(otlpJson(ExportMetricsServiceRequest, m));
      converted += (JSON.stringify([tDoc, mDoc]).match(/"(intValue|asInt|count|startTimeUnixNano)":-?\d/g) ?? []).length;
      traces(t, tDoc, seed);
      metrics(m, mDoc, seed);
    }
    expect(converted).toBeGreaterThan(100);
  });

  it('accepts enum names as well as integers', () => {
    for (const seed of SEEDS.slice(0, 50)) {
      const t = encodeTraceRequest(generateTraceRequest(seed));
      const m = encodeMetricRequest(generateMetricRequest(seed));
      traces(t, otlpJson(ExportTraceServiceRequest, t, String), seed);
      metrics(m, otlpJson(ExportMetricsServiceRequest, m, String), seed);
    }
    expect(JSON.stringify(otlpJson(ExportTraceServiceRequest, encodeTraceRequest(generateTraceRequest(1)), String))).toMatch(/SPAN_KIND_/);
  });

  it('ignores unknown fields', () => {
    for (const seed of SEEDS.slice(0, 50)) {
      const rng = new Random(seed);
      const t = encodeTraceRequest(generateTraceRequest(seed));
      const m = encodeMetricRequest(generateMetricRequest(seed));
      traces(t, withUnknownFields(otlpJson(ExportTraceServiceRequest, t), rng) as Obj, seed);
      metrics(m, withUnknownFields(otlpJson(ExportMetricsServiceRequest, m), rng) as Obj, seed);
    }
  });

  it('treats an explicit null as the field being absent', () => {
    const span = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'op', startTimeUnixNano: '5', endTimeUnixNano: '9' };
    const attr = { key: 'region', value: { stringValue: 'eu' } };
    const nulls = {
      ...span, parentSpanId: null, kind: null, status: null, traceState: null, events: null,
      attributes: [attr, { key: 'http.route', value: null }, { key: 'ключ', value: { stringValue: 'x', intValue: null, doubleValue: null } }],
    };
    const plain = { ...span, attributes: [attr, { key: 'http.route' }, { key: 'ключ', value: { stringValue: 'x' } }] };
    const req = (s: Obj): Obj => ({ resourceSpans: [{ resource: null, scopeSpans: [{ scope: null, spans: [s] }] }] });
    decoder.decodeTraces(body(req(plain)), 'json', wire.spans);
    decoder.decodeTraces(body(req(nulls)), 'json', json.spans);
    expect(spanRows(json.spans)).toEqual(spanRows(wire.spans));

    const point = { timeUnixNano: '7', count: '3', sum: 4.5 };
    const withNulls = { ...point, min: null, max: null, zeroThreshold: null, positive: null, negative: { offset: null, bucketCounts: null }, flags: null };
    const metric = (dp: Obj): Obj => ({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'e', unit: null, exponentialHistogram: { dataPoints: [dp], aggregationTemporality: null } }] }] }] });
    decoder.decodeMetrics(body(metric(point)), 'json', wire.points);
    decoder.decodeMetrics(body(metric(withNulls)), 'json', json.points);
    expect(pointRows(json.points)).toEqual(pointRows(wire.points));

    const summary = (q: Obj): Obj => ({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 's', summary: { dataPoints: [{ quantileValues: [q] }] } }] }] }] });
    decoder.decodeMetrics(body(summary({ value: 2 })), 'json', wire.points);
    decoder.decodeMetrics(body(summary({ quantile: null, value: 2 })), 'json', json.points);
    expect(pointRows(json.points)).toEqual(pointRows(wire.points));
  });

  it('reads hex ids in either case and rejects ids that are not hex', () => {
    const spans = [
      { traceId: 'AB'.repeat(16), spanId: 'Cd'.repeat(8), name: 'upper' },
      { traceId: 'zz'.repeat(16), spanId: 'cd'.repeat(8), name: 'not-hex' },
      // base64 of 16 bytes (what a plain protobuf JSON encoder would write) is not OTLP-JSON.
      { traceId: Buffer.alloc(16, 0xab).toString('base64'), spanId: 'cd'.repeat(8), name: 'base64' },
    ];
    decoder.decodeTraces(body({ resourceSpans: [{ scopeSpans: [{ spans }] }] }), 'json', json.spans);
    expect(spanRows(json.spans)).toMatchObject([{ name: 'upper', traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) }]);
    expect(json.spans.rejected).toBe(2);
  });
});
