/**
 * MetricHistory: a lazily grown ring of consecutive windows, bounded by its capacity.
 */
import { describe, expect, it } from 'vitest';
import { MetricHistory } from '../../src/aggregate/metric-history.js';

const W = 1000;

function filled(capacity: number, n: number, first = 0): MetricHistory {
  const h = new MetricHistory(capacity, W);
  for (let i = first; i < first + n; i++) h.push(i * W, i, i - 1, i + 1, 1);
  return h;
}

describe('MetricHistory', () => {
  it('returns windows oldest first, with starts derived from the newest', () => {
    const h = filled(10, 3, 5);
    expect(h.toArray()).toEqual([
      { start: 5000, value: 5, min: 4, max: 6, count: 1 },
      { start: 6000, value: 6, min: 5, max: 7, count: 1 },
      { start: 7000, value: 7, min: 6, max: 8, count: 1 },
    ]);
    expect(h.toArray(2).map((p) => p.value)).toEqual([6, 7]);
    expect(h.toArray(100)).toHaveLength(3);
    expect(h.toArray(0)).toEqual([]);
  });

  it('grows lazily across wraps and stops at capacity', () => {
    const h = filled(20, 50);
    expect(h.length).toBe(20);
    expect(h.byteSize).toBe(20 * 32);
    expect(h.toArray().map((p) => p.value)).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i));
    expect(filled(20, 3).byteSize).toBe(8 * 32);
    expect(new MetricHistory(20, W).toArray()).toEqual([]);
  });

  it('records skipped windows as empty; a gap longer than the ring empties it', () => {
    const h = filled(5, 2);
    h.skip(2);
    expect(h.toArray().map((p) => [p.start, p.count])).toEqual([
      [0, 1],
      [1000, 1],
      [2000, 0],
      [3000, 0],
    ]);
    expect(h.toArray()[3].value).toBeNaN();
    h.skip(10);
    expect(h.length).toBe(0);
    h.push(14_000, 1, 1, 1, 1);
    expect(h.toArray().map((p) => p.start)).toEqual([14_000]);
  });
});
