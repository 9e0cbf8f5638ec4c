/**
 * The recent windows of one series as the window detectors (latency regression, error spike,
 * traffic drop) keep them for their baselines: a fixed ring of a few numbers per window.
 *
 * Detectors hold one ring per live series, in a `WeakMap` keyed by the aggregator's series
 * object, so a ring is allocated once when its series first closes a window and is freed with
 * the series when the aggregator evicts it. Nothing here allocates after construction.
 */

import { ByteReader, ByteWriter } from './checkpoint-codec.js';

/** Most numbers one ring keeps per window (see {@link SeriesHistory.push}). */
export const MAX_COLUMNS = 4;
// Largest ring a checkpoint may describe: the config's limit on baseline windows.
const MAX_CAPACITY = 100_000;

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

  /** The raw ring, for {@link writeHistory}. */
  internals(): { readonly head: number; readonly n: number; readonly total: number; readonly data: Float64Array } {
    return { head: this.head, n: this.n, total: this.total, data: this.data };
  }

  /** Sets the raw ring, for {@link readHistory}; undefined leaves a field as it is. */
  load(data?: Float64Array, head?: number, n?: number, total?: number): void {
    if (data !== undefined) this.data.set(data);
    if (head !== undefined) this.head = head;
    if (n !== undefined) this.n = n;
    if (total !== undefined) this.total = total;
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

// How a checkpointed ring stores its numbers.
const AS_DOUBLES = 0;
const AS_WHOLE = 1;
const AS_MULTIPLES = 2;

/**
 * Writes `h` exactly (layout included, so sums and medians come out bit for bit the same after
 * a restore). A ring whose numbers are all whole multiples of `unit` (span and error counts
 * with 1; rates as counts × 1/window) is written as varints of the multiples: 1–3 bytes a
 * number instead of 8, and as exact, since v = (v / unit) · unit is checked for each.
 */
export function writeHistory(w: ByteWriter, h: SeriesHistory, unit = 1): void {
  const { head, n, total, data } = h.internals();
  w.uint(h.capacity);
  w.uint(h.columns);
  w.uint(head);
  w.uint(n);
  w.uint(total);
  // The held windows are slots 0..n-1 (the ring fills from 0).
  const len = n * h.columns;
  let multiples = unit > 0;
  for (let i = 0; i < len && multiples; i++) {
    const q = Math.round(data[i] / unit);
    multiples = q >= 0 && Number.isSafeInteger(q) && q * unit === data[i];
  }
  if (!multiples) {
    w.u8(AS_DOUBLES);
    w.f64s(data, 0, len);
    return;
  }
  w.u8(unit === 1 ? AS_WHOLE : AS_MULTIPLES);
  if (unit !== 1) w.f64(unit);
  for (let i = 0; i < len; i++) w.uint(Math.round(data[i] / unit));
}

/** A series' state in the detectors that judge a streak of windows against a ring. */
export interface StreakState {
  id: string | undefined;
  streak: number;
  history: SeriesHistory;
}

/** Writes the states of a streak detector (error spike, latency regression) as one payload. */
export function writeStreakStates(format: number, states: Iterable<[string, StreakState]>): Buffer {
  const all = [...states];
  const w = new ByteWriter(format);
  w.uint(all.length);
  for (const [id, s] of all) {
    w.str(id);
    w.uint(s.streak);
    writeHistory(w, s.history);
  }
  return w.done();
}

/** Reads what {@link writeStreakStates} wrote into rings of `capacity` windows of `columns` numbers. */
export function readStreakStates(data: Buffer, format: number, capacity: number, columns: number): Map<string, StreakState & { id: string }> {
  const r = new ByteReader(data, format);
  const states = new Map<string, StreakState & { id: string }>();
  for (let i = r.uint(); i > 0; i--) {
    const id = r.str();
    const streak = r.uint();
    states.set(id, { id, streak, history: readHistory(r, capacity, columns) });
  }
  r.end();
  return states;
}

/**
 * Reads a ring {@link writeHistory} wrote into a new ring of `capacity` windows. When the
 * capacity changed (`baseline_windows` was edited) the newest windows are kept and the
 * warm-up count carries over; a different column count means the payload is not ours.
 */
export function readHistory(r: ByteReader, capacity: number, columns: number): SeriesHistory {
  const cap = r.count(MAX_CAPACITY);
  const cols = r.uint();
  const head = r.uint();
  const n = r.uint();
  const total = r.uint();
  if (cols !== columns) throw new RangeError(`checkpointed ring has ${cols} columns, ${columns} expected`);
  if (cap < 1 || n > cap || head >= cap || total < n || (n < cap && head !== n)) throw new RangeError('checkpointed ring is inconsistent');
  const values = new Float64Array(n * cols);
  const mode = r.u8();
  if (mode === AS_DOUBLES) {
    r.f64s(values, values.length);
  } else if (mode === AS_WHOLE || mode === AS_MULTIPLES) {
    const unit = mode === AS_WHOLE ? 1 : r.f64();
    for (let i = 0; i < values.length; i++) values[i] = r.uint() * unit;
  } else {
    throw new RangeError(`checkpointed ring has an unknown encoding ${mode}`);
  }
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError('checkpointed ring holds a non-finite value');
  const h = new SeriesHistory(capacity, columns);
  if (cap === capacity) {
    h.load(values, head, n, total);
    return h;
  }
  for (let i = Math.max(0, n - capacity); i < n; i++) {
    const at = ((head - n + i + cap) % cap) * cols;
    h.push(values[at], values[at + 1], values[at + 2], values[at + 3]);
  }
  h.load(undefined, undefined, undefined, total);
  return h;
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
