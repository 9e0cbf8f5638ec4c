/**
 * The recent windows of one series as the window detectors (latency regression, error spike,
 * traffic drop) keep them for their baselines: a fixed ring of a few numbers per window.
 *
 * Detectors hold one ring per live series, in a `WeakMap` keyed by the aggregator's series
 * object, so a ring is allocated once when its series first closes a window and is freed with
 * the series when the aggregator evicts it. Nothing here allocates after construction.
 */

/** Most numbers one ring keeps per window (see {@link SeriesHistory.push}). */
export const MAX_COLUMNS = 4;

/** The last `capacity` windows of one series, `columns` numbers each, oldest overwritten first. */
export class SeriesHistory {
  private readonly data: Float64Array;
  // Slot the next push writes; rows are stored row-major, `columns` numbers per slot.
  private head = 0;
  private n = 0;
  private total = 0;

  constructor(
    readonly capacity: number,
    readonly columns = 1,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    if (!Number.isInteger(columns) || columns < 1 || columns > MAX_COLUMNS) throw new RangeError(`columns must be 1..${MAX_COLUMNS}, got ${columns}`);
    this.data = new Float64Array(capacity * columns);
  }

  /** Windows held now (at most {@link capacity}). */
  get length(): number {
    return this.n;
  }

  /**
   * Windows ever pushed, including those since overwritten: what warm-ups count, since a
   * warm-up may be longer than the ring.
   */
  get pushed(): number {
    return this.total;
  }

  /** Bytes of the ring's numbers. */
  get bytes(): number {
    return this.data.byteLength;
  }

  /**
   * Appends one window, overwriting the oldest when full. Takes the columns as arguments
   * rather than an array so the per-window path allocates nothing; columns past
   * {@link columns} are ignored.
   */
  push(v0: number, v1 = 0, v2 = 0, v3 = 0): void {
    const c = this.columns;
    const at = this.head * c;
    const d = this.data;
    d[at] = v0;
    if (c > 1) d[at + 1] = v1;
    if (c > 2) d[at + 2] = v2;
    if (c > 3) d[at + 3] = v3;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.n < this.capacity) this.n++;
    this.total++;
  }

  /** Column `col` of the `i`-th held window, 0 being the oldest. */
  at(i: number, col = 0): number {
    if (i < 0 || i >= this.n) return Number.NaN;
    const slot = (this.head - this.n + i + this.capacity) % this.capacity;
    return this.data[slot * this.columns + col];
  }

  /** Sum of column `col` over the held windows (0 when empty). */
  sum(col = 0): number {
    const c = this.columns;
    const d = this.data;
    let s = 0;
    // Order does not matter here, and the held windows are slots 0..n-1 (the ring fills from 0).
    for (let i = 0; i < this.n; i++) s += d[i * c + col];
    return s;
  }

  /**
   * Median of column `col` over the held windows (mean of the two middle values for an even
   * count), NaN when empty. `scratch` must hold at least {@link capacity} numbers: detectors
   * share one across their series so taking a median allocates nothing. Values must not be NaN.
   */
  median(col: number, scratch: Float64Array): number {
    const n = this.n;
    if (n === 0) return Number.NaN;
    if (scratch.length < n) throw new RangeError(`scratch holds ${scratch.length} numbers, the ring ${n}`);
    const c = this.columns;
    const d = this.data;
    for (let i = 0; i < n; i++) scratch[i] = d[i * c + col]; // slots 0..n-1, as in sum()
    const k = n >> 1;
    const upper = select(scratch, n, k);
    if (n % 2 === 1) return upper;
    // After selecting k, everything before it is ≤ it: the lower middle is their maximum.
    let lower = scratch[0];
    for (let i = 1; i < k; i++) if (scratch[i] > lower) lower = scratch[i];
    return (lower + upper) / 2;
  }
}

/**
 * The k-th smallest of a[0..n) (Hoare's quickselect, middle pivot), partially reordering a so
 * that a[0..k) ≤ a[k] ≤ a[k+1..n).
 */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** `x` to three decimals, as detectors put numbers in evidence. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** ISO time, or null for a time no Date can hold (detectors must not throw on odd data). */
export function isoTime(t: number): string | null {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
