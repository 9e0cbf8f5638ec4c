import { describe, expect, test } from 'vitest';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import { globToRegExp } from '../../src/detect/glob.js';
import { fractionAbove } from '../../src/detect/sketch-rank.js';
import { SloBuckets } from '../../src/detect/slo-buckets.js';

describe('globToRegExp', () => {
  test('* and ? are wildcards; everything else is literal', () => {
    expect(globToRegExp('*').test('anything at all')).toBe(true);
    expect(globToRegExp('POST /pay*').test('POST /payments/42')).toBe(true);
    expect(globToRegExp('POST /pay*').test('GET /payments')).toBe(false);
    expect(globToRegExp('GET /v?/items').test('GET /v2/items')).toBe(true);
    expect(globToRegExp('a.b(c)[d]+$').test('a.b(c)[d]+$')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('fractionAbove', () => {
  test.each(['tdigest', 'ddsketch'] as const)('%s: share of values above a threshold, at the edges too', (type) => {
    const s = createSketchFactory(type, {}).create();
    for (let i = 1; i <= 1000; i++) s.add(i);
    expect(fractionAbove(s, 900)).toBeCloseTo(0.1, 2);
    expect(fractionAbove(s, 500)).toBeCloseTo(0.5, 2);
    expect(fractionAbove(s, 1000)).toBe(0);
    expect(fractionAbove(s, 0.5)).toBe(1);
    expect(fractionAbove(createSketchFactory(type, {}).create(), 5)).toBe(0);
  });
});

describe('MergingTDigest.cdf', () => {
  test('inverts quantile within rank error on a long-tailed distribution', () => {
    const s = createSketchFactory('tdigest', {}).create();
    let a = 12345;
    const next = (): number => ((a = (a * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
    for (let i = 0; i < 100_000; i++) s.add(50 * Math.exp(Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next())));
    for (const q of [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]) expect(Math.abs((s.cdf?.(s.quantile(q)) ?? Number.NaN) - q)).toBeLessThan(0.002);
    expect(s.cdf?.(s.min() - 1)).toBe(0);
    expect(s.cdf?.(s.max())).toBe(1);
  });
});

describe('SloBuckets', () => {
  const MIN = 60_000;
  test('ratios over a window, older buckets age out, and the size stays fixed', () => {
    const b = new SloBuckets(5 * MIN, 60 * MIN, 24 * 60 * MIN, 10_000);
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % MIN);
    for (let m = 0; m < 120; m++) b.add(t0 + m * MIN, 100, m < 60 ? 10 : 0);
    const now = t0 + 120 * MIN;
    expect(b.badRatio(now, 60 * MIN)).toBe(0);
    expect(b.badRatio(now - 60 * MIN, 60 * MIN)).toBeCloseTo(0.1, 6);
    expect(b.events(now, 5 * MIN)).toBe(500);
    expect(b.periodCounts(now)).toEqual([12_000, 600]);
    expect(Number.isNaN(b.badRatio(t0, 5 * MIN))).toBe(true);
    const bytes = b.bytes;
    for (let m = 120; m < 5000; m++) b.add(t0 + m * MIN, 100, 1);
    expect(b.bytes).toBe(bytes);
    // A window far in the past is ignored rather than written over newer data.
    b.add(t0, 1_000_000, 1_000_000);
    expect(b.badRatio(t0 + 5000 * MIN, 5 * MIN)).toBeCloseTo(0.01, 6);
  });
});
