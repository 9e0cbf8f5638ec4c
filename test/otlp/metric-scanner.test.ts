/**
 * MetricScanner against a full protobufjs decode of the same bytes, data point by data point,
 * for all five metric types; also with fields out of order and repeated scalars unpacked.
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { MetricType, PointBatch } from '../../src/otlp/batch.js';
import { MetricScanner } from '../../src/otlp/metric-scanner.js';
import {
  Random,
  encodeMetricRequest,
  generateMetricRequest,
  lookupAttribute,
  pointRows,
  renderAnyValue,
  rewriteFields,
  type Obj,
  type PointRow,
  type RewriteOptions,
} from '../support/generate.js';
import { ExportMetricsServiceRequest, otlpRoot } from '../support/otlp-proto.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);
const TYPES: Record<string, number> = {
  gauge: MetricType.GAUGE,
  sum: MetricType.SUM,
  histogram: MetricType.HISTOGRAM,
  exponentialHistogram: MetricType.EXPONENTIAL_HISTOGRAM,
  summary: MetricType.SUMMARY,
};

interface Outcome {
  rows: PointRow[];
  rejected: number;
}

const has = (o: Obj, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);
const numbers = (longs: Obj[]): number[] => longs.map((l) => l.toNumber());

/** A row with every field at the value the scanner leaves when the wire has nothing. */
function blank(): PointRow {
  return {
    serviceName: '', metricName: '', unit: '', type: 0, temporality: 0, monotonic: false,
    startHi: 0, startLo: 0, timeHi: 0, timeLo: 0, flags: 0, attrs: [], value: 0, isInt: false,
    count: 0, sum: 0, hasSum: false, min: 0, hasMin: false, max: 0, hasMax: false,
    bucketCounts: [], explicitBounds: [], scale: 0, zeroCount: 0, zeroThreshold: 0,
    positiveOffset: 0, positiveCounts: [], negativeOffset: 0, negativeCounts: [], quantiles: [], quantileValues: [],
  };
}

/** Fills the type-specific fields of `row` from decoded point `dp`; returns false if unusable. */
function fillPoint(row: PointRow, dp: Obj): boolean {
  if (row.type === MetricType.GAUGE || row.type === MetricType.SUM) {
    // No value is only usable on a point flagged NO_RECORDED_VALUE.
    if (dp.value === undefined) return ((dp.flags ?? 0) & 1) === 1;
    row.isInt = dp.value === 'asInt';
    row.value = row.isInt ? dp.asInt.toNumber() : dp.asDouble;
    return true;
  }
  row.count = dp.count.toNumber();
  if (has(dp, 'sum')) Object.assign(row, { sum: dp.sum, hasSum: true });
  if (has(dp, 'min')) Object.assign(row, { min: dp.min, hasMin: true });
  if (has(dp, 'max')) Object.assign(row, { max: dp.max, hasMax: true });
  if (row.type === MetricType.HISTOGRAM) {
    row.bucketCounts = numbers(dp.bucketCounts);
    row.explicitBounds = [...dp.explicitBounds];
    return row.bucketCounts.length === 0 || row.bucketCounts.length === row.explicitBounds.length + 1;
  }
  if (row.type === MetricType.EXPONENTIAL_HISTOGRAM) {
    row.scale = dp.scale;
    row.zeroCount = dp.zeroCount.toNumber();
    row.zeroThreshold = dp.zeroThreshold;
    row.positiveOffset = dp.positive?.offset ?? 0;
    row.positiveCounts = numbers(dp.positive?.bucketCounts ?? []);
    row.negativeOffset = dp.negative?.offset ?? 0;
    row.negativeCounts = numbers(dp.negative?.bucketCounts ?? []);
    return true;
  }
  row.quantiles = dp.quantileValues.map((q: Obj) => q.quantile);
  row.quantileValues = dp.quantileValues.map((q: Obj) => q.value);
  return true;
}

/** What the scanner must report, read from a full protobufjs decode of `bytes`. */
function expected(bytes: Buffer): Outcome {
  const req = ExportMetricsServiceRequest.decode(bytes) as Obj;
  const rows: PointRow[] = [];
  let rejected = 0;
  for (const rm of req.resourceMetrics) {
    const serviceName = lookupAttribute(rm.resource?.attributes, 'service.name') ?? '';
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        if (m.data === undefined) continue;
        const data = m[m.data];
        const type = TYPES[m.data];
        if (m.name === '') {
          rejected += data.dataPoints.length;
          continue;
        }
        for (const dp of data.dataPoints) {
          const row = blank();
          Object.assign(row, {
            serviceName, metricName: m.name, unit: m.unit, type,
            temporality: type === MetricType.GAUGE || type === MetricType.SUMMARY ? 0 : data.aggregationTemporality,
            monotonic: type === MetricType.SUM && data.isMonotonic,
            startHi: dp.startTimeUnixNano.high >>> 0, startLo: dp.startTimeUnixNano.low >>> 0,
            timeHi: dp.timeUnixNano.high >>> 0, timeLo: dp.timeUnixNano.low >>> 0,
            flags: dp.flags,
            attrs: dp.attributes.flatMap((kv: Obj) => [kv.key, renderAnyValue(kv.value)]),
          });
          if (fillPoint(row, dp)) rows.push(row);
          else rejected++;
        }
      }
    }
  }
  return { rows, rejected };
}

// Shared across all cases: pooled points and their arrays are reused between requests.
const scanner = new MetricScanner();
const batch = new PointBatch();

function scan(bytes: Buffer): Outcome {
  scanner.scan(bytes, batch);
  return { rows: pointRows(batch), rejected: batch.rejected };
}

function checkSeeds(options?: (seed: number) => RewriteOptions): Outcome[] {
  const outcomes: Outcome[] = [];
  let changed = 0;
  for (const seed of SEEDS) {
    const original = encodeMetricRequest(generateMetricRequest(seed));
    const bytes = options ? rewriteFields(ExportMetricsServiceRequest, original, options(seed)) : original;
    if (!bytes.equals(original)) changed++;
    const want = expected(bytes);
    expect(scan(bytes), `seed ${seed}`).toEqual(want);
    outcomes.push(want);
  }
  if (options) expect(changed).toBeGreaterThan(SEEDS.length / 2);
  return outcomes;
}

describe('MetricScanner', () => {
  it('agrees with protobufjs on every data point of 200 generated requests', () => {
    const outcomes = checkSeeds();
    const rows = outcomes.flatMap((o) => o.rows);
    expect(rows.length).toBeGreaterThan(800);
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(new Set(rows.map((r) => r.temporality))).toEqual(new Set([0, 1, 2, 3]));
    expect(rows.some((r) => r.isInt && r.value < 0)).toBe(true);
    expect(rows.some((r) => r.isInt && Math.abs(r.value) > 2 ** 53)).toBe(true);
    expect(rows.some((r) => r.type === MetricType.HISTOGRAM && r.hasSum && !r.hasMin)).toBe(true);
    expect(rows.some((r) => r.negativeOffset < 0 && r.negativeCounts.length > 0)).toBe(true);
    expect(rows.some((r) => r.positiveCounts.some((c) => c > 2 ** 63))).toBe(true);
    expect(rows.some((r) => r.quantiles.length > 0)).toBe(true);
    expect(outcomes.reduce((n, o) => n + o.rejected, 0)).toBeGreaterThan(20);
  });

  it('agrees with protobufjs when every message writes its fields in reverse order', () => {
    // Sum: is_monotonic and temporality before data_points; points: flags before values, ...
    checkSeeds(() => ({ order: 'reverse' }));
  });

  it('agrees with protobufjs when repeated scalars are written unpacked', () => {
    checkSeeds(() => ({ unpack: true }));
  });

  it('agrees with protobufjs when fields are shuffled and unpacked', () => {
    checkSeeds((seed) => ({ order: new Random(seed ^ 0xbeef), unpack: true }));
  });

  it('reads temporality and monotonicity written after the data points', () => {
    const points = encodeAs('opentelemetry.proto.metrics.v1.Sum', { dataPoints: [{ asInt: '5' }, { asDouble: 2.5 }] });
    const flags = encodeAs('opentelemetry.proto.metrics.v1.Sum', { aggregationTemporality: 1, isMonotonic: true });
    const metric = Buffer.concat([lenField(7, Buffer.concat([points, flags])), encodeAs('opentelemetry.proto.metrics.v1.Metric', { name: 'requests' })]);
    const request = lenField(1, lenField(2, lenField(2, metric)));
    const got = scan(request);
    expect(got).toEqual(expected(request));
    expect(got.rows).toMatchObject([
      { metricName: 'requests', type: MetricType.SUM, temporality: 1, monotonic: true, value: 5, isInt: true },
      { metricName: 'requests', type: MetricType.SUM, temporality: 1, monotonic: true, value: 2.5, isInt: false },
    ]);
  });

  it('appends unpacked elements to packed ones of the same field', () => {
    const HDP = 'opentelemetry.proto.metrics.v1.HistogramDataPoint';
    const packed = encodeAs(HDP, { bucketCounts: ['1', '2'], explicitBounds: [10] });
    const unpacked = rewriteFields(otlpRoot.lookupType(HDP), encodeAs(HDP, { bucketCounts: ['3'], explicitBounds: [20] }), { unpack: true });
    const request = lenField(1, lenField(2, lenField(2, Buffer.concat([encodeAs('opentelemetry.proto.metrics.v1.Metric', { name: 'h' }), lenField(9, lenField(1, Buffer.concat([packed, unpacked])))]))));
    const got = scan(request);
    expect(got).toEqual(expected(request));
    expect(got.rows[0]).toMatchObject({ bucketCounts: [1, 2, 3], explicitBounds: [10, 20] });
  });

  it('keeps as_int exact where a double can hold it, negative values included', () => {
    const values = ['-1', '-2', '-4294967296', '-9007199254740991', '9007199254740991', '-9223372036854775808', '9223372036854775807'];
    const got = scan(encodeMetricRequest({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: values.map((asInt) => ({ asInt })) } }] }] }],
    }));
    expect(got.rows.map((r) => r.value)).toEqual(values.map(Number));
  });

  it('rejects points it cannot use, counting them and keeping the first reason', () => {
    const got = scan(encodeMetricRequest({
      resourceMetrics: [{
        scopeMetrics: [{
          metrics: [
            { name: 'g', gauge: { dataPoints: [{ asDouble: 1 }, { timeUnixNano: '5' }] } },
            { name: '', sum: { dataPoints: [{ asInt: '1' }, { asInt: '2' }] } },
            { name: 'h', histogram: { dataPoints: [{ bucketCounts: ['1', '2'], explicitBounds: [1, 2] }, { bucketCounts: [], explicitBounds: [1] }] } },
          ],
        }],
      }],
    }));
    expect(got.rows.map((r) => r.metricName)).toEqual(['g', 'h']);
    expect(got.rejected).toBe(4);
    expect(batch.rejectReason).toBe('number data point has no value');
  });

  it('accepts a value-less point flagged NO_RECORDED_VALUE (a gap, valid per the spec)', () => {
    const got = scan(encodeMetricRequest({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ asDouble: 1 }, { timeUnixNano: '5', flags: 1 }] } }] }] }],
    }));
    expect(got.rejected).toBe(0);
    expect(got.rows).toHaveLength(2);
    expect(batch.points[1].flags & 1).toBe(1);
  });
});

function encodeAs(typeName: string, obj: Obj): Buffer {
  const type = otlpRoot.lookupType(typeName);
  return Buffer.from(type.encode(type.fromObject(obj)).finish());
}

/** A length-delimited field: tag, length, payload. */
function lenField(no: number, payload: Buffer): Buffer {
  return Buffer.concat([protobuf.Writer.create().uint32((no << 3) | 2).uint32(payload.length).finish(), payload]);
}
