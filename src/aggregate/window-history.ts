/**
 * The retained ring of closed windows of one span series: what detectors read as a baseline
 * and the dashboard plots. Every live series keeps a full ring (default 360 windows), so memory
 * is dominated by these records and they are made small and allocation-free:
 *
 * - a window is one 20-byte record: count and errors as uint32, and the mean, max, p50, p90,
 *   p99 and p99.9 latencies as 16-bit log-scale codes (≤ 0.025% relative error, far below the
 *   sketch's own);
 * - rings are fixed blocks carved from large shared chunks ({@link WindowRingSlab}), evicted
 *   series give their block back, and the heap neither fragments nor holds per-series typed
 *   arrays. Within a chunk, record i of all its rings sit side by side, so memory is committed
 *   as rings fill (pages are touched window by window across 256 rings), not 4 KiB per ring
 *   the moment it records its first window.
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

/** Bytes of one retained window. */
export const RECORD_BYTES = 20;
// Record layout, in 16-bit words: count (2), errors (2), then mean, max, p50, p90, p99, p999.
const W_COUNT = 0;
const W_ERRORS = 2;
const W_LAT = 4;
const RECORD_WORDS = RECORD_BYTES / 2;
// Rings per chunk: chunks are allocated as series appear and never freed, so a chunk is a
// compromise between allocation count and memory held past a cardinality spike.
const RINGS_PER_CHUNK = 256;

interface Chunk {
  u16: Uint16Array;
  u32: Uint32Array;
}

/** Where a ring's records live. */
interface RingBlock {
  chunk: Chunk;
  /** Offset of the ring's first record, in 16-bit words; record i is i × stride further. */
  base: number;
}
// Words between two records of one ring: one record of every ring of the chunk.
const STRIDE = RINGS_PER_CHUNK * RECORD_WORDS;

/** Hands out fixed-size ring blocks from shared chunks and takes them back. */
export class WindowRingSlab {
  private readonly chunks: Chunk[] = [];
  private readonly free: RingBlock[] = [];
  private readonly ringWords: number;

  constructor(readonly ringLength: number) {
    this.ringWords = ringLength * RECORD_WORDS;
  }

  /** Bytes reserved (address space; pages count toward RSS only once written). */
  get reservedBytes(): number {
    return this.chunks.length * RINGS_PER_CHUNK * this.ringWords * 2;
  }

  acquire(): RingBlock {
    const b = this.free.pop();
    if (b !== undefined) return b;
    const buf = new ArrayBuffer(RINGS_PER_CHUNK * this.ringWords * 2);
    const chunk = { u16: new Uint16Array(buf), u32: new Uint32Array(buf) };
    this.chunks.push(chunk);
    // Hand out in reverse so the first ring taken is at the chunk's start.
    for (let i = RINGS_PER_CHUNK - 1; i > 0; i--) this.free.push({ chunk, base: i * RECORD_WORDS });
    return { chunk, base: 0 };
  }

  release(block: RingBlock): void {
    this.free.push(block);
  }
}

/**
 * Closed windows of one series, oldest first, at most the slab's ring length. Windows are
 * contiguous (every window of a live series is recorded, empty ones too), so only the newest
 * start is stored.
 */
export class WindowHistory {
  private block: RingBlock | undefined;
  private head = 0; // index of the oldest record
  private n = 0;
  private newestStart = Number.NaN;
  private readonly limit: number;

  constructor(private readonly slab: WindowRingSlab, private readonly windowMs: number) {
    this.limit = slab.ringLength;
  }

  get length(): number {
    return this.n;
  }

  push(w: WindowSummary): void {
    this.block ??= this.slab.acquire();
    let slot: number;
    if (this.n < this.limit) {
      slot = (this.head + this.n) % this.limit;
      this.n++;
    } else {
      slot = this.head;
      this.head = (this.head + 1) % this.limit;
    }
    const { chunk, base } = this.block;
    const at = base + slot * STRIDE;
    const count = Math.min(w.count, 0xffffffff);
    chunk.u32[(at + W_COUNT) >> 1] = count;
    chunk.u32[(at + W_ERRORS) >> 1] = Math.min(w.errors, 0xffffffff);
    const lat = chunk.u16;
    lat[at + W_LAT] = encodeLatency(count > 0 ? w.sumMs / count : Number.NaN);
    lat[at + W_LAT + 1] = encodeLatency(w.maxMs);
    lat[at + W_LAT + 2] = encodeLatency(w.p50);
    lat[at + W_LAT + 3] = encodeLatency(w.p90);
    lat[at + W_LAT + 4] = encodeLatency(w.p99);
    lat[at + W_LAT + 5] = encodeLatency(w.p999);
    this.newestStart = w.start;
  }

  /**
   * Record `i` (0 = oldest) written into `out`, which is returned. `sumMs` is rebuilt from the
   * coded mean, and `minMs` is not retained (NaN).
   */
  get(i: number, out: WindowSummary): WindowSummary {
    if (i < 0 || i >= this.n || this.block === undefined) throw new RangeError(`window ${i} of ${this.n}`);
    const { chunk, base } = this.block;
    const at = base + ((this.head + i) % this.limit) * STRIDE;
    const lat = chunk.u16;
    out.start = this.newestStart - (this.n - 1 - i) * this.windowMs;
    out.count = chunk.u32[(at + W_COUNT) >> 1];
    out.errors = chunk.u32[(at + W_ERRORS) >> 1];
    out.sumMs = out.count > 0 ? decodeLatency(lat[at + W_LAT]) * out.count : 0;
    out.minMs = Number.NaN;
    out.maxMs = decodeLatency(lat[at + W_LAT + 1]);
    out.p50 = decodeLatency(lat[at + W_LAT + 2]);
    out.p90 = decodeLatency(lat[at + W_LAT + 3]);
    out.p99 = decodeLatency(lat[at + W_LAT + 4]);
    out.p999 = decodeLatency(lat[at + W_LAT + 5]);
    return out;
  }

  /** The newest `limit` records, oldest first, as fresh objects (for the JSON API). */
  toArray(limit = this.n): WindowSummary[] {
    const from = Math.max(0, this.n - limit);
    const out: WindowSummary[] = [];
    for (let i = from; i < this.n; i++) out.push(this.get(i, emptySummary()));
    return out;
  }

  /** Gives the ring's block back to the slab (the series was evicted). */
  release(): void {
    if (this.block !== undefined) this.slab.release(this.block);
    this.block = undefined;
    this.n = 0;
    this.head = 0;
  }
}

/** A summary of an empty window starting at `start`. */
export function emptySummary(start = 0): WindowSummary {
  const nan = Number.NaN;
  return { start, count: 0, errors: 0, sumMs: 0, minMs: nan, maxMs: nan, p50: nan, p90: nan, p99: nan, p999: nan };
}
