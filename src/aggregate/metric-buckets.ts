/**
 * Bucket arithmetic for histogram metric points: quantiles from explicit buckets, and bounded,
 * mergeable exponential-histogram buckets (downscaling, merging, cumulative differences).
 *
 * Exponential buckets follow the OTLP definition: at scale `s` the base is 2^(2^-s) and bucket
 * `i` holds values in (base^i, base^(i+1)] (negative buckets hold the mirrored magnitudes).
 * Halving the resolution (scale − 1) maps index `i` to `floor(i / 2)`, so two histograms of
 * different scales merge exactly at the coarser one.
 */
import type { ScannedPoint } from '../otlp/batch.js';

/** Most buckets kept per sign, as the OTel SDKs' default max size: past it we downscale. */
export const MAX_EXPO_BUCKETS = 160;
/** Finest scale kept; the SDKs never go beyond it and finer points are downscaled on entry. */
export const MAX_EXPO_SCALE = 20;

/** `floor(index / 2^by)`, exact for any safe integer (`>>` would wrap past 2^31). */
function down(index: number, by: number): number {
  if (by <= 0) return index;
  // Past 2^64 every index a sint32 offset plus a request-sized array can reach is 0 or -1.
  return Math.floor(index / 2 ** Math.min(by, 64));
}

/**
 * The φ-quantile of an explicit-bucket histogram, by linear interpolation inside the bucket
 * holding rank φ·total (as Prometheus' histogram_quantile). Bucket `i` is
 * (bounds[i-1], bounds[i]]; the open-ended edges are closed with `lo` / `hi` (the smallest and
 * largest value when known, else NaN): the first bucket starts at `lo`, else at 0 when its
 * upper bound is positive (measurements are usually non-negative), else it is taken as a point
 * at its bound; the overflow bucket ends at `hi`, else at the last bound. Known `lo`/`hi` also
 * clamp inner edges. NaN when the histogram is empty or an edge cannot be closed.
 */
export function explicitQuantile(q: number, bounds: readonly number[], counts: readonly number[], lo: number, hi: number): number {
  const n = counts.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += counts[i];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  const hasLo = Number.isFinite(lo);
  const hasHi = Number.isFinite(hi);
  let cum = 0;
  let lastNonEmpty = -1;
  for (let i = 0; i < n; i++) {
    const c = counts[i];
    if (c <= 0) continue;
    lastNonEmpty = i;
    if (cum + c < rank) {
      cum += c;
      continue;
    }
    let lower = i > 0 ? bounds[i - 1] : hasLo ? lo : bounds.length > 0 ? Math.min(0, bounds[0]) : NaN;
    let upper = i < n - 1 ? bounds[i] : hasHi ? hi : bounds.length > 0 ? bounds[n - 2] : NaN;
    if (hasLo && lower < lo) lower = lo;
    if (hasHi && upper > hi) upper = hi;
    if (Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
    // Inconsistent min/max against the bounds: no interval left, answer the edge.
    if (upper <= lower) return lower;
    return lower + (upper - lower) * ((rank - cum) / c);
  }
  // Rounding can leave rank a hair above the total: that is the top of the last bucket.
  if (lastNonEmpty < 0) return NaN;
  const top = lastNonEmpty < n - 1 ? bounds[lastNonEmpty] : hasHi ? hi : bounds.length > 0 ? bounds[n - 2] : NaN;
  return hasHi && top > hi ? hi : top;
}

/** Buckets of one sign: `counts[i]` counts bucket index `offset + i`. No leading/trailing zero is required. */
export class ExpoBuckets {
  offset = 0;
  readonly counts: number[] = [];

  get empty(): boolean {
    return this.counts.length === 0;
  }

  clear(): void {
    this.offset = 0;
    this.counts.length = 0;
  }

  copyFrom(o: ExpoBuckets): void {
    this.offset = o.offset;
    const n = o.counts.length;
    this.counts.length = n;
    for (let i = 0; i < n; i++) this.counts[i] = o.counts[i];
  }

  total(): number {
    let t = 0;
    for (const c of this.counts) t += c;
    return t;
  }

  /** Width of the index range after downscaling by `by`, merged with `other` downscaled by `otherBy`. */
  spanWith(by: number, other: ExpoBuckets, otherBy: number): number {
    if (this.empty && other.empty) return 0;
    let lo = Infinity;
    let hi = -Infinity;
    if (!this.empty) {
      lo = down(this.offset, by);
      hi = down(this.offset + this.counts.length - 1, by);
    }
    if (!other.empty) {
      lo = Math.min(lo, down(other.offset, otherBy));
      hi = Math.max(hi, down(other.offset + other.counts.length - 1, otherBy));
    }
    return hi - lo + 1;
  }

  /** Halves the resolution `by` times, in place (target slots never pass their source). */
  downscale(by: number): void {
    const n = this.counts.length;
    if (by <= 0 || n === 0) return;
    const base = down(this.offset, by);
    let last = 0;
    for (let i = 0; i < n; i++) {
      const c = this.counts[i];
      this.counts[i] = 0;
      last = down(this.offset + i, by) - base;
      this.counts[last] += c;
    }
    this.counts.length = last + 1;
    this.offset = base;
  }

  /** Adds `src` downscaled by `by`; grows this range to cover it. */
  addFrom(src: ExpoBuckets, by: number): void {
    const m = src.counts.length;
    if (m === 0) return;
    const lo = down(src.offset, by);
    const hi = down(src.offset + m - 1, by);
    this.cover(lo, hi);
    for (let i = 0; i < m; i++) {
      const c = src.counts[i];
      if (c !== 0) this.counts[down(src.offset + i, by) - this.offset] += c;
    }
  }

  /**
   * Loads raw point buckets `counts[from..to]` (index `offset + i`) downscaled by `by`.
   * Reads the pooled point arrays without keeping them.
   */
  loadRaw(offset: number, counts: readonly number[], from: number, to: number, by: number): void {
    this.clear();
    this.cover(down(offset + from, by), down(offset + to, by));
    for (let i = from; i <= to; i++) {
      const c = counts[i];
      if (c !== 0) this.counts[down(offset + i, by) - this.offset] += c;
    }
  }

  /** Extends the index range to include [lo, hi], zero-filled. */
  private cover(lo: number, hi: number): void {
    const counts = this.counts;
    if (counts.length === 0) {
      this.offset = lo;
      for (let i = 0; i <= hi - lo; i++) counts.push(0);
      return;
    }
    if (lo < this.offset) {
      const shift = this.offset - lo;
      const n = counts.length;
      counts.length = n + shift;
      for (let i = n - 1; i >= 0; i--) counts[i + shift] = counts[i];
      for (let i = 0; i < shift; i++) counts[i] = 0;
      this.offset = lo;
    }
    const last = this.offset + counts.length - 1;
    for (let i = last; i < hi; i++) counts.push(0);
  }
}

/** One exponential histogram's buckets: shared scale, both signs and the zero bucket. */
export class ExpoState {
  scale = 0;
  zero = 0;
  readonly pos = new ExpoBuckets();
  readonly neg = new ExpoBuckets();

  get hasBuckets(): boolean {
    return !this.pos.empty || !this.neg.empty;
  }

  clear(): void {
    this.scale = 0;
    this.zero = 0;
    this.pos.clear();
    this.neg.clear();
  }

  copyFrom(o: ExpoState): void {
    this.scale = o.scale;
    this.zero = o.zero;
    this.pos.copyFrom(o.pos);
    this.neg.copyFrom(o.neg);
  }

  total(): number {
    return this.zero + this.pos.total() + this.neg.total();
  }

  downscaleTo(scale: number): void {
    if (scale >= this.scale) return;
    this.pos.downscale(this.scale - scale);
    this.neg.downscale(this.scale - scale);
    this.scale = scale;
  }

  /**
   * Loads a point's buckets, trimmed of empty edges, at the finest scale ≤ {@link MAX_EXPO_SCALE}
   * at which each sign fits in {@link MAX_EXPO_BUCKETS}.
   */
  loadPoint(p: ScannedPoint): void {
    this.clear();
    this.zero = p.zeroCount;
    const pc = p.positiveCounts;
    const nc = p.negativeCounts;
    const pf = firstNonZero(pc);
    const pt = lastNonZero(pc);
    const nf = firstNonZero(nc);
    const nt = lastNonZero(nc);
    let by = Math.max(0, p.scale - MAX_EXPO_SCALE);
    while (!fits(p.positiveOffset, pf, pt, by) || !fits(p.negativeOffset, nf, nt, by)) by++;
    this.scale = p.scale - by;
    if (pf <= pt) this.pos.loadRaw(p.positiveOffset, pc, pf, pt, by);
    if (nf <= nt) this.neg.loadRaw(p.negativeOffset, nc, nf, nt, by);
  }

  /** Adds `src` (left untouched), downscaling this histogram as far as needed to stay bounded. */
  merge(src: ExpoState): void {
    if (!this.hasBuckets) this.scale = src.scale;
    let scale = Math.min(this.scale, src.scale);
    while (
      this.pos.spanWith(this.scale - scale, src.pos, src.scale - scale) > MAX_EXPO_BUCKETS ||
      this.neg.spanWith(this.scale - scale, src.neg, src.scale - scale) > MAX_EXPO_BUCKETS
    ) {
      scale--;
    }
    this.downscaleTo(scale);
    this.pos.addFrom(src.pos, src.scale - scale);
    this.neg.addFrom(src.neg, src.scale - scale);
    this.zero += src.zero;
  }

  /**
   * Sets this to `cur − base` (two cumulative histograms of one series), brought to their
   * common scale first; both inputs may be downscaled in place. False when any bucket went
   * down, which only a counter reset explains.
   */
  difference(cur: ExpoState, base: ExpoState): boolean {
    const scale = Math.min(cur.scale, base.scale);
    cur.downscaleTo(scale);
    base.downscaleTo(scale);
    this.copyFrom(cur);
    this.zero -= base.zero;
    return this.zero >= 0 && subtract(this.pos, base.pos) && subtract(this.neg, base.neg);
  }
}

/** `into −= b` where `into`'s range should cover `b`'s non-zero buckets; false if any count goes negative. */
function subtract(into: ExpoBuckets, b: ExpoBuckets): boolean {
  for (let i = 0; i < b.counts.length; i++) {
    const c = b.counts[i];
    if (c === 0) continue;
    const j = b.offset + i - into.offset;
    if (j < 0 || j >= into.counts.length) return false;
    into.counts[j] -= c;
    if (into.counts[j] < 0) return false;
  }
  return true;
}

/** Index of the first non-zero count (the length when there is none). */
function firstNonZero(counts: readonly number[]): number {
  let i = 0;
  while (i < counts.length && counts[i] === 0) i++;
  return i;
}

/** Index of the last non-zero count; below {@link firstNonZero} when there is none. */
function lastNonZero(counts: readonly number[]): number {
  let i = counts.length - 1;
  while (i >= 0 && counts[i] === 0) i--;
  return i;
}

/** True when raw indices `offset + [from, to]` span at most {@link MAX_EXPO_BUCKETS} after downscaling by `by`. */
function fits(offset: number, from: number, to: number, by: number): boolean {
  return from > to || down(offset + to, by) - down(offset + from, by) < MAX_EXPO_BUCKETS;
}

/**
 * The φ-quantile of exponential buckets: the log midpoint base^(i+½) of the bucket holding
 * rank φ·total (relative error at most √base − 1: 4.4% at scale 3, 0.27% at scale 7), 0 for
 * the zero bucket, clamped to the known smallest and largest value (`lo`/`hi`, NaN if unknown).
 */
export function expoQuantile(h: ExpoState, q: number, lo: number, hi: number): number {
  const total = h.total();
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let cum = 0;
  let v = NaN;
  // Rounding can leave rank a hair above the total: the highest non-empty bucket answers then.
  let top = NaN;
  // Ascending value order: the most negative (highest negative index) first.
  const neg = h.neg.counts;
  for (let i = neg.length - 1; i >= 0 && Number.isNaN(v); i--) {
    if (neg[i] <= 0) continue;
    top = -midpoint(h.neg.offset + i, h.scale);
    if (cum + neg[i] >= rank) v = top;
    cum += neg[i];
  }
  if (Number.isNaN(v) && h.zero > 0) {
    top = 0;
    if (cum + h.zero >= rank) v = 0;
    cum += h.zero;
  }
  const pos = h.pos.counts;
  for (let i = 0; i < pos.length && Number.isNaN(v); i++) {
    if (pos[i] <= 0) continue;
    top = midpoint(h.pos.offset + i, h.scale);
    if (cum + pos[i] >= rank) v = top;
    cum += pos[i];
  }
  if (Number.isNaN(v)) v = top;
  if (Number.isFinite(lo) && v < lo) return lo;
  if (Number.isFinite(hi) && v > hi) return hi;
  return v;
}

function midpoint(index: number, scale: number): number {
  return 2 ** ((index + 0.5) * 2 ** -scale);
}
