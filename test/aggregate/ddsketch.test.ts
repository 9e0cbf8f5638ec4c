/**
 * DDSketchAdapter: the relative-accuracy guarantee at every quantile (single and merged), the
 * library shortcomings the adapter works around, serialization and edge cases.
 */
import { describe, expect, it } from 'vitest';
import { DDSketchAdapter, DEFAULT_BIN_LIMIT, ddsketchFactory } from '../../src/aggregate/ddsketch.js';
import type { QuantileSketch } from '../../src/aggregate/sketch.js';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import { MergingTDigest } from '../../src/aggregate/tdigest.js';
import { bimodal, exactQuantile, lognormal, pareto, relativeError, sorted } from './latency-data.js';

const N = 1_000_000;
const HAIR = 1e-9;
const PROBES = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1];
const DENSE_QS = Array.from({ length: 999 }, (_, i) => (i + 1) / 1000).concat([0.9995, 0.9999]);

function filled(values: ArrayLike<number>, from = 0, to = values.length, accuracy = 0.01): DDSketchAdapter {
  const d = new DDSketchAdapter(accuracy);
  for (let i = from; i < to; i++) d.add(values[i]);
  return d;
}

function worstError(d: QuantileSketch, exact: Float64Array): number {
  return Math.max(...DENSE_QS.map((q) => relativeError(d.quantile(q), exactQuantile(exact, q))));
}

describe.each([
  ['lognormal(ln 50ms, 1)', () => lognormal(N, 42)],
  ['pareto(10ms, 1.5)', () => pareto(N, 7)],
  ['bimodal(5ms | 500ms)', () => bimodal(N, 11)],
])('accuracy on 1e6 %s values', (name, make) => {
  const values = make();
  const exact = sorted(values);

  it.each([0.01, 0.02, 0.005])('one sketch at accuracy %s: every quantile within it', (accuracy) => {
    const d = filled(values, 0, N, accuracy);
    const worst = worstError(d, exact);
    console.log(`ddsketch(${accuracy}) ${name}: worst rel. error ${(100 * worst).toFixed(3)}%, ${d.binCount()} bins, ${d.serialize().length} bytes`);
    expect(worst).toBeLessThanOrEqual(accuracy + HAIR);
    expect([d.count(), d.min(), d.max()]).toEqual([N, exact[0], exact[N - 1]]);
  });

  it('100 sketches merged: every quantile within 1%, identical to one sketch', () => {
    const single = filled(values);
    const merged = new DDSketchAdapter();
    for (let p = 0; p < 100; p++) merged.merge(filled(values, p * (N / 100), (p + 1) * (N / 100)));
    expect(worstError(merged, exact)).toBeLessThanOrEqual(0.01 + HAIR);
    for (const q of DENSE_QS) expect(merged.quantile(q)).toBe(single.quantile(q));
    expect(merged.serialize()).toEqual(single.serialize());
  });
});

describe('edge cases', () => {
  it('is empty until something is added', () => {
    const d = new DDSketchAdapter();
    for (const q of PROBES) expect(d.quantile(q)).toBeNaN();
    expect([d.count(), d.rejected()]).toEqual([0, 0]);
    expect(d.min()).toBeNaN();
    expect(d.max()).toBeNaN();
  });

  it('answers every quantile of a single value with that value', () => {
    const d = filled([12.345]);
    for (const q of PROBES) expect(d.quantile(q)).toBe(12.345);
  });

  it('answers two values at rank floor(q·(n-1)): the lower one below q=1', () => {
    const d = filled([7, 3]);
    expect([d.quantile(0), d.quantile(1)]).toEqual([3, 7]);
    for (const q of [0.25, 0.5, 0.99]) expect(relativeError(d.quantile(q), 3)).toBeLessThanOrEqual(0.01);
  });

  it('answers all-equal values exactly (estimates are clamped to min/max)', () => {
    const d = filled(new Float64Array(50_000).fill(42));
    for (const q of PROBES) expect(d.quantile(q)).toBe(42);
  });

  it('rejects NaN, ±Infinity and magnitudes beyond what the mapping indexes, and counts them', () => {
    const d = filled([1, Number.NaN, 2, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE, -Number.MAX_VALUE, 3, 1e300]);
    expect([d.count(), d.rejected(), d.min(), d.max()]).toEqual([4, 5, 1, 1e300]);
  });

  it('handles negative values and zeros, also through merges (the library drops negatives on merge)', () => {
    const values = lognormal(20_000, 4).map((v, i) => (i % 3 === 0 ? -v : i % 3 === 1 ? v : 0));
    const exact = sorted(values);
    const single = filled(values);
    const merged = filled(values, 0, 10_000);
    merged.merge(filled(values, 10_000, 20_000));
    for (const d of [single, merged]) {
      expect([d.quantile(0), d.quantile(1), d.count()]).toEqual([exact[0], exact[exact.length - 1], 20_000]);
      for (const q of [0.01, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99]) {
        const want = exactQuantile(exact, q);
        if (want === 0) expect(d.quantile(q)).toBe(0);
        else expect(relativeError(d.quantile(q), want)).toBeLessThanOrEqual(0.01 + HAIR);
      }
    }
  });

  it('weighs values and refuses weights that are not positive and finite', () => {
    const d = new DDSketchAdapter();
    d.add(10, 3);
    d.add(20);
    for (const w of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) d.add(30, w);
    expect([d.count(), d.rejected(), d.max()]).toEqual([4, 5, 20]);
    expect(relativeError(d.quantile(0.5), 10)).toBeLessThanOrEqual(0.01);
  });

  it('stays within its bin limit when values span 600 orders of magnitude', () => {
    const d = new DDSketchAdapter();
    d.add(1e-300);
    d.add(1e300);
    d.add(5);
    expect(d.binCount()).toBeLessThanOrEqual(DEFAULT_BIN_LIMIT);
    expect(d.byteSize()).toBeLessThan(20 * 1024);
    expect([d.quantile(0), d.quantile(1), d.count()]).toEqual([1e-300, 1e300, 3]);
    const back = DDSketchAdapter.deserialize(d.serialize());
    for (const q of PROBES) expect(back.quantile(q)).toBe(d.quantile(q));
  });

  it('collapses the lowest values without losing or double-counting any (the library double-counts)', () => {
    // 16 bins at 1% cover a ratio of ~1.4; the values span ~2^20, so most of them collapse.
    const values = Float64Array.from({ length: 5000 }, (_, i) => 1.0028 ** i);
    const exact = sorted(values);
    for (const order of [values, values.slice().reverse()]) {
      const d = new DDSketchAdapter(0.01, 16);
      for (const v of order) d.add(v);
      const parts = [new DDSketchAdapter(0.01, 16), new DDSketchAdapter(0.01, 16)];
      order.forEach((v, i) => parts[i % 2].add(v));
      parts[0].merge(parts[1]);
      for (const s of [d, parts[0]]) {
        expect(s.binCount()).toBeLessThanOrEqual(16);
        expect(s.count()).toBe(5000);
        for (const q of [0.99, 0.995, 0.999]) expect(relativeError(s.quantile(q), exactQuantile(exact, q))).toBeLessThanOrEqual(0.01 + HAIR);
        // Deserializing checks that the bins add up to the count.
        expect(() => DDSketchAdapter.deserialize(s.serialize())).not.toThrow();
      }
    }
  });

  it('resets to empty and is reusable', () => {
    const values = pareto(50_000, 5);
    const d = filled(values);
    d.add(Number.NaN);
    d.reset();
    expect([d.count(), d.rejected()]).toEqual([0, 0]);
    expect(d.quantile(0.5)).toBeNaN();
    for (const v of values) d.add(v);
    const fresh = filled(values);
    for (const q of DENSE_QS) expect(d.quantile(q)).toBe(fresh.quantile(q));
  });

  it('holds memory in proportion to what it holds', () => {
    expect(filled([1, 2, 3]).byteSize()).toBeLessThan(1024);
    expect(filled(lognormal(N, 9)).byteSize()).toBeLessThan(16 * 1024);
  });

  it('rejects accuracies outside (0, 1) and bad bin limits', () => {
    for (const a of [0, -0.1, 1, Number.NaN]) expect(() => new DDSketchAdapter(a)).toThrow(RangeError);
    for (const b of [0, 15, 1.5]) expect(() => new DDSketchAdapter(0.01, b)).toThrow(RangeError);
    expect(() => ddsketchFactory(2)).toThrow(RangeError);
  });
});

describe('merge', () => {
  const values = lognormal(100_000, 21);

  it('merging an empty sketch changes nothing, and merging into an empty one copies exactly', () => {
    const full = filled(values);
    const before = DENSE_QS.map((q) => full.quantile(q));
    full.merge(new DDSketchAdapter());
    expect(DENSE_QS.map((q) => full.quantile(q))).toEqual(before);
    const empty = new DDSketchAdapter();
    empty.merge(full);
    expect(DENSE_QS.map((q) => empty.quantile(q))).toEqual(before);
    expect(empty.serialize()).toEqual(full.serialize());
  });

  it('merges a sketch into itself as doubled counts', () => {
    const d = filled(values);
    const p90 = d.quantile(0.9);
    d.merge(d);
    expect(d.count()).toBe(2 * values.length);
    // Same bins, doubled; the rank q·(n-1) moves by up to one bin.
    expect(relativeError(d.quantile(0.9), p90)).toBeLessThanOrEqual(0.021);
  });

  it('refuses other sketch types and other accuracies', () => {
    const d = new DDSketchAdapter();
    expect(() => d.merge(new MergingTDigest())).toThrow(TypeError);
    expect(() => d.merge({} as QuantileSketch)).toThrow(TypeError);
    expect(() => d.merge(new DDSketchAdapter(0.02))).toThrow(/relative accuracy/);
  });
});

describe('serialization', () => {
  const factory = ddsketchFactory();

  it('round-trips to identical quantiles, count, min, max and rejected', () => {
    const values = pareto(200_000, 13).map((v, i) => (i % 10 === 0 ? -v : i % 10 === 1 ? 0 : v));
    const d = filled(values);
    d.add(Number.NaN);
    const bytes = d.serialize();
    const back = factory.deserialize(bytes);
    expect(back).toBeInstanceOf(DDSketchAdapter);
    for (const q of [...PROBES, ...DENSE_QS]) expect(back.quantile(q)).toBe(d.quantile(q));
    expect([back.count(), back.min(), back.max(), back.rejected()]).toEqual([d.count(), d.min(), d.max(), 1]);
    expect(back.serialize()).toEqual(bytes);
  });

  it('round-trips empty sketches and fractional weights', () => {
    const empty = factory.deserialize(new DDSketchAdapter().serialize());
    expect([empty.count(), empty.quantile(0.5)]).toEqual([0, Number.NaN]);
    const d = new DDSketchAdapter();
    for (let i = 1; i < 1000; i++) d.add(i, 0.5 + (i % 3));
    const back = factory.deserialize(d.serialize());
    for (const q of PROBES) expect(back.quantile(q)).toBe(d.quantile(q));
  });

  it('throws on garbage, truncation, trailing bytes and inconsistent content', () => {
    const bytes = filled(lognormal(10_000, 17)).serialize();
    expect(() => factory.deserialize(new Uint8Array(0))).toThrow(/not a serialized DDSketch/);
    const tdigest = new MergingTDigest();
    for (let i = 0; i < 10; i++) tdigest.add(i);
    expect(() => factory.deserialize(tdigest.serialize())).toThrow(/magic/);
    for (let len = 0; len < bytes.length; len += 5) expect(() => factory.deserialize(bytes.subarray(0, len))).toThrow(Error);
    expect(() => factory.deserialize(bytes.subarray(0, bytes.length - 1))).toThrow(Error);
    expect(() => factory.deserialize(Uint8Array.from([...bytes, 0]))).toThrow(/trailing/);
    const mutate = (at: number, value: number): Uint8Array => {
      const copy = Uint8Array.from(bytes);
      new DataView(copy.buffer).setFloat64(at, value, true);
      return copy;
    };
    expect(() => factory.deserialize(mutate(4, 1.5))).toThrow(/accuracy/);
    expect(() => factory.deserialize(mutate(16, 3))).toThrow(/count/);
    expect(() => factory.deserialize(mutate(32, Number.NaN))).toThrow(/min\/max/);
    expect(() => factory.deserialize(mutate(60, 1e300))).toThrow(/key/);
    let seed = 1;
    for (let i = 0; i < 200; i++) {
      const junk = new Uint8Array(56 + (i % 64)).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      if (i % 2 === 0) junk[0] = 0x44;
      expect(() => factory.deserialize(junk)).toThrow(Error);
    }
  });
});

describe('createSketchFactory', () => {
  it('builds each registered type with its parameters', () => {
    const t = createSketchFactory('tdigest', { compression: 100 });
    expect(t.type).toBe('tdigest');
    expect((t.create() as MergingTDigest).compression).toBe(100);
    const d = createSketchFactory('ddsketch', { relativeAccuracy: 0.02 });
    expect(d.type).toBe('ddsketch');
    expect((d.create() as DDSketchAdapter).relativeAccuracy).toBe(0.02);
    expect((createSketchFactory('ddsketch', {}).create() as DDSketchAdapter).relativeAccuracy).toBe(0.01);
  });

  it('fails fast on unknown types and unusable parameters', () => {
    expect(() => createSketchFactory('hdr' as 'tdigest', {})).toThrow(TypeError);
    expect(() => createSketchFactory('tdigest', { compression: 1 })).toThrow(RangeError);
    expect(() => createSketchFactory('ddsketch', { relativeAccuracy: 0 })).toThrow(RangeError);
  });
});
