import { describe, expect, test } from 'vitest';
import { NO_EXEMPLARS } from '../../src/aggregate/exemplars.js';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import { type ClosedSpanWindow, newClosedWindow } from '../../src/aggregate/span-window.js';
import { type TrafficDropConfig, defaultConfig } from '../../src/config/index.js';
import type { Finding } from '../../src/detect/detector.js';
import { TrafficDropDetector } from '../../src/detect/traffic-drop.js';
import { mulberry32 } from '../support/generate.js';

const W = 10_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % W);
const DEFAULTS = defaultConfig().detectors.traffic_drop;
const WARMUP = DEFAULTS.warmup_windows;
const sketches = createSketchFactory('tdigest', {});

const config = (o: Partial<TrafficDropConfig> = {}): TrafficDropConfig => ({ ...DEFAULTS, ...o });

/** One series as the aggregator hands it over: the same window object, refilled every close. */
function feed(service: string, operation: string, overflow = false): ClosedSpanWindow {
  return newClosedWindow({ service, operation, kind: 'server', dimensions: {}, overflow }, sketches.create(), NO_EXEMPLARS);
}

// This detector reads counts only, so the sketch stays empty.
function fill(w: ClosedSpanWindow, k: number, count: number): ClosedSpanWindow {
  w.start = T0 + k * W;
  w.end = w.start + W;
  w.count = count;
  return w;
}

function run(d: TrafficDropDetector, from: number, steps: number, make: (k: number) => ClosedSpanWindow[]): Finding[][] {
  const out: Finding[][] = [];
  for (let k = from; k < from + steps; k++) out.push(d.onSpanWindows(make(k), T0 + (k + 1) * W));
  return out;
}

const where = (f: Finding): string => `${f.service}|${f.operation}|${String(f.evidence.scope)}`;

describe('TrafficDropDetector', () => {
  const checkout = feed('checkout', 'POST /checkout');
  const cart = feed('checkout', 'GET /cart');
  const search = feed('search', 'GET /search');

  test('an operation that drops fires on the sustain-th window, alone, with evidence', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    const healthy = (k: number): ClosedSpanWindow[] => [fill(checkout, k, 200), fill(cart, k, 800), fill(search, k, 500)];
    expect(run(d, 0, WARMUP + 10, healthy).flat()).toEqual([]);
    const drop = run(d, WARMUP + 10, 5, (k) => [fill(checkout, k, 30), fill(cart, k, 800), fill(search, k, 500)]);
    expect(drop.map((f) => f.length)).toEqual([0, 0, 1, 1, 1]);
    const f = drop[DEFAULTS.sustain - 1][0];
    expect(where(f)).toBe('checkout|POST /checkout|operation');
    expect(f).toMatchObject({ kind: 'traffic_drop', severity: 'warning', slo: '', metric: '', outcomes: [], exemplars: [] });
    expect(f.evidence).toMatchObject({ current_rate: 3, baseline_rate: 20, ratio: 0.15, count: 30, windows: 3, scope: 'operation' });
    expect(f.evidence.window).toEqual({ start: new Date(T0 + (WARMUP + 12) * W).toISOString(), end: new Date(T0 + (WARMUP + 13) * W).toISOString() });
    // Ranked by how many times below normal it is.
    expect(f.magnitude).toBeCloseTo(20 / 3, 2);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });

  test('critical when the traffic stops or falls to a quarter of drop_ratio', () => {
    for (const [count, severity] of [
      [0, 'critical'],
      [10, 'critical'],
      [11, 'warning'],
    ] as const) {
      const d = new TrafficDropDetector(DEFAULTS, W);
      run(d, 0, WARMUP, (k) => [fill(checkout, k, 200), fill(cart, k, 800)]);
      const f = run(d, WARMUP, 3, (k) => [fill(checkout, k, count), fill(cart, k, 800)]).flat();
      expect(f.map((x) => [where(x), x.severity])).toEqual([['checkout|POST /checkout|operation', severity]]);
    }
  });

  test('a silent service outage is one service-level finding, not one per operation', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    run(d, 0, WARMUP, (k) => [fill(checkout, k, 200), fill(cart, k, 800), fill(search, k, 500)]);
    // Every checkout series is still alive (within its TTL) but receives nothing.
    const outage = run(d, WARMUP, 4, (k) => [fill(checkout, k, 0), fill(cart, k, 0), fill(search, k, 500)]);
    expect(outage.map((f) => f.map(where))).toEqual([[], [], ['checkout||service'], ['checkout||service']]);
    expect(outage[2][0]).toMatchObject({ severity: 'critical', magnitude: 1000, evidence: { current_rate: 0, baseline_rate: 100, ratio: 0, count: 0, windows: 3 } });
    // Once the service comes back but one of its operations does not, that one shows.
    const partial = run(d, WARMUP + 4, 3, (k) => [fill(checkout, k, 0), fill(cart, k, 800), fill(search, k, 500)]);
    expect(partial.map((f) => f.map(where))).toEqual([['checkout|POST /checkout|operation'], ['checkout|POST /checkout|operation'], ['checkout|POST /checkout|operation']]);
  });

  test('does not fire during warm-up', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    expect(run(d, 0, WARMUP, (k) => [fill(checkout, k, k % 4 === 3 ? 0 : 300)]).flat()).toEqual([]);
  });

  test('stops returning the finding at the first normal window', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    run(d, 0, WARMUP, (k) => [fill(checkout, k, 200), fill(cart, k, 800)]);
    expect(run(d, WARMUP, 3, (k) => [fill(checkout, k, 0), fill(cart, k, 800)]).at(-1)).toHaveLength(1);
    expect(run(d, WARMUP + 3, 20, (k) => [fill(checkout, k, 200), fill(cart, k, 800)]).flat()).toEqual([]);
  });

  test('a 50-window outage still fires at its end: dropped windows stay out of the baseline', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    run(d, 0, WARMUP + 10, (k) => [fill(checkout, k, 200), fill(cart, k, 800)]);
    const outage = run(d, WARMUP + 10, 50, (k) => [fill(checkout, k, 0), fill(cart, k, 0)]);
    expect(outage.slice(DEFAULTS.sustain - 1).every((f) => f.length === 1)).toBe(true);
    expect(outage[49][0].evidence).toMatchObject({ scope: 'service', baseline_rate: 100, windows: 50 });
  });

  test('below min_baseline_rate a drop is not judged', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    // 0.5 spans/s, then nothing: too little traffic to call its absence an outage.
    run(d, 0, WARMUP, (k) => [fill(checkout, k, 5)]);
    expect(run(d, WARMUP, 10, (k) => [fill(checkout, k, 0)]).flat()).toEqual([]);
    const low = new TrafficDropDetector(config({ min_baseline_rate: 0.5 }), W);
    run(low, 0, WARMUP, (k) => [fill(checkout, k, 5)]);
    expect(run(low, WARMUP, 3, (k) => [fill(checkout, k, 0)]).flat()).toHaveLength(1);
  });

  test('a window that is not a drop restarts the streak', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    run(d, 0, WARMUP, (k) => [fill(checkout, k, 200), fill(cart, k, 800)]);
    const counts = [0, 0, 200, 0, 0];
    expect(run(d, WARMUP, 5, (k) => [fill(checkout, k, counts[k - WARMUP]), fill(cart, k, 800)]).flat()).toEqual([]);
  });

  test('overflow series are not judged alone but count toward their service', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    const overflow = feed('checkout', '__overflow__', true);
    const global = feed('__overflow__', '__overflow__', true);
    run(d, 0, WARMUP, (k) => [fill(checkout, k, 200), fill(cart, k, 800), fill(overflow, k, 300), fill(global, k, 500)]);
    // The overflow series dying is no operation-level finding…
    expect(run(d, WARMUP, 5, (k) => [fill(checkout, k, 200), fill(cart, k, 800), fill(overflow, k, 0), fill(global, k, 0)]).flat()).toEqual([]);
    // …and a key the cap moves from a regular series into the overflow one is no service drop.
    const d2 = new TrafficDropDetector(DEFAULTS, W);
    run(d2, 0, WARMUP, (k) => [fill(checkout, k, 200), fill(cart, k, 50)]);
    const moved = run(d2, WARMUP, 5, (k) => [fill(overflow, k, 200), fill(cart, k, 50)]).flat();
    expect(moved.map(where)).toEqual([]);
  });

  test('a dead service keeps firing after the aggregator evicted its idle series, then is forgotten', () => {
    const d = new TrafficDropDetector(DEFAULTS, W);
    run(d, 0, WARMUP, (k) => [fill(checkout, k, 200), fill(search, k, 500)]);
    expect(d.trackedServices).toBe(2);
    expect(run(d, WARMUP, 3, (k) => [fill(checkout, k, 0), fill(search, k, 500)]).at(-1)?.map(where)).toEqual(['checkout||service']);
    // The aggregator evicted the idle series: the service is judged as silent, still a drop.
    const after = run(d, WARMUP + 3, 5, (k) => [fill(search, k, 500)]);
    expect(after.every((f) => f.map(where).join() === 'checkout||service')).toBe(true);
    expect(after.at(-1)?.[0].evidence).toMatchObject({ current_rate: 0, count: 0 });
    expect(d.trackedServices).toBe(2);
    // Traffic back: the finding goes.
    expect(run(d, WARMUP + 8, 1, (k) => [fill(checkout, k, 200), fill(search, k, 500)]).flat()).toEqual([]);
  });

  test('quiet on 2000 windows of noisy healthy traffic across 20 series', () => {
    // Per series: Poisson-ish counts from ~1.5 to 250 spans/s, swinging ±50% over a two-hour
    // cycle, a few bursty series (a quarter of windows at half rate or double), and a batch-like
    // series that only gets traffic every third window (its median is 0: never judged).
    const d = new TrafficDropDetector(DEFAULTS, W);
    const rng = mulberry32(7);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const poisson = (mean: number): number => {
      if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss()));
      let k = 0;
      for (let p = rng(), limit = Math.exp(-mean); p > limit; p *= rng()) k++;
      return k;
    };
    const series = Array.from({ length: 20 }, (_, i) => ({ w: feed(`svc-${i % 5}`, `op-${i}`), volume: 15 + 12 * i * i, bursty: i % 6 === 5, batch: i === 19 }));
    let findings = 0;
    for (let k = 0; k < 2000; k++) {
      const windows = series.map((s) => {
        let mean = s.volume * (1 + 0.5 * Math.sin((2 * Math.PI * k) / 720));
        if (s.bursty && rng() < 0.25) mean *= rng() < 0.5 ? 0.5 : 2;
        if (s.batch) mean = k % 3 === 0 ? 300 : 0;
        return fill(s.w, k, poisson(mean));
      });
      findings += d.onSpanWindows(windows).length;
    }
    expect(findings).toBe(0);
  });
});
