/**
 * Turns OTLP metric points into tumbling-window series: one series per (service, metric name,
 * point attributes), windows of `windowMs` by receive time, and a bounded history per series.
 *
 * Every number a closed window reports is about that window alone: gauges give their samples'
 * last/min/max/mean, sums their increment (cumulative points are differenced, see
 * metric-window.ts for the baseline and reset rules), histograms and summaries the count, sum
 * and quantiles of what was observed in the window (estimated from the buckets as described in
 * metric-buckets.ts).
 *
 * Memory is bounded: series by the keyspace cap (points of keys past it fold into one
 * `__overflow__` series per service, which only counts them), history by `retainWindows`,
 * buckets by MAX_EXPLICIT_BUCKETS / MAX_EXPO_BUCKETS. Measured per series: about 1.1 KB of
 * fixed state for a gauge with three attributes (keys, attributes record, accumulator, last
 * window), 2 KB for a cumulative 15-bucket histogram, plus 32 bytes per retained window
 * (11.5 KB at the default 360 windows, reached once a series has lived that long); bucket
 * arrays near the caps add up to 6 KB.
 */
import { MetricType, Temporality, type PointBatch, type ScannedPoint } from '../otlp/batch.js';
import type { Clock } from './clock.js';
import { SeriesKeyspace, type KeyedSeries } from './keyspace.js';
import { ExpoWindow, HistogramWindow, SummaryWindow } from './metric-distribution.js';
import { MetricHistory, type MetricHistoryPoint } from './metric-history.js';
import { GaugeWindow, SumWindow, clearValues, emptyValues, isUsable, shapeOf, type WindowAccumulator, type WindowValues } from './metric-window.js';

export type { MetricHistoryPoint } from './metric-history.js';

/** Metric types as closed windows name them. */
export type MetricKind = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

/** Estimated (histograms) or reported (summaries) quantiles of a window; NaN when unknown. */
export interface MetricQuantiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
}

/**
 * One series over one closed window. Every field is always present, NaN when it does not
 * apply to the type or the window saw nothing, so all windows share one shape.
 */
export interface ClosedMetricWindow {
  readonly service: string;
  readonly metric: string;
  readonly unit: string;
  readonly type: MetricKind;
  /** Point attributes of the series (shared with the series; do not mutate). */
  readonly attributes: Readonly<Record<string, string>>;
  /** True for a service's `__overflow__` series: only `points` is meaningful. */
  readonly overflow: boolean;
  /** Window bounds, ms since the epoch: [start, end). */
  readonly start: number;
  readonly end: number;
  /** Usable points received in the window (0: an empty window, kept so detectors see gaps). */
  readonly points: number;
  /** Gauge: last sample. Sum: increment over the window. Distributions: mean (sum / count). */
  readonly value: number;
  /**
   * Gauge: smallest / largest sample. Histograms: exact smallest / largest observation of the
   * window when the points carried them (NaN when only a cumulative, older extreme is known).
   */
  readonly min: number;
  readonly max: number;
  /** Gauge: mean of the samples. Distributions: sum / count. */
  readonly mean: number;
  /** Per second over the window: the increment for sums, observations for distributions. */
  readonly rate: number;
  /** Gauge: samples. Sum: points. Distributions: observations in the window. */
  readonly count: number;
  /** Distributions: sum of the window's observations (NaN when a point lacked it). */
  readonly sum: number;
  readonly quantiles: MetricQuantiles;
}

/** A live series, for the JSON API. */
export interface MetricSeries {
  readonly service: string;
  readonly metric: string;
  readonly unit: string;
  /** Type of the latest point (a series whose type changes restarts). */
  readonly type: MetricKind;
  readonly attributes: Readonly<Record<string, string>>;
  readonly overflow: boolean;
  /** Receive time (ms) of the latest point. */
  readonly lastSeen: number;
  /** The most recently closed window. */
  readonly last?: ClosedMetricWindow;
  /** The newest `limit` retained windows (all by default), oldest first. */
  history(limit?: number): MetricHistoryPoint[];
}

/** Options of a {@link MetricAggregator}; usually from `aggregation` config (window, retain_windows, metrics.max_series, series_ttl). */
export interface MetricAggregatorOptions {
  /** Tumbling window length, ms: window i is [i·windowMs, (i+1)·windowMs). */
  windowMs: number;
  /** Closed windows kept per series. */
  retainWindows: number;
  /** Most regular series alive at once. */
  maxSeries: number;
  /** Series without points for this long (ms) are evicted after a close. */
  ttlMs: number;
  clock: Clock;
  /** Called when the series cap is first hit (and again after recovering). */
  onCapReached?(maxSeries: number): void;
}

/** Counters of a {@link MetricAggregator}. */
export interface MetricAggregatorStats {
  /** Series alive now, overflow series included. */
  readonly liveSeries: number;
  readonly overflowSeries: number;
  /** Points folded into overflow series. */
  readonly overflowedPoints: number;
  /** Series evicted for being idle. */
  readonly evicted: number;
  /** Counter resets, bucket layout changes and type changes seen. */
  readonly resets: number;
  /** Points not aggregated: no recorded value, non-finite numbers, unspecified temporality, bad buckets. */
  readonly skippedPoints: number;
  /** Closed windows not handed out (stalls past {@link MAX_CATCHUP_WINDOWS}, or closeDue not called while time moved on). */
  readonly droppedWindows: number;
}

/**
 * Most windows per series one catch-up emits. After a longer stall (a suspended process), the
 * window holding data and the newest empty ones are emitted; the history ring records them all.
 */
export const MAX_CATCHUP_WINDOWS = 32;

const KIND_BY_TYPE: readonly MetricKind[] = ['gauge', 'gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'];
const NAN_QUANTILES: MetricQuantiles = Object.freeze({ p50: NaN, p90: NaN, p99: NaN, p999: NaN });
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/** A fresh accumulator for series of `p`'s shape. */
function createAccumulator(p: ScannedPoint): WindowAccumulator {
  const cumulative = p.temporality === Temporality.CUMULATIVE;
  switch (p.type) {
    case MetricType.GAUGE:
      return new GaugeWindow();
    case MetricType.SUM:
      return new SumWindow(cumulative, p.monotonic);
    case MetricType.HISTOGRAM:
      return new HistogramWindow(cumulative);
    case MetricType.EXPONENTIAL_HISTOGRAM:
      return new ExpoWindow(cumulative);
    default:
      return new SummaryWindow();
  }
}

class SeriesState implements KeyedSeries, MetricSeries {
  readonly metric: string;
  readonly attributes: Readonly<Record<string, string>>;
  unit = '';
  type: MetricKind = 'gauge';
  shape = -1;
  acc: WindowAccumulator | null = null;
  // Overflow series only count points.
  overflowPoints = 0;
  last: ClosedMetricWindow | undefined = undefined;
  readonly ring: MetricHistory;

  constructor(
    readonly service: string,
    readonly keyParts: readonly string[],
    readonly overflow: boolean,
    public lastSeen: number,
    retain: number,
    windowMs: number,
  ) {
    this.metric = keyParts[0];
    // The key is the canonical JSON object of the attributes: parsing it is the record, built once.
    this.attributes = keyParts[1] === '' ? NO_ATTRIBUTES : Object.freeze(JSON.parse(keyParts[1]) as Record<string, string>);
    this.ring = new MetricHistory(retain, windowMs);
  }

  history(limit?: number): MetricHistoryPoint[] {
    return this.ring.toArray(limit);
  }
}

/** Windowed aggregation of metric points; see the module comment. */
export class MetricAggregator {
  /** Live counters. */
  readonly stats: MetricAggregatorStats;
  private readonly keyspace: SeriesKeyspace<SeriesState>;
  private readonly windowMs: number;
  private readonly seconds: number;
  private readonly clock: Clock;
  // Index of the open window; null until the first consume or close.
  private open: number | null = null;
  // Windows closed by consume (time moved on before closeDue ran), handed out by the next closeDue.
  private pending: ClosedMetricWindow[] = [];
  private readonly pendingLimit: number;
  private readonly parts = ['', ''];
  private readonly values = emptyValues();
  private readonly order: number[] = [];
  private overflowedPoints = 0;
  private resets = 0;
  private skippedPoints = 0;
  private droppedWindows = 0;

  constructor(options: MetricAggregatorOptions) {
    if (!(options.windowMs > 0) || !(options.retainWindows >= 1) || !(options.maxSeries >= 1) || !(options.ttlMs > 0)) {
      throw new RangeError('MetricAggregator: windowMs, retainWindows, maxSeries and ttlMs must be positive');
    }
    this.windowMs = options.windowMs;
    this.seconds = options.windowMs / 1000;
    this.clock = options.clock;
    // Two windows' worth of every series covers a late closeDue. Overflow series add at most
    // a tenth of the cap (at least 16) plus the last-resort one, as the keyspace allows.
    this.pendingLimit = 2 * (options.maxSeries + Math.max(16, Math.ceil(options.maxSeries / 10)) + 1);
    const retain = Math.floor(options.retainWindows);
    const windowMs = this.windowMs;
    this.keyspace = new SeriesKeyspace<SeriesState>({
      parts: 2,
      maxSeries: options.maxSeries,
      ttlMs: options.ttlMs,
      create: (service, parts, overflow, now) => new SeriesState(service, parts, overflow, now, retain, windowMs),
      onCapReached: options.onCapReached,
    });
    const ks = this.keyspace;
    const self = this;
    this.stats = {
      get liveSeries() {
        return ks.size;
      },
      get overflowSeries() {
        return ks.overflowSeries;
      },
      get overflowedPoints() {
        return self.overflowedPoints;
      },
      get evicted() {
        return ks.evicted;
      },
      get resets() {
        return self.resets;
      },
      get skippedPoints() {
        return self.skippedPoints;
      },
      get droppedWindows() {
        return self.droppedWindows;
      },
    };
  }

  /** Adds a decoded request's points to the window open at `clock.now()`. Keeps nothing of the batch. */
  consume(batch: PointBatch): void {
    const now = this.clock.now();
    const idx = Math.floor(now / this.windowMs);
    if (this.open === null) this.open = idx;
    else if (idx > this.open) this.advance(this.open, idx, this.pending, this.pendingLimit);
    const parts = this.parts;
    for (let i = 0; i < batch.length; i++) {
      const p = batch.points[i];
      if (!isUsable(p)) {
        this.skippedPoints++;
        continue;
      }
      parts[0] = p.metricName;
      parts[1] = this.attributesKey(p.attrs);
      const s = this.keyspace.lookup(p.serviceName, parts, now);
      s.lastSeen = now;
      s.unit = p.unit;
      s.type = KIND_BY_TYPE[p.type];
      if (s.overflow) {
        s.overflowPoints++;
        this.overflowedPoints++;
        continue;
      }
      const shape = shapeOf(p);
      let acc = s.acc;
      if (acc === null || s.shape !== shape) {
        // A new series, or one whose type/temporality changed: the old state means nothing now.
        if (acc !== null) this.resets++;
        s.shape = shape;
        acc = s.acc = createAccumulator(p);
      }
      if (acc.add(p)) this.resets++;
    }
  }

  /**
   * Closes every window that ended at or before `now`: one window per live series per closed
   * window (empty ones too), oldest first; then evicts series idle for the TTL.
   */
  closeDue(now: number): ClosedMetricWindow[] {
    const out = this.pending;
    this.pending = [];
    const target = Math.floor(now / this.windowMs);
    if (this.open === null) this.open = target;
    else if (target > this.open) this.advance(this.open, target, out, Infinity);
    this.keyspace.evictIdle(now);
    return out;
  }

  /** Live series (overflow series included); do not consume or close while iterating. */
  series(): Iterable<MetricSeries> {
    return this.keyspace.series();
  }

  /** Closes windows [open, target) into `out` (up to `limit` entries) and opens window `target`. */
  private advance(open: number, target: number, out: ClosedMetricWindow[], limit: number): void {
    const gap = target - open - 1;
    const emitGap = Math.min(gap, MAX_CATCHUP_WINDOWS - 1);
    const skipped = gap - emitGap;
    const v = this.values;
    for (const s of this.keyspace.series()) {
      clearValues(v);
      if (s.overflow) {
        v.points = v.count = s.overflowPoints;
        s.overflowPoints = 0;
      } else {
        s.acc?.close(v, this.seconds);
      }
      this.emit(s, open, v, out, limit);
      if (skipped > 0) s.ring.skip(skipped);
    }
    if (skipped > 0) this.droppedWindows += skipped * this.keyspace.size;
    clearValues(v);
    for (let w = target - emitGap; w < target; w++) {
      for (const s of this.keyspace.series()) this.emit(s, w, v, out, limit);
    }
    this.open = target;
  }

  private emit(s: SeriesState, index: number, v: WindowValues, out: ClosedMetricWindow[], limit: number): void {
    const start = index * this.windowMs;
    s.ring.push(start, v.value, v.min, v.max, v.count);
    const hasQuantiles = !Number.isNaN(v.p50) || !Number.isNaN(v.p90) || !Number.isNaN(v.p99) || !Number.isNaN(v.p999);
    const w: ClosedMetricWindow = {
      service: s.service,
      metric: s.metric,
      unit: s.unit,
      type: s.type,
      attributes: s.attributes,
      overflow: s.overflow,
      start,
      end: start + this.windowMs,
      points: v.points,
      value: v.value,
      min: v.min,
      max: v.max,
      mean: v.mean,
      rate: v.rate,
      count: v.count,
      sum: v.sum,
      quantiles: hasQuantiles ? { p50: v.p50, p90: v.p90, p99: v.p99, p999: v.p999 } : NAN_QUANTILES,
    };
    s.last = w;
    if (out.length < limit) out.push(w);
    else this.droppedWindows++;
  }

  /**
   * Canonical attributes key: a JSON object with keys sorted (a repeated key keeps its last
   * value), '' when there are none. JSON escaping keeps distinct attribute sets distinct.
   */
  private attributesKey(attrs: readonly string[]): string {
    const n = attrs.length >> 1;
    if (n === 0) return '';
    const order = this.order;
    order.length = 0;
    // Insertion sort of pair indices: attribute lists are short.
    for (let i = 0; i < n; i++) {
      const k = attrs[2 * i];
      let j = order.length;
      while (j > 0 && attrs[2 * order[j - 1]] > k) j--;
      if (j > 0 && attrs[2 * order[j - 1]] === k) order[j - 1] = i;
      else order.splice(j, 0, i);
    }
    let key = '{';
    for (let j = 0; j < order.length; j++) {
      const i = order[j];
      if (j > 0) key += ',';
      key += JSON.stringify(attrs[2 * i]) + ':' + JSON.stringify(attrs[2 * i + 1]);
    }
    return key + '}';
  }
}
