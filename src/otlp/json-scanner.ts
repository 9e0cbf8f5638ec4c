/**
 * Maps OTLP-JSON (the protobuf JSON mapping with OTLP's exceptions: trace and span ids as
 * hex, enums as integers, lowerCamelCase keys) onto the same batches the wire scanners fill,
 * so everything after the decoder is blind to the encoding.
 *
 * JSON.parse already builds objects, so this path is not allocation-free; it is the slow
 * path by nature and the binary path is the one to use at volume. Unknown fields are ignored;
 * a field set to null counts as absent, as the protobuf JSON mapping says.
 */
import { LogBatch, MetricType, PointBatch, ScannedPoint, SpanBatch } from './batch.js';
import { FLAG_NO_RECORDED_VALUE } from './metric-scanner.js';

/** Raised for JSON that is not an OTLP export request. */
export class JsonShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonShapeError';
  }
}

type Json = Record<string, unknown>;

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
const TEMPORALITIES: Record<string, number> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};
const HEX = /^[0-9a-fA-F]*$/;
const MASK32 = 0xffffffffn;

function parse(body: Buffer): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new JsonShapeError(`invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new JsonShapeError('request body is not a JSON object');
  return doc;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Elements of a repeated message field; absent or null means empty. */
function list(o: Json, key: string, path: string): Json[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new JsonShapeError(`${path}.${key} must be an array`);
  for (const e of v) if (!isObject(e)) throw new JsonShapeError(`${path}.${key} must hold objects`);
  return v as Json[];
}

function obj(o: Json, key: string, path: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new JsonShapeError(`${path}.${key} must be an object`);
  return v;
}

function str(o: Json, key: string, path: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new JsonShapeError(`${path}.${key} must be a string`);
  return v;
}

function enumValue(o: Json, key: string, names: Record<string, number>, path: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && v in names) return names[v];
  throw new JsonShapeError(`${path}.${key} must be an enum integer`);
}

/** int64/uint64 given as a number or a decimal string, as a BigInt. */
function int64(o: Json, key: string, path: string): bigint {
  const v = o[key];
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new JsonShapeError(`${path}.${key} must be an integer or a decimal string`);
}

function num(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  throw new JsonShapeError(`${path} must be a number`);
}

/** Renders an AnyValue like the wire path does (see attributes.ts). */
function anyValueString(v: unknown): string {
  if (!isObject(v)) return '';
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue ? 'true' : 'false';
  if (v.intValue != null) return typeof v.intValue === 'string' ? BigInt(v.intValue).toString() : String(v.intValue);
  if (v.doubleValue != null) return String(num(v.doubleValue, 'doubleValue'));
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  return '';
}

/** The last attribute with `key` wins, as on the wire path. */
function attribute(attrs: Json[], key: string): string | undefined {
  let out: string | undefined;
  for (const kv of attrs) if (kv.key === key) out = anyValueString(kv.value);
  return out;
}

/** Fills `batch` from an OTLP-JSON ExportTraceServiceRequest. */
export function scanTracesJson(body: Buffer, batch: SpanBatch, dimensions: readonly string[] = []): void {
  const doc = parse(body);
  const resourceSpans = list(doc, 'resourceSpans', 'request');
  let count = 0;
  for (const rs of resourceSpans) for (const ss of list(rs, 'scopeSpans', 'resourceSpans')) count += list(ss, 'spans', 'scopeSpans').length;
  // Ids are decoded into one side buffer so spans can point at them like on the wire path.
  const ids = Buffer.alloc(count * 24);
  batch.reset(ids);
  let idPos = 0;
  for (const rs of resourceSpans) {
    const resAttrs = list(obj(rs, 'resource', 'resourceSpans') ?? {}, 'attributes', 'resource');
    const service = attribute(resAttrs, 'service.name') ?? '';
    const resDims = dimensions.map((d) => attribute(resAttrs, d) ?? '');
    for (const ss of list(rs, 'scopeSpans', 'resourceSpans')) {
      for (const sp of list(ss, 'spans', 'scopeSpans')) {
        const s = batch.next(dimensions.length);
        const attrs = list(sp, 'attributes', 'span');
        s.serviceName = service;
        s.name = str(sp, 'name', 'span');
        s.kind = enumValue(sp, 'kind', SPAN_KINDS, 'span');
        s.statusCode = enumValue(obj(sp, 'status', 'span') ?? {}, 'code', STATUS_CODES, 'span.status');
        const start = int64(sp, 'startTimeUnixNano', 'span');
        const end = int64(sp, 'endTimeUnixNano', 'span');
        s.startHi = Number((start >> 32n) & MASK32);
        s.startLo = Number(start & MASK32);
        s.endHi = Number((end >> 32n) & MASK32);
        s.endLo = Number(end & MASK32);
        s.durationNs = Number(end - start);
        s.isRoot = str(sp, 'parentSpanId', 'span') === '';
        for (let i = 0; i < dimensions.length; i++) s.dims[i] = attribute(attrs, dimensions[i]) ?? resDims[i];
        s.traceIdOffset = idPos;
        s.spanIdOffset = idPos + 16;
        const traceId = str(sp, 'traceId', 'span');
        const spanId = str(sp, 'spanId', 'span');
        const problem = idProblem(traceId, 'trace_id', 16) ?? idProblem(spanId, 'span_id', 8);
        if (problem !== null) {
          batch.dropLast(problem);
          continue;
        }
        ids.write(traceId, idPos, 16, 'hex');
        ids.write(spanId, idPos + 16, 8, 'hex');
        idPos += 24;
      }
    }
  }
}

function idProblem(hex: string, name: string, bytes: number): string | null {
  if (!HEX.test(hex)) return `${name} is not hex`;
  if (hex.length !== bytes * 2) return `invalid ${name} length ${hex.length / 2} (want ${bytes} bytes)`;
  if (/^0+$/.test(hex)) return `${name} is all zeros`;
  return null;
}

/** Fills `batch` from an OTLP-JSON ExportMetricsServiceRequest. */
export function scanMetricsJson(body: Buffer, batch: PointBatch): void {
  const doc = parse(body);
  batch.reset();
  for (const rm of list(doc, 'resourceMetrics', 'request')) {
    const service = attribute(list(obj(rm, 'resource', 'resourceMetrics') ?? {}, 'attributes', 'resource'), 'service.name') ?? '';
    for (const sm of list(rm, 'scopeMetrics', 'resourceMetrics')) {
      for (const m of list(sm, 'metrics', 'scopeMetrics')) metricJson(m, service, batch);
    }
  }
}

const DATA_KEYS: Array<[string, number]> = [
  ['gauge', MetricType.GAUGE], ['sum', MetricType.SUM], ['histogram', MetricType.HISTOGRAM],
  ['exponentialHistogram', MetricType.EXPONENTIAL_HISTOGRAM], ['summary', MetricType.SUMMARY],
];

function metricJson(m: Json, service: string, batch: PointBatch): void {
  const name = str(m, 'name', 'metric');
  let data: Json | undefined;
  let type = 0;
  for (const [key, t] of DATA_KEYS) {
    const d = obj(m, key, 'metric');
    if (d !== undefined) {
      data = d;
      type = t;
    }
  }
  if (data === undefined) return;
  const points = list(data, 'dataPoints', 'metric');
  if (name === '') {
    if (points.length > 0) batch.reject(points.length, 'metric name is empty');
    return;
  }
  const temporality = enumValue(data, 'aggregationTemporality', TEMPORALITIES, 'metric');
  const monotonic = data.isMonotonic === true;
  for (const dp of points) {
    const p = batch.next();
    p.serviceName = service;
    p.metricName = name;
    p.unit = str(m, 'unit', 'metric');
    p.type = type;
    p.temporality = type === MetricType.GAUGE || type === MetricType.SUMMARY ? 0 : temporality;
    p.monotonic = type === MetricType.SUM && monotonic;
    const problem = pointJson(dp, p);
    if (problem !== null) batch.dropLast(problem);
  }
}

function pointJson(dp: Json, p: ScannedPoint): string | null {
  for (const kv of list(dp, 'attributes', 'dataPoint')) p.attrs.push(typeof kv.key === 'string' ? kv.key : '', anyValueString(kv.value));
  const start = int64(dp, 'startTimeUnixNano', 'dataPoint');
  const time = int64(dp, 'timeUnixNano', 'dataPoint');
  p.startHi = Number((start >> 32n) & MASK32);
  p.startLo = Number(start & MASK32);
  p.timeHi = Number((time >> 32n) & MASK32);
  p.timeLo = Number(time & MASK32);
  p.flags = Number(int64(dp, 'flags', 'dataPoint'));
  const type = p.type;
  if (type === MetricType.GAUGE || type === MetricType.SUM) {
    if (dp.asInt !== undefined && dp.asInt !== null) {
      p.value = Number(int64(dp, 'asInt', 'dataPoint'));
      p.isInt = true;
    } else if (dp.asDouble !== undefined && dp.asDouble !== null) {
      p.value = num(dp.asDouble, 'dataPoint.asDouble');
    } else if ((p.flags & FLAG_NO_RECORDED_VALUE) === 0) return 'number data point has no value';
    return null;
  }
  p.count = Number(int64(dp, 'count', 'dataPoint'));
  if (dp.sum !== undefined && dp.sum !== null) {
    p.sum = num(dp.sum, 'dataPoint.sum');
    p.hasSum = true;
  }
  if (dp.min !== undefined && dp.min !== null) {
    p.min = num(dp.min, 'dataPoint.min');
    p.hasMin = true;
  }
  if (dp.max !== undefined && dp.max !== null) {
    p.max = num(dp.max, 'dataPoint.max');
    p.hasMax = true;
  }
  if (type === MetricType.HISTOGRAM) {
    for (const c of numbers(dp, 'bucketCounts')) p.bucketCounts.push(c);
    for (const b of numbers(dp, 'explicitBounds')) p.explicitBounds.push(b);
    if (p.bucketCounts.length > 0 && p.bucketCounts.length !== p.explicitBounds.length + 1) {
      return `histogram has ${p.bucketCounts.length} bucket counts for ${p.explicitBounds.length} bounds (want bounds + 1)`;
    }
  } else if (type === MetricType.EXPONENTIAL_HISTOGRAM) {
    p.scale = Number(int64(dp, 'scale', 'dataPoint'));
    p.zeroCount = Number(int64(dp, 'zeroCount', 'dataPoint'));
    p.zeroThreshold = dp.zeroThreshold == null ? 0 : num(dp.zeroThreshold, 'dataPoint.zeroThreshold');
    const pos = obj(dp, 'positive', 'dataPoint');
    const neg = obj(dp, 'negative', 'dataPoint');
    if (pos) {
      p.positiveOffset = Number(int64(pos, 'offset', 'positive'));
      for (const c of numbers(pos, 'bucketCounts')) p.positiveCounts.push(c);
    }
    if (neg) {
      p.negativeOffset = Number(int64(neg, 'offset', 'negative'));
      for (const c of numbers(neg, 'bucketCounts')) p.negativeCounts.push(c);
    }
  } else {
    for (const q of list(dp, 'quantileValues', 'dataPoint')) {
      p.quantiles.push(q.quantile == null ? 0 : num(q.quantile, 'quantile'));
      p.quantileValues.push(q.value == null ? 0 : num(q.value, 'value'));
    }
  }
  return null;
}

function numbers(o: Json, key: string): number[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new JsonShapeError(`${key} must be an array`);
  return v.map((x) => num(x, key));
}

/** Counts the records of an OTLP-JSON ExportLogsServiceRequest. */
export function scanLogsJson(body: Buffer, batch: LogBatch): void {
  const doc = parse(body);
  batch.reset();
  for (const rl of list(doc, 'resourceLogs', 'request')) {
    for (const sl of list(rl, 'scopeLogs', 'resourceLogs')) {
      for (const lr of list(sl, 'logRecords', 'scopeLogs')) {
        const traceId = str(lr, 'traceId', 'logRecord');
        const spanId = str(lr, 'spanId', 'logRecord');
        if (traceId !== '' && (traceId.length !== 32 || !HEX.test(traceId))) batch.reject(1, 'invalid trace_id (want 16 bytes as hex)');
        else if (spanId !== '' && (spanId.length !== 16 || !HEX.test(spanId))) batch.reject(1, 'invalid span_id (want 8 bytes as hex)');
        else batch.length++;
      }
    }
  }
}
