/**
 * DDSketch (Masson, Rim & Lee, VLDB 2019) behind {@link QuantileSketch}, using the mapping, dense
 * stores and quantile walk of `@datadog/sketches-js`. Every quantile is within the configured
 * relative accuracy of the true value at that rank, and merges are exact (bins add up).
 *
 * The adapter does its own inserting, merging, bounding and serialization because the library
 * (2.1.1) falls short there:
 * - `merge` drops the other sketch's negative store;
 * - the collapsing stores double-count a bin whenever they collapse (`sumOfRange` is inclusive),
 *   and the plain store is unbounded (1e-300 next to 1e300 spans ~69,000 bins);
 * - `toProto`/`fromProto` need protobufjs at run time (only a dev dependency here) and lose min/max.
 */
import { DDSketch } from '@datadog/sketches-js';
import type { QuantileSketch, SketchFactory } from './sketch.js';
import { VARINT, readVarint, varintSize, writeVarint } from './varint.js';

/** Relative accuracy used when none is configured. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;
/**
 * Most bins per store (sign). At 1% accuracy 2048 bins cover a max/min ratio of ~6e17, e.g.
 * 1 ns to 20 years in ms; beyond that the lowest values collapse into the lowest bin (the same
 * default and policy as Datadog's collapsing sketches). Memory per store stays under ~17 KB.
 */
export const DEFAULT_BIN_LIMIT = 2048;
const MIN_BIN_LIMIT = 16;
const MAX_BIN_LIMIT = 1 << 20;
const MAX_WEIGHT = Number.MAX_SAFE_INTEGER;
const BIN_CHUNK = 32;

type Store = DDSketch['store'];

/**
 * A DDSketch with relative-error guarantees. Negative values are supported (a second store);
 * |v| at or below the mapping's smallest indexable value (~2e-308) counts as zero; |v| above its
 * largest (~1.7e308) is rejected. Weights must be positive and finite.
 */
export class DDSketchAdapter implements QuantileSketch {
  readonly relativeAccuracy: number;
  readonly binLimit: number;
  private readonly sketch: DDSketch;
  private refused = 0;

  constructor(relativeAccuracy: number = DEFAULT_RELATIVE_ACCURACY, binLimit: number = DEFAULT_BIN_LIMIT) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) throw new RangeError(`DDSketch relative accuracy must be in (0, 1), got ${relativeAccuracy}`);
    if (!(Number.isInteger(binLimit) && binLimit >= MIN_BIN_LIMIT && binLimit <= MAX_BIN_LIMIT)) {
      throw new RangeError(`DDSketch bin limit must be an integer in [${MIN_BIN_LIMIT}, ${MAX_BIN_LIMIT}], got ${binLimit}`);
    }
    this.relativeAccuracy = relativeAccuracy;
    this.binLimit = binLimit;
    this.sketch = new DDSketch({ relativeAccuracy });
    // The library grows bins 128 at a time; a series with a handful of values needs far fewer.
    this.sketch.store.chunkSize = BIN_CHUNK;
    this.sketch.negativeStore.chunkSize = BIN_CHUNK;
  }

  add(value: number, weight?: number): void {
    const w = weight === undefined ? 1 : weight;
    const abs = value < 0 ? -value : value;
    // NaN fails the comparison; ±Infinity and near-MAX_VALUE exceed what the mapping can index.
    if (!(abs <= this.sketch.mapping.maxPossible) || (w !== 1 && !(w > 0 && w <= MAX_WEIGHT))) {
      this.refused++;
      return;
    }
    const s = this.sketch;
    if (abs <= s.mapping.minPossible) s.zeroCount += w;
    else this.addKey(value > 0 ? s.store : s.negativeStore, s.mapping.key(abs), w);
    s.count += w;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
  }

  /** Adds to a store, keeping its key span within {@link binLimit} by collapsing the lowest keys. */
  private addKey(store: Store, key: number, weight: number): void {
    if (store.count > 0) {
      const floor = store.maxKey - this.binLimit + 1;
      if (key < floor) key = floor;
      else if (key - this.binLimit + 1 > store.minKey) collapseBelow(store, key - this.binLimit + 1);
    }
    store.add(key, weight);
  }

  merge(other: QuantileSketch): void {
    if (!(other instanceof DDSketchAdapter)) throw new TypeError('can only merge a DDSketchAdapter into a DDSketchAdapter');
    const a = this.sketch, b = other.sketch;
    if (a.mapping.gamma !== b.mapping.gamma) {
      throw new Error(`cannot merge DDSketches with different relative accuracy (${this.relativeAccuracy} vs ${other.relativeAccuracy})`);
    }
    if (other === this) {
      for (const st of [a.store, a.negativeStore]) {
        for (let i = 0; i < st.bins.length; i++) st.bins[i] *= 2;
        st.count *= 2;
      }
      a.zeroCount *= 2;
      a.count *= 2;
      this.refused *= 2;
      return;
    }
    for (const [from, to] of [[b.store, a.store], [b.negativeStore, a.negativeStore]] as const) {
      if (from.count === 0) continue;
      // Highest key first, so a wider incoming range collapses once instead of bin by bin.
      this.addKey(to, from.maxKey, from.bins[from.maxKey - from.offset]);
      for (let k = from.minKey; k < from.maxKey; k++) {
        const c = from.bins[k - from.offset];
        if (c > 0) this.addKey(to, k, c);
      }
    }
    a.zeroCount += b.zeroCount;
    a.count += b.count;
    if (b.min < a.min) a.min = b.min;
    if (b.max > a.max) a.max = b.max;
    this.refused += other.refused;
  }

  quantile(q: number): number {
    const s = this.sketch;
    if (!(q >= 0 && q <= 1) || s.count === 0) return Number.NaN;
    if (q === 0) return s.min;
    if (q === 1) return s.max;
    // A bin's representative value can lie just outside the data; the exact extremes bound it.
    const v = s.getValueAtQuantile(q);
    return v < s.min ? s.min : v > s.max ? s.max : v;
  }

  count(): number {
    return this.sketch.count;
  }

  min(): number {
    return this.sketch.count > 0 ? this.sketch.min : Number.NaN;
  }

  max(): number {
    return this.sketch.count > 0 ? this.sketch.max : Number.NaN;
  }

  rejected(): number {
    return this.refused;
  }

  /** Number of bins in use (both signs), for tests and the bench. */
  binCount(): number {
    const s = this.sketch;
    return span(s.store) + span(s.negativeStore);
  }

  reset(): void {
    const s = this.sketch;
    clearStore(s.store);
    clearStore(s.negativeStore);
    s.zeroCount = 0;
    s.count = 0;
    s.sum = 0;
    s.min = Number.POSITIVE_INFINITY;
    s.max = Number.NEGATIVE_INFINITY;
    this.refused = 0;
  }

  byteSize(): number {
    const s = this.sketch;
    // Bins are a plain JS array: 8 bytes per slot in the worst (double) representation.
    return OBJECT_OVERHEAD + 8 * (s.store.bins.length + s.negativeStore.bins.length);
  }

  serialize(): Uint8Array {
    const s = this.sketch;
    const stores = [s.store, s.negativeStore];
    let integral = Number.isInteger(s.zeroCount);
    let varintBytes = 0;
    for (const st of stores) {
      for (let k = st.minKey; k <= st.maxKey && integral; k++) {
        const c = st.bins[k - st.offset];
        integral = Number.isInteger(c);
        varintBytes += varintSize(c);
      }
    }
    let size = HEADER_BYTES;
    for (const st of stores) size += st.count === 0 ? 4 : 12;
    size += integral ? varintBytes : 8 * (span(s.store) + span(s.negativeStore));
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    bytes[0] = MAGIC;
    bytes[1] = VERSION;
    bytes[2] = integral ? FLAG_VARINT_COUNTS : 0;
    view.setFloat64(4, this.relativeAccuracy, true);
    view.setUint32(12, this.binLimit, true);
    view.setFloat64(16, s.count, true);
    view.setFloat64(24, s.zeroCount, true);
    view.setFloat64(32, s.count > 0 ? s.min : Number.NaN, true);
    view.setFloat64(40, s.count > 0 ? s.max : Number.NaN, true);
    view.setFloat64(48, this.refused, true);
    let p = HEADER_BYTES;
    for (const st of stores) {
      const n = span(st);
      view.setUint32(p, n, true);
      p += 4;
      if (n === 0) continue;
      view.setFloat64(p, st.minKey, true);
      p += 8;
      for (let k = st.minKey; k <= st.maxKey; k++) {
        const c = st.bins[k - st.offset];
        if (integral) p = writeVarint(bytes, p, c);
        else {
          view.setFloat64(p, c, true);
          p += 8;
        }
      }
    }
    return bytes;
  }

  /** Restores {@link serialize}'s output; throws an Error naming the problem on anything else. */
  static deserialize(bytes: Uint8Array): DDSketchAdapter {
    const fail = (why: string): never => {
      throw new Error(`not a serialized DDSketch: ${why}`);
    };
    if (bytes.length < HEADER_BYTES) fail(`${bytes.length} bytes is shorter than the header`);
    if (bytes[0] !== MAGIC) fail('bad magic byte');
    if (bytes[1] !== VERSION) fail(`unsupported version ${bytes[1]}`);
    if ((bytes[2] & ~FLAG_VARINT_COUNTS) !== 0 || bytes[3] !== 0) fail('unknown flags');
    const varint = bytes[2] === FLAG_VARINT_COUNTS;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const accuracy = view.getFloat64(4, true);
    const binLimit = view.getUint32(12, true);
    const count = view.getFloat64(16, true);
    const zeroCount = view.getFloat64(24, true);
    const lo = view.getFloat64(32, true);
    const hi = view.getFloat64(40, true);
    const refused = view.getFloat64(48, true);
    if (!(accuracy > 0 && accuracy < 1)) fail(`relative accuracy ${accuracy} out of range`);
    if (!(binLimit >= MIN_BIN_LIMIT && binLimit <= MAX_BIN_LIMIT)) fail(`bin limit ${binLimit} out of range`);
    if (!(count >= 0 && count < Number.POSITIVE_INFINITY)) fail('bad count');
    if (!(zeroCount >= 0 && zeroCount <= count)) fail('bad zero count');
    if (!(refused >= 0 && Number.isInteger(refused))) fail('bad rejected count');
    if (count > 0 && !(lo <= hi && lo - lo === 0 && hi - hi === 0)) fail('bad min/max');
    const d = new DDSketchAdapter(accuracy, binLimit);
    const s = d.sketch;
    let p = HEADER_BYTES;
    let total = zeroCount;
    for (const st of [s.store, s.negativeStore]) {
      if (p + 4 > bytes.length) fail('truncated');
      const n = view.getUint32(p, true);
      p += 4;
      if (n === 0) continue;
      if (n > binLimit || p + 8 + n * (varint ? 1 : 8) > bytes.length) fail('bad bin count or truncated');
      const minKey = view.getFloat64(p, true);
      p += 8;
      if (!(Number.isSafeInteger(minKey) && Math.abs(minKey) < 2 ** 40)) fail('bad key offset');
      const counts = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        if (varint) {
          p = readVarint(bytes, p);
          if (p < 0) fail('truncated bins');
          counts[i] = VARINT.value;
        } else {
          if (p + 8 > bytes.length) fail('truncated bins');
          counts[i] = view.getFloat64(p, true);
          p += 8;
        }
        if (!(counts[i] >= 0 && counts[i] <= MAX_WEIGHT)) fail(`bad bin count ${counts[i]}`);
      }
      if (counts[0] === 0 || counts[n - 1] === 0) fail('empty edge bin');
      // Highest key first: the store then sizes its bins once instead of growing per key.
      st.add(minKey + n - 1, counts[n - 1]);
      for (let i = 0; i < n - 1; i++) if (counts[i] > 0) st.add(minKey + i, counts[i]);
      total += st.count;
    }
    if (p !== bytes.length) fail(`${bytes.length - p} trailing bytes`);
    if (Math.abs(total - count) > 1e-9 * count) fail('bins do not add up to the count');
    s.zeroCount = zeroCount;
    s.count = count;
    if (count > 0) {
      s.min = lo;
      s.max = hi;
    }
    d.refused = refused;
    return d;
  }
}

/** Folds every bin below `newMin` into bin `newMin` (the library's own collapse double-counts). */
function collapseBelow(store: Store, newMin: number): void {
  if (newMin > store.maxKey) {
    // Everything collapses; start the store over rather than let it shift its bins that far.
    const all = store.count;
    clearStore(store);
    store.add(newMin, all);
    return;
  }
  let moved = 0;
  for (let k = store.minKey; k < newMin; k++) {
    moved += store.bins[k - store.offset];
    store.bins[k - store.offset] = 0;
  }
  store.bins[newMin - store.offset] += moved;
  store.minKey = newMin;
}

/**
 * Empties a store. Its bins array is dropped, not zeroed: with stale bins and offset, the next
 * key far away would make the library shift (and grow) the array by the whole distance.
 */
function clearStore(store: Store): void {
  store.bins = [];
  store.offset = 0;
  store.count = 0;
  store.minKey = Number.POSITIVE_INFINITY;
  store.maxKey = Number.NEGATIVE_INFINITY;
}

function span(store: Store): number {
  return store.count === 0 ? 0 : store.maxKey - store.minKey + 1;
}

const OBJECT_OVERHEAD = 320;
const MAGIC = 0x44; // 'D'
const VERSION = 1;
const FLAG_VARINT_COUNTS = 1;
// magic, version, flags, 0, accuracy f64, bin limit u32, count, zero count, min, max, rejected (f64)
const HEADER_BYTES = 56;


/** Factory for {@link DDSketchAdapter}s of one relative accuracy. */
export function ddsketchFactory(relativeAccuracy: number = DEFAULT_RELATIVE_ACCURACY, binLimit: number = DEFAULT_BIN_LIMIT): SketchFactory {
  new DDSketchAdapter(relativeAccuracy, binLimit); // validates the parameters once, up front
  return {
    type: 'ddsketch',
    create: () => new DDSketchAdapter(relativeAccuracy, binLimit),
    deserialize: (bytes) => DDSketchAdapter.deserialize(bytes),
  };
}
