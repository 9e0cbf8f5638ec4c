/**
 * Test support: seeded random OTLP export requests, byte-level rewrites of their encodings,
 * and plain snapshots of scanner batches.
 *
 * Requests are plain objects in protobufjs' camelCase shape (64-bit integers as decimal
 * strings, bytes as Uint8Array), ready for `Type.fromObject`. The same seed always gives
 * the same request, so a failing property case is reproduced by its seed alone.
 *
 * The generator deliberately covers what the scanners must get right: several resources
 * with and without service.name, every span kind and status code (plus unknown enum values),
 * roots and children, attributes of every AnyValue type (nested arrays and kvlists, bytes,
 * negative and beyond-2^53 integers, unicode), events and links carrying dimension keys
 * (which must be ignored), invalid ids now and then, all five metric types, and log records
 * with and without ids.
 */
import protobuf from 'protobufjs';
import type { PointBatch, SpanBatch } from '../../src/otlp/batch.js';
import { ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest } from './otlp-proto.js';

/** A request or sub-message as protobufjs `fromObject` accepts it. */
export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// ---------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: a tiny, fast, well-mixed 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded random choices. */
export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  float(): number {
    return this.next();
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** Uniform unsigned 64-bit value. */
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

// ---------------------------------------------------------------------------------------------
// values

/** Attribute keys the generator uses; the property tests pick dimensions among them. */
export const ATTRIBUTE_KEYS = ['service.name', 'http.route', 'deployment.environment', 'region', 'ключ', '🔑', 'peer.service', 'k'] as const;

const STRINGS = [
  '', 'checkout', 'payments', 'GET /api/v1/users/{id}', 'héllo wörld', '日本語のスパン', '🚀 launch', 'e\u0301', 'Ωμέγα',
  'tab\tand\nnewline', 'a'.repeat(256), 'b'.repeat(257), 'x'.repeat(1000),
];
const INTS = [
  '0', '1', '-1', '42', '-42', '2147483647', '-2147483648', '4294967295', '9007199254740991', '-9007199254740991',
  '9007199254740992', '9007199254740993', '-9007199254740993', '9223372036854775807', '-9223372036854775808',
];
const DOUBLES = [0, -0, 1, -1.5, 0.1, 1 / 3, 0.1 + 0.2, 1e21, 1e-7, -123456789.125, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity];
// Code points from ASCII up to the astral planes; no lone surrogates (not valid UTF-8).
const CODE_POINTS = [0x61, 0x7a, 0x20, 0x2f, 0xe9, 0x3a9, 0x416, 0x65e5, 0xac00, 0x1f600, 0x1f680, 0x10348];

/** Mostly a string from the pool, sometimes a random one mixing 1- to 4-byte UTF-8. */
export function randomString(rng: Random): string {
  if (rng.chance(0.6)) return rng.pick(STRINGS);
  let s = '';
  const n = rng.int(0, 12);
  for (let i = 0; i < n; i++) s += String.fromCodePoint(rng.pick(CODE_POINTS) + rng.int(0, 3));
  return s;
}

/** A random signed 64-bit integer as a decimal string, edge values favoured. */
export function randomInt64(rng: Random): string {
  return rng.chance(0.5) ? rng.pick(INTS) : BigInt.asIntN(64, rng.u64() >> BigInt(rng.int(0, 63))).toString();
}

export function randomDouble(rng: Random): number {
  return rng.chance(0.5) ? rng.pick(DOUBLES) : (rng.float() - 0.5) * 10 ** rng.int(-3, 12);
}

/** An AnyValue of any type; arrays and kvlists nest up to `depth` levels. */
export function randomAnyValue(rng: Random, depth = 3): Obj {
  switch (rng.int(0, depth > 0 ? 8 : 6)) {
    case 0:
    case 1:
      return { stringValue: randomString(rng) };
    case 2:
      return { boolValue: rng.chance(0.5) };
    case 3:
      return { intValue: randomInt64(rng) };
    case 4:
      return { doubleValue: randomDouble(rng) };
    case 5:
      return { bytesValue: rng.bytes(rng.int(0, 20)) };
    case 6:
      return {}; // no value set
    case 7:
      return { arrayValue: { values: Array.from({ length: rng.int(0, 3) }, () => randomAnyValue(rng, depth - 1)) } };
    default:
      return { kvlistValue: { values: randomAttributes(rng, depth - 1, 3) } };
  }
}

/**
 * A KeyValue list. Keys are mostly distinct; a duplicate, an empty key, a missing key or a
 * missing value turns up now and then.
 */
export function randomAttributes(rng: Random, depth = 3, max = 6): Obj[] {
  const keys = rng.shuffle([...ATTRIBUTE_KEYS, 'other', 'more.keys']).slice(0, rng.int(0, max));
  const out: Obj[] = keys.map((key) => ({ key, value: randomAnyValue(rng, depth) }));
  if (out.length > 0 && rng.chance(0.05)) out.push({ key: out[0].key, value: randomAnyValue(rng, depth) });
  if (rng.chance(0.04)) out.push({ key: '', value: randomAnyValue(rng, depth) });
  if (rng.chance(0.04)) out.push({ value: randomAnyValue(rng, depth) });
  if (rng.chance(0.04)) out.push({ key: rng.pick(ATTRIBUTE_KEYS) });
  return out;
}

/** A fixed64 nanosecond timestamp as a decimal string: mostly realistic, sometimes extreme. */
function randomTime(rng: Random): string {
  if (rng.chance(0.15)) return rng.pick(['0', '4294967295', '4294967296', '9007199254740993', '18446744073709551615']);
  return (1_700_000_000_000_000_000n + BigInt(rng.u32()) * 1000n + BigInt(rng.int(0, 999))).toString();
}

function later(rng: Random, start: string): string {
  if (rng.chance(0.1)) return randomTime(rng); // may be before start
  return BigInt.asUintN(64, BigInt(start) + BigInt(rng.int(0, 5_000_000_000))).toString();
}

/** An id of `n` bytes: mostly valid, sometimes the wrong length, all zeros or absent. */
function randomId(rng: Random, n: number, invalidRate: number): Uint8Array | undefined {
  if (!rng.chance(invalidRate)) {
    const id = rng.bytes(n);
    id[0] |= 1; // never all zeros by accident
    return id;
  }
  switch (rng.int(0, 3)) {
    case 0:
      return undefined;
    case 1:
      return new Uint8Array(n);
    case 2:
      return rng.bytes(n + rng.pick([-1, 1, n]));
    default:
      return new Uint8Array(0);
  }
}

function randomResource(rng: Random): Obj | undefined {
  if (rng.chance(0.1)) return undefined;
  const attributes = randomAttributes(rng, 2).filter((kv) => kv.key !== 'service.name');
  if (rng.chance(0.8)) {
    const value = rng.chance(0.85) ? { stringValue: rng.pick(['checkout', 'payments', 'orders', 'サービス', '']) } : randomAnyValue(rng, 1);
    attributes.splice(rng.int(0, attributes.length), 0, { key: 'service.name', value });
  }
  return { attributes, droppedAttributesCount: rng.int(0, 2) };
}

function randomScope(rng: Random): Obj | undefined {
  if (rng.chance(0.2)) return undefined;
  return { name: randomString(rng), version: '1.2.3', attributes: randomAttributes(rng, 1, 2) };
}

function repeat<T>(rng: Random, min: number, max: number, make: () => T): T[] {
  return Array.from({ length: rng.int(min, max) }, make);
}

// ---------------------------------------------------------------------------------------------
// traces

function randomSpan(rng: Random): Obj {
  const start = randomTime(rng);
  const span: Obj = {
    traceId: randomId(rng, 16, 0.1),
    spanId: randomId(rng, 8, 0.1),
    traceState: rng.chance(0.2) ? 'vendor=value' : '',
    name: randomString(rng),
    kind: rng.chance(0.05) ? rng.pick([7, -1]) : rng.int(0, 5),
    startTimeUnixNano: start,
    endTimeUnixNano: later(rng, start),
    attributes: randomAttributes(rng),
    droppedAttributesCount: rng.int(0, 3),
    // Events and links carry dimension keys too; the scanner must not pick them up.
    events: repeat(rng, 0, 2, () => ({ timeUnixNano: randomTime(rng), name: 'exception', attributes: randomAttributes(rng, 1, 4) })),
    links: repeat(rng, 0, 2, () => ({ traceId: rng.bytes(16), spanId: rng.bytes(8), attributes: randomAttributes(rng, 1, 4) })),
    flags: rng.int(0, 0x3ff),
  };
  if (rng.chance(0.6)) span.parentSpanId = rng.chance(0.1) ? new Uint8Array(0) : rng.bytes(8);
  if (rng.chance(0.8)) span.status = { code: rng.chance(0.05) ? 5 : rng.int(0, 2), message: rng.chance(0.3) ? 'boom' : '' };
  return span;
}

/** A random ExportTraceServiceRequest. */
export function generateTraceRequest(seed: number): Obj {
  const rng = new Random(seed);
  return {
    resourceSpans: repeat(rng, 0, 3, () => ({
      resource: randomResource(rng),
      scopeSpans: repeat(rng, 0, 3, () => ({ scope: randomScope(rng), spans: repeat(rng, 0, 5, () => randomSpan(rng)), schemaUrl: 'https://s' })),
      schemaUrl: rng.chance(0.5) ? 'https://opentelemetry.io/schemas/1.21.0' : '',
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// metrics

function pointBase(rng: Random): Obj {
  const start = randomTime(rng);
  return { attributes: randomAttributes(rng, 2, 4), startTimeUnixNano: start, timeUnixNano: later(rng, start), flags: rng.int(0, 1) };
}

const exemplars = (rng: Random): Obj[] =>
  repeat(rng, 0, 1, () => ({ filteredAttributes: randomAttributes(rng, 1, 2), timeUnixNano: randomTime(rng), asDouble: 1.5, spanId: rng.bytes(8), traceId: rng.bytes(16) }));

function numberPoint(rng: Random): Obj {
  const p = pointBase(rng);
  const r = rng.float();
  if (r < 0.45) p.asInt = randomInt64(rng);
  else if (r < 0.95) p.asDouble = randomDouble(rng);
  // else: no value at all, which the scanner rejects
  p.exemplars = exemplars(rng);
  return p;
}

/** Optional sum/min/max: each present or absent independently. */
function distribution(rng: Random, p: Obj): Obj {
  if (rng.chance(0.7)) p.sum = randomDouble(rng);
  if (rng.chance(0.5)) p.min = randomDouble(rng);
  if (rng.chance(0.5)) p.max = randomDouble(rng);
  return p;
}

function histogramPoint(rng: Random): Obj {
  const p = pointBase(rng);
  p.count = rng.chance(0.1) ? '18446744073709551615' : String(rng.int(0, 1e6));
  const bounds = repeat(rng, 0, 6, () => randomDouble(rng));
  p.explicitBounds = bounds;
  // bounds + 1 counts, none at all, or (rarely) a mismatch the scanner rejects.
  const n = rng.chance(0.1) ? 0 : rng.chance(0.05) ? bounds.length + 3 : bounds.length + 1;
  p.bucketCounts = Array.from({ length: n }, () => (rng.chance(0.05) ? rng.u64().toString() : String(rng.int(0, 1000))));
  p.exemplars = exemplars(rng);
  return distribution(rng, p);
}

function buckets(rng: Random): Obj {
  return { offset: rng.chance(0.5) ? -rng.int(0, 200) : rng.int(0, 200), bucketCounts: repeat(rng, 0, 6, () => (rng.chance(0.05) ? rng.u64().toString() : String(rng.int(0, 500)))) };
}

function expHistogramPoint(rng: Random): Obj {
  const p = pointBase(rng);
  p.count = String(rng.int(0, 1e6));
  p.scale = rng.int(-10, 20);
  p.zeroCount = String(rng.int(0, 100));
  if (rng.chance(0.5)) p.zeroThreshold = rng.pick([0, 1e-9, 0.5]);
  if (rng.chance(0.8)) p.positive = buckets(rng);
  if (rng.chance(0.6)) p.negative = buckets(rng);
  p.exemplars = exemplars(rng);
  return distribution(rng, p);
}

function summaryPoint(rng: Random): Obj {
  const p = pointBase(rng);
  p.count = String(rng.int(0, 1e6));
  if (rng.chance(0.8)) p.sum = randomDouble(rng);
  p.quantileValues = repeat(rng, 0, 4, () => ({ quantile: rng.pick([0, 0.5, 0.9, 0.99, 1]), value: randomDouble(rng) }));
  return p;
}

const temporality = (rng: Random): number => (rng.chance(0.05) ? 3 : rng.int(0, 2));

function randomMetric(rng: Random): Obj {
  const metric: Obj = {
    name: rng.chance(0.05) ? '' : rng.pick(['http.server.duration', 'queue.depth', 'jvm.memory.used', 'デプス', randomString(rng)]),
    description: rng.chance(0.5) ? 'a description' : '',
    unit: rng.pick(['', 'ms', 's', 'By', '{request}']),
  };
  if (rng.chance(0.1)) metric.metadata = randomAttributes(rng, 1, 2);
  const points = <T>(make: (rng: Random) => T): T[] => repeat(rng, 0, 4, () => make(rng));
  switch (rng.int(0, 5)) {
    case 0:
      metric.gauge = { dataPoints: points(numberPoint) };
      break;
    case 1:
      metric.sum = { dataPoints: points(numberPoint), aggregationTemporality: temporality(rng), isMonotonic: rng.chance(0.5) };
      break;
    case 2:
      metric.histogram = { dataPoints: points(histogramPoint), aggregationTemporality: temporality(rng) };
      break;
    case 3:
      metric.exponentialHistogram = { dataPoints: points(expHistogramPoint), aggregationTemporality: temporality(rng) };
      break;
    case 4:
      metric.summary = { dataPoints: points(summaryPoint) };
      break;
    default:
      if (rng.chance(0.5)) metric.sum = { dataPoints: points(numberPoint), aggregationTemporality: temporality(rng), isMonotonic: rng.chance(0.5) };
    // else: a metric with no data at all
  }
  return metric;
}

/** A random ExportMetricsServiceRequest. */
export function generateMetricRequest(seed: number): Obj {
  const rng = new Random(seed);
  return {
    resourceMetrics: repeat(rng, 0, 3, () => ({
      resource: randomResource(rng),
      scopeMetrics: repeat(rng, 0, 3, () => ({ scope: randomScope(rng), metrics: repeat(rng, 0, 4, () => randomMetric(rng)) })),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// logs

function randomLogRecord(rng: Random): Obj {
  const record: Obj = {
    timeUnixNano: randomTime(rng),
    observedTimeUnixNano: randomTime(rng),
    severityNumber: rng.int(0, 24),
    severityText: rng.pick(['', 'INFO', 'ERROR']),
    body: randomAnyValue(rng, 2),
    attributes: randomAttributes(rng, 2, 4),
    flags: rng.int(0, 1),
    eventName: rng.chance(0.2) ? 'session.start' : '',
  };
  // Logs need not belong to a trace: absent ids and all-zero ids are fine, wrong lengths are not.
  if (rng.chance(0.7)) record.traceId = rng.chance(0.1) ? rng.bytes(rng.pick([1, 15, 17, 32])) : rng.chance(0.1) ? new Uint8Array(16) : rng.bytes(16);
  if (rng.chance(0.7)) record.spanId = rng.chance(0.1) ? rng.bytes(rng.pick([1, 7, 9, 16])) : rng.bytes(8);
  return record;
}

/** A random ExportLogsServiceRequest. */
export function generateLogRequest(seed: number): Obj {
  const rng = new Random(seed);
  return {
    resourceLogs: repeat(rng, 0, 3, () => ({
      resource: randomResource(rng),
      scopeLogs: repeat(rng, 0, 3, () => ({ scope: randomScope(rng), logRecords: repeat(rng, 0, 5, () => randomLogRecord(rng)) })),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// encoding

function encodeWith(type: protobuf.Type, obj: Obj): Buffer {
  const u8 = type.encode(type.fromObject(obj)).finish();
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

export const encodeTraceRequest = (obj: Obj): Buffer => encodeWith(ExportTraceServiceRequest, obj);
export const encodeMetricRequest = (obj: Obj): Buffer => encodeWith(ExportMetricsServiceRequest, obj);
export const encodeLogRequest = (obj: Obj): Buffer => encodeWith(ExportLogsServiceRequest, obj);

// ---------------------------------------------------------------------------------------------
// byte-level rewrites (protobufjs always writes fields in field-number order, packed)

/** How {@link rewriteFields} re-arranges each message. */
export interface RewriteOptions {
  /** Field order: 'reverse' (highest field number first) or a PRNG to shuffle with. */
  order?: 'reverse' | Random;
  /** Write packed repeated scalars unpacked, one tag per element. */
  unpack?: boolean;
}

const WIDTH: Record<string, number> = { fixed64: 8, sfixed64: 8, double: 8, fixed32: 4, sfixed32: 4, float: 4 };
const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);

function tagAndLength(no: number, wt: number, len?: number): Uint8Array {
  const w = protobuf.Writer.create().uint32((no << 3) | wt);
  if (len !== undefined) w.uint32(len);
  return w.finish();
}

/** Splits a packed payload into unpacked fields, or returns null for non-scalar fields. */
function unpacked(no: number, field: protobuf.Field, payload: Uint8Array): Uint8Array[] | null {
  const width = WIDTH[field.type];
  const out: Uint8Array[] = [];
  if (width !== undefined) {
    const tag = tagAndLength(no, width === 8 ? 1 : 5);
    for (let i = 0; i < payload.length; i += width) out.push(tag, payload.subarray(i, i + width));
    return out;
  }
  if (VARINT_TYPES.has(field.type) || field.resolvedType instanceof protobuf.Enum) {
    const tag = tagAndLength(no, 0);
    let start = 0;
    for (let i = 0; i < payload.length; i++) {
      if (payload[i] < 0x80) {
        out.push(tag, payload.subarray(start, i + 1));
        start = i + 1;
      }
    }
    return out;
  }
  return null;
}

/**
 * Re-encodes `bytes` (a message of `type`) with every message, at every depth, writing its
 * fields in a different order and/or repeated scalars unpacked. Occurrences of one field
 * number keep their relative order, so repeated fields decode to the same lists: the result
 * decodes (with protobufjs) to exactly the same message.
 */
export function rewriteFields(type: protobuf.Type, bytes: Uint8Array, options: RewriteOptions): Buffer {
  const reader = protobuf.Reader.create(bytes);
  const byField = new Map<number, Uint8Array[]>();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    const field = type.fieldsById[no];
    let chunks: Uint8Array[] | null = null;
    if (wt === 2 && field !== undefined) {
      const payload = reader.bytes();
      if (field.resolvedType instanceof protobuf.Type) {
        const inner = rewriteFields(field.resolvedType, payload, options);
        chunks = [tagAndLength(no, 2, inner.length), inner];
      } else if (options.unpack && field.repeated) {
        chunks = unpacked(no, field, payload);
      }
    } else {
      reader.skipType(wt);
    }
    chunks ??= [bytes.subarray(start, reader.pos)];
    const list = byField.get(no);
    if (list === undefined) byField.set(no, chunks);
    else list.push(...chunks);
  }
  const order = [...byField.keys()];
  if (options.order === 'reverse') order.sort((a, b) => b - a);
  else if (options.order !== undefined) options.order.shuffle(order);
  return Buffer.concat(order.flatMap((no) => byField.get(no) ?? []));
}

// ---------------------------------------------------------------------------------------------
// reference rendering and batch snapshots: plain rows that toEqual can compare and print

/**
 * The documented rendering of an AnyValue, computed from a protobufjs-decoded message:
 * strings as they are, booleans true/false, integers in exact decimal, doubles as String(d),
 * bytes as base64; arrays, kvlists and an unset value as "".
 */
export function renderAnyValue(v: Obj | null | undefined): string {
  switch (v?.value) {
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue ? 'true' : 'false';
    case 'intValue':
      return v.intValue.toString(); // a signed Long: exact
    case 'doubleValue':
      return String(v.doubleValue);
    case 'bytesValue':
      return Buffer.from(v.bytesValue).toString('base64');
    default:
      return '';
  }
}

/** The value of the last `key` in a decoded KeyValue list, rendered; undefined when absent. */
export function lookupAttribute(attrs: readonly Obj[] | null | undefined, key: string): string | undefined {
  let out: string | undefined;
  for (const kv of attrs ?? []) if (kv.key === key) out = renderAnyValue(kv.value);
  return out;
}

/** A decoded 64-bit Long (either signedness) as its unsigned 64-bit value. */
export function u64(long: Obj): bigint {
  return (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0);
}

/** Everything a {@link SpanBatch} says about one span, ids as hex. */
export interface SpanRow {
  serviceName: string;
  name: string;
  kind: number;
  statusCode: number;
  startHi: number;
  startLo: number;
  endHi: number;
  endLo: number;
  durationNs: number;
  traceId: string;
  spanId: string;
  isRoot: boolean;
  dims: string[];
}

export function spanRows(batch: SpanBatch): SpanRow[] {
  const rows: SpanRow[] = [];
  for (let i = 0; i < batch.length; i++) {
    const s = batch.spans[i];
    rows.push({
      serviceName: s.serviceName, name: s.name, kind: s.kind, statusCode: s.statusCode,
      startHi: s.startHi, startLo: s.startLo, endHi: s.endHi, endLo: s.endLo, durationNs: s.durationNs,
      traceId: batch.traceIdHex(i), spanId: batch.spanIdHex(i), isRoot: s.isRoot, dims: [...s.dims],
    });
  }
  return rows;
}

/** Everything a {@link PointBatch} says about one data point. */
export interface PointRow {
  serviceName: string;
  metricName: string;
  unit: string;
  type: number;
  temporality: number;
  monotonic: boolean;
  startHi: number;
  startLo: number;
  timeHi: number;
  timeLo: number;
  flags: number;
  attrs: string[];
  value: number;
  isInt: boolean;
  count: number;
  sum: number;
  hasSum: boolean;
  min: number;
  hasMin: boolean;
  max: number;
  hasMax: boolean;
  bucketCounts: number[];
  explicitBounds: number[];
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  positiveOffset: number;
  positiveCounts: number[];
  negativeOffset: number;
  negativeCounts: number[];
  quantiles: number[];
  quantileValues: number[];
}

export function pointRows(batch: PointBatch): PointRow[] {
  const rows: PointRow[] = [];
  for (let i = 0; i < batch.length; i++) {
    const p = batch.points[i];
    rows.push({
      serviceName: p.serviceName, metricName: p.metricName, unit: p.unit, type: p.type,
      temporality: p.temporality, monotonic: p.monotonic,
      startHi: p.startHi, startLo: p.startLo, timeHi: p.timeHi, timeLo: p.timeLo, flags: p.flags,
      attrs: [...p.attrs], value: p.value, isInt: p.isInt, count: p.count,
      sum: p.sum, hasSum: p.hasSum, min: p.min, hasMin: p.hasMin, max: p.max, hasMax: p.hasMax,
      bucketCounts: [...p.bucketCounts], explicitBounds: [...p.explicitBounds],
      scale: p.scale, zeroCount: p.zeroCount, zeroThreshold: p.zeroThreshold,
      positiveOffset: p.positiveOffset, positiveCounts: [...p.positiveCounts],
      negativeOffset: p.negativeOffset, negativeCounts: [...p.negativeCounts],
      quantiles: [...p.quantiles], quantileValues: [...p.quantileValues],
    });
  }
  return rows;
}
