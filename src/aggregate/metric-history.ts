/**
 * The retained history of one metric series: a ring of compact summaries of its last closed
 * windows, for the JSON API and for detectors that want a baseline.
 */

/** One retained window of a series. NaN where the window had no value (empty windows included). */
export interface MetricHistoryPoint {
  /** Window start, ms since the epoch. */
  start: number;
  /** Gauge last value, sum increment, distribution mean. */
  value: number;
  min: number;
  max: number;
  /** Samples (gauge), points (sum) or observations (distributions). */
  count: number;
}

// value, min, max, count: one Float64Array for the whole ring, 32 bytes per window.
const STRIDE = 4;
// Most series are short-lived or sparse: start small and double up to the retention.
const INITIAL_SLOTS = 8;

/**
 * The last `capacity` windows of a series, oldest overwritten first. Windows are consecutive
 * (the aggregator records every window of a live series, empty ones too), so starts are not
 * stored: slot k back from the newest started `k · windowMs` before it.
 */
export class MetricHistory {
  private data = new Float64Array(0);
  // Slot of the next write.
  private head = 0;
  private used = 0;
  private lastStart = NaN;

  constructor(private readonly capacity: number, private readonly windowMs: number) {}

  /** Windows held. */
  get length(): number {
    return this.used;
  }

  /** Bytes held by the ring's storage. */
  get byteSize(): number {
    return this.data.byteLength;
  }

  /** Appends the window that started at `start` (the one after the previous window). */
  push(start: number, value: number, min: number, max: number, count: number): void {
    let slots = this.data.length / STRIDE;
    if (this.used === slots && slots < this.capacity) slots = this.grow(slots);
    const o = this.head * STRIDE;
    const d = this.data;
    d[o] = value;
    d[o + 1] = min;
    d[o + 2] = max;
    d[o + 3] = count;
    this.head = this.head + 1 === slots ? 0 : this.head + 1;
    if (this.used < slots) this.used++;
    this.lastStart = start;
  }

  /**
   * Records `n` empty windows after the newest. A gap at least as long as the ring leaves
   * nothing worth keeping: the ring empties instead of filling with blanks.
   */
  skip(n: number): void {
    if (n <= 0) return;
    const next = (Number.isNaN(this.lastStart) ? 0 : this.lastStart) + this.windowMs;
    if (n >= this.capacity) {
      this.head = 0;
      this.used = 0;
      this.lastStart = next + (n - 1) * this.windowMs;
      return;
    }
    for (let i = 0; i < n; i++) this.push(next + i * this.windowMs, NaN, NaN, NaN, 0);
  }

  /** The newest `limit` windows (all by default), oldest first. */
  toArray(limit = this.used): MetricHistoryPoint[] {
    const n = Math.max(0, Math.min(Math.floor(limit), this.used));
    const slots = this.data.length / STRIDE;
    const out: MetricHistoryPoint[] = new Array(n);
    for (let k = 0; k < n; k++) {
      // k-th oldest of the n newest.
      const back = n - 1 - k;
      const slot = (this.head - 1 - back + slots * 2) % slots;
      const o = slot * STRIDE;
      const d = this.data;
      out[k] = { start: this.lastStart - back * this.windowMs, value: d[o], min: d[o + 1], max: d[o + 2], count: d[o + 3] };
    }
    return out;
  }

  private grow(slots: number): number {
    const next = Math.min(this.capacity, Math.max(INITIAL_SLOTS, slots * 2));
    const data = new Float64Array(next * STRIDE);
    // Unroll the ring oldest first so the new one starts unwrapped.
    const oldest = this.used < slots ? 0 : this.head;
    for (let k = 0; k < this.used; k++) {
      const from = ((oldest + k) % slots) * STRIDE;
      data.set(this.data.subarray(from, from + STRIDE), k * STRIDE);
    }
    this.data = data;
    this.head = this.used;
    return next;
  }
}
