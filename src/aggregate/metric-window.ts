/**
 * The open window of one metric series, per metric type, and the cumulative-to-delta state
 * that turns cumulative points into per-window increments.
 *
 * Baseline rule: the first point of a cumulative series (and the first after its bucket layout
 * changed) only establishes the baseline and contributes 0 — what it counted happened before
 * we were watching, over an unknown span, and booking it into one window would fake a spike.
 * After that each point contributes `current − previous`. A counter reset (monotonic value or
 * count going down, any bucket going down, or a changed start time) contributes the new value
 * itself: the producer counted it from zero since the reset.
 *
 * Accumulators read the pooled {@link ScannedPoint} during `add` and keep only numbers and
 * their own bounded arrays.
 */
import { MetricType, Temporality, type ScannedPoint } from '../otlp/batch.js';

/** `DataPointFlags.FLAG_NO_RECORDED_VALUE`: the point marks a gap, it carries no value. */
export const FLAG_NO_RECORDED_VALUE = 1;
/**
 * Explicit histograms with more buckets than this are skipped: every series keeps up to three
 * copies of its layout, and real instruments use a few dozen buckets.
 */
export const MAX_EXPLICIT_BUCKETS = 256;

/** The quantiles a closed window reports, in {@link WindowValues} order. */
export const QUANTILES = [0.5, 0.9, 0.99, 0.999] as const;

/** The numbers of one closed window; NaN where a field does not apply or nothing was seen. */
export interface WindowValues {
  points: number;
  value: number;
  min: number;
  max: number;
  mean: number;
  rate: number;
  count: number;
  sum: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** A fresh {@link WindowValues} for an empty window. */
export function emptyValues(): WindowValues {
  return { points: 0, value: NaN, min: NaN, max: NaN, mean: NaN, rate: NaN, count: 0, sum: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN };
}

/** Resets `v` to an empty window. */
export function clearValues(v: WindowValues): void {
  v.points = 0;
  v.count = 0;
  v.value = v.min = v.max = v.mean = v.rate = v.sum = NaN;
  v.p50 = v.p90 = v.p99 = v.p999 = NaN;
}

/** The open window of one series. */
export interface WindowAccumulator {
  /** Points added since the last close. */
  readonly points: number;
  /** Adds a point that passed {@link isUsable}; true when it reset the series' cumulative state. */
  add(p: ScannedPoint): boolean;
  /** Writes the window into `out` (cleared by the caller; untouched when empty) and empties it, keeping baselines. */
  close(out: WindowValues, seconds: number): void;
}

const isCumulative = (p: ScannedPoint): boolean => p.temporality === Temporality.CUMULATIVE;
const hasTemporality = (p: ScannedPoint): boolean => p.temporality === Temporality.DELTA || p.temporality === Temporality.CUMULATIVE;

/**
 * Whether a point can be aggregated. Points without a recorded value, with non-finite numbers
 * or negative counts (the JSON path lets those through), with an unspecified temporality (the
 * proto forbids it, and delta vs cumulative changes the meaning of every number) or with
 * unusable explicit bounds are skipped by the caller.
 */
export function isUsable(p: ScannedPoint): boolean {
  if ((p.flags & FLAG_NO_RECORDED_VALUE) !== 0) return false;
  switch (p.type) {
    case MetricType.GAUGE:
      return Number.isFinite(p.value);
    case MetricType.SUM:
      return Number.isFinite(p.value) && hasTemporality(p);
    case MetricType.HISTOGRAM:
      return hasTemporality(p) && finiteStats(p) && bucketsUsable(p);
    case MetricType.EXPONENTIAL_HISTOGRAM:
      return hasTemporality(p) && finiteStats(p) && Number.isFinite(p.zeroThreshold) && isCount(p.zeroCount) && countsUsable(p.positiveCounts) && countsUsable(p.negativeCounts);
    case MetricType.SUMMARY:
      // Quantile values may be NaN (Prometheus reports NaN for an empty summary): those read as absent.
      return isCount(p.count) && Number.isFinite(p.sum);
    default:
      return false;
  }
}

const isCount = (n: number): boolean => n >= 0 && n < Infinity;

function countsUsable(counts: readonly number[]): boolean {
  for (let i = 0; i < counts.length; i++) if (!isCount(counts[i])) return false;
  return true;
}

function finiteStats(p: ScannedPoint): boolean {
  return isCount(p.count) && (!p.hasSum || Number.isFinite(p.sum)) && (!p.hasMin || Number.isFinite(p.min)) && (!p.hasMax || Number.isFinite(p.max));
}

function bucketsUsable(p: ScannedPoint): boolean {
  const n = p.bucketCounts.length;
  if (n === 0) return true;
  if (n > MAX_EXPLICIT_BUCKETS || !countsUsable(p.bucketCounts)) return false;
  const b = p.explicitBounds;
  for (let i = 0; i < n - 1; i++) {
    if (!Number.isFinite(b[i]) || (i > 0 && !(b[i] > b[i - 1]))) return false;
  }
  return true;
}

/**
 * A number identifying what a point's series must be to accept it: type, and for the types
 * that have them, temporality and monotonicity. A series whose points change shape restarts.
 */
export function shapeOf(p: ScannedPoint): number {
  const t = p.type;
  const temporal = t === MetricType.SUM || t === MetricType.HISTOGRAM || t === MetricType.EXPONENTIAL_HISTOGRAM;
  return t * 4 + (temporal && isCumulative(p) ? 2 : 0) + (t === MetricType.SUM && p.monotonic ? 1 : 0);
}

/** Start times count as changed only when both are known: producers that omit them send 0. */
export function startChanged(hi: number, lo: number, p: ScannedPoint): boolean {
  if ((hi === 0 && lo === 0) || (p.startHi === 0 && p.startLo === 0)) return false;
  return hi !== p.startHi || lo !== p.startLo;
}

/** Gauge: last, min, max and mean of the samples. */
export class GaugeWindow implements WindowAccumulator {
  points = 0;
  private last = NaN;
  private min = Infinity;
  private max = -Infinity;
  // Running mean rather than sum / n: a sum of large finite samples can overflow.
  private mean = 0;

  add(p: ScannedPoint): boolean {
    const v = p.value;
    this.points++;
    this.last = v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.mean += (v - this.mean) / this.points;
    return false;
  }

  close(out: WindowValues): void {
    if (this.points === 0) return;
    out.points = out.count = this.points;
    out.value = this.last;
    out.min = this.min;
    out.max = this.max;
    out.mean = this.mean;
    this.points = 0;
    this.last = NaN;
    this.min = Infinity;
    this.max = -Infinity;
    this.mean = 0;
  }
}

function nsToMs(hi: number, lo: number): number {
  return (hi * 4294967296 + lo) / 1e6;
}

/**
 * Sum: the window's increment (deltas added; cumulative values differenced) and its rate. The
 * rate divides by the time the increment covers when the points say (previous cumulative point
 * → this one; a delta point's start → time), not by the window: SDKs export every 60 s, so one
 * 10 s window holds a minute's increment and would otherwise read six times too fast.
 */
export class SumWindow implements WindowAccumulator {
  points = 0;
  private increment = 0;
  private hasBase = false;
  private base = 0;
  private startHi = 0;
  private startLo = 0;
  private lastTimeMs = Number.NaN;
  private fromMs = Number.NaN;
  private toMs = Number.NaN;

  constructor(private readonly cumulative: boolean, private readonly monotonic: boolean) {}

  add(p: ScannedPoint): boolean {
    this.points++;
    const v = p.value;
    const t = nsToMs(p.timeHi, p.timeLo);
    const start = nsToMs(p.startHi, p.startLo);
    if (!this.cumulative) {
      this.increment += v;
      if (start > 0 && !(start >= this.fromMs)) this.fromMs = start;
      if (t > 0 && !(t <= this.toMs)) this.toMs = t;
      return false;
    }
    let reset = false;
    if (this.hasBase) {
      // A non-monotonic sum may legitimately go down: only its start time can reveal a reset.
      reset = startChanged(this.startHi, this.startLo, p) || (this.monotonic && v < this.base);
      this.increment += reset ? v : v - this.base;
      // The increment runs from the previous point (or, after a reset, from the new start).
      if (Number.isNaN(this.fromMs)) this.fromMs = reset ? (start > 0 ? start : Number.NaN) : this.lastTimeMs;
      if (t > 0) this.toMs = t;
    }
    if (t > 0) this.lastTimeMs = t;
    this.hasBase = true;
    this.base = v;
    this.startHi = p.startHi;
    this.startLo = p.startLo;
    return reset;
  }

  close(out: WindowValues, seconds: number): void {
    if (this.points === 0) return;
    out.points = out.count = this.points;
    out.value = this.increment;
    const covered = (this.toMs - this.fromMs) / 1000;
    out.rate = this.increment / (covered > 0 ? covered : seconds);
    this.points = 0;
    this.increment = 0;
    this.fromMs = this.toMs = Number.NaN;
  }
}
