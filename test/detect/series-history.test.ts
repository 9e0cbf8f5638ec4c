import { describe, expect, test } from 'vitest';
import { SeriesHistory, isoTime, round3 } from '../../src/detect/series-history.js';
import { mulberry32 } from '../support/generate.js';

function sortedMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 === 1 ? s[k] : (s[k - 1] + s[k]) / 2;
}

describe('SeriesHistory', () => {
  test('keeps the last `capacity` windows, oldest first, and counts every push', () => {
    const h = new SeriesHistory(3, 2);
    expect(h.length).toBe(0);
    expect(h.median(0, new Float64Array(3))).toBeNaN();
    expect(h.sum(1)).toBe(0);
    for (let i = 1; i <= 5; i++) h.push(i, 10 * i);
    expect(h.length).toBe(3);
    expect(h.pushed).toBe(5);
    expect([0, 1, 2].map((i) => h.at(i))).toEqual([3, 4, 5]);
    expect([0, 1, 2].map((i) => h.at(i, 1))).toEqual([30, 40, 50]);
    expect(h.at(3)).toBeNaN();
    expect(h.sum(0)).toBe(12);
    expect(h.sum(1)).toBe(120);
    expect(h.bytes).toBe(3 * 2 * 8);
  });

  test('columns past `columns` are ignored and do not spill into the next window', () => {
    const h = new SeriesHistory(2, 1);
    h.push(1, 99, 99, 99);
    h.push(2, 77);
    expect([h.at(0), h.at(1)]).toEqual([1, 2]);
    expect(h.sum()).toBe(3);
  });

  test('median equals the sorted median for odd and even counts, before and after wrapping', () => {
    const rng = mulberry32(7);
    for (const capacity of [1, 2, 3, 4, 7, 30, 31]) {
      const h = new SeriesHistory(capacity, 2);
      const scratch = new Float64Array(capacity);
      const kept: number[] = [];
      for (let i = 0; i < 3 * capacity + 1; i++) {
        // Ties on purpose: small integers repeat often.
        const v = rng() < 0.5 ? Math.floor(rng() * 5) : rng() * 100;
        h.push(-1, v);
        kept.push(v);
        if (kept.length > capacity) kept.shift();
        expect(h.median(1, scratch)).toBe(sortedMedian(kept));
      }
      // Taking a median reorders the scratch array, never the ring.
      expect(Array.from({ length: h.length }, (_, i) => h.at(i, 1))).toEqual(kept);
    }
  });

  test('a scratch array smaller than the ring is refused; bad shapes throw at construction', () => {
    const h = new SeriesHistory(4);
    for (let i = 0; i < 4; i++) h.push(i);
    expect(() => h.median(0, new Float64Array(2))).toThrow(RangeError);
    expect(() => new SeriesHistory(0)).toThrow(RangeError);
    expect(() => new SeriesHistory(1.5)).toThrow(RangeError);
    expect(() => new SeriesHistory(3, 5)).toThrow(RangeError);
  });
});

describe('helpers', () => {
  test('round3 and isoTime', () => {
    expect(round3(1.23456)).toBe(1.235);
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTime(Number.NaN)).toBeNull();
    expect(isoTime(1e20)).toBeNull();
  });
});
