/**
 * MergingTDigest: accuracy on latency-shaped data at the default compression (single and merged
 * from 100 parts), compact serialization, and the edge cases a per-series sketch meets.
 */
import { describe, expect, it } from 'vitest';
import { DDSketchAdapter } from '../../src/aggregate/ddsketch.js';
import type { QuantileSketch } from '../../src/aggregate/sketch.js';
import { DEFAULT_COMPRESSION, MergingTDigest, tdigestFactory } from '../../src/aggregate/tdigest.js';
import { bimodal, exactQuantile, lognormal, pareto, relativeError, sorted } from './latency-data.js';

const N = 1_000_000;
const QS = [0.5, 0.9, 0.99, 0.999] as const;
const LIMIT: Record<(typeof QS)[number], number> = { 0.5: 0.01, 0.9: 0.01, 0.99: 0.01, 0.999: 0.02 };
const PROBES = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1];
function filled(values: ArrayLike<number>, from = 0, to = values.length): MergingTDigest {
  const d = new MergingTDigest();
  for (let i = from; i < to; i++) d.add(values[i]);
  return d;
}

function mergedFrom(values: Float64Array, parts: number): MergingTDigest {
  const into = new MergingTDigest();
  const step = values.length / parts;
  for (let p = 0; p < parts; p++) into.merge(filled(values, p * step, (p + 1) * step));
  return into;
}

function errors(d: QuantileSketch, exact: Float64Array): number[] {
  return QS.map((q) => relativeError(d.quantile(q), exactQuantile(exact, q)));
}

describe.each([
  ['lognormal(ln 50ms, 1)', () => lognormal(N, 42)],
  ['pareto(10ms, 1.5)', () => pareto(N, 7)],
])(`accuracy on 1e6 %s values at the default compression (${DEFAULT_COMPRESSION})`, (name, make) => {
  const values = make();
  const exact = sorted(values);

  it.each([
    ['one sketch', () => filled(values)],
    ['100 sketches merged', () => mergedFrom(values, 100)],
  ])('%s: p50, p90, p99 within 1 percent, p99.9 within 2 percent, under 8 KB', (how, build) => {
    const d = build();
    const errs = errors(d, exact);
    console.log(`t-digest ${name} ${how}: rel. error % ${errs.map((e) => (100 * e).toFixed(3)).join(' / ')}; ${d.centroidCount()} centroids, ${d.serialize().length} bytes`);
    QS.forEach((q, i) => expect(errs[i], `q=${q}`).toBeLessThanOrEqual(LIMIT[q]));
    expect(d.count()).toBe(N);
    expect(d.min()).toBe(exact[0]);
    expect(d.max()).toBe(exact[N - 1]);
    expect(d.serialize().length).toBeLessThan(8 * 1024);
    let prev = -Infinity;
    for (let q = 0; q <= 1; q += 0.0005) {
      const v = d.quantile(q);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
  });
});

describe('edge cases', () => {
  it('is empty until something is added', () => {
    const d = new MergingTDigest();
    for (const q of PROBES) expect(d.quantile(q)).toBeNaN();
    expect([d.count(), d.rejected()]).toEqual([0, 0]);
    expect(d.min()).toBeNaN();
    expect(d.max()).toBeNaN();
  });

  it('answers every quantile of a single value with that value', () => {
    const d = new MergingTDigest();
    d.add(12.345);
    for (const q of PROBES) expect(d.quantile(q)).toBe(12.345);
  });

  it('keeps two values exact', () => {
    const d = filled([7, 3]);
    expect([d.quantile(0), d.quantile(0.25), d.quantile(0.75), d.quantile(1)]).toEqual([3, 3, 7, 7]);
    expect([3, 7]).toContain(d.quantile(0.5));
  });

  it('answers all-equal values exactly', () => {
    const d = filled(new Float64Array(50_000).fill(42));
    for (const q of PROBES) expect(d.quantile(q)).toBe(42);
  });

  it('keeps small sets exact (every value its own centroid)', () => {
    const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    const d = filled(values);
    expect(d.centroidCount()).toBe(100);
    for (let k = 1; k <= 100; k++) expect(d.quantile((k - 0.5) / 100)).toBe(k);
  });

  it('rejects NaN and ±Infinity, and counts them', () => {
    const d = filled([1, Number.NaN, 2, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3]);
    expect([d.count(), d.rejected(), d.min(), d.max()]).toEqual([3, 3, 1, 3]);
  });

  it('handles negative values like any other', () => {
    const values = new Float64Array(100_000);
    for (let i = 0; i < values.length; i++) values[i] = (i % 2001) - 1000;
    const d = filled(values);
    const exact = sorted(values);
    expect(d.quantile(0)).toBe(-1000);
    expect(d.quantile(1)).toBe(1000);
    for (const q of [0.01, 0.1, 0.25, 0.75, 0.9, 0.99]) expect(Math.abs(d.quantile(q) - exactQuantile(exact, q))).toBeLessThan(5);
  });

  it('survives values near ±MAX_VALUE without overflowing', () => {
    const values = [-Number.MAX_VALUE, Number.MAX_VALUE, -1e300, 1e300, 1, 2];
    const d = new MergingTDigest(MIN_TEST_COMPRESSION);
    for (let r = 0; r < 2000; r++) for (const v of values) d.add(v);
    for (const q of PROBES) expect(Number.isFinite(d.quantile(q))).toBe(true);
    expect([d.min(), d.max()]).toEqual([-Number.MAX_VALUE, Number.MAX_VALUE]);
    const back = MergingTDigest.deserialize(d.serialize());
    for (const q of PROBES) expect(back.quantile(q)).toBe(d.quantile(q));
  });

  it('weighs values and refuses weights that are not positive and finite', () => {
    const d = new MergingTDigest();
    d.add(10, 3);
    d.add(20);
    for (const w of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) d.add(30, w);
    expect([d.count(), d.rejected(), d.max()]).toEqual([4, 5, 20]);
    expect([d.quantile(0.1), d.quantile(0.9)]).toEqual([10, 20]);
    expect(d.quantile(0.5)).toBeGreaterThanOrEqual(10);
    expect(d.quantile(0.5)).toBeLessThanOrEqual(20);
  });

  it('treats a weighted value like repeated values', () => {
    const values = lognormal(20_000, 3);
    const a = new MergingTDigest();
    const b = new MergingTDigest();
    for (const v of values) {
      a.add(v, 4);
      for (let k = 0; k < 4; k++) b.add(v);
    }
    for (const q of [0.1, 0.5, 0.9, 0.99]) expect(relativeError(a.quantile(q), b.quantile(q))).toBeLessThan(0.01);
  });

  it('resets to empty and is reusable, keeping its buffers', () => {
    const values = lognormal(50_000, 5);
    const d = filled(values);
    const size = d.byteSize();
    d.reset();
    expect(d.count()).toBe(0);
    expect(d.quantile(0.5)).toBeNaN();
    expect(d.byteSize()).toBe(size);
    for (const v of values) d.add(v);
    const fresh = filled(values);
    for (const q of PROBES) expect(d.quantile(q)).toBe(fresh.quantile(q));
  });

  it('holds memory in proportion to what it holds', () => {
    const small = filled([1, 2, 3]);
    small.quantile(0.5);
    expect(small.byteSize()).toBeLessThan(1024);
    const big = filled(lognormal(N, 9));
    big.quantile(0.5);
    expect(big.byteSize()).toBeLessThan(16 * 1024);
    console.log(`t-digest byteSize: 3 values ${small.byteSize()} B, 1e6 values ${big.byteSize()} B`);
  });

  it('rejects a compression outside [10, 10000]', () => {
    for (const c of [0, 9, 10_001, Number.NaN]) expect(() => new MergingTDigest(c)).toThrow(RangeError);
    expect(() => tdigestFactory(5)).toThrow(RangeError);
  });
});

const MIN_TEST_COMPRESSION = 20;

describe('merge', () => {
  const values = lognormal(100_000, 21);

  it('merging an empty sketch changes nothing, and merging into an empty one copies', () => {
    const full = filled(values);
    const before = PROBES.map((q) => full.quantile(q));
    full.merge(new MergingTDigest());
    expect(PROBES.map((q) => full.quantile(q))).toEqual(before);
    const empty = new MergingTDigest();
    empty.merge(full);
    expect([empty.count(), empty.min(), empty.max()]).toEqual([full.count(), full.min(), full.max()]);
    for (const q of [0.5, 0.9, 0.99]) expect(relativeError(empty.quantile(q), full.quantile(q))).toBeLessThan(0.005);
  });

  it('merges unmerged buffers too, and adds up rejected counts', () => {
    const a = filled([1, 2, Number.NaN]);
    const b = filled([3, 4]);
    a.merge(b);
    expect([a.count(), a.min(), a.max(), a.rejected()]).toEqual([4, 1, 4, 1]);
    expect(b.count()).toBe(2);
  });

  it('merges a sketch into itself as doubled weights', () => {
    const d = filled(values);
    const p90 = d.quantile(0.9);
    d.merge(d);
    expect(d.count()).toBe(2 * values.length);
    expect(relativeError(d.quantile(0.9), p90)).toBeLessThan(0.005);
  });

  it('refuses other sketch types', () => {
    const d = new MergingTDigest();
    expect(() => d.merge(new DDSketchAdapter())).toThrow(TypeError);
    expect(() => d.merge({} as QuantileSketch)).toThrow(TypeError);
  });
});

describe('serialization', () => {
  const factory = tdigestFactory();

  it('round-trips to identical quantiles, count, min, max and rejected', () => {
    const d = filled(lognormal(200_000, 13));
    d.add(Number.NaN);
    const bytes = d.serialize();
    const back = factory.deserialize(bytes);
    expect(back).toBeInstanceOf(MergingTDigest);
    for (let q = 0; q <= 1; q += 0.001) expect(back.quantile(q)).toBe(d.quantile(q));
    expect([back.count(), back.min(), back.max(), back.rejected()]).toEqual([d.count(), d.min(), d.max(), 1]);
    expect(back.serialize()).toEqual(bytes);
    expect((back as MergingTDigest).compression).toBe(DEFAULT_COMPRESSION);
  });

  it('round-trips empty sketches and fractional weights', () => {
    const empty = factory.deserialize(new MergingTDigest().serialize());
    expect([empty.count(), empty.quantile(0.5)]).toEqual([0, Number.NaN]);
    const d = new MergingTDigest();
    for (let i = 0; i < 1000; i++) d.add(i, 0.5 + (i % 3));
    const back = factory.deserialize(d.serialize());
    for (const q of PROBES) expect(back.quantile(q)).toBe(d.quantile(q));
  });

  it('throws on garbage, truncation, trailing bytes and inconsistent content', () => {
    const bytes = filled(lognormal(10_000, 17)).serialize();
    expect(() => factory.deserialize(new Uint8Array(0))).toThrow(/not a serialized t-digest/);
    expect(() => factory.deserialize(new DDSketchAdapter().serialize())).toThrow(/magic/);
    for (let len = 0; len < bytes.length; len += 7) expect(() => factory.deserialize(bytes.subarray(0, len))).toThrow(Error);
    expect(() => factory.deserialize(bytes.subarray(0, bytes.length - 1))).toThrow(Error);
    expect(() => factory.deserialize(Uint8Array.from([...bytes, 0]))).toThrow(/trailing/);
    const mutate = (at: number, value: number): Uint8Array => {
      const copy = Uint8Array.from(bytes);
      new DataView(copy.buffer).setFloat64(at, value, true);
      return copy;
    };
    expect(() => factory.deserialize(mutate(4, 1))).toThrow(/compression/);
    expect(() => factory.deserialize(mutate(12, 123))).toThrow(/add up/);
    expect(() => factory.deserialize(mutate(20, Number.NaN))).toThrow(/min\/max/);
    expect(() => factory.deserialize(mutate(48 + 8 * 5, Number.POSITIVE_INFINITY))).toThrow(/mean/);
    expect(() => factory.deserialize(mutate(48 + 8 * 5, -1))).toThrow(/mean/);
    const version = Uint8Array.from(bytes);
    version[1] = 99;
    expect(() => factory.deserialize(version)).toThrow(/version/);
    let seed = 1;
    for (let i = 0; i < 200; i++) {
      const junk = new Uint8Array(48 + (i % 64)).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      if (i % 2 === 0) junk[0] = 0x54;
      expect(() => factory.deserialize(junk)).toThrow(Error);
    }
  });
});

describe('bimodal data: a quantile in the gap between two modes', () => {
  it('t-digest interpolates across the gap; DDSketch lands on a real data value', () => {
    // 50% around 5 ms, 50% around 500 ms: the median is the edge of one mode, the gap is empty.
    const values = bimodal(N, 11);
    const exact = sorted(values);
    const t = filled(values);
    const dd = new DDSketchAdapter();
    for (const v of values) dd.add(v);
    const rows = [0.45, 0.49, 0.5, 0.51, 0.55].map((q) => ({
      q,
      exact: exactQuantile(exact, q),
      tdigest: t.quantile(q),
      ddsketch: dd.quantile(q),
    }));
    console.table(rows);
    for (const r of rows) {
      // DDSketch keeps its guarantee anywhere; the t-digest is only guaranteed to stay between the modes.
      expect(relativeError(r.ddsketch, r.exact)).toBeLessThanOrEqual(0.01 + 1e-9);
      expect(r.tdigest).toBeGreaterThan(5);
      expect(r.tdigest).toBeLessThan(500);
    }
    const median = rows[2];
    expect(relativeError(median.tdigest, median.exact)).toBeGreaterThan(0.05);
  });
});
