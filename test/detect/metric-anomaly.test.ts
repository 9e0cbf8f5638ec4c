import { describe, expect, test } from 'vitest';
import { NO_EXEMPLARS } from '../../src/aggregate/exemplars.js';
import type { ClosedMetricWindow, MetricKind } from '../../src/aggregate/metric-aggregator.js';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import type { ClosedSpanWindow, SpanSeriesKey } from '../../src/aggregate/span-window.js';
import type { MetricAnomalyConfig } from '../../src/config/index.js';
import type { Finding } from '../../src/detect/detector.js';
import { MetricAnomalyDetector } from '../../src/detect/metric-anomaly.js';
import { mulberry32 } from '../support/generate.js';

const W = 10_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % W);
const NAN_Q = { p50: NaN, p90: NaN, p99: NaN, p999: NaN };
const DAY = 8640; // windows
const sketch = createSketchFactory('tdigest', {}).create();

function config(overrides: Partial<MetricAnomalyConfig> = {}): MetricAnomalyConfig {
  return { enabled: true, metrics: ['queue.depth'], span_signals: ['rate', 'error_ratio', 'p99'], sensitivity: 6, alpha: 0.05, warmup_windows: 30, sustain: 3, ...overrides };
}

/** Seeded noise: uniform, standard normal (Box–Muller), Poisson counts. */
class Noise {
  readonly u: () => number;
  constructor(seed: number) {
    this.u = mulberry32(seed);
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.u())) * Math.cos(2 * Math.PI * this.u());
  }
  poisson(lambda: number): number {
    if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    let k = 0;
    for (let p = this.u(), l = Math.exp(-lambda); p > l; p *= this.u()) k++;
    return k;
  }
}

interface MetricSeries {
  service?: string;
  metric?: string;
  type?: MetricKind;
  attributes?: Record<string, string>;
  overflow?: boolean;
}

/** Window k of a metric series whose judged number is `v` (NaN: an empty window). */
function metric(k: number, v: number, s: MetricSeries = {}): ClosedMetricWindow {
  const start = T0 + k * W;
  const type = s.type ?? 'gauge';
  const empty = Number.isNaN(v);
  return {
    service: s.service ?? 'checkout',
    metric: s.metric ?? 'queue.depth',
    unit: '{message}',
    type,
    attributes: s.attributes ?? {},
    overflow: s.overflow ?? false,
    start,
    end: start + W,
    points: empty ? 0 : 1,
    value: type === 'sum' ? v * (W / 1000) : v,
    min: type === 'gauge' ? v : NaN,
    max: type === 'gauge' ? v : NaN,
    mean: type === 'sum' ? NaN : v,
    rate: type === 'sum' ? v : NaN,
    count: empty ? 0 : 1,
    sum: NaN,
    quantiles: NAN_Q,
  };
}

function spanSeries(service: string, operation: string, overflow = false): SpanSeriesKey {
  return { service, operation, kind: 'server', dimensions: {}, overflow };
}

/** Window k of a span series: `count` spans, `errors` failed, p99 as given (NaN when empty). */
function spans(k: number, series: SpanSeriesKey, count: number, errors: number, p99: number): ClosedSpanWindow {
  const start = T0 + k * W;
  const p = count > 0 ? p99 : NaN;
  return { series, start, end: start + W, count, errors, sumMs: NaN, minMs: NaN, maxMs: NaN, p50: NaN, p90: NaN, p99: p, p999: NaN, exemplars: NO_EXEMPLARS, sketch };
}

/** Feeds one gauge value per window from window `from`; returns the findings of each close. */
function feed(d: MetricAnomalyDetector, values: readonly number[], from = 0): Finding[][] {
  return values.map((v, i) => d.onMetricWindows([metric(from + i, v)], T0 + (from + i + 1) * W));
}

const normal = (seed: number, n: number, mean: number, sd: number): number[] => {
  const r = new Noise(seed);
  return Array.from({ length: n }, () => mean + sd * r.normal());
};
const firstFiring = (out: Finding[][]): number => out.findIndex((f) => f.length > 0);

/**
 * Twenty stationary series with the noise real telemetry has: normal, heavy-tailed (Laplace,
 * lognormal), small integers, Poisson rates, low-traffic span series with empty windows and
 * all-or-nothing error ratios, p99 of a handful of spans, and isolated spikes (a GC pause).
 */
function quietData(seed: number, windows: number, onClose: (metrics: ClosedMetricWindow[], spanWindows: ClosedSpanWindow[], k: number) => void): void {
  const r = new Noise(seed);
  const spike = (v: number): number => (r.u() < 0.005 ? v * (2 + 3 * r.u()) : v);
  const laplace = (): number => (r.u() < 0.5 ? 1 : -1) * Math.log(1 - r.u());
  const gauges: ((k: number) => number)[] = [
    () => 100 + 5 * r.normal(),
    () => 1e6 + 2e4 * r.normal(),
    () => 0.5 + 0.05 * r.normal(),
    () => 20 + 8 * r.normal(),
    () => 100 + 5 * laplace(),
    () => 50 * Math.exp(0.3 * r.normal()),
    () => r.poisson(3),
    (k) => (k % 6 === 0 ? 40 + 2 * r.normal() : NaN), // exported every minute: mostly empty windows
  ];
  const sums = [5, 200].map((lambda) => () => r.poisson(lambda * 10) / 10);
  const histogram = (): number => 0.12 * Math.exp(0.2 * r.normal());
  const ops = [0.3, 2, 10, 50, 200, 1000, 5, 20, 100, 0.1].map((lambda, i) => ({ lambda, p: [0, 0.001, 0.01, 0.05, 0.002][i % 5], base: 20 + 30 * i, key: spanSeries('shop', `op-${i}`) }));
  for (let k = 0; k < windows; k++) {
    const metrics = [
      ...gauges.map((g, i) => metric(k, spike(g(k)), { attributes: { series: `g${i}` } })),
      ...sums.map((g, i) => metric(k, spike(g()), { metric: 'requests', type: 'sum', attributes: { series: `s${i}` } })),
      metric(k, spike(histogram()), { metric: 'db.duration', type: 'histogram' }),
    ];
    const spanWindows = ops.map((o) => {
      const count = r.poisson(o.lambda * 10);
      let errors = 0;
      const durations: number[] = [];
      for (let j = 0; j < Math.min(count, 300); j++) {
        if (r.u() < o.p) errors++;
        durations.push(o.base * Math.exp(0.5 * r.normal()));
      }
      if (count > 300) errors = r.poisson(count * o.p);
      durations.sort((a, b) => a - b);
      const p99 = durations[Math.min(durations.length - 1, Math.floor(0.99 * durations.length))];
      return spans(k, o.key, count, errors, spike(p99));
    });
    onClose(metrics, spanWindows, k);
  }
}

const noisy = (seed: number, n: number): number[] => normal(seed, n, 100, 5);

describe('MetricAnomalyDetector: quiet on normal data', () => {
  const cfg = config({ metrics: ['queue.depth', 'requests', 'db.duration'] });
  const runQuiet = (c: MetricAnomalyConfig): { findings: Finding[]; detector: MetricAnomalyDetector } => {
    const d = new MetricAnomalyDetector(c, W);
    const findings: Finding[] = [];
    quietData(20240601, 2000, (m, sp, k) => findings.push(...d.onMetricWindows(m, T0 + (k + 1) * W), ...d.onSpanWindows(sp, T0 + (k + 1) * W)));
    return { findings, detector: d };
  };

  test('2000 windows of 21 stationary, noisy series (isolated spikes included): not one finding', () => {
    const { findings, detector } = runQuiet(cfg);
    expect(findings).toEqual([]);
    expect(detector.trackedSeries).toBe(11);
  });

  test('the same data does trip a much narrower band (the test has teeth)', () => {
    expect(runQuiet({ ...cfg, sensitivity: 2 }).findings.length).toBeGreaterThan(10);
  });

  test('diurnal swings (±50% over a day, three days) are followed, not flagged', () => {
    const d = new MetricAnomalyDetector(config(), W);
    const r = new Noise(11);
    const cart = spanSeries('shop', 'GET /cart');
    const findings: Finding[] = [];
    for (let k = 0; k < 3 * DAY; k++) {
      const day = Math.sin((2 * Math.PI * k) / DAY);
      const now = T0 + (k + 1) * W;
      findings.push(...d.onMetricWindows([metric(k, 100 + 50 * day + 2 * r.normal())], now));
      const count = r.poisson((60 + 40 * day) * 10);
      findings.push(...d.onSpanWindows([spans(k, cart, count, r.poisson(count * 0.01), 80 + 30 * day + 3 * r.normal())], now));
    }
    expect(findings).toEqual([]);
  });

  test('a flat series does not fire on a small wiggle (σ̂ floor: 1% of the mean)', () => {
    const d = new MetricAnomalyDetector(config(), W);
    const wiggle = [101, 100.5, 101.5, 99, 102, 98, 103, 100, 104, 101];
    expect(feed(d, [...Array<number>(200).fill(100), ...wiggle, ...wiggle]).flat()).toEqual([]);
    // The floor is a floor, not a blindfold: +10% on a flat series is a change.
    expect(firstFiring(feed(d, [110, 110, 110], 220))).toBe(2);
  });
});

describe('MetricAnomalyDetector: what it catches', () => {
  test('warm-up: nothing is judged before `warmup_windows` windows have been taken in', () => {
    const values = [...noisy(1, 29), ...Array<number>(20).fill(400)];
    const out = feed(new MetricAnomalyDetector(config(), W), values);
    // Window 29 (the 30th) is still learned; 30, 31 and 32 are judged outside the band.
    expect(firstFiring(out)).toBe(32);
    const early = feed(new MetricAnomalyDetector(config(), W), [...noisy(1, 10), ...Array<number>(20).fill(400)]);
    expect(early.flat()).toEqual([]);
  });

  test('a step change fires on its `sustain`-th window, then is adopted slowly', () => {
    const d = new MetricAnomalyDetector(config(), W);
    const out = feed(d, [...noisy(2, 300), ...normal(3, 1000, 150, 5)]);
    expect(firstFiring(out)).toBe(302);
    const f = out[302][0];
    expect(f).toMatchObject({ kind: 'metric_anomaly', severity: 'warning', service: 'checkout', operation: '', slo: '', metric: 'queue.depth' });
    const e = f.evidence as { value: number; expected: number; band: [number, number]; deviations: number; windows: number; signal: string };
    expect(e).toMatchObject({ signal: 'queue.depth', windows: 3, attributes: {}, unit: '{message}' });
    expect(e.expected).toBeCloseTo(100, -1);
    expect(e.band[0]).toBeLessThan(e.expected);
    expect(e.band[1]).toBeGreaterThan(e.expected);
    expect(e.band[1]).toBeLessThan(e.value);
    expect(e.deviations).toBeGreaterThan(6);
    expect(f.magnitude).toBe(Math.abs(e.deviations));
    // Flagged for a while (minutes at 10 s windows), then the new level is the normal one.
    const firing = out.slice(300).map((x) => x.length);
    const last = firing.lastIndexOf(1);
    expect(last).toBeGreaterThan(30);
    expect(last).toBeLessThan(300);
    expect(firing.slice(2, last + 1).every((x) => x === 1)).toBe(true);
  });

  test('an incident that ends: the finding stops with the first normal window', () => {
    const d = new MetricAnomalyDetector(config(), W);
    const out = feed(d, [...noisy(4, 300), ...normal(5, 40, 250, 5), ...noisy(6, 100)]);
    expect(out.slice(302, 340).every((f) => f.length === 1)).toBe(true);
    expect(out.slice(340).flat()).toEqual([]);
  });

  test('a single wild outlier does not fire and does not blow up the band', () => {
    const d = new MetricAnomalyDetector(config(), W);
    // 100σ once, two normal windows, then a moderate 9σ shift.
    const out = feed(d, [...noisy(7, 300), 600, ...noisy(8, 2), 145, 145, 145]);
    expect(out.slice(0, 305).flat()).toEqual([]);
    expect(out[305]).toHaveLength(1);
  });

  test('gaps are skipped: empty windows neither break nor extend a streak', () => {
    const d = new MetricAnomalyDetector(config(), W);
    const out = feed(d, [...noisy(9, 100), 200, NaN, 200, NaN, NaN, 200, NaN]);
    expect(out.map((f) => f.length).slice(100)).toEqual([0, 0, 0, 0, 0, 1, 1]);
  });

  test('sums are judged on their rate; overflow and unwatched series are ignored; gone series are forgotten', () => {
    const d = new MetricAnomalyDetector(config({ metrics: ['requests'] }), W);
    const base = noisy(10, 100);
    const rates = [...base, 300, 300, 300];
    let last: Finding[] = [];
    rates.forEach((v, k) => {
      last = d.onMetricWindows([metric(k, v, { metric: 'requests', type: 'sum' }), metric(k, k < 100 ? 100 : 1e6, { metric: 'other' }), metric(k, k < 100 ? 100 : 1e6, { metric: 'requests', overflow: true })], T0 + (k + 1) * W);
    });
    expect(last.map((f) => [f.metric, f.evidence.value])).toEqual([['requests', 300]]);
    expect(d.trackedSeries).toBe(1);
    d.onMetricWindows([metric(103, 1, { metric: 'other' })], T0 + 104 * W);
    expect(d.trackedSeries).toBe(0);
  });
});

describe('MetricAnomalyDetector: span signals', () => {
  const cart = spanSeries('shop', 'GET /cart');
  /** Healthy traffic: 50 spans/s, 1% errors, p99 ≈ 120 ms; `change` may override window k. */
  function traffic(seed: number, n: number, change: (k: number) => [number, number, number] | undefined, signals: MetricAnomalyConfig['span_signals'] = ['rate', 'error_ratio', 'p99'], key = cart): Finding[][] {
    const d = new MetricAnomalyDetector(config({ span_signals: signals }), W);
    const r = new Noise(seed);
    const out: Finding[][] = [];
    for (let k = 0; k < n; k++) {
      const count = r.poisson(500);
      const [c, e, p] = change(k) ?? [count, r.poisson(count * 0.01), 120 * Math.exp(0.05 * r.normal())];
      out.push(d.onSpanWindows([spans(k, key, c, e, p)], T0 + (k + 1) * W));
    }
    return out;
  }

  test('traffic stopping is a rate anomaly (an empty window is a rate of 0); error ratio and p99 skip it', () => {
    const out = traffic(12, 110, (k) => (k >= 100 ? [0, 0, NaN] : undefined));
    expect(firstFiring(out)).toBe(102);
    expect(out[109]).toHaveLength(1);
    const f = out[102][0];
    expect(f).toMatchObject({ kind: 'metric_anomaly', service: 'shop', operation: 'GET /cart', slo: '', metric: '' });
    expect(f.evidence).toMatchObject({ signal: 'rate', value: 0, windows: 3, scope: 'server {}' });
    expect(f.evidence.expected).toBeCloseTo(50, -1);
  });

  test('p99 and error ratio shifts fire as their own signals', () => {
    const slow = traffic(13, 110, (k) => (k >= 100 ? [500, 5, 400] : undefined));
    expect(slow[102].map((f) => f.evidence.signal)).toEqual(['p99']);
    const failing = traffic(13, 110, (k) => (k >= 100 ? [500, 100, 120] : undefined));
    expect(failing[102].map((f) => f.evidence.signal)).toEqual(['error_ratio']);
  });

  test('an error ratio that was always 0 does not fire on a trickle of single errors (binomial floor)', () => {
    const trickle = traffic(14, 300, (k) => [500, k >= 100 ? 1 : 0, 120]);
    expect(trickle.flat()).toEqual([]);
    const real = traffic(14, 110, (k) => [500, k >= 100 ? 25 : 0, 120]);
    expect(firstFiring(real)).toBe(102);
  });

  test('a low, perfectly steady rate does not fire on a span more or less per window (Poisson floor)', () => {
    const steady = traffic(16, 300, (k) => [k < 100 ? 6 : 6 + (k % 2 === 0 ? 1 : -1), 0, 120], ['rate']);
    expect(steady.flat()).toEqual([]);
    const busy = traffic(16, 110, (k) => [k < 100 ? 6 : 30, 0, 120], ['rate']);
    expect(firstFiring(busy)).toBe(102);
  });

  test('only the configured signals are watched; overflow series never', () => {
    const stop = (k: number): [number, number, number] | undefined => (k >= 100 ? [0, 0, NaN] : undefined);
    expect(traffic(15, 110, stop, ['p99', 'error_ratio']).flat()).toEqual([]);
    expect(traffic(15, 110, stop, ['rate'], spanSeries('shop', '', true)).flat()).toEqual([]);
  });
});
