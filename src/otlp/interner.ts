/**
 * Interns UTF-8 strings straight from request bytes.
 *
 * Service names, span names and attribute values repeat endlessly across requests; decoding
 * each occurrence would allocate a fresh string per span. The interner hashes the bytes in
 * place and returns the one string it already holds, so the steady state allocates nothing.
 * It is bounded: when the table or its byte arena fills up it starts over (counted), so a
 * client sending unique names cannot grow it without limit.
 */

const EMPTY = '';

/** Options for {@link StringInterner}. */
export interface StringInternerOptions {
  /** Most distinct strings held before the table is cleared. Power of two. Default 65536. */
  maxEntries?: number;
  /** Longest string (bytes) worth interning; longer ones are decoded each time. Default 256. */
  maxLength?: number;
}

/** Entry layout in {@link StringInterner}'s meta array: hash, arena start, byte length. */
const META = 3;
const INITIAL_ENTRIES = 256;

/**
 * Byte-keyed string table with open addressing. It starts small and doubles as strings
 * arrive: a sidecar sees a few hundred distinct names, and a table that fits in L1/L2 cache
 * matters more here than the hashing (a 2 MB table cost ~0.3 µs per span in cache misses).
 */
export class StringInterner {
  private readonly maxEntries: number;
  private readonly maxLength: number;
  private capacity = 0;
  private mask = 0;
  private slots = new Int32Array(0); // entry index + 1, 0 = empty
  private meta = new Int32Array(0); // per entry: hash, start, length
  private strings: string[] = [];
  private arena: Buffer;
  private arenaView: DataView;
  private viewBuf: Buffer | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private arenaUsed = 0;
  private count = 0;
  /** How many times the table filled up and was cleared. */
  resets = 0;
  /**
   * Id of the string the last {@link intern} call returned: its entry number, stable until the
   * next reset (so consumers key small integer tables by it instead of hashing strings);
   * -1 for the empty string and for strings too long to intern.
   */
  lastId = -1;

  constructor(options: StringInternerOptions = {}) {
    this.maxEntries = options.maxEntries ?? 65536;
    this.maxLength = options.maxLength ?? 256;
    this.allocate(Math.min(INITIAL_ENTRIES, this.maxEntries));
    this.arena = Buffer.allocUnsafe(Math.min(64 * 1024, this.maxEntries * this.maxLength));
    this.arenaView = viewOf(this.arena);
  }

  /** A DataView over `buf`, reused while requests keep coming from the same buffer. */
  private viewOf(buf: Buffer): DataView {
    if (buf !== this.viewBuf) {
      this.viewBuf = buf;
      this.view = viewOf(buf);
    }
    return this.view;
  }

  /** Number of strings currently held. */
  get size(): number {
    return this.count;
  }

  /** Returns the string for `buf[start, end)`, decoding it only the first time it is seen. */
  intern(buf: Buffer, start: number, end: number): string {
    const len = end - start;
    this.lastId = -1;
    if (len === 0) return EMPTY;
    if (len > this.maxLength) return buf.toString('utf8', start, end);
    // Hash and compare four bytes per load: DataView reads compile to single 32-bit loads.
    const view = this.viewOf(buf);
    let h = len;
    let i = start;
    for (; i + 4 <= end; i += 4) {
      h = Math.imul(h ^ view.getInt32(i, true), 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const meta = this.meta;
    const arena = this.arena;
    const arenaView = this.arenaView;
    let slot = h & this.mask;
    for (;;) {
      const e = this.slots[slot] - 1;
      if (e < 0) break;
      const m = e * META;
      if (meta[m] === h && meta[m + 2] === len) {
        let p = meta[m + 1];
        let j = start;
        while (j + 4 <= end && arenaView.getInt32(p, true) === view.getInt32(j, true)) {
          p += 4;
          j += 4;
        }
        while (j < end && arena[p] === buf[j]) {
          p++;
          j++;
        }
        if (j === end) {
          this.lastId = e;
          return this.strings[e];
        }
      }
      slot = (slot + 1) & this.mask;
    }
    return this.insert(buf, start, end, h);
  }

  private insert(buf: Buffer, start: number, end: number, h: number): string {
    const len = end - start;
    const s = buf.toString('utf8', start, end);
    if (this.count >= this.maxEntries) this.reset();
    else if (this.count >= this.capacity) this.grow();
    if (this.arenaUsed + len > this.arena.length) {
      const maxArena = this.maxEntries * this.maxLength;
      if (this.arena.length * 2 <= maxArena) {
        const grown = Buffer.allocUnsafe(this.arena.length * 2);
        this.arena.copy(grown, 0, 0, this.arenaUsed);
        this.arena = grown;
        this.arenaView = viewOf(grown);
      } else {
        this.reset();
      }
    }
    const e = this.count++;
    buf.copy(this.arena, this.arenaUsed, start, end);
    const m = e * META;
    this.meta[m] = h;
    this.meta[m + 1] = this.arenaUsed;
    this.meta[m + 2] = len;
    this.strings[e] = s;
    this.arenaUsed += len;
    this.place(e, h);
    this.lastId = e;
    return s;
  }

  /** Puts entry `e` into the first free slot of its probe sequence. */
  private place(e: number, h: number): void {
    let slot = h & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = e + 1;
  }

  private allocate(capacity: number): void {
    this.capacity = capacity;
    const tableSize = nextPow2(capacity * 2);
    this.mask = tableSize - 1;
    this.slots = new Int32Array(tableSize);
    const meta = new Int32Array(capacity * META);
    meta.set(this.meta.subarray(0, Math.min(this.meta.length, meta.length)));
    this.meta = meta;
    this.strings.length = capacity;
  }

  /** Doubles the table (up to maxEntries) and re-places every entry. */
  private grow(): void {
    this.allocate(Math.min(this.capacity * 2, this.maxEntries));
    for (let e = 0; e < this.count; e++) this.place(e, this.meta[e * META]);
  }

  /** Starts over: the bound was reached. */
  private reset(): void {
    this.slots.fill(0);
    this.strings.fill(EMPTY);
    this.count = 0;
    this.arenaUsed = 0;
    this.resets++;
  }
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
