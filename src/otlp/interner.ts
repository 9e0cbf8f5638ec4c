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

/** Byte-keyed string table with open addressing. */
export class StringInterner {
  private readonly maxEntries: number;
  private readonly maxLength: number;
  private readonly mask: number;
  private readonly slots: Int32Array; // entry index + 1, 0 = empty
  private readonly hashes: Int32Array;
  private readonly starts: Int32Array;
  private readonly lengths: Int32Array;
  private readonly strings: string[];
  private arena: Buffer;
  private arenaView: DataView;
  private viewBuf: Buffer | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private arenaUsed = 0;
  private count = 0;
  /** How many times the table filled up and was cleared. */
  resets = 0;

  constructor(options: StringInternerOptions = {}) {
    this.maxEntries = options.maxEntries ?? 65536;
    this.maxLength = options.maxLength ?? 256;
    const tableSize = nextPow2(this.maxEntries * 2);
    this.mask = tableSize - 1;
    this.slots = new Int32Array(tableSize);
    this.hashes = new Int32Array(this.maxEntries);
    this.starts = new Int32Array(this.maxEntries);
    this.lengths = new Int32Array(this.maxEntries);
    this.strings = new Array<string>(this.maxEntries).fill(EMPTY);
    this.arena = Buffer.allocUnsafe(64 * 1024);
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
    const arena = this.arena;
    const arenaView = this.arenaView;
    let slot = h & this.mask;
    for (;;) {
      const e = this.slots[slot] - 1;
      if (e < 0) break;
      if (this.hashes[e] === h && this.lengths[e] === len) {
        let p = this.starts[e];
        let j = start;
        while (j + 4 <= end && arenaView.getInt32(p, true) === view.getInt32(j, true)) {
          p += 4;
          j += 4;
        }
        while (j < end && arena[p] === buf[j]) {
          p++;
          j++;
        }
        if (j === end) return this.strings[e];
      }
      slot = (slot + 1) & this.mask;
    }
    return this.insert(buf, start, end, h, slot);
  }

  private insert(buf: Buffer, start: number, end: number, h: number, slot: number): string {
    const len = end - start;
    const s = buf.toString('utf8', start, end);
    if (this.count >= this.maxEntries) {
      this.clear();
      this.resets++;
      slot = h & this.mask;
    }
    if (this.arenaUsed + len > this.arena.length) {
      const maxArena = this.maxEntries * this.maxLength;
      if (this.arena.length * 2 <= maxArena) {
        const grown = Buffer.allocUnsafe(this.arena.length * 2);
        this.arena.copy(grown, 0, 0, this.arenaUsed);
        this.arena = grown;
        this.arenaView = viewOf(grown);
      } else {
        this.clear();
        this.resets++;
        slot = h & this.mask;
      }
    }
    const e = this.count++;
    buf.copy(this.arena, this.arenaUsed, start, end);
    this.starts[e] = this.arenaUsed;
    this.lengths[e] = len;
    this.hashes[e] = h;
    this.strings[e] = s;
    this.arenaUsed += len;
    this.slots[slot] = e + 1;
    return s;
  }

  private clear(): void {
    this.slots.fill(0);
    this.strings.fill(EMPTY);
    this.count = 0;
    this.arenaUsed = 0;
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
