/**
 * MetricAggregator: per-type window semantics, cumulative-to-delta with resets, windowing by
 * receive time with empty windows, the cardinality cap, eviction and bounded history.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/aggregate/clock.js';
import { MAX_CATCHUP_WINDOWS, MetricAggregator, type ClosedMetricWindow, type MetricAggregatorOptions } from '../../src/aggregate/metric-aggregator.js';
import { MetricType, Temporality } from '../../src/otlp/batch.js';
import { batchOf, exactQuantile, expoBuckets, rng, type PointSpec } from './metric-points.js';

const W = 10_000;
const { GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM, SUMMARY } = MetricType;
const { DELTA, CUMULATIVE } = Temporality;

function setup(options: Partial<MetricAggregatorOptions> = {}) {
  const clock = new ManualClock(0);
  const agg = new MetricAggregator({ windowMs: W, retainWindows: 10, maxSeries: 100, ttlMs: 3_600_000, clock, ...options });
  /** Consumes `specs` at the current clock time. */
  const feed = (...specs: PointSpec[]): void => agg.consume(batchOf(...specs));
  /** Moves to the start of window `i` (plus `offset` ms) and closes what ended. */
  const closeAt = (i: number, offset = 0): ClosedMetricWindow[] => {
    clock.set(i * W + offset);
    return agg.closeDue(clock.now());
  };
  return { clock, agg, feed, closeAt };
}

/** The single window of `out` for metric `m` (default: the only window). */
function only(out: ClosedMetricWindow[], m?: string): ClosedMetricWindow {
  const ws = m === undefined ? out : out.filter((w) => w.metric === m);
  expect(ws).toHaveLength(1);
  return ws[0];
}

describe('gauge', () => {
  it('reports last, min, max, mean and samples of the window', () => {
    const { feed, closeAt } = setup();
    feed({ type: GAUGE, value: 3, unit: 'By' }, { type: GAUGE, value: 1 });
    feed({ type: GAUGE, value: 5 });
    const w = only(closeAt(1));
    expect(w).toMatchObject({ service: 'svc', metric: 'm', type: 'gauge', start: 0, end: W, points: 3, value: 5, min: 1, max: 5, mean: 3, count: 3, overflow: false });
    expect(w.sum).toBeNaN();
    expect(w.rate).toBeNaN();
    expect(w.quantiles.p50).toBeNaN();
  });

  it('int points carry their value like doubles', () => {
    const { agg, closeAt } = setup();
    const b = batchOf({ type: GAUGE });
    b.points[0].value = -7;
    b.points[0].isInt = true;
    agg.consume(b);
    expect(only(closeAt(1)).value).toBe(-7);
  });
});

describe('sum', () => {
  it('delta: the window value is the sum of the deltas; rate per second', () => {
    const { feed, closeAt } = setup();
    feed({ type: SUM, temporality: DELTA, monotonic: true, value: 2 }, { type: SUM, temporality: DELTA, monotonic: true, value: 3 });
    const w = only(closeAt(1));
    expect(w).toMatchObject({ type: 'sum', value: 5, rate: 0.5, points: 2, count: 2 });
    expect(w.min).toBeNaN();
  });

  it('rate covers the time between reports, not the window: a 60 s export in a 10 s window', () => {
    const { feed, closeAt } = setup();
    const c = (value: number, timeMs: number): PointSpec => ({ type: SUM, temporality: CUMULATIVE, monotonic: true, value, start: 1000, timeMs });
    feed(c(100, 1_000_000));
    closeAt(1);
    feed(c(160, 1_060_000)); // 60 more over the minute since the last report
    expect(only(closeAt(2))).toMatchObject({ value: 60, rate: 1 });
    // Delta points carry their own interval.
    feed({ type: SUM, temporality: DELTA, monotonic: true, value: 30, start: 0, timeMs: 1_120_000 });
    const d = only(closeAt(3));
    expect(d.value).toBe(30);
  });

  it('cumulative: first point is the baseline (0), then differences', () => {
    const { agg, feed, closeAt } = setup();
    const c = (value: number, start = 1000): PointSpec => ({ type: SUM, temporality: CUMULATIVE, monotonic: true, value, start });
    feed(c(100));
    expect(only(closeAt(1))).toMatchObject({ value: 0, rate: 0, points: 1 });
    feed(c(130), c(150));
    expect(only(closeAt(2))).toMatchObject({ value: 50, rate: 5, points: 2 });
    expect(agg.stats.resets).toBe(0);
  });

  it('cumulative monotonic: a drop is a reset counting the new value', () => {
    const { agg, feed, closeAt } = setup();
    const c = (value: number): PointSpec => ({ type: SUM, temporality: CUMULATIVE, monotonic: true, value, start: 1000 });
    feed(c(100));
    closeAt(1);
    feed(c(150), c(20), c(25));
    // 50 before the reset, 20 counted from zero since it, 5 after.
    expect(only(closeAt(2)).value).toBe(75);
    expect(agg.stats.resets).toBe(1);
  });

  it('cumulative: a changed start time is a reset even when the value grew', () => {
    const { agg, feed, closeAt } = setup();
    feed({ type: SUM, temporality: CUMULATIVE, monotonic: true, value: 100, start: 1000 });
    feed({ type: SUM, temporality: CUMULATIVE, monotonic: true, value: 300, start: 2000 });
    expect(only(closeAt(1)).value).toBe(300);
    expect(agg.stats.resets).toBe(1);
  });

  it('cumulative: an unknown (0) start time never counts as changed', () => {
    const { agg, feed, closeAt } = setup();
    feed({ type: SUM, temporality: CUMULATIVE, monotonic: true, value: 100, start: 1000 });
    feed({ type: SUM, temporality: CUMULATIVE, monotonic: true, value: 130, start: 0 });
    expect(only(closeAt(1)).value).toBe(30);
    expect(agg.stats.resets).toBe(0);
  });

  it('cumulative non-monotonic: differences may be negative; start change resets', () => {
    const { agg, feed, closeAt } = setup();
    const c = (value: number, start = 1000): PointSpec => ({ type: SUM, temporality: CUMULATIVE, monotonic: false, value, start });
    feed(c(10));
    closeAt(1);
    feed(c(4));
    expect(only(closeAt(2))).toMatchObject({ value: -6, rate: -0.6 });
    expect(agg.stats.resets).toBe(0);
    feed(c(7, 5000));
    expect(only(closeAt(3)).value).toBe(7);
    expect(agg.stats.resets).toBe(1);
  });
});

describe('histogram', () => {
  const bounds = [10, 20, 30];

  it('delta: buckets, count, sum and extremes merge across points', () => {
    const { feed, closeAt } = setup();
    feed(
      { type: HISTOGRAM, temporality: DELTA, count: 4, sum: 60, min: 2, max: 25, bounds, buckets: [1, 2, 1, 0] },
      { type: HISTOGRAM, temporality: DELTA, count: 2, sum: 70, min: 15, max: 40, bounds, buckets: [0, 1, 0, 1] },
    );
    const w = only(closeAt(1));
    expect(w).toMatchObject({ type: 'histogram', points: 2, count: 6, sum: 130, min: 2, max: 40, rate: 0.6 });
    expect(w.mean).toBeCloseTo(130 / 6);
    expect(w.value).toBe(w.mean);
    // Merged buckets [1, 3, 1, 1]: rank 3 of 6 is 2/3 into (10, 20].
    expect(w.quantiles.p50).toBeCloseTo(10 + 10 * (2 / 3));
    // Rank 5.94 falls in the overflow bucket, closed by max = 40.
    expect(w.quantiles.p99).toBeCloseTo(30 + 10 * 0.94);
  });

  it('cumulative: baseline, per-bucket increments, reset on count decrease', () => {
    const { agg, feed, closeAt } = setup();
    const c = (count: number, sum: number, buckets: number[], start = 1000): PointSpec => ({ type: HISTOGRAM, temporality: CUMULATIVE, count, sum, bounds, buckets, start, min: 1, max: 50 });
    feed(c(10, 100, [2, 3, 4, 1]));
    const first = only(closeAt(1));
    expect(first).toMatchObject({ points: 1, count: 0, sum: 0, rate: 0 });
    expect(first.quantiles.p50).toBeNaN();
    feed(c(14, 150, [2, 3, 8, 1]));
    const second = only(closeAt(2));
    expect(second).toMatchObject({ count: 4, sum: 50, mean: 12.5 });
    // All four new observations are in (20, 30]: p50 is the middle of that bucket.
    expect(second.quantiles.p50).toBeCloseTo(25);
    // Cumulative extremes that did not move say nothing exact about this window.
    expect(second.min).toBeNaN();
    expect(second.max).toBeNaN();
    feed(c(3, 9, [3, 0, 0, 0]));
    const third = only(closeAt(3));
    expect(third).toMatchObject({ count: 3, sum: 9, min: 1, max: 50 });
    expect(agg.stats.resets).toBe(1);
  });

  it('cumulative: a bucket going down is a reset even if the count did not', () => {
    const { agg, feed, closeAt } = setup();
    feed({ type: HISTOGRAM, temporality: CUMULATIVE, count: 5, bounds, buckets: [5, 0, 0, 0] });
    feed({ type: HISTOGRAM, temporality: CUMULATIVE, count: 6, bounds, buckets: [0, 6, 0, 0] });
    expect(only(closeAt(1)).count).toBe(6);
    expect(agg.stats.resets).toBe(1);
  });

  it('cumulative without buckets: count and sum difference, a count drop resets', () => {
    const { agg, feed, closeAt } = setup();
    const c = (count: number, sum: number): PointSpec => ({ type: HISTOGRAM, temporality: CUMULATIVE, count, sum, start: 1000 });
    feed(c(10, 100), c(12, 130), c(2, 5));
    const w = only(closeAt(1));
    expect(w).toMatchObject({ count: 4, sum: 35 });
    expect(w.quantiles.p50).toBeNaN();
    expect(agg.stats.resets).toBe(1);
  });

  it('cumulative: a new extreme is exact for the window', () => {
    const { feed, closeAt } = setup();
    feed({ type: HISTOGRAM, temporality: CUMULATIVE, count: 5, min: 3, max: 9, bounds, buckets: [5, 0, 0, 0] });
    feed({ type: HISTOGRAM, temporality: CUMULATIVE, count: 7, min: 1, max: 9, bounds, buckets: [7, 0, 0, 0] });
    const w = only(closeAt(1));
    expect(w.min).toBe(1);
    expect(w.max).toBeNaN();
  });

  it('cumulative: changed bounds re-baseline (contribute 0) and diffs resume after', () => {
    const { agg, feed, closeAt } = setup();
    feed({ type: HISTOGRAM, temporality: CUMULATIVE, count: 5, sum: 50, bounds, buckets: [1, 1, 1, 2], start: 1000 });
    feed({ type: HISTOGRAM, temporality: CUMULATIVE, count: 8, sum: 80, bounds: [5, 50], buckets: [2, 4, 2], start: 1000 });
    const w = only(closeAt(1));
    expect(w).toMatchObject({ points: 2, count: 0 });
    expect(agg.stats.resets).toBe(1);
    feed({ type: HISTOGRAM, temporality: CUMULATIVE, count: 10, sum: 100, bounds: [5, 50], buckets: [2, 6, 2], start: 1000 });
    const next = only(closeAt(2));
    expect(next).toMatchObject({ count: 2, sum: 20 });
    expect(next.quantiles.p50).toBeCloseTo(27.5);
  });

  it('delta: changed bounds restart the window buckets, count keeps adding', () => {
    const { agg, feed, closeAt } = setup();
    feed({ type: HISTOGRAM, temporality: DELTA, count: 2, bounds, buckets: [2, 0, 0, 0] });
    feed({ type: HISTOGRAM, temporality: DELTA, count: 2, bounds: [100], buckets: [0, 2], max: 300 });
    const w = only(closeAt(1));
    expect(w.count).toBe(4);
    expect(w.quantiles.p50).toBeCloseTo(200);
    expect(agg.stats.resets).toBe(1);
  });

  it('quantiles from buckets: exact when values are uniform within buckets', () => {
    const { feed, closeAt } = setup();
    feed({ type: HISTOGRAM, temporality: DELTA, count: 30, bounds: [10, 20, 30, 40], buckets: [0, 10, 10, 10, 0] });
    const q = only(closeAt(1)).quantiles;
    expect(q.p50).toBeCloseTo(25);
    expect(q.p90).toBeCloseTo(37);
    expect(q.p99).toBeCloseTo(39.7);
    expect(q.p999).toBeCloseTo(39.97);
  });

  it('quantiles from buckets track a known distribution', () => {
    const { feed, closeAt } = setup();
    const r = rng(7);
    const values = Array.from({ length: 20_000 }, () => r() * 100);
    const bb = Array.from({ length: 19 }, (_, i) => (i + 1) * 5);
    const buckets = new Array<number>(20).fill(0);
    for (const v of values) buckets[bb.findIndex((b) => v <= b) === -1 ? 19 : bb.findIndex((b) => v <= b)]++;
    feed({ type: HISTOGRAM, temporality: DELTA, count: values.length, bounds: bb, buckets, min: Math.min(...values), max: Math.max(...values) });
    const q = only(closeAt(1)).quantiles;
    expect(q.p50).toBeCloseTo(exactQuantile(values, 0.5), 0);
    expect(q.p90).toBeCloseTo(exactQuantile(values, 0.9), 0);
    expect(Math.abs(q.p99 - exactQuantile(values, 0.99))).toBeLessThan(0.5);
  });
});

describe('exponential histogram', () => {
  it('merges points of different scales at the coarser one', () => {
    const { feed, closeAt } = setup();
    feed(
      // Scale 1: (1, √2] and (√2, 2].
      { type: EXPONENTIAL_HISTOGRAM, temporality: DELTA, count: 2, sum: 2.8, scale: 1, posOffset: 0, pos: [1, 1] },
      // Scale 2: four buckets covering (1, 2]; they fold onto the two above.
      { type: EXPONENTIAL_HISTOGRAM, temporality: DELTA, count: 5, sum: 5.6, scale: 2, posOffset: 0, pos: [1, 1, 1, 1], zeroCount: 1 },
    );
    const w = only(closeAt(1));
    expect(w).toMatchObject({ type: 'exponential_histogram', count: 7, points: 2 });
    expect(w.sum).toBeCloseTo(8.4);
    // Ranks: zero 1, (1,√2] 3, (√2,2] 3. p50 = rank 3.5 → first bucket, its log midpoint 2^¼.
    expect(w.quantiles.p50).toBeCloseTo(2 ** 0.25);
    expect(w.quantiles.p90).toBeCloseTo(2 ** 0.75);
  });

  it('quantiles from buckets are within the bucket relative error', () => {
    const { feed, closeAt } = setup();
    const r = rng(11);
    // Log-uniform over 1 ms .. 10 s.
    const values = Array.from({ length: 20_000 }, () => 10 ** (r() * 4));
    const scale = 4;
    const { offset, counts } = expoBuckets(values, scale);
    feed({ type: EXPONENTIAL_HISTOGRAM, temporality: DELTA, count: values.length, scale, posOffset: offset, pos: counts });
    const w = only(closeAt(1));
    const tolerance = 2 ** (2 ** -scale) - 1;
    for (const [q, got] of [[0.5, w.quantiles.p50], [0.9, w.quantiles.p90], [0.99, w.quantiles.p99]] as const) {
      const want = exactQuantile(values, q);
      expect(Math.abs(got - want) / want).toBeLessThan(tolerance);
    }
  });

  it('cumulative: differences across a scale change, reset on decrease', () => {
    const { agg, feed, closeAt } = setup();
    const c = (count: number, scale: number, pos: number[], start = 1000): PointSpec => ({ type: EXPONENTIAL_HISTOGRAM, temporality: CUMULATIVE, count, scale, posOffset: 0, pos, start });
    feed(c(4, 2, [1, 1, 1, 1]));
    closeAt(1);
    // The SDK downscaled: scale 1 now, 3 new values in (√2, 2].
    feed(c(7, 1, [2, 5]));
    const w = only(closeAt(2));
    expect(w.count).toBe(3);
    expect(w.quantiles.p50).toBeCloseTo(2 ** 0.75);
    expect(agg.stats.resets).toBe(0);
    feed(c(2, 1, [2, 0]));
    const after = only(closeAt(3));
    expect(after.count).toBe(2);
    expect(after.quantiles.p50).toBeCloseTo(2 ** 0.25);
    expect(agg.stats.resets).toBe(1);
  });

  it('negative and zero buckets order below positive ones', () => {
    const { feed, closeAt } = setup();
    // 2 values in -(1, 2] at scale 0, 1 zero, 1 value in (2, 4].
    feed({ type: EXPONENTIAL_HISTOGRAM, temporality: DELTA, count: 4, scale: 0, negOffset: 0, neg: [2], zeroCount: 1, posOffset: 1, pos: [1] });
    const q = only(closeAt(1)).quantiles;
    expect(q.p50).toBeCloseTo(-Math.SQRT2);
    expect(q.p90).toBeCloseTo(2 * Math.SQRT2);
  });
});

describe('cumulative and delta agree', () => {
  it('the same observations sent both ways give the same windows after the baseline', () => {
    const r = rng(3);
    const bounds = [1, 2, 5, 10, 20, 50];
    const delta = setup();
    const cumul = setup();
    const total = { count: 0, sum: 0, buckets: new Array<number>(7).fill(0), pos: new Array<number>(40).fill(0), counter: 0 };
    for (let w = 0; w < 8; w++) {
      for (let k = 0; k < 3; k++) {
        const values = Array.from({ length: 1 + Math.floor(r() * 20) }, () => 0.5 + r() * 60);
        const buckets = new Array<number>(7).fill(0);
        const pos = new Array<number>(40).fill(0);
        for (const v of values) {
          const i = bounds.findIndex((b) => v <= b);
          buckets[i === -1 ? 6 : i]++;
          pos[Math.ceil(Math.log2(v) * 4) - 1 + 8]++;
        }
        const sum = values.reduce((a, b) => a + b, 0);
        const inc = Math.floor(r() * 100);
        total.count += values.length;
        total.sum += sum;
        total.counter += inc;
        buckets.forEach((c, i) => (total.buckets[i] += c));
        pos.forEach((c, i) => (total.pos[i] += c));
        delta.feed(
          { type: HISTOGRAM, temporality: DELTA, metric: 'h', count: values.length, sum, bounds, buckets },
          { type: EXPONENTIAL_HISTOGRAM, temporality: DELTA, metric: 'e', count: values.length, sum, scale: 2, posOffset: -8, pos },
          { type: SUM, temporality: DELTA, monotonic: true, metric: 's', value: inc },
        );
        cumul.feed(
          { type: HISTOGRAM, temporality: CUMULATIVE, metric: 'h', count: total.count, sum: total.sum, bounds, buckets: [...total.buckets], start: 7 },
          { type: EXPONENTIAL_HISTOGRAM, temporality: CUMULATIVE, metric: 'e', count: total.count, sum: total.sum, scale: 2, posOffset: -8, pos: [...total.pos], start: 7 },
          { type: SUM, temporality: CUMULATIVE, monotonic: true, metric: 's', value: total.counter, start: 7 },
        );
      }
      const d = delta.closeAt(w + 1);
      const c = cumul.closeAt(w + 1);
      // Window 0 differs by design: the cumulative stream's first point is only a baseline.
      if (w === 0) continue;
      for (const m of ['h', 'e', 's']) {
        const a = only(d, m);
        const b = only(c, m);
        expect(b.value).toBeCloseTo(a.value, 6);
        expect(b.count).toBe(a.count);
        if (m === 's') continue;
        expect(b.sum).toBeCloseTo(a.sum, 6);
        expect(b.quantiles.p50).toBeCloseTo(a.quantiles.p50, 6);
        expect(b.quantiles.p99).toBeCloseTo(a.quantiles.p99, 6);
      }
    }
    expect(cumul.agg.stats.resets).toBe(0);
  });
});

describe('summary', () => {
  it('passes reported quantiles through; count and sum are cumulative increments', () => {
    const { agg, feed, closeAt } = setup();
    const s = (count: number, sum: number, q: [number, number][], start = 1000): PointSpec => ({ type: SUMMARY, count, sum, quantiles: q, start });
    feed(s(10, 100, [[0.5, 9], [0.9, 18], [0.99, 30]]));
    const first = only(closeAt(1));
    expect(first).toMatchObject({ type: 'summary', count: 0, points: 1, quantiles: { p50: 9, p90: 18, p99: 30 } });
    expect(first.quantiles.p999).toBeNaN();
    feed(s(15, 160, [[0.5, 10], [0.99, 31]]), s(20, 200, [[0.5, 11], [0.9, NaN], [0.999, 40]]));
    const second = only(closeAt(2));
    expect(second).toMatchObject({ count: 10, sum: 100, mean: 10, rate: 1, quantiles: { p50: 11, p999: 40 } });
    expect(second.quantiles.p90).toBeNaN();
    expect(second.quantiles.p99).toBeNaN();
    feed(s(4, 30, [], 2000));
    expect(only(closeAt(3))).toMatchObject({ count: 4, sum: 30 });
    expect(agg.stats.resets).toBe(1);
  });

  it('an absent summary sum is 0, not unknown', () => {
    const { feed, closeAt } = setup();
    feed({ type: SUMMARY, count: 0 });
    feed({ type: SUMMARY, count: 0 });
    expect(only(closeAt(1)).sum).toBe(0);
  });
});

describe('windows', () => {
  it('emits empty windows for idle series so gaps show', () => {
    const { feed, closeAt } = setup();
    feed({ type: GAUGE, value: 1 });
    const out = closeAt(3);
    expect(out.map((w) => [w.start, w.points, w.count])).toEqual([
      [0, 1, 1],
      [W, 0, 0],
      [2 * W, 0, 0],
    ]);
    expect(out[1].value).toBeNaN();
    expect(out[2].mean).toBeNaN();
  });

  it('closes nothing before a window ends, and a window ending exactly at now', () => {
    const { feed, closeAt } = setup();
    feed({ type: GAUGE, value: 1 });
    expect(closeAt(0, W - 1)).toEqual([]);
    expect(closeAt(1)).toHaveLength(1);
    expect(closeAt(1, W - 1)).toEqual([]);
  });

  it('rolls over by receive time when points arrive after a window ended, before closeDue', () => {
    const { clock, agg, feed, closeAt } = setup();
    clock.set(500);
    feed({ type: SUM, temporality: DELTA, value: 1 });
    clock.set(W + 500);
    feed({ type: SUM, temporality: DELTA, value: 2 });
    clock.set(2 * W + 500);
    feed({ type: SUM, temporality: DELTA, value: 4 }, { type: SUM, metric: 'other', temporality: DELTA, value: 8 });
    // Windows 0 and 1 were closed by consume and wait for closeDue.
    const out = agg.closeDue(clock.now());
    expect(out.map((w) => [w.metric, w.start, w.value])).toEqual([
      ['m', 0, 1],
      ['m', W, 2],
    ]);
    const later = closeAt(5);
    expect(later.map((w) => [w.metric, w.start, w.points])).toEqual([
      ['m', 2 * W, 1],
      ['other', 2 * W, 1],
      ['m', 3 * W, 0],
      ['other', 3 * W, 0],
      ['m', 4 * W, 0],
      ['other', 4 * W, 0],
    ]);
    expect(later[1].value).toBe(8);
  });

  it('a long stall emits the data window and the newest empty ones only', () => {
    const { agg, feed, closeAt } = setup({ retainWindows: 1000 });
    feed({ type: GAUGE, value: 1 });
    const out = closeAt(100);
    expect(out).toHaveLength(MAX_CATCHUP_WINDOWS);
    expect(out[0]).toMatchObject({ start: 0, points: 1 });
    expect(out[1].start).toBe((100 - MAX_CATCHUP_WINDOWS + 1) * W);
    expect(out.at(-1)!.start).toBe(99 * W);
    expect(agg.stats.droppedWindows).toBe(100 - MAX_CATCHUP_WINDOWS);
    // The ring still holds every window, consecutively.
    const h = [...agg.series()][0].history();
    expect(h).toHaveLength(100);
    expect(h.map((p) => p.start)).toEqual(Array.from({ length: 100 }, (_, i) => i * W));
  });

  it('keeps the last closed window and a history ring bounded at retainWindows', () => {
    const { agg, feed, closeAt } = setup({ retainWindows: 5 });
    for (let i = 0; i < 12; i++) {
      feed({ type: GAUGE, value: i });
      closeAt(i + 1);
    }
    const s = [...agg.series()][0];
    expect(s.last).toMatchObject({ start: 11 * W, value: 11 });
    const h = s.history();
    expect(h).toHaveLength(5);
    expect(h.map((p) => [p.start, p.value, p.min, p.max, p.count])).toEqual([7, 8, 9, 10, 11].map((i) => [i * W, i, i, i, 1]));
    expect(s.history(2).map((p) => p.value)).toEqual([10, 11]);
  });
});

describe('series keys', () => {
  it('attributes are order-insensitive; a repeated key keeps its last value', () => {
    const { agg, feed, closeAt } = setup();
    feed(
      { type: GAUGE, value: 1, attrs: [['b', '2'], ['a', '1']] },
      { type: GAUGE, value: 2, attrs: [['a', '1'], ['b', '2']] },
      { type: GAUGE, value: 3, attrs: [['a', 'x'], ['b', '2'], ['a', '1']] },
      { type: GAUGE, value: 4, attrs: [['a', '1']] },
      { type: GAUGE, value: 5, service: 'other', attrs: [['a', '1']] },
    );
    expect(agg.stats.liveSeries).toBe(3);
    const out = closeAt(1);
    const ab = out.find((w) => w.service === 'svc' && Object.keys(w.attributes).length === 2)!;
    expect(ab.attributes).toEqual({ a: '1', b: '2' });
    expect(ab.points).toBe(3);
  });

  it('attribute sets that would collide under naive joining stay apart', () => {
    const { agg, feed } = setup();
    feed({ type: GAUGE, value: 1, attrs: [['a', '1,"b":"2']] }, { type: GAUGE, value: 1, attrs: [['a', '1'], ['b', '2']] }, { type: GAUGE, value: 1, attrs: [['__proto__', 'x']] });
    expect(agg.stats.liveSeries).toBe(3);
    const proto = [...agg.series()].find((s) => Object.hasOwn(s.attributes, '__proto__'))!;
    expect(Object.getOwnPropertyDescriptor(proto.attributes, '__proto__')?.value).toBe('x');
  });

  it('past the cap, new keys fold into one overflow series per service', () => {
    const caps: number[] = [];
    const { agg, feed, closeAt } = setup({ maxSeries: 2, onCapReached: (n) => caps.push(n) });
    feed(
      { type: GAUGE, value: 1, attrs: { k: '1' } },
      { type: GAUGE, value: 1, attrs: { k: '2' } },
      { type: GAUGE, value: 1, attrs: { k: '3' } },
      { type: GAUGE, value: 1, attrs: { k: '4' } },
      { type: GAUGE, value: 1, attrs: { k: '3' } },
      { type: SUM, temporality: DELTA, value: 1, service: 'b' },
      { type: GAUGE, value: 9, attrs: { k: '1' } },
    );
    expect(caps).toEqual([2]);
    expect(agg.stats).toMatchObject({ liveSeries: 4, overflowSeries: 2, overflowedPoints: 4 });
    const out = closeAt(1);
    const over = out.filter((w) => w.overflow);
    expect(over.map((w) => [w.service, w.metric, w.points])).toEqual([
      ['svc', '__overflow__', 3],
      ['b', '__overflow__', 1],
    ]);
    expect(over[0].attributes).toEqual({});
    expect(over[0].value).toBeNaN();
    expect(out.find((w) => w.attributes.k === '1')).toMatchObject({ points: 2, value: 9 });
  });

  it('evicts series idle for the TTL after closing their windows', () => {
    const { agg, feed, closeAt, clock } = setup({ ttlMs: 3 * W });
    feed({ type: GAUGE, value: 1, metric: 'idle' });
    clock.set(2 * W);
    feed({ type: GAUGE, value: 1, metric: 'busy' });
    // The idle series' windows up to now are still emitted, then it goes.
    expect(closeAt(3).map((w) => `${w.metric}@${w.start / W}`)).toEqual(['idle@0', 'idle@1', 'idle@2', 'busy@2']);
    expect(agg.stats).toMatchObject({ liveSeries: 1, evicted: 1 });
    expect([...agg.series()].map((s) => s.metric)).toEqual(['busy']);
    expect(closeAt(4).map((w) => w.metric)).toEqual(['busy']);
  });
});

describe('bad and changing input', () => {
  it('a type change restarts the series and counts as a reset', () => {
    const { agg, feed, closeAt } = setup();
    feed({ type: GAUGE, value: 5 });
    feed({ type: SUM, temporality: DELTA, value: 2 }, { type: SUM, temporality: DELTA, value: 3 });
    const w = only(closeAt(1));
    expect(w).toMatchObject({ type: 'sum', value: 5, points: 2 });
    expect(agg.stats.resets).toBe(1);
    feed({ type: SUM, temporality: CUMULATIVE, value: 100 });
    expect(only(closeAt(2))).toMatchObject({ value: 0, points: 1 });
    expect(agg.stats.resets).toBe(2);
    expect([...agg.series()][0].type).toBe('sum');
  });

  it('skips points without a recorded value, non-finite numbers and unusable shapes', () => {
    const { agg, feed, closeAt } = setup();
    feed(
      { type: GAUGE, value: 1, flags: 1 },
      { type: GAUGE, value: NaN },
      { type: SUM, temporality: DELTA, value: Infinity },
      { type: SUM, value: 1 },
      { type: HISTOGRAM, temporality: DELTA, count: 1, sum: NaN },
      { type: HISTOGRAM, temporality: DELTA, count: 1, bounds: [2, 1], buckets: [1, 0, 0] },
      { type: EXPONENTIAL_HISTOGRAM, temporality: CUMULATIVE, count: 1, flags: 1 },
      { type: SUMMARY, count: 1, sum: -Infinity },
      { type: 9, value: 1 },
      // Negative or NaN counts, which only the JSON path can produce.
      { type: HISTOGRAM, temporality: DELTA, count: -1 },
      { type: HISTOGRAM, temporality: DELTA, count: 1, bounds: [1], buckets: [NaN, 1] },
      { type: EXPONENTIAL_HISTOGRAM, temporality: DELTA, count: 1, pos: [1, -1] },
      { type: GAUGE, value: 2, metric: 'ok' },
    );
    expect(agg.stats.skippedPoints).toBe(12);
    expect(agg.stats.liveSeries).toBe(1);
    expect(only(closeAt(1))).toMatchObject({ metric: 'ok', points: 1, value: 2 });
  });

  it('histograms with too many buckets are skipped rather than held', () => {
    const { agg, feed } = setup();
    const n = 300;
    feed({ type: HISTOGRAM, temporality: DELTA, count: 1, bounds: Array.from({ length: n - 1 }, (_, i) => i), buckets: new Array<number>(n).fill(0) });
    expect(agg.stats.skippedPoints).toBe(1);
  });

  it('keeps nothing of the pooled batch', () => {
    const { agg, closeAt } = setup();
    const b = batchOf({ type: GAUGE, value: 1, attrs: { k: 'v' }, metric: 'a' });
    agg.consume(b);
    b.reset();
    const p = b.next();
    p.metricName = 'changed';
    p.attrs.push('k', 'other');
    const out = closeAt(1);
    expect(out[0]).toMatchObject({ metric: 'a', attributes: { k: 'v' } });
  });

  it('validates options', () => {
    expect(() => new MetricAggregator({ windowMs: 0, retainWindows: 1, maxSeries: 1, ttlMs: 1, clock: new ManualClock() })).toThrow(RangeError);
  });
});
