/**
 * The decoder's output: what aggregation needs from one request, and nothing more.
 *
 * A batch is filled by one synchronous scan and handed over only when the whole request
 * decoded, so a request refused as malformed leaves no trace in the aggregates (a client
 * retrying it would otherwise be counted twice). Entries are pooled flyweights reused across
 * requests: after warm-up a scan allocates no object per span or per data point.
 */

/** Span kind values as in OTLP `Span.SpanKind`. */
export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** Status codes as in OTLP `Status.StatusCode`. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** One span as the scanner saw it. Reused: copy what you keep. */
export class ScannedSpan {
  /** Resource `service.name` ("" when absent). Interned. */
  serviceName = '';
  /** Span name (the operation). Interned. */
  name = '';
  kind = 0;
  statusCode = 0;
  /** Start and end time as unsigned 64-bit halves, exact. */
  startHi = 0;
  startLo = 0;
  endHi = 0;
  endLo = 0;
  /** end − start in nanoseconds (negative when the client sent end before start). */
  durationNs = 0;
  /** Offsets of the 16-byte trace id and 8-byte span id in {@link SpanBatch.buffer}. */
  traceIdOffset = 0;
  spanIdOffset = 0;
  /** True when the span has no parent (a local root). */
  isRoot = false;
  /**
   * Interner ids of the span name and of the service name (-1 when unknown, e.g. OTLP-JSON).
   * Valid only while {@link SpanBatch.idsValid}: they let the aggregator find a series through
   * integer tables instead of hashing strings.
   */
  nameId = -1;
  serviceId = -1;
  /** Values of the configured dimension keys, span attribute first, then resource; "" if absent. */
  readonly dims: string[] = [];

  /** Start time in milliseconds since the epoch (sub-microsecond precision is lost). */
  get startTimeMs(): number {
    return (this.startHi * 4294967296 + this.startLo) / 1e6;
  }
}

/** All usable spans of one ExportTraceServiceRequest. */
export class SpanBatch {
  /** The request bytes the id offsets point into; valid until the batch is reused. */
  buffer: Buffer = Buffer.alloc(0);
  readonly spans: ScannedSpan[] = [];
  /** Number of valid entries in {@link spans}. */
  length = 0;
  /** Spans present in the request but unusable (invalid ids); reported as partial success. */
  rejected = 0;
  /** Why the first rejected span was rejected. */
  rejectReason = '';
  /** Whether the spans' interner ids are usable (the string table did not start over mid-scan). */
  idsValid = false;
  /** The interner generation (its reset count) the ids belong to. */
  idGeneration = 0;

  /** Clears the batch for the next request, keeping the pooled entries. */
  reset(buffer: Buffer): void {
    this.buffer = buffer;
    this.idsValid = false;
    this.length = 0;
    this.rejected = 0;
    this.rejectReason = '';
  }

  /** Next pooled entry, appended to the batch. */
  next(dimCount: number): ScannedSpan {
    let s = this.spans[this.length];
    if (s === undefined) {
      s = new ScannedSpan();
      this.spans.push(s);
    }
    if (s.dims.length !== dimCount) s.dims.length = dimCount;
    s.nameId = -1;
    s.serviceId = -1;
    this.length++;
    return s;
  }

  /** Drops the last entry (it turned out to be unusable). */
  dropLast(reason: string): void {
    this.length--;
    this.reject(1, reason);
  }

  reject(n: number, reason: string): void {
    if (this.rejected === 0) this.rejectReason = reason;
    this.rejected += n;
  }

  /** Hex trace id of span `i` (allocates; for exemplars, not for every span). */
  traceIdHex(i: number): string {
    const o = this.spans[i].traceIdOffset;
    return this.buffer.toString('hex', o, o + 16);
  }

  /** Hex span id of span `i`. */
  spanIdHex(i: number): string {
    const o = this.spans[i].spanIdOffset;
    return this.buffer.toString('hex', o, o + 8);
  }

  /**
   * Keeps the pool from pinning memory after one huge request: entries beyond `max` are
   * released once the batch has been consumed.
   */
  trim(max: number): void {
    if (this.spans.length > max) this.spans.length = max;
  }
}

/** Metric data types as in the OTLP `Metric.data` oneof. */
export const MetricType = { GAUGE: 1, SUM: 2, HISTOGRAM: 3, EXPONENTIAL_HISTOGRAM: 4, SUMMARY: 5 } as const;
/** Aggregation temporality values. */
export const Temporality = { UNSPECIFIED: 0, DELTA: 1, CUMULATIVE: 2 } as const;

/** One metric data point. Reused: copy what you keep. Arrays are reused too. */
export class ScannedPoint {
  serviceName = '';
  metricName = '';
  unit = '';
  type = 0;
  temporality = 0;
  monotonic = false;
  startHi = 0;
  startLo = 0;
  timeHi = 0;
  timeLo = 0;
  flags = 0;
  /** Point attributes as flat key/value pairs; values rendered as strings. */
  readonly attrs: string[] = [];
  /** Gauge and sum value. */
  value = 0;
  /** True when the number point carried `as_int`. */
  isInt = false;
  /** Histogram / exponential histogram / summary. */
  count = 0;
  sum = 0;
  hasSum = false;
  min = 0;
  hasMin = false;
  max = 0;
  hasMax = false;
  readonly bucketCounts: number[] = [];
  readonly explicitBounds: number[] = [];
  scale = 0;
  zeroCount = 0;
  zeroThreshold = 0;
  positiveOffset = 0;
  readonly positiveCounts: number[] = [];
  negativeOffset = 0;
  readonly negativeCounts: number[] = [];
  readonly quantiles: number[] = [];
  readonly quantileValues: number[] = [];

  clear(): void {
    this.attrs.length = 0;
    this.value = 0;
    this.isInt = false;
    this.count = 0;
    this.sum = 0;
    this.hasSum = false;
    this.min = 0;
    this.hasMin = false;
    this.max = 0;
    this.hasMax = false;
    this.bucketCounts.length = 0;
    this.explicitBounds.length = 0;
    this.scale = 0;
    this.zeroCount = 0;
    this.zeroThreshold = 0;
    this.positiveOffset = 0;
    this.positiveCounts.length = 0;
    this.negativeOffset = 0;
    this.negativeCounts.length = 0;
    this.quantiles.length = 0;
    this.quantileValues.length = 0;
    this.startHi = this.startLo = this.timeHi = this.timeLo = 0;
    this.flags = 0;
  }
}

/** All usable data points of one ExportMetricsServiceRequest. */
export class PointBatch {
  readonly points: ScannedPoint[] = [];
  length = 0;
  rejected = 0;
  rejectReason = '';

  reset(): void {
    this.length = 0;
    this.rejected = 0;
    this.rejectReason = '';
  }

  next(): ScannedPoint {
    let p = this.points[this.length];
    if (p === undefined) {
      p = new ScannedPoint();
      this.points.push(p);
    }
    p.clear();
    this.length++;
    return p;
  }

  dropLast(reason: string): void {
    this.length--;
    this.reject(1, reason);
  }

  reject(n: number, reason: string): void {
    if (this.rejected === 0) this.rejectReason = reason;
    this.rejected += n;
  }

  trim(max: number): void {
    if (this.points.length > max) this.points.length = max;
  }
}

/** Counts from one ExportLogsServiceRequest (log records are counted, not yet aggregated). */
export class LogBatch {
  length = 0;
  rejected = 0;
  rejectReason = '';

  reset(): void {
    this.length = 0;
    this.rejected = 0;
    this.rejectReason = '';
  }

  reject(n: number, reason: string): void {
    if (this.rejected === 0) this.rejectReason = reason;
    this.rejected += n;
  }

  /** Nothing pooled to release; present so every batch type shares one shape. */
  trim(_max: number): void {}
}
