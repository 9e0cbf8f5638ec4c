/**
 * The retained ring of closed windows of one span series: what detectors read as a baseline
 * and the dashboard plots. A full ring (default 360 windows) is kept for every live series, so
 * each window is a 24-byte record: counts as uint32, the duration sum as float32, and the
 * latency quantiles as 16-bit log-scale codes (0.025% relative error, far below the sketch's).
 */

/** A closed window's numbers, as retained. Durations in milliseconds; NaN when the window was empty. */
export interface WindowSummary {
  /** Window start, ms since the epoch. */
  start: number;
  count: number;
  errors: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

// Latency codes: 0 = zero, 65535 = none (empty window), otherwise
// round(ln(v / FLOOR) / ln(GAMMA)) + 1, covering 1 ns .. ~1.7e8 ms.
const GAMMA_LN = Math.log(1.0005);
const FLOOR_MS = 1e-6;
const CODE_NONE = 65535;
const CODE_MAX = 65534;

/** Encodes a latency (ms) into 16 bits with ≤ 0.025% relative error. */
export function encodeLatency(ms: number): number {
  if (Number.isNaN(ms)) return CODE_NONE;
  if (ms <= 0) return 0;
  const c = Math.round(Math.log(ms / FLOOR_MS) / GAMMA_LN) + 1;
  return c < 1 ? 1 : c > CODE_MAX ? CODE_MAX : c;
}

/** Inverse of {@link encodeLatency}. */
export function decodeLatency(code: number): number {
  if (code === CODE_NONE) return Number.NaN;
  if (code === 0) return 0;
  return FLOOR_MS * Math.exp((code - 1) * GAMMA_LN);
}

const LATENCY_COLUMNS = 6; // min, max, p50, p90, p99, p999
const INITIAL_CAPACITY = 8;

/**
 * Closed windows of one series, oldest first, at most `limit`. Windows are contiguous (every
 * window of a live series is recorded, empty ones too), so only the newest start is stored.
 * Capacity grows by doubling up to `limit`, so a young series costs little.
 */
export class WindowHistory {
  private counts: Uint32Array;
  private errors: Uint32Array;
  private sums: Float32Array;
  private latencies: Uint16Array;
  private head = 0; // index of the oldest record
  private n = 0;
  private newestStart = Number.NaN;

  constructor(private readonly limit: number, private readonly windowMs: number) {
    const cap = Math.min(INITIAL_CAPACITY, limit);
    this.counts = new Uint32Array(cap);
    this.errors = new Uint32Array(cap);
    this.sums = new Float32Array(cap);
    this.latencies = new Uint16Array(cap * LATENCY_COLUMNS);
  }

  get length(): number {
    return this.n;
  }

  /** Bytes held by the ring's arrays. */
  get byteSize(): number {
    return this.counts.byteLength + this.errors.byteLength + this.sums.byteLength + this.latencies.byteLength;
  }

  push(w: WindowSummary): void {
    if (this.n === this.counts.length && this.n < this.limit) this.grow();
    const cap = this.counts.length;
    let slot: number;
    if (this.n < cap) {
      slot = (this.head + this.n) % cap;
      this.n++;
    } else {
      slot = this.head;
      this.head = (this.head + 1) % cap;
    }
    this.counts[slot] = Math.min(w.count, 0xffffffff);
    this.errors[slot] = Math.min(w.errors, 0xffffffff);
    this.sums[slot] = w.sumMs;
    const l = slot * LATENCY_COLUMNS;
    const lat = this.latencies;
    lat[l] = encodeLatency(w.minMs);
    lat[l + 1] = encodeLatency(w.maxMs);
    lat[l + 2] = encodeLatency(w.p50);
    lat[l + 3] = encodeLatency(w.p90);
    lat[l + 4] = encodeLatency(w.p99);
    lat[l + 5] = encodeLatency(w.p999);
    this.newestStart = w.start;
  }

  /** Record `i` (0 = oldest) written into `out`, which is returned. */
  get(i: number, out: WindowSummary): WindowSummary {
    if (i < 0 || i >= this.n) throw new RangeError(`window ${i} of ${this.n}`);
    const cap = this.counts.length;
    const slot = (this.head + i) % cap;
    const l = slot * LATENCY_COLUMNS;
    const lat = this.latencies;
    out.start = this.newestStart - (this.n - 1 - i) * this.windowMs;
    out.count = this.counts[slot];
    out.errors = this.errors[slot];
    out.sumMs = this.sums[slot];
    out.minMs = decodeLatency(lat[l]);
    out.maxMs = decodeLatency(lat[l + 1]);
    out.p50 = decodeLatency(lat[l + 2]);
    out.p90 = decodeLatency(lat[l + 3]);
    out.p99 = decodeLatency(lat[l + 4]);
    out.p999 = decodeLatency(lat[l + 5]);
    return out;
  }

  /** The newest `limit` records, oldest first, as fresh objects (for the JSON API). */
  toArray(limit = this.n): WindowSummary[] {
    const from = Math.max(0, this.n - limit);
    const out: WindowSummary[] = [];
    for (let i = from; i < this.n; i++) out.push(this.get(i, emptySummary()));
    return out;
  }

  private grow(): void {
    const cap = Math.min(this.limit, this.counts.length * 2);
    const unroll = <T extends Uint32Array | Float32Array | Uint16Array>(a: T, next: T, width: number): T => {
      const old = a.length / width;
      for (let i = 0; i < this.n; i++) {
        const from = ((this.head + i) % old) * width;
        next.set(a.subarray(from, from + width), i * width);
      }
      return next;
    };
    this.counts = unroll(this.counts, new Uint32Array(cap), 1);
    this.errors = unroll(this.errors, new Uint32Array(cap), 1);
    this.sums = unroll(this.sums, new Float32Array(cap), 1);
    this.latencies = unroll(this.latencies, new Uint16Array(cap * LATENCY_COLUMNS), LATENCY_COLUMNS);
    this.head = 0;
  }
}

/** A summary of an empty window starting at `start`. */
export function emptySummary(start = 0): WindowSummary {
  const nan = Number.NaN;
  return { start, count: 0, errors: 0, sumMs: 0, minMs: nan, maxMs: nan, p50: nan, p90: nan, p99: nan, p999: nan };
}
