/**
 * Bucket math under the metric aggregator: explicit-bucket interpolation edges, exponential
 * bucket downscaling / merging / differencing, and the bucket caps.
 */
import { describe, expect, it } from 'vitest';
import { ExpoBuckets, ExpoState, MAX_EXPO_BUCKETS, MAX_EXPO_SCALE, expoQuantile, explicitQuantile } from '../../src/aggregate/metric-buckets.js';
import { MetricType } from '../../src/otlp/batch.js';
import { batchOf } from './metric-points.js';

describe('explicitQuantile', () => {
  it('interpolates linearly inside the bucket holding the rank', () => {
    expect(explicitQuantile(0.5, [10, 20], [0, 4, 0], NaN, NaN)).toBeCloseTo(15);
    expect(explicitQuantile(0.25, [10, 20], [0, 4, 0], NaN, NaN)).toBeCloseTo(12.5);
    expect(explicitQuantile(0, [10, 20], [0, 4, 0], NaN, NaN)).toBeCloseTo(10);
    expect(explicitQuantile(1, [10, 20], [0, 4, 0], NaN, NaN)).toBeCloseTo(20);
  });

  it('closes the first bucket at min, else 0 for a positive bound, else at the bound', () => {
    expect(explicitQuantile(0.5, [10], [4, 0], NaN, NaN)).toBeCloseTo(5);
    expect(explicitQuantile(0.5, [10], [4, 0], 6, NaN)).toBeCloseTo(8);
    expect(explicitQuantile(0.5, [-5, 5], [2, 0, 0], NaN, NaN)).toBe(-5);
  });

  it('closes the overflow bucket at max, else at the last bound', () => {
    expect(explicitQuantile(0.5, [10], [0, 4], NaN, NaN)).toBe(10);
    expect(explicitQuantile(0.5, [10], [0, 4], NaN, 20)).toBeCloseTo(15);
  });

  it('clamps inner edges to known extremes', () => {
    expect(explicitQuantile(0.5, [10, 20], [0, 4, 0], 12, 14)).toBeCloseTo(13);
  });

  it('a single unbounded bucket needs both extremes', () => {
    expect(explicitQuantile(0.5, [], [4], 0, 8)).toBeCloseTo(4);
    expect(explicitQuantile(0.5, [], [4], NaN, 8)).toBeNaN();
    expect(explicitQuantile(0.5, [10], [0, 0], NaN, NaN)).toBeNaN();
  });
});

describe('ExpoBuckets', () => {
  const of = (offset: number, counts: number[]): ExpoBuckets => {
    const b = new ExpoBuckets();
    b.offset = offset;
    b.counts.push(...counts);
    return b;
  };

  it('downscales by flooring indices, negative ones included', () => {
    const b = of(-3, [1, 1, 1, 1]);
    b.downscale(1);
    expect([b.offset, b.counts]).toEqual([-2, [1, 2, 1]]);
    const c = of(-3, [1, 1, 1, 1]);
    c.downscale(200);
    expect([c.offset, c.counts]).toEqual([-1, [3, 1]]);
  });

  it('adds another range on either side', () => {
    const b = of(5, [1]);
    b.addFrom(of(2, [1, 0, 2]), 0);
    b.addFrom(of(16, [4]), 1);
    // Index 16 at one scale coarser is 8.
    expect([b.offset, b.counts]).toEqual([2, [1, 0, 2, 1, 0, 0, 4]]);
  });
});

function state(scale: number, offset: number, counts: number[], zero = 0): ExpoState {
  const s = new ExpoState();
  s.scale = scale;
  s.zero = zero;
  s.pos.offset = offset;
  s.pos.counts.push(...counts);
  return s;
}

describe('ExpoState', () => {
  it('loads points finer than the max scale downscaled to it', () => {
    const p = batchOf({ type: MetricType.EXPONENTIAL_HISTOGRAM, scale: MAX_EXPO_SCALE + 5, posOffset: 64, pos: [1, 0, 0, 2] }).points[0];
    const s = new ExpoState();
    s.loadPoint(p);
    expect(s.scale).toBe(MAX_EXPO_SCALE);
    expect([s.pos.offset, s.pos.counts]).toEqual([2, [3]]);
  });

  it('loads wide points downscaled to fit the bucket cap, trimming empty edges', () => {
    const counts = [0, 0, ...new Array<number>(1000).fill(1), 0];
    const p = batchOf({ type: MetricType.EXPONENTIAL_HISTOGRAM, scale: 8, posOffset: -500, pos: counts, neg: [0, 0, 7], zeroCount: 3 }).points[0];
    const s = new ExpoState();
    s.loadPoint(p);
    expect(s.pos.counts.length).toBeLessThanOrEqual(MAX_EXPO_BUCKETS);
    expect(s.scale).toBe(5);
    expect(s.pos.total()).toBe(1000);
    expect([s.neg.offset, s.neg.counts]).toEqual([0, [7]]);
    expect(s.total()).toBe(1010);
  });

  it('offsets near the sint32 limit do not wrap', () => {
    const p = batchOf({ type: MetricType.EXPONENTIAL_HISTOGRAM, scale: 0, posOffset: 2 ** 31 - 10, pos: new Array<number>(200).fill(1) }).points[0];
    const s = new ExpoState();
    s.loadPoint(p);
    expect(s.pos.offset).toBeGreaterThan(0);
    expect(s.pos.total()).toBe(200);
  });

  it('merges far-apart ranges within the cap, preserving counts', () => {
    const a = state(5, 0, new Array<number>(10).fill(1));
    a.merge(state(5, 100_000, new Array<number>(10).fill(2), 1));
    expect(a.pos.counts.length).toBeLessThanOrEqual(MAX_EXPO_BUCKETS);
    expect(a.scale).toBeLessThan(0);
    expect(a.total()).toBe(31);
  });

  it('differences at the common scale and reports decreases', () => {
    const inc = new ExpoState();
    expect(inc.difference(state(1, 0, [2, 5]), state(2, 0, [1, 1, 1, 1]))).toBe(true);
    expect([inc.scale, inc.pos.offset, inc.pos.counts]).toEqual([1, 0, [0, 3]]);
    expect(inc.difference(state(1, 0, [2, 5]), state(1, 0, [3, 1]))).toBe(false);
    // A base bucket outside the current range went to zero: a decrease.
    expect(inc.difference(state(1, 1, [5]), state(1, 0, [1, 1]))).toBe(false);
    expect(inc.difference(state(1, 0, [5], 1), state(1, 0, [1], 2))).toBe(false);
  });

  it('quantiles are clamped to known extremes', () => {
    const s = state(0, 3, [10]);
    expect(expoQuantile(s, 0.5, NaN, NaN)).toBeCloseTo(2 ** 3.5);
    expect(expoQuantile(s, 0.5, NaN, 10)).toBe(10);
    expect(expoQuantile(s, 0.5, 12, NaN)).toBe(12);
    expect(expoQuantile(new ExpoState(), 0.5, NaN, NaN)).toBeNaN();
  });
});
