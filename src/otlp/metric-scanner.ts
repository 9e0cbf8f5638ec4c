/**
 * Scans ExportMetricsServiceRequest bytes into a {@link PointBatch}.
 *
 * Field numbers (opentelemetry/proto/metrics/v1/metrics.proto):
 *   ResourceMetrics: resource = 1, scope_metrics = 2;  ScopeMetrics: metrics = 2
 *   Metric: name = 1, unit = 3, gauge = 5, sum = 7, histogram = 9, exponential_histogram = 10,
 *           summary = 11
 *   Sum/Histogram/ExponentialHistogram: data_points = 1, aggregation_temporality = 2;
 *   Sum: is_monotonic = 3
 *   NumberDataPoint: start = 2, time = 3, as_double = 4, as_int = 6 (sfixed64), attributes = 7, flags = 8
 *   HistogramDataPoint: start = 2, time = 3, count = 4, sum = 5, bucket_counts = 6,
 *           explicit_bounds = 7, attributes = 9, flags = 10, min = 11, max = 12
 *   ExponentialHistogramDataPoint: attributes = 1, start = 2, time = 3, count = 4, sum = 5,
 *           scale = 6 (sint32), zero_count = 7, positive = 8, negative = 9, flags = 10, min = 12,
 *           max = 13, zero_threshold = 14;  Buckets: offset = 1 (sint32), bucket_counts = 2 (uint64)
 *   SummaryDataPoint: start = 2, time = 3, count = 4, sum = 5, quantile_values = 6,
 *           attributes = 7, flags = 8;  ValueAtQuantile: quantile = 1, value = 2
 */
import { KeySet, readKeyValue } from './attributes.js';
import { MetricType, PointBatch, ScannedPoint } from './batch.js';
import { StringInterner } from './interner.js';
import { WireError, WireReader, WireType, readTag } from './wire.js';

/** DataPointFlags.FLAG_NO_RECORDED_VALUE. */
export const FLAG_NO_RECORDED_VALUE = 1;

const SERVICE_NAME = new KeySet(['service.name']);

/** Field number of the data point's attributes, per point message type. */
const ATTRIBUTES_FIELD = [0, 7, 7, 9, 1, 7];

/** Reusable metric scanner. Not re-entrant. */
export class MetricScanner {
  private readonly r = new WireReader(Buffer.alloc(0));
  private readonly interner: StringInterner;
  private readonly kv = { key: '', value: '' };
  private serviceName = '';
  private metricName = '';
  private unit = '';

  constructor(options: { interner?: StringInterner } = {}) {
    this.interner = options.interner ?? new StringInterner();
  }

  /** Fills `batch` from `buf`; throws WireError for malformed input. */
  scan(buf: Buffer, batch: PointBatch): void {
    const r = this.r;
    r.reset(buf);
    batch.reset();
    this.forEach(r.end, 1, 'ExportMetricsServiceRequest.resource_metrics', (e) => this.resourceMetrics(e, batch));
  }

  /** Calls `fn(end)` for each length-delimited occurrence of `field` in `[r.pos, end)`. */
  private forEach(end: number, field: number, name: string, fn: (end: number) => void): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    while (r.pos < end) {
      const tag = readTag(r);
      if (tag >>> 3 === field) {
        r.expect(tag & 7, WireType.LEN, name);
        const e = r.readLengthEnd();
        fn(e);
        r.pos = e;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
    r.end = outerEnd;
  }

  private resourceMetrics(end: number, batch: PointBatch): void {
    const r = this.r;
    const start = r.pos;
    this.serviceName = '';
    this.forEach(end, 1, 'ResourceMetrics.resource', (e) =>
      this.forEach(e, 1, 'Resource.attributes', (kvEnd) => {
        if (readKeyValue(r, kvEnd, SERVICE_NAME, this.interner, this.kv) === 0) this.serviceName = this.kv.value;
      }),
    );
    r.pos = start;
    this.forEach(end, 2, 'ResourceMetrics.scope_metrics', (e) =>
      this.forEach(e, 2, 'ScopeMetrics.metrics', (me) => this.metric(me, batch)),
    );
  }

  private metric(end: number, batch: PointBatch): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    this.metricName = '';
    this.unit = '';
    let dataField = 0;
    let dataStart = 0;
    let dataEnd = 0;
    while (r.pos < end) {
      const tag = readTag(r);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 || field === 3) {
        r.expect(wt, WireType.LEN, field === 1 ? 'Metric.name' : 'Metric.unit');
        const e = r.readLengthEnd();
        const s = this.interner.intern(r.buf, r.pos, e);
        if (field === 1) this.metricName = s;
        else this.unit = s;
        r.pos = e;
      } else if (field === 5 || field === 7 || field === 9 || field === 10 || field === 11) {
        r.expect(wt, WireType.LEN, 'Metric.data');
        dataEnd = r.readLengthEnd();
        dataStart = r.pos;
        dataField = field;
        r.pos = dataEnd;
      } else {
        r.skip(wt, field);
      }
    }
    r.end = outerEnd;
    if (dataField === 0) return;
    const type = dataField === 5 ? MetricType.GAUGE : dataField === 7 ? MetricType.SUM : dataField === 9 ? MetricType.HISTOGRAM : dataField === 10 ? MetricType.EXPONENTIAL_HISTOGRAM : MetricType.SUMMARY;
    r.pos = dataStart;
    this.data(type, dataEnd, batch);
  }

  private data(type: number, end: number, batch: PointBatch): void {
    const r = this.r;
    const start = r.pos;
    const outerEnd = r.end;
    r.end = end;
    let temporality = 0;
    let monotonic = false;
    let points = 0;
    // Pass 1: the type-level fields, which may follow the points.
    while (r.pos < end) {
      const tag = readTag(r);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 2 && type !== MetricType.GAUGE && type !== MetricType.SUMMARY) {
        r.expect(wt, WireType.VARINT, 'aggregation_temporality');
        temporality = r.readUint32() | 0;
      } else if (field === 3 && type === MetricType.SUM) {
        r.expect(wt, WireType.VARINT, 'Sum.is_monotonic');
        monotonic = r.readUint32() !== 0;
      } else {
        if (field === 1) points++;
        r.skip(wt, field);
      }
    }
    r.end = outerEnd;
    r.pos = start;
    if (this.metricName === '') {
      if (points > 0) batch.reject(points, 'metric name is empty');
      return;
    }
    this.forEach(end, 1, 'data_points', (pe) => {
      const p = batch.next();
      p.serviceName = this.serviceName;
      p.metricName = this.metricName;
      p.unit = this.unit;
      p.type = type;
      p.temporality = temporality;
      p.monotonic = monotonic;
      const problem = this.point(p, pe);
      if (problem !== null) batch.dropLast(problem);
    });
  }

  /** Reads one data point; returns why it is unusable, or null. */
  private point(p: ScannedPoint, end: number): string | null {
    const r = this.r;
    const type = p.type;
    const attrField = ATTRIBUTES_FIELD[type];
    const outerEnd = r.end;
    r.end = end;
    let hasValue = false;
    while (r.pos < end) {
      const tag = readTag(r);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === attrField) {
        r.expect(wt, WireType.LEN, 'attributes');
        const e = r.readLengthEnd();
        if (readKeyValue(r, e, null, this.interner, this.kv) === 0) p.attrs.push(this.kv.key, this.kv.value);
        r.pos = e;
      } else if (field === 2 || field === 3) {
        r.expect(wt, WireType.I64, 'time_unix_nano');
        r.readFixed64();
        if (field === 2) {
          p.startHi = r.hi;
          p.startLo = r.lo;
        } else {
          p.timeHi = r.hi;
          p.timeLo = r.lo;
        }
      } else if (type === MetricType.GAUGE || type === MetricType.SUM) {
        if (field === 4) {
          r.expect(wt, WireType.I64, 'NumberDataPoint.as_double');
          p.value = r.readDouble();
          p.isInt = false;
          hasValue = true;
        } else if (field === 6) {
          r.expect(wt, WireType.I64, 'NumberDataPoint.as_int');
          p.value = r.readSfixed64();
          p.isInt = true;
          hasValue = true;
        } else if (field === 8) {
          r.expect(wt, WireType.VARINT, 'flags');
          p.flags = r.readUint32();
        } else r.skip(wt, field);
      } else {
        this.distributionField(p, field, wt);
      }
    }
    r.end = outerEnd;
    // A point flagged NO_RECORDED_VALUE (flags bit 0) legitimately has no value: it marks a gap.
    if ((type === MetricType.GAUGE || type === MetricType.SUM) && !hasValue && (p.flags & FLAG_NO_RECORDED_VALUE) === 0) return 'number data point has no value';
    if (type === MetricType.HISTOGRAM && p.bucketCounts.length > 0 && p.bucketCounts.length !== p.explicitBounds.length + 1) {
      return `histogram has ${p.bucketCounts.length} bucket counts for ${p.explicitBounds.length} bounds (want bounds + 1)`;
    }
    return null;
  }

  /** Histogram, exponential histogram and summary fields beyond the common ones. */
  private distributionField(p: ScannedPoint, field: number, wt: number): void {
    const r = this.r;
    const type = p.type;
    if (field === 4) {
      r.expect(wt, WireType.I64, 'count');
      p.count = r.readFixed64();
    } else if (field === 5) {
      r.expect(wt, WireType.I64, 'sum');
      p.sum = r.readDouble();
      p.hasSum = true;
    } else if (type === MetricType.HISTOGRAM && field === 6) {
      this.repeated64(wt, p.bucketCounts, false);
    } else if (type === MetricType.HISTOGRAM && field === 7) {
      this.repeated64(wt, p.explicitBounds, true);
    } else if ((type === MetricType.HISTOGRAM && field === 11) || (type === MetricType.EXPONENTIAL_HISTOGRAM && field === 12)) {
      r.expect(wt, WireType.I64, 'min');
      p.min = r.readDouble();
      p.hasMin = true;
    } else if ((type === MetricType.HISTOGRAM && field === 12) || (type === MetricType.EXPONENTIAL_HISTOGRAM && field === 13)) {
      r.expect(wt, WireType.I64, 'max');
      p.max = r.readDouble();
      p.hasMax = true;
    } else if (field === 10 && type !== MetricType.SUMMARY) {
      r.expect(wt, WireType.VARINT, 'flags');
      p.flags = r.readUint32();
    } else if (field === 8 && type === MetricType.SUMMARY) {
      r.expect(wt, WireType.VARINT, 'flags');
      p.flags = r.readUint32();
    } else if (type === MetricType.EXPONENTIAL_HISTOGRAM && field === 6) {
      r.expect(wt, WireType.VARINT, 'scale');
      p.scale = r.readSint32();
    } else if (type === MetricType.EXPONENTIAL_HISTOGRAM && field === 7) {
      r.expect(wt, WireType.I64, 'zero_count');
      p.zeroCount = r.readFixed64();
    } else if (type === MetricType.EXPONENTIAL_HISTOGRAM && field === 14) {
      r.expect(wt, WireType.I64, 'zero_threshold');
      p.zeroThreshold = r.readDouble();
    } else if (type === MetricType.EXPONENTIAL_HISTOGRAM && (field === 8 || field === 9)) {
      r.expect(wt, WireType.LEN, 'buckets');
      const e = r.readLengthEnd();
      this.buckets(p, e, field === 8);
      r.pos = e;
    } else if (type === MetricType.SUMMARY && field === 6) {
      r.expect(wt, WireType.LEN, 'quantile_values');
      const e = r.readLengthEnd();
      this.quantile(p, e);
      r.pos = e;
    } else {
      r.skip(wt, field);
    }
  }

  /** Repeated fixed64/double, packed or not. */
  private repeated64(wt: number, out: number[], isDouble: boolean): void {
    const r = this.r;
    if (wt === WireType.I64) {
      out.push(isDouble ? r.readDouble() : r.readFixed64());
      return;
    }
    r.expect(wt, WireType.LEN, 'repeated 64-bit field');
    const e = r.readLengthEnd();
    if ((e - r.pos) % 8 !== 0) throw new WireError('packed 64-bit field length not a multiple of 8', r.pos);
    while (r.pos < e) out.push(isDouble ? r.readDouble() : r.readFixed64());
  }

  private buckets(p: ScannedPoint, end: number, positive: boolean): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    const counts = positive ? p.positiveCounts : p.negativeCounts;
    while (r.pos < end) {
      const tag = readTag(r);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1) {
        r.expect(wt, WireType.VARINT, 'Buckets.offset');
        const off = r.readSint32();
        if (positive) p.positiveOffset = off;
        else p.negativeOffset = off;
      } else if (field === 2) {
        if (wt === WireType.VARINT) counts.push(r.readUvarint64());
        else {
          r.expect(wt, WireType.LEN, 'Buckets.bucket_counts');
          const e = r.readLengthEnd();
          r.end = e;
          while (r.pos < e) counts.push(r.readUvarint64());
          r.end = end;
        }
      } else r.skip(wt, field);
    }
    r.end = outerEnd;
  }

  private quantile(p: ScannedPoint, end: number): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    let q = 0;
    let v = 0;
    while (r.pos < end) {
      const tag = readTag(r);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 || field === 2) {
        r.expect(wt, WireType.I64, 'ValueAtQuantile');
        if (field === 1) q = r.readDouble();
        else v = r.readDouble();
      } else r.skip(wt, field);
    }
    r.end = outerEnd;
    p.quantiles.push(q);
    p.quantileValues.push(v);
  }
}
