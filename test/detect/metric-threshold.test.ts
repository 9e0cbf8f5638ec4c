import { describe, expect, test } from 'vitest';
import type { ClosedMetricWindow, MetricKind } from '../../src/aggregate/metric-aggregator.js';
import type { MetricThresholdConfig } from '../../src/config/index.js';
import type { Finding } from '../../src/detect/detector.js';
import { MetricThresholdDetector } from '../../src/detect/metric-threshold.js';
import { mulberry32 } from '../support/generate.js';

const W = 10_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % W);
const NAN_Q = { p50: NaN, p90: NaN, p99: NaN, p999: NaN };

function rule(overrides: Partial<MetricThresholdConfig> = {}): MetricThresholdConfig {
  return { name: 'queue-backlog', metric: 'queue.depth', attributes: {}, service: '', above: 100, below: null, for: 60_000, severity: 'critical', outcomes: ['orders'], ...overrides };
}

interface Series {
  service?: string;
  metric?: string;
  type?: MetricKind;
  unit?: string;
  attributes?: Record<string, string>;
  overflow?: boolean;
}

/** A gauge window whose samples all equal `v` (NaN: an empty window). */
function gauge(k: number, v: number, s: Series = {}): ClosedMetricWindow {
  return window(k, s, Number.isNaN(v) ? { points: 0 } : { points: 1, value: v, min: v, max: v, mean: v, count: 1 });
}

function window(k: number, s: Series, values: Partial<ClosedMetricWindow>): ClosedMetricWindow {
  const start = T0 + k * W;
  return {
    service: s.service ?? 'checkout',
    metric: s.metric ?? 'queue.depth',
    unit: s.unit ?? '{message}',
    type: s.type ?? 'gauge',
    attributes: s.attributes ?? {},
    overflow: s.overflow ?? false,
    start,
    end: start + W,
    points: 0,
    value: NaN,
    min: NaN,
    max: NaN,
    mean: NaN,
    rate: NaN,
    count: 0,
    sum: NaN,
    quantiles: NAN_Q,
    ...values,
  };
}

/** Feeds window k of every series, k = 0…values.length−1; returns the findings per close. */
function run(d: MetricThresholdDetector, values: readonly number[], make: (k: number, v: number) => ClosedMetricWindow[] = (k, v) => [gauge(k, v)], from = 0): Finding[][] {
  return values.map((v, i) => d.onMetricWindows(make(from + i, v), T0 + (from + i + 1) * W));
}

const firstFiring = (out: Finding[][]): number => out.findIndex((f) => f.length > 0);

describe('MetricThresholdDetector', () => {
  test('fires once the condition has held for exactly `for`, not a window earlier', () => {
    const d = new MetricThresholdDetector([rule()], W);
    // 1m of 10s windows = 6 windows; the streak starts at window 3.
    const out = run(d, [50, 80, 100, 150, 150, 150, 150, 150, 150, 150]);
    expect(firstFiring(out)).toBe(3 + 6 - 1);
    const f = out[8][0];
    expect(f).toMatchObject({ kind: 'metric_threshold', severity: 'critical', service: 'checkout', operation: '', slo: '', metric: 'queue.depth', outcomes: ['orders'], magnitude: 1.5 });
    expect(f.evidence).toEqual({ rule: 'queue-backlog', value: 150, statistic: 'mean', threshold: 100, direction: 'above', for: '1m', windows: 6, attributes: {}, unit: '{message}' });
    expect(out[9][0].evidence.windows).toBe(7);
    // A value equal to the threshold is not above it (window 2 did not start the streak).
    expect(out[2]).toEqual([]);
  });

  test('`for` rounds up to whole windows, at least one', () => {
    const hot = Array.from({ length: 5 }, () => 150);
    expect(firstFiring(run(new MetricThresholdDetector([rule({ for: 25_000 })], W), hot))).toBe(2);
    expect(firstFiring(run(new MetricThresholdDetector([rule({ for: 0 })], W), hot))).toBe(0);
    expect(firstFiring(run(new MetricThresholdDetector([rule({ for: 10_000 })], W), hot))).toBe(0);
  });

  test('below rules, with the inverse ratio as magnitude', () => {
    const d = new MetricThresholdDetector([rule({ name: 'low-stock', above: null, below: 20, for: 30_000, severity: 'warning' })], W);
    const out = run(d, [25, 10, 10, 10, 0, 30]);
    expect(firstFiring(out)).toBe(3);
    expect(out[3][0]).toMatchObject({ severity: 'warning', magnitude: 2, evidence: { direction: 'below', threshold: 20, value: 10, windows: 3, for: '30s' } });
    // Zero under a positive bound ranks as far as it goes rather than as an infinite ratio.
    expect(out[4][0].magnitude).toBe(1000);
    expect(out[5]).toEqual([]);
  });

  test('a rule with both bounds fires on either side', () => {
    const d = new MetricThresholdDetector([rule({ above: 90, below: 10, for: 0 })], W);
    const out = run(d, [50, 95, 5, 50]);
    expect(out.map((f) => f.map((x) => x.evidence.direction))).toEqual([[], ['above'], ['below'], []]);
  });

  test('the attributes and service of the rule must match; others are ignored', () => {
    const d = new MetricThresholdDetector([rule({ service: 'checkout', attributes: { queue: 'orders' }, for: 0 })], W);
    const series: Series[] = [
      { attributes: { queue: 'orders', host: 'a' } },
      { attributes: { queue: 'orders', host: 'b' } },
      { attributes: { queue: 'emails' } },
      { attributes: {} },
      { service: 'billing', attributes: { queue: 'orders' } },
      { metric: 'queue.age', attributes: { queue: 'orders' } },
    ];
    const f = d.onMetricWindows(series.map((s) => gauge(0, 500, s)), T0 + W);
    expect(f.map((x) => x.evidence.attributes)).toEqual([
      { queue: 'orders', host: 'a' },
      { queue: 'orders', host: 'b' },
    ]);
    expect(d.trackedSeries).toBe(5);
  });

  test('service "" matches every service, one finding per series', () => {
    const d = new MetricThresholdDetector([rule({ for: 0 })], W);
    const f = d.onMetricWindows([gauge(0, 500, { service: 'a' }), gauge(0, 500, { service: 'b' }), gauge(0, 5, { service: 'c' })], T0 + W);
    expect(f.map((x) => x.service)).toEqual(['a', 'b']);
  });

  test('windows without a point keep the last value (SDKs export less often than windows close) until it is 5 minutes stale', () => {
    const d = new MetricThresholdDetector([rule()], W);
    // One report a minute, always over: fires once a minute has passed since the first report.
    const sparse = run(d, Array.from({ length: 13 }, (_, k) => (k % 6 === 0 ? 150 : NaN)));
    expect(firstFiring(sparse)).toBe(5);
    expect(sparse.slice(5).every((f) => f.length === 1)).toBe(true);
    // A gap longer than the staleness limit ends the run: it must hold a full minute again.
    const d2 = new MetricThresholdDetector([rule()], W);
    const gap = run(d2, [150, ...Array.from({ length: 31 }, () => NaN), 150, 150, 150, 150, 150, 150, 150]);
    expect(gap[30].length).toBe(1);
    expect(gap[31]).toEqual([]);
    expect(firstFiring(gap.slice(32)) + 32).toBe(37);
  });

  test('stops as soon as the value returns, and must hold the full `for` again', () => {
    const d = new MetricThresholdDetector([rule({ for: 20_000 })], W);
    const out = run(d, [150, 150, 150, 90, 150, 150, 150]);
    expect(out.map((f) => f.length)).toEqual([0, 1, 1, 0, 0, 1, 1]);
  });

  test('gauges are judged on the mean of the window: one spiky sample does not count', () => {
    const d = new MetricThresholdDetector([rule({ for: 0 })], W);
    const spiky = window(0, {}, { points: 6, value: 60, min: 40, max: 400, mean: 95, count: 6 });
    expect(d.onMetricWindows([spiky], T0 + W)).toEqual([]);
    const high = window(1, {}, { points: 6, value: 60, min: 60, max: 400, mean: 120, count: 6 });
    expect(d.onMetricWindows([high], T0 + 2 * W)[0].evidence).toMatchObject({ value: 120, statistic: 'mean' });
  });

  test('sums are judged on their rate, distributions on p99 (the mean when a summary has none)', () => {
    const rules = [rule({ name: 'errors', metric: 'http.errors', above: 5, for: 0 }), rule({ name: 'slow', metric: 'http.duration', above: 0.5, for: 0 }), rule({ name: 'slow-summary', metric: 'rpc.duration', above: 0.5, for: 0 })];
    const d = new MetricThresholdDetector(rules, W);
    const f = d.onMetricWindows(
      [
        window(0, { metric: 'http.errors', type: 'sum' }, { points: 1, value: 80, rate: 8 }),
        window(0, { metric: 'http.duration', type: 'histogram', unit: 's' }, { points: 1, mean: 0.2, count: 100, quantiles: { p50: 0.1, p90: 0.3, p99: 0.9, p999: 1.5 } }),
        window(0, { metric: 'rpc.duration', type: 'summary', unit: 's' }, { points: 1, mean: 0.7, count: 100 }),
      ],
      T0 + W,
    );
    expect(f.map((x) => [x.evidence.rule, x.evidence.statistic, x.evidence.value])).toEqual([
      ['errors', 'rate', 8],
      ['slow', 'p99', 0.9],
      ['slow-summary', 'mean', 0.7],
    ]);
  });

  test('several windows of one series in one close (catch-up) count in order', () => {
    const d = new MetricThresholdDetector([rule({ for: 30_000 })], W);
    expect(d.onMetricWindows([gauge(0, 150), gauge(1, 150)], T0 + 2 * W)).toEqual([]);
    const f = d.onMetricWindows([gauge(2, 150), gauge(3, 150)], T0 + 4 * W);
    expect(f).toHaveLength(1);
    expect(f[0].evidence.windows).toBe(4);
  });

  test('a series missing from a close is forgotten; overflow series are ignored', () => {
    const d = new MetricThresholdDetector([rule({ for: 30_000 })], W);
    run(d, [150, 150], (k, v) => [gauge(k, v), gauge(k, v, { service: 'other' })]);
    expect(d.trackedSeries).toBe(2);
    expect(d.onMetricWindows([gauge(2, 150, { service: 'other' }), gauge(2, 1e9, { overflow: true })], T0 + 3 * W)).toHaveLength(1);
    expect(d.trackedSeries).toBe(1);
    // Back after eviction: its streak starts over.
    expect(run(d, [150, 150, 150], (k, v) => [gauge(k, v)], 3).map((f) => f.length)).toEqual([0, 0, 1]);
  });

  test('noisy data around the threshold: fires only where a full run of `for` windows is over it', () => {
    const rand = mulberry32(7);
    const values = Array.from({ length: 2000 }, () => 100 + (rand() - 0.5) * 40);
    const d = new MetricThresholdDetector([rule({ above: 110, for: 40_000 })], W);
    const out = run(d, values);
    let streak = 0;
    out.forEach((f, k) => {
      streak = values[k] > 110 ? streak + 1 : 0;
      expect(f.length).toBe(streak >= 4 ? 1 : 0);
    });
    expect(out.some((f) => f.length > 0)).toBe(true);
  });
});
