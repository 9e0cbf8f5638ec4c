/**
 * Good/bad counts of one SLO over time, in two fixed rings: fine buckets covering the longest
 * burn-rate window (for the alert pairs) and coarse buckets covering the budget period (for
 * "budget consumed"). Fixed size whatever the traffic: with the default windows (finest 5m,
 * longest 3d) and a 30-day period it is ~35 KB fine + ~6 KB coarse per SLO.
 */
import type { ByteReader, ByteWriter } from './checkpoint-codec.js';

/** A checkpointed ring, decoded: its width and (bucket number, total, bad) triples, oldest first. */
export interface SavedRing {
  width: number;
  buckets: Float64Array;
}

/** Both rings of a checkpointed {@link SloBuckets}. */
export interface SavedBuckets {
  fine: SavedRing;
  coarse: SavedRing;
}

/** A ring of time buckets of one width, each with total and bad counts. */
class BucketRing {
  private readonly total: Float64Array;
  private readonly bad: Float64Array;
  private readonly index: Float64Array; // bucket number held by each slot (-1: none)

  constructor(readonly width: number, readonly length: number) {
    this.total = new Float64Array(length);
    this.bad = new Float64Array(length);
    this.index = new Float64Array(length).fill(-1);
  }

  add(time: number, total: number, bad: number): void {
    const b = Math.floor(time / this.width);
    const slot = b % this.length;
    if (this.index[slot] !== b) {
      // An older bucket's turn is over (or the slot was never used): start it afresh.
      if (this.index[slot] > b) return; // older than what the ring still holds
      this.index[slot] = b;
      this.total[slot] = 0;
      this.bad[slot] = 0;
    }
    this.total[slot] += total;
    this.bad[slot] += bad;
  }

  /** Sums of the buckets starting in [now − span, now); `out` = [total, bad]. */
  sum(now: number, span: number, out: number[]): number[] {
    const last = Math.floor((now - 1) / this.width);
    const first = Math.max(Math.ceil((now - span) / this.width), last - this.length + 1);
    let total = 0;
    let bad = 0;
    for (let b = first; b <= last; b++) {
      const slot = ((b % this.length) + this.length) % this.length;
      if (this.index[slot] !== b) continue;
      total += this.total[slot];
      bad += this.bad[slot];
    }
    out[0] = total;
    out[1] = bad;
    return out;
  }

  get bytes(): number {
    return this.length * 24;
  }

  /** Writes the buckets in use, oldest first. */
  write(w: ByteWriter): void {
    const used: number[] = [];
    for (let slot = 0; slot < this.length; slot++) if (this.index[slot] >= 0) used.push(slot);
    used.sort((a, b) => this.index[a] - this.index[b]);
    w.uint(this.width);
    w.uint(used.length);
    for (const slot of used) {
      w.uint(this.index[slot]);
      w.num(this.total[slot]);
      w.num(this.bad[slot]);
    }
  }

  static decode(r: ByteReader): SavedRing {
    const width = r.uint();
    const n = r.uint();
    if (width < 1) throw new RangeError('checkpointed bucket width is 0');
    const buckets: number[] = [];
    let last = -1;
    for (let i = 0; i < n; i++) {
      const b = r.uint();
      const total = r.num();
      const bad = r.num();
      if (b <= last || !(total >= 0 && bad >= 0 && Number.isFinite(total) && Number.isFinite(bad))) throw new RangeError('checkpointed buckets are inconsistent');
      last = b;
      buckets.push(b, total, bad);
    }
    return { width, buckets: Float64Array.from(buckets) };
  }

  /**
   * Adds checkpointed buckets. Exact when this ring's width is a multiple of theirs (each old
   * bucket falls in one of ours); otherwise they cannot be split and are dropped.
   */
  apply(saved: SavedRing): boolean {
    if (this.width % saved.width !== 0) return false;
    const a = saved.buckets;
    for (let i = 0; i < a.length; i += 3) this.add(a[i] * saved.width, a[i + 1], a[i + 2]);
    return true;
  }
}

// Coarse buckets per budget period.
const PERIOD_BUCKETS = 720;
// Fine buckets per shortest alert window: the window edge is off by at most 1/5 of it.
const BUCKETS_PER_SHORT_WINDOW = 5;

/** Time-bucketed good/bad counts of one SLO. */
export class SloBuckets {
  private readonly fine: BucketRing;
  private readonly coarse: BucketRing;
  private readonly scratch = [0, 0];

  /**
   * @param shortest shortest alert window, ms
   * @param longest longest alert window, ms
   * @param period budget period, ms
   * @param minWidth narrowest useful bucket (the aggregation window), ms
   */
  constructor(shortest: number, longest: number, readonly period: number, minWidth: number) {
    const width = Math.max(minWidth, Math.floor(shortest / BUCKETS_PER_SHORT_WINDOW));
    this.fine = new BucketRing(width, Math.ceil(longest / width) + 1);
    const coarseWidth = Math.max(width, Math.ceil(period / PERIOD_BUCKETS));
    this.coarse = new BucketRing(coarseWidth, Math.ceil(period / coarseWidth) + 1);
  }

  /** Records `total` events of which `bad` were bad, at `time` (ms). */
  add(time: number, total: number, bad: number): void {
    if (!(total > 0)) return;
    this.fine.add(time, total, bad);
    this.coarse.add(time, total, bad);
  }

  /** Bad ratio over [now − span, now); NaN with no events. */
  badRatio(now: number, span: number): number {
    const [total, bad] = this.fine.sum(now, span, this.scratch);
    return total > 0 ? bad / total : Number.NaN;
  }

  /** Events over [now − span, now) in the fine ring. */
  events(now: number, span: number): number {
    return this.fine.sum(now, span, this.scratch)[0];
  }

  /** [total, bad] over the budget period ending at `now`. */
  periodCounts(now: number): [number, number] {
    const [total, bad] = this.coarse.sum(now, this.period, this.scratch);
    return [total, bad];
  }

  /** Memory held, bytes. */
  get bytes(): number {
    return this.fine.bytes + this.coarse.bytes;
  }

  /** Writes both rings' buckets in use (a few bytes per bucket: counts are varints). */
  write(w: ByteWriter): void {
    this.fine.write(w);
    this.coarse.write(w);
  }

  /** Reads what {@link write} wrote, without applying it. */
  static decode(r: ByteReader): SavedBuckets {
    const fine = BucketRing.decode(r);
    const coarse = BucketRing.decode(r);
    return { fine, coarse };
  }

  /** Adds checkpointed counts (see {@link BucketRing.apply}); call on empty buckets. */
  apply(saved: SavedBuckets): void {
    this.fine.apply(saved.fine);
    this.coarse.apply(saved.coarse);
  }
}
