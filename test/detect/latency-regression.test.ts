import { describe, expect, test } from 'vitest';
import { ExemplarReservoir, NO_EXEMPLARS } from '../../src/aggregate/exemplars.js';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import { type ClosedSpanWindow, newClosedWindow } from '../../src/aggregate/span-window.js';
import { type LatencyRegressionConfig, defaultConfig } from '../../src/config/index.js';
import type { Finding } from '../../src/detect/detector.js';
import { LatencyRegressionDetector, quantileLabel } from '../../src/detect/latency-regression.js';
import { mulberry32 } from '../support/generate.js';

const W = 10_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % W);
const DEFAULTS = defaultConfig().detectors.latency_regression;
const sketches = createSketchFactory('tdigest', {});

const config = (o: Partial<LatencyRegressionConfig> = {}): LatencyRegressionConfig => ({ ...DEFAULTS, ...o });

/** One series as the aggregator hands it over: the same window object and sketch, refilled every close. */
function feed(service: string, operation: string, overflow = false): ClosedSpanWindow {
  return newClosedWindow({ service, operation, kind: 'server', dimensions: {}, overflow }, sketches.create(), NO_EXEMPLARS);
}

function fill(w: ClosedSpanWindow, k: number, durations: readonly number[]): ClosedSpanWindow {
  w.sketch.reset();
  let sum = 0;
  for (const d of durations) {
    w.sketch.add(d);
    sum += d;
  }
  w.start = T0 + k * W;
  w.end = w.start + W;
  w.count = durations.length;
  w.sumMs = sum;
  w.p99 = w.sketch.quantile(0.99);
  return w;
}

/** Seeded lognormal latencies around `median` ms with log-spread `sigma`. */
function lognormal(seed: number, median: number, sigma: number): (n: number, scale?: number) => number[] {
  const rng = mulberry32(seed);
  return (n, scale = 1) =>
    Array.from({ length: n }, () => scale * median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())));
}

/** Runs `steps` closes from window index `from`; `make(k)` gives close k's windows. */
function run(d: LatencyRegressionDetector, from: number, steps: number, make: (k: number) => ClosedSpanWindow[]): Finding[][] {
  const out: Finding[][] = [];
  for (let k = from; k < from + steps; k++) out.push(d.onSpanWindows(make(k), T0 + (k + 1) * W));
  return out;
}

const WARMUP = DEFAULTS.warmup_windows;

describe('LatencyRegressionDetector', () => {
  test('fires on the sustain-th slow window, only for the affected series, with evidence', () => {
    const d = new LatencyRegressionDetector(DEFAULTS, W);
    const [checkout, search] = [feed('checkout', 'POST /checkout'), feed('search', 'GET /search')];
    const [c, s] = [lognormal(1, 50, 0.4), lognormal(2, 20, 0.4)];
    const healthy = run(d, 0, WARMUP + 30, (k) => [fill(checkout, k, c(500)), fill(search, k, s(500))]);
    expect(healthy.flat()).toEqual([]);
    const incident = run(d, WARMUP + 30, 6, (k) => [fill(checkout, k, c(500, 2.2)), fill(search, k, s(500))]);
    // Quiet for sustain − 1 windows, then one finding per window.
    expect(incident.map((f) => f.length)).toEqual([0, 0, 1, 1, 1, 1]);
    const f = incident[DEFAULTS.sustain - 1][0];
    expect(f).toMatchObject({ kind: 'latency_regression', severity: 'warning', service: 'checkout', operation: 'POST /checkout', slo: '', metric: '', outcomes: [] });
    const e = f.evidence as Record<string, number | string>;
    expect(e.quantile).toBe('p99');
    expect(e.ratio).toBeGreaterThan(1.8);
    expect(e.ratio).toBeLessThan(2.7);
    expect(f.magnitude).toBe(e.ratio);
    expect(e.delta_ms).toBeCloseTo(Number(e.current_ms) - Number(e.baseline_ms), 2);
    expect(e).toMatchObject({ count: 500, windows: DEFAULTS.sustain });
    expect(f.evidence.window).toEqual({ start: new Date(T0 + (WARMUP + 32) * W).toISOString(), end: new Date(T0 + (WARMUP + 33) * W).toISOString() });
    expect(incident[5][0].evidence.windows).toBe(6);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });

  test('critical from twice the configured ratio', () => {
    const d = new LatencyRegressionDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    const c = lognormal(3, 50, 0.3);
    run(d, 0, WARMUP, (k) => [fill(w, k, c(400))]);
    const f = run(d, WARMUP, 3, (k) => [fill(w, k, c(400, 5))]).flat();
    expect(f.map((x) => x.severity)).toEqual(['critical']);
  });

  test('does not fire during warm-up, however wild the first windows', () => {
    const d = new LatencyRegressionDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    const c = lognormal(4, 50, 0.4);
    const warm = run(d, 0, WARMUP, (k) => [fill(w, k, c(300, k % 5 === 4 ? 20 : 1))]);
    expect(warm.flat()).toEqual([]);
  });

  test('stops returning the finding at the first normal window', () => {
    const d = new LatencyRegressionDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    const c = lognormal(5, 50, 0.4);
    run(d, 0, WARMUP, (k) => [fill(w, k, c(400))]);
    expect(run(d, WARMUP, 5, (k) => [fill(w, k, c(400, 3))]).at(-1)).toHaveLength(1);
    expect(run(d, WARMUP + 5, 20, (k) => [fill(w, k, c(400))]).flat()).toEqual([]);
  });

  test('a 50-window regression still fires at its end: slow windows stay out of the baseline', () => {
    const d = new LatencyRegressionDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    const c = lognormal(6, 50, 0.4);
    run(d, 0, WARMUP + 10, (k) => [fill(w, k, c(400))]);
    const before = w.p99;
    const slow = run(d, WARMUP + 10, 50, (k) => [fill(w, k, c(400, 2.5))]);
    expect(slow.slice(DEFAULTS.sustain - 1).every((f) => f.length === 1)).toBe(true);
    const last = slow[49][0].evidence as Record<string, number>;
    expect(last.windows).toBe(50);
    // The baseline is still the pre-incident p99, not the regressed one.
    expect(last.baseline_ms).toBeGreaterThan(before * 0.8);
    expect(last.baseline_ms).toBeLessThan(before * 1.25);
  });

  test('a thin window is not judged and restarts the streak', () => {
    const d = new LatencyRegressionDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    const c = lognormal(7, 50, 0.4);
    run(d, 0, WARMUP, (k) => [fill(w, k, c(400))]);
    // Slow, slow, thin (below min_samples), slow, slow: never three judged slow windows in a row.
    const counts = [400, 400, DEFAULTS.min_samples - 1, 400, 400];
    expect(run(d, WARMUP, 5, (k) => [fill(w, k, c(counts[k - WARMUP], 4))]).flat()).toEqual([]);
    expect(run(d, WARMUP + 5, 1, (k) => [fill(w, k, c(400, 4))]).flat()).toHaveLength(1);
  });

  test('needs min_delta_ms as well as the ratio: a 1 ms endpoint going to 2.5 ms is not a regression', () => {
    const d = new LatencyRegressionDetector(DEFAULTS, W);
    const w = feed('health', 'GET /healthz');
    const c = lognormal(8, 0.5, 0.3);
    run(d, 0, WARMUP, (k) => [fill(w, k, c(400))]);
    expect(run(d, WARMUP, 10, (k) => [fill(w, k, c(400, 2.5))]).flat()).toEqual([]);
    const tight = new LatencyRegressionDetector(config({ min_delta_ms: 0 }), W);
    run(tight, 0, WARMUP, (k) => [fill(w, k, c(400))]);
    expect(run(tight, WARMUP, 10, (k) => [fill(w, k, c(400, 2.5))]).flat().length).toBeGreaterThan(0);
  });

  test('overflow series are ignored', () => {
    const d = new LatencyRegressionDetector(DEFAULTS, W);
    const w = feed('checkout', '__overflow__', true);
    const c = lognormal(9, 50, 0.4);
    run(d, 0, WARMUP, (k) => [fill(w, k, c(400))]);
    expect(run(d, WARMUP, 10, (k) => [fill(w, k, c(400, 5))]).flat()).toEqual([]);
  });

  test('exemplars are rendered into the finding; the configured quantile is the one compared', () => {
    const d = new LatencyRegressionDetector(config({ quantile: 0.5, min_samples: 50 }), W);
    const w = feed('checkout', 'POST /checkout');
    const c = lognormal(10, 50, 0.2);
    run(d, 0, WARMUP, (k) => [fill(w, k, c(200))]);
    const reservoir = new ExemplarReservoir(2);
    const ids = new Uint8Array(24).fill(0xab);
    reservoir.offer(900, false, ids, 0, 16);
    w.exemplars = reservoir;
    const f = run(d, WARMUP, 3, (k) => [fill(w, k, c(200, 2))]).flat();
    expect(f).toHaveLength(1);
    expect(f[0].evidence.quantile).toBe('p50');
    expect(f[0].evidence.current_ms).toBeGreaterThan(80);
    expect(f[0].exemplars).toEqual([{ traceId: 'ab'.repeat(16), spanId: 'ab'.repeat(8), durationMs: 900, error: false }]);
  });

  test('quantile labels', () => {
    expect([0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 1].map(quantileLabel)).toEqual(['p50', 'p90', 'p95', 'p99', 'p99.9', 'p99.99', 'p100']);
  });

  test('quiet on 2000 windows of noisy healthy traffic across 20 series', () => {
    // Per series: lognormal latencies with spreads from tight to very wide, rare single slow
    // spans (3–30×), Poisson-ish counts swinging ±30% over a two-hour cycle, 40 to 1,200 spans
    // a window. Below ~300 spans a window p99 is nearly the window's maximum: with
    // min_samples 50 the thin series here fired 24 times, which is why the default is 400.
    const defaults = new LatencyRegressionDetector(DEFAULTS, W);
    const rng = mulberry32(2024);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const series = Array.from({ length: 20 }, (_, i) => ({
      w: feed(`svc-${i % 4}`, `op-${i}`),
      volume: i < 10 ? 600 + 60 * i : 40 + 35 * (i - 10),
      median: 2 + 30 * (i % 7),
      sigma: 0.3 + 0.7 * ((i % 5) / 4),
    }));
    const durations: number[] = [];
    let findings = 0;
    for (let k = 0; k < 2000; k++) {
      const windows: ClosedSpanWindow[] = [];
      for (const s of series) {
        const mean = s.volume * (1 + 0.3 * Math.sin((2 * Math.PI * k) / 720));
        const n = Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss()));
        durations.length = 0;
        for (let i = 0; i < n; i++) durations.push(s.median * Math.exp(s.sigma * gauss()) * (rng() < 0.002 ? 3 + 27 * rng() : 1));
        windows.push(fill(s.w, k, durations));
      }
      findings += defaults.onSpanWindows(windows).length;
    }
    expect(DEFAULTS.min_samples).toBe(400);
    expect(findings).toBe(0);
  });
});
