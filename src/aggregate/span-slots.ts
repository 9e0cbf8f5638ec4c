/**
 * The span hot path's integer side. With thousands of series, what a span costs is mostly cache
 * misses: hashing a name string, walking Maps, touching a series object, its window, its sketch
 * and its buffer — each a line that is not in cache when the next span belongs to another
 * series. So the hot loop works on small typed tables instead:
 *
 * - series have a **slot** (a small integer, reused after eviction);
 * - the decoder's interner ids find the slot: first a dense table indexed by span-name id (ids
 *   are handed out sequentially, so the used part is small and stays in cache), checked
 *   against the slot's service id and kind; names shared by several services or kinds fall
 *   back to a direct-mapped cache keyed by all three — no string or object is touched;
 * - per span only a **staged insert** is written (key, duration, error), sequentially; the
 *   staged entries are grouped by key with a counting sort and applied to the windows and
 *   sketches in one pass, so each series' objects are touched once per flush, not once per span.
 */

// Direct-mapped cache entries (4 ints each: name id, service id, kind, slot). A collision just
// costs a slow lookup.
const CACHE_BITS = 16;
const CACHE_SIZE = 1 << CACHE_BITS;
/** Staged inserts applied per flush. */
export const STAGE_SIZE = 32_768;
/** Slot tables, the id cache and the staging buffer of one span aggregator. */
export class SpanSlots {
  private readonly cache = new Int32Array(CACHE_SIZE * 4).fill(-1);
  private cacheGeneration = -1;
  private idsStale = false;
  /** Slot last seen for each span-name id (-1: none). Grows with the largest id seen. */
  private byName = new Int32Array(1024).fill(-1);
  /** Service id and kind of the key each slot was last found by. */
  private serviceOf = new Int32Array(64).fill(-1);
  private kindOf = new Int8Array(64).fill(-1);
  private free: number[] = [];
  private slotCount = 0;
  /** Receive time (ms) of each slot's latest span. */
  lastSeen = new Float64Array(64);
  /** 1 for overflow series. */
  overflow = new Uint8Array(64);
  /** Window index each key (slot × lanes + lane) is accumulating, -1 when idle. */
  laneWindow = new Float64Array(64 * 1).fill(-1);
  /** Exemplar score a span must beat to be offered to the key's reservoir (-1: not full). */
  exemplarFloor = new Float64Array(64 * 1).fill(-1);
  readonly stageKeys = new Int32Array(STAGE_SIZE);
  readonly stageValues = new Float64Array(STAGE_SIZE);
  readonly stageErrors = new Uint8Array(STAGE_SIZE);
  staged = 0;
  // Counting-sort scratch.
  private counts = new Int32Array(65);
  private readonly sortedValues = new Float64Array(STAGE_SIZE);
  private readonly sortedErrors = new Uint8Array(STAGE_SIZE);

  constructor(private readonly lanes: number) {
    this.laneWindow = new Float64Array(64 * lanes).fill(-1);
    this.exemplarFloor = new Float64Array(64 * lanes).fill(-1);
  }

  /** Slots handed out so far (the tables' used length). */
  get capacity(): number {
    return this.slotCount;
  }

  /** A free slot, its tables reset. */
  acquire(now: number, overflow: boolean): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slotCount++;
      if (slot >= this.lastSeen.length) this.grow(this.lastSeen.length * 2);
    }
    this.lastSeen[slot] = now;
    this.overflow[slot] = overflow ? 1 : 0;
    this.serviceOf[slot] = -1;
    this.kindOf[slot] = -1;
    const L = this.lanes;
    this.laneWindow.fill(-1, slot * L, slot * L + L);
    this.exemplarFloor.fill(-1, slot * L, slot * L + L);
    return slot;
  }

  /**
   * Returns an evicted series' slot. The id caches may point at it, so they are cleared before
   * the next lookup — once, however many series an eviction pass removed.
   */
  release(slot: number): void {
    this.free.push(slot);
    this.idsStale = true;
  }

  private clearIds(): void {
    this.cache.fill(-1);
    this.byName.fill(-1);
  }

  private grow(slots: number): void {
    const L = this.lanes;
    const f64 = (a: Float64Array, n: number, fill: number): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n).fill(fill);
      b.set(a);
      return b;
    };
    this.lastSeen = f64(this.lastSeen, slots, 0);
    const o = new Uint8Array(slots);
    o.set(this.overflow);
    this.overflow = o;
    const svc = new Int32Array(slots).fill(-1);
    svc.set(this.serviceOf);
    this.serviceOf = svc;
    const kind = new Int8Array(slots).fill(-1);
    kind.set(this.kindOf);
    this.kindOf = kind;
    this.laneWindow = f64(this.laneWindow, slots * L, -1);
    this.exemplarFloor = f64(this.exemplarFloor, slots * L, -1);
  }

  /** The cached slot of (name id, service id, kind) in interner generation `generation`, or -1. */
  cached(nameId: number, serviceId: number, kind: number, generation: number): number {
    if (generation !== this.cacheGeneration || this.idsStale) {
      // The decoder's string table started over (its ids now name other strings), or series
      // were evicted (their slots will be reused).
      this.clearIds();
      this.idsStale = false;
      this.cacheGeneration = generation;
      return -1;
    }
    if (nameId < this.byName.length) {
      const slot = this.byName[nameId];
      if (slot >= 0 && this.serviceOf[slot] === serviceId && this.kindOf[slot] === kind) return slot;
    }
    const at = cacheIndex(nameId, serviceId, kind);
    const c = this.cache;
    return c[at] === nameId && c[at + 1] === serviceId && c[at + 2] === kind ? c[at + 3] : -1;
  }

  remember(nameId: number, serviceId: number, kind: number, slot: number): void {
    if (nameId >= this.byName.length) {
      let n = this.byName.length;
      while (n <= nameId) n *= 2;
      const t = new Int32Array(n).fill(-1);
      t.set(this.byName);
      this.byName = t;
    }
    // One entry per name: a name shared by several services or kinds points at the slot of
    // whichever key missed last; the others are found in the hash cache below.
    this.byName[nameId] = slot;
    this.serviceOf[slot] = serviceId;
    this.kindOf[slot] = kind;
    const at = cacheIndex(nameId, serviceId, kind);
    const c = this.cache;
    c[at] = nameId;
    c[at + 1] = serviceId;
    c[at + 2] = kind;
    c[at + 3] = slot;
  }

  /**
   * Applies the staged inserts grouped by key: `apply(key, values, errors, from, to)` is called
   * once per key with its entries at [from, to) of the shared arrays. Empties the stage.
   */
  flush(apply: (key: number, values: Float64Array, errors: Uint8Array, from: number, to: number) => void): void {
    const n = this.staged;
    if (n === 0) return;
    const keys = this.stageKeys;
    const keyCount = this.slotCount * this.lanes;
    if (this.counts.length < keyCount + 1) this.counts = new Int32Array(Math.max(keyCount + 1, this.counts.length * 2));
    const counts = this.counts;
    counts.fill(0, 0, keyCount + 1);
    for (let i = 0; i < n; i++) counts[keys[i] + 1]++;
    for (let k = 0; k < keyCount; k++) counts[k + 1] += counts[k];
    const vals = this.stageValues;
    const errs = this.stageErrors;
    const sv = this.sortedValues;
    const se = this.sortedErrors;
    // counts[k] is now where key k's entries start; it advances to where they end.
    for (let i = 0; i < n; i++) {
      const p = counts[keys[i]]++;
      sv[p] = vals[i];
      se[p] = errs[i];
    }
    let from = 0;
    for (let k = 0; k < keyCount; k++) {
      const to = counts[k];
      if (to > from) apply(k, sv, se, from, to);
      from = to;
    }
    this.staged = 0;
  }
}

function cacheIndex(nameId: number, serviceId: number, kind: number): number {
  const h = Math.imul(nameId ^ Math.imul(serviceId + 1, 0x85ebca6b) ^ (kind << 24), 0x9e3779b1);
  return (h >>> (32 - CACHE_BITS)) * 4;
}
