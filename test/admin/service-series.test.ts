import { describe, expect, test } from 'vitest';
import { emptySummary, WindowHistory, WindowRingSlab, type WindowSummary } from '../../src/aggregate/window-history.js';
import { type LatencyPart, MAX_MIXTURE_PARTS, mixtureQuantile, type RetainedSeries, serviceSeries } from '../../src/admin/service-series.js';

const W = 10_000;
const T0 = 1_800_000_000_000;
const slab = new WindowRingSlab(16);

/** A window whose latencies are uniform on [0, maxMs]: its quantiles are q × maxMs. */
function uniform(start: number, count: number, errors: number, maxMs: number): WindowSummary {
  if (count === 0) return emptySummary(start);
  return { start, count, errors, sumMs: (count * maxMs) / 2, minMs: 0, maxMs, p50: maxMs * 0.5, p90: maxMs * 0.9, p99: maxMs * 0.99, p999: maxMs * 0.999 };
}

/** A retained series whose windows start at T0 + first × W, one per entry of `windows`. */
function retained(service: string, kind: string, windows: [count: number, errors: number, maxMs: number][], first = 0, overflow = false): RetainedSeries {
  const history = new WindowHistory(slab, W);
  windows.forEach(([count, errors, maxMs], i) => history.push(uniform(T0 + (first + i) * W, count, errors, maxMs)));
  return { service, kind, overflow, history };
}

describe('serviceSeries', () => {
  test("one server series: rate per second, error ratio, and the series' own quantiles", () => {
    const [s] = serviceSeries([retained('checkout', 'server', [[100, 5, 200], [50, 0, 100]])], W, 60);
    expect(s.service).toBe('checkout');
    expect(s.spans).toBe('entry');
    expect(s.t).toEqual([T0 / 1000, T0 / 1000 + 10]);
    expect(s.rate).toEqual([10, 5]);
    expect(s.errorRatio).toEqual([0.05, 0]);
    // Latencies are retained as 16-bit log codes (≤ 0.025% off).
    expect(s.p50[0]).toBeCloseTo(100, 1);
    expect(s.p99[0]).toBeCloseTo(198, 1);
    expect(s.p50[1]).toBeCloseTo(50, 1);
  });

  test('requests are entry spans: client and internal series are left out while a service has server or consumer spans', () => {
    const out = serviceSeries([
      retained('checkout', 'server', [[100, 0, 10]]),
      retained('checkout', 'client', [[300, 30, 1000]]),
      retained('checkout', 'consumer', [[100, 10, 10]]),
      retained('worker', 'internal', [[40, 4, 10]]),
      retained('worker', 'client', [[60, 0, 10]]),
    ], W, 60);
    expect(out.map((s) => [s.service, s.spans, s.rate[0], s.errorRatio[0]])).toEqual([
      ['checkout', 'entry', 20, 0.05],
      // No entry spans at all: every series counts, so the service still has a plot.
      ['worker', 'all', 10, 0.04],
    ]);
  });

  test('overflow series are not counted as requests (they mix every span kind)', () => {
    const [s] = serviceSeries([retained('checkout', 'server', [[100, 0, 10]]), retained('checkout', '', [[900, 900, 10]], 0, true)], W, 60);
    expect(s.rate).toEqual([10]);
    expect(s.errorRatio).toEqual([0]);
  });

  test('windows line up by start across series of different ages; empty windows plot as 0 requests and gaps', () => {
    const old = retained('cart', 'server', [[10, 0, 10], [0, 0, 0], [10, 1, 10], [10, 0, 10]]);
    const young = retained('cart', 'server', [[30, 3, 10], [30, 0, 10]], 2);
    const [s] = serviceSeries([old, young], W, 60);
    expect(s.t).toEqual([0, 1, 2, 3].map((i) => (T0 + i * W) / 1000));
    expect(s.rate).toEqual([1, 0, 4, 4]);
    expect(s.errorRatio).toEqual([0, null, 0.1, 0]);
    expect(s.p50[1]).toBeNull();
    expect(s.p99[1]).toBeNull();
  });

  test('points keeps the newest windows; service picks one; services are sorted by name', () => {
    const series = [retained('search', 'server', [[1, 0, 1], [2, 0, 1], [3, 0, 1]]), retained('auth', 'server', [[1, 0, 1], [2, 0, 1], [3, 0, 1]])];
    const out = serviceSeries(series, W, 2);
    expect(out.map((s) => s.service)).toEqual(['auth', 'search']);
    expect(out[0].rate).toEqual([0.2, 0.3]);
    expect(serviceSeries(series, W, 60, 'search').map((s) => s.service)).toEqual(['search']);
    expect(() => serviceSeries(series, W, 0)).toThrow(RangeError);
  });

  test('with more operations than the mixture takes, quantiles come from the heaviest; rate and errors count all', () => {
    const heavy = Array.from({ length: MAX_MIXTURE_PARTS }, () => retained('checkout', 'server', [[100, 1, 10]]));
    const light = Array.from({ length: 40 }, () => retained('checkout', 'server', [[10, 10, 5000]]));
    const [s] = serviceSeries([...light, ...heavy], W, 60);
    expect(s.rate).toEqual([(MAX_MIXTURE_PARTS * 100 + 400) / 10]);
    expect(s.errorRatio).toEqual([Math.round(((MAX_MIXTURE_PARTS + 400) / (MAX_MIXTURE_PARTS * 100 + 400)) * 1000) / 1000]);
    // The 5 s operations carry 6% of the calls and are left out of the quantiles.
    expect(s.p99[0]).toBeLessThan(10.5);
  });

  test('after: only windows that start later are folded (for callers that keep earlier folds)', () => {
    const a = retained('checkout', 'server', [[10, 0, 10], [20, 0, 10], [30, 0, 10]]);
    const [s] = serviceSeries([a], W, 60, undefined, T0 + W);
    expect(s.t).toEqual([(T0 + 2 * W) / 1000]);
    expect(s.rate).toEqual([3]);
  });

  test('latency of several operations is the quantile of their count-weighted mixture', () => {
    const fast = retained('checkout', 'server', [[900, 0, 10]]);
    const slow = retained('checkout', 'server', [[100, 0, 1000]]);
    const [s] = serviceSeries([fast, slow], W, 60);
    // Rank 0.5 of 1000 spans is the fast operation's 500th of 900: 10 × 5/9 ms.
    expect(s.p50[0]).toBeCloseTo(50 / 9, 1);
    // Rank 0.99 lies in the slow operation: (990 − 900) / 100 of its spans → 900 ms.
    expect(s.p99[0]).toBeGreaterThan(800);
    expect(s.p99[0]).toBeLessThan(1000);
  });
});

describe('mixtureQuantile', () => {
  const part = (count: number, maxMs: number): LatencyPart => ({ count, errors: 0, cdf: [0, 0, maxMs * 0.5, 0.5, maxMs * 0.9, 0.9, maxMs * 0.99, 0.99, maxMs * 0.999, 0.999, maxMs, 1] });

  test('one part answers its own retained quantiles exactly', () => {
    expect(mixtureQuantile([part(10, 100)], 0.5)).toBe(50);
    expect(mixtureQuantile([part(10, 100)], 0.99)).toBe(99);
    expect(mixtureQuantile([part(10, 100)], 1)).toBe(100);
  });

  test('equal parts give the same quantile as either; all-zero latencies give 0', () => {
    expect(mixtureQuantile([part(5, 100), part(5, 100)], 0.9)).toBeCloseTo(90, 3);
    expect(mixtureQuantile([part(5, 0), part(5, 0)], 0.99)).toBe(0);
  });

  test('a small slow part moves p99 and leaves p50 alone', () => {
    const parts = [part(990, 10), part(10, 5000)];
    expect(mixtureQuantile(parts, 0.5)).toBeCloseTo(10 * (500 / 990), 2);
    expect(mixtureQuantile(parts, 0.999)).toBeGreaterThan(2000);
  });
});
