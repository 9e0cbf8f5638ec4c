/**
 * The open window of the distribution types (explicit and exponential histograms, summaries):
 * count, sum, extremes and buckets, with the cumulative differencing and reset rules described
 * in metric-window.ts.
 */
import type { ScannedPoint } from '../otlp/batch.js';
import { ExpoState, expoQuantile, explicitQuantile } from './metric-buckets.js';
import { QUANTILES, startChanged, type WindowAccumulator, type WindowValues } from './metric-window.js';

/**
 * Count, sum and extremes shared by the distribution types, with cumulative differencing; the
 * subclass owns the buckets. Two kinds of extremes: `min`/`max` are exact for the window's own
 * values (reported), `lo`/`hi` only bound them (edges for interpolation). A cumulative point's
 * min is over everything since its start, so it is the window's exact min only when it just
 * went down (the new minimum arrived in this interval); otherwise it is merely a lower bound.
 */
export abstract class DistributionWindow implements WindowAccumulator {
  points = 0;
  protected count = 0;
  protected sum = 0;
  protected sumKnown = true;
  protected min = Infinity;
  protected max = -Infinity;
  protected lo = Infinity;
  protected hi = -Infinity;
  private hasBase = false;
  private baseCount = 0;
  private baseSum = NaN;
  private baseMin = NaN;
  private baseMax = NaN;
  private baseStartHi = 0;
  private baseStartLo = 0;

  constructor(private readonly cumulative: boolean) {}

  /** Takes in the point's buckets; true when their layout differs from the previous point's. */
  protected abstract prepare(p: ScannedPoint): boolean;
  /** Adds the prepared point's buckets as they are. */
  protected abstract addPointBuckets(p: ScannedPoint): void;
  /** Computes prepared − baseline buckets; false when a bucket went down. */
  protected abstract diffBuckets(p: ScannedPoint): boolean;
  /** Adds what {@link diffBuckets} computed. */
  protected abstract addDiffBuckets(p: ScannedPoint): void;
  /** Makes the prepared buckets the baseline. */
  protected abstract saveBaseBuckets(p: ScannedPoint): void;
  protected abstract clearBuckets(): void;
  /** Quantile `q` of the window's buckets (NaN when there are none). */
  protected abstract quantile(q: number): number;

  /** The point's sum, NaN when absent. */
  protected pointSum(p: ScannedPoint): number {
    return p.hasSum ? p.sum : NaN;
  }

  add(p: ScannedPoint): boolean {
    const layoutChanged = this.prepare(p);
    this.points++;
    if (!this.cumulative) {
      this.addWhole(p);
      return layoutChanged;
    }
    let reset = layoutChanged;
    if (!this.hasBase) {
      // Baseline: contributes nothing (module comment).
    } else if (startChanged(this.baseStartHi, this.baseStartLo, p) || p.count < this.baseCount) {
      this.addWhole(p);
      reset = true;
    } else if (layoutChanged) {
      // Same counter, new buckets: nothing to difference against, so this point is a new baseline.
    } else if (this.diffBuckets(p)) {
      this.addIncrement(p);
    } else {
      this.addWhole(p);
      reset = true;
    }
    this.saveBase(p);
    return reset;
  }

  private addWhole(p: ScannedPoint): void {
    this.count += p.count;
    const s = this.pointSum(p);
    if (Number.isNaN(s)) this.sumKnown = false;
    else this.sum += s;
    if (p.hasMin) {
      this.min = Math.min(this.min, p.min);
      this.lo = Math.min(this.lo, p.min);
    }
    if (p.hasMax) {
      this.max = Math.max(this.max, p.max);
      this.hi = Math.max(this.hi, p.max);
    }
    this.addPointBuckets(p);
  }

  private addIncrement(p: ScannedPoint): void {
    this.count += p.count - this.baseCount;
    const s = this.pointSum(p);
    if (Number.isNaN(s) || Number.isNaN(this.baseSum)) this.sumKnown = false;
    else this.sum += s - this.baseSum;
    if (p.hasMin) {
      this.lo = Math.min(this.lo, p.min);
      if (p.min < this.baseMin) this.min = Math.min(this.min, p.min);
    }
    if (p.hasMax) {
      this.hi = Math.max(this.hi, p.max);
      if (p.max > this.baseMax) this.max = Math.max(this.max, p.max);
    }
    this.addDiffBuckets(p);
  }

  private saveBase(p: ScannedPoint): void {
    this.hasBase = true;
    this.baseCount = p.count;
    this.baseSum = this.pointSum(p);
    this.baseMin = p.hasMin ? p.min : NaN;
    this.baseMax = p.hasMax ? p.max : NaN;
    this.baseStartHi = p.startHi;
    this.baseStartLo = p.startLo;
    this.saveBaseBuckets(p);
  }

  /** Writes the quantile fields; distributions with buckets estimate them. */
  protected fillQuantiles(out: WindowValues): void {
    if (this.count <= 0) return;
    out.p50 = this.quantile(QUANTILES[0]);
    out.p90 = this.quantile(QUANTILES[1]);
    out.p99 = this.quantile(QUANTILES[2]);
    out.p999 = this.quantile(QUANTILES[3]);
  }

  close(out: WindowValues, seconds: number): void {
    if (this.points === 0) return;
    out.points = this.points;
    out.count = this.count;
    out.sum = this.sumKnown ? this.sum : NaN;
    out.mean = this.count > 0 && this.sumKnown ? this.sum / this.count : NaN;
    out.value = out.mean;
    out.min = this.min === Infinity ? NaN : this.min;
    out.max = this.max === -Infinity ? NaN : this.max;
    out.rate = this.count / seconds;
    this.fillQuantiles(out);
    this.points = 0;
    this.count = 0;
    this.sum = 0;
    this.sumKnown = true;
    this.min = this.lo = Infinity;
    this.max = this.hi = -Infinity;
    this.clearBuckets();
  }
}

/** Explicit-bucket histogram; a bucket layout change restarts the window's buckets. */
export class HistogramWindow extends DistributionWindow {
  private hasLayout = false;
  private readonly bounds: number[] = [];
  private readonly buckets: number[] = [];
  private readonly base: number[] = [];

  protected prepare(p: ScannedPoint): boolean {
    const counts = p.bucketCounts;
    const n = counts.length;
    if (this.hasLayout && n === this.buckets.length) {
      let same = true;
      for (let i = 0; i < n - 1 && same; i++) same = this.bounds[i] === p.explicitBounds[i];
      if (same) return false;
    }
    const changed = this.hasLayout;
    this.hasLayout = true;
    this.bounds.length = Math.max(0, n - 1);
    for (let i = 0; i < n - 1; i++) this.bounds[i] = p.explicitBounds[i];
    // Counts under the old layout cannot be mapped onto the new one: the window's buckets
    // restart (count and sum keep accumulating), and the baseline is reloaded by the caller.
    this.buckets.length = n;
    this.buckets.fill(0);
    return changed;
  }

  protected addPointBuckets(p: ScannedPoint): void {
    const c = p.bucketCounts;
    for (let i = 0; i < c.length; i++) this.buckets[i] += c[i];
  }

  protected diffBuckets(p: ScannedPoint): boolean {
    const c = p.bucketCounts;
    for (let i = 0; i < c.length; i++) if (c[i] < this.base[i]) return false;
    return true;
  }

  protected addDiffBuckets(p: ScannedPoint): void {
    const c = p.bucketCounts;
    for (let i = 0; i < c.length; i++) this.buckets[i] += c[i] - this.base[i];
  }

  protected saveBaseBuckets(p: ScannedPoint): void {
    const c = p.bucketCounts;
    this.base.length = c.length;
    for (let i = 0; i < c.length; i++) this.base[i] = c[i];
  }

  protected clearBuckets(): void {
    this.buckets.fill(0);
  }

  protected quantile(q: number): number {
    return explicitQuantile(q, this.bounds, this.buckets, this.lo, this.hi);
  }
}

// Scratch for the point being added and for its increment; accumulators are not re-entrant.
const CURRENT = new ExpoState();
const INCREMENT = new ExpoState();

/** Exponential histogram; scales are reconciled by downscaling, so the layout never "changes". */
export class ExpoWindow extends DistributionWindow {
  private readonly window = new ExpoState();
  private readonly base = new ExpoState();

  protected prepare(p: ScannedPoint): boolean {
    CURRENT.loadPoint(p);
    return false;
  }

  protected addPointBuckets(): void {
    this.window.merge(CURRENT);
  }

  protected diffBuckets(): boolean {
    return INCREMENT.difference(CURRENT, this.base);
  }

  protected addDiffBuckets(): void {
    this.window.merge(INCREMENT);
  }

  protected saveBaseBuckets(): void {
    this.base.copyFrom(CURRENT);
  }

  protected clearBuckets(): void {
    this.window.clear();
  }

  protected quantile(q: number): number {
    return expoQuantile(this.window, q, this.lo, this.hi);
  }
}

/**
 * Summary: count and sum are cumulative (the proto has no temporality for summaries), the
 * quantile values are the producer's own, as last reported in the window.
 */
export class SummaryWindow extends DistributionWindow {
  private readonly reported = [NaN, NaN, NaN, NaN];

  constructor() {
    super(true);
  }

  // `SummaryDataPoint.sum` has no presence: an absent sum is a sum of 0.
  protected override pointSum(p: ScannedPoint): number {
    return p.sum;
  }

  protected prepare(p: ScannedPoint): boolean {
    for (let j = 0; j < QUANTILES.length; j++) {
      let v = NaN;
      for (let i = 0; i < p.quantiles.length; i++) {
        if (Math.abs(p.quantiles[i] - QUANTILES[j]) < 1e-9) v = p.quantileValues[i];
      }
      this.reported[j] = v;
    }
    return false;
  }

  protected addPointBuckets(): void {}
  protected diffBuckets(): boolean {
    return true;
  }
  protected addDiffBuckets(): void {}
  protected saveBaseBuckets(): void {}

  protected clearBuckets(): void {
    this.reported.fill(NaN);
  }

  // Unused: fillQuantiles reads the reported values directly.
  protected quantile(): number {
    return NaN;
  }

  // Reported values stand even when the window's count increment is 0 (a baseline point).
  protected override fillQuantiles(out: WindowValues): void {
    out.p50 = this.reported[0];
    out.p90 = this.reported[1];
    out.p99 = this.reported[2];
    out.p999 = this.reported[3];
  }
}
