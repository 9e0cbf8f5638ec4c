import { describe, expect, test } from 'vitest';
import { ExemplarReservoir, NO_EXEMPLARS } from '../../src/aggregate/exemplars.js';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import { type ClosedSpanWindow, newClosedWindow } from '../../src/aggregate/span-window.js';
import { type ErrorSpikeConfig, defaultConfig } from '../../src/config/index.js';
import type { Finding } from '../../src/detect/detector.js';
import { ErrorSpikeDetector } from '../../src/detect/error-spike.js';
import { mulberry32 } from '../support/generate.js';

const W = 10_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % W);
const DEFAULTS = defaultConfig().detectors.error_spike;
const WARMUP = DEFAULTS.warmup_windows;
const sketches = createSketchFactory('tdigest', {});

const config = (o: Partial<ErrorSpikeConfig> = {}): ErrorSpikeConfig => ({ ...DEFAULTS, ...o });

/** One series as the aggregator hands it over: the same window object, refilled every close. */
function feed(service: string, operation: string, overflow = false): ClosedSpanWindow {
  return newClosedWindow({ service, operation, kind: 'server', dimensions: {}, overflow }, sketches.create(), NO_EXEMPLARS);
}

// This detector reads counts only, so the sketch stays empty.
function fill(w: ClosedSpanWindow, k: number, count: number, errors: number): ClosedSpanWindow {
  w.start = T0 + k * W;
  w.end = w.start + W;
  w.count = count;
  w.errors = errors;
  return w;
}

function run(d: ErrorSpikeDetector, from: number, steps: number, make: (k: number) => ClosedSpanWindow[]): Finding[][] {
  const out: Finding[][] = [];
  for (let k = from; k < from + steps; k++) out.push(d.onSpanWindows(make(k), T0 + (k + 1) * W));
  return out;
}

/** Seeded binomial-ish error counts: each of `count` spans fails with probability p. */
function errorsOf(seed: number): (count: number, p: number) => number {
  const rng = mulberry32(seed);
  return (count, p) => {
    let e = 0;
    for (let i = 0; i < count; i++) if (rng() < p) e++;
    return e;
  };
}

describe('ErrorSpikeDetector', () => {
  test('fires on the sustain-th spiking window, only for the affected series, with evidence', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const [checkout, search] = [feed('checkout', 'POST /checkout'), feed('search', 'GET /search')];
    const e = errorsOf(1);
    expect(run(d, 0, WARMUP + 20, (k) => [fill(checkout, k, 1000, e(1000, 0.002)), fill(search, k, 1000, e(1000, 0.002))]).flat()).toEqual([]);
    const spike = run(d, WARMUP + 20, 4, (k) => [fill(checkout, k, 1000, 30), fill(search, k, 1000, e(1000, 0.002))]);
    expect(spike.map((f) => f.length)).toEqual([0, 1, 1, 1]);
    const f = spike[DEFAULTS.sustain - 1][0];
    expect(f).toMatchObject({ kind: 'error_spike', service: 'checkout', operation: 'POST /checkout', slo: '', metric: '', outcomes: [] });
    const ev = f.evidence as Record<string, number>;
    expect(ev).toMatchObject({ current_ratio: 0.03, errors: 30, count: 1000, windows: 2 });
    expect(ev.baseline_ratio).toBeGreaterThan(0.001);
    expect(ev.baseline_ratio).toBeLessThan(0.004);
    expect(ev.ratio).toBeCloseTo(0.03 / ev.baseline_ratio, 2);
    expect(ev.z).toBeCloseTo((30 - 1000 * ev.baseline_ratio) / Math.sqrt(1000 * ev.baseline_ratio * (1 - ev.baseline_ratio)), 1);
    expect(f.magnitude).toBe(ev.ratio);
    // z ≈ 14 > 2 × 4 makes this critical even at 3% errors.
    expect(f.severity).toBe('critical');
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });

  test('a quiet window inside a confirmed spike (too few errors to judge) continues it and is not learned', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    run(d, 0, WARMUP, (k) => [fill(w, k, 100, 1)]);
    // 40% failing throughout; after two busy windows, every other one has only 20 calls, so
    // 8 errors < min_errors.
    const spike = run(d, WARMUP, 20, (k) => [k < WARMUP + 2 || k % 2 === 0 ? fill(w, k, 100, 40) : fill(w, k, 20, 8)]);
    expect(spike.map((f) => f.length)).toEqual([0, ...Array(19).fill(1)]);
    const last = spike.at(-1)?.[0].evidence as Record<string, number>;
    expect(last.baseline_ratio).toBeLessThan(0.02);
    // Before the spike is confirmed such a window still breaks the streak, and after it, a
    // window back to normal ends the spike and is learned.
    const after = run(d, WARMUP + 20, 3, (k) => [fill(w, k, 100, 1)]);
    expect(after.flat()).toEqual([]);
    const fresh = new ErrorSpikeDetector(DEFAULTS, W);
    run(fresh, 0, WARMUP, (k) => [fill(w, k, 100, 1)]);
    expect(run(fresh, WARMUP, 4, (k) => [k % 2 === 0 ? fill(w, k, 100, 40) : fill(w, k, 20, 8)]).flat()).toEqual([]);
  });

  test('warning below both critical marks, critical at half the calls failing', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    // Baseline 10%: 31 of 100 is 3.1× and z ≈ 7 (between 4 and 8).
    run(d, 0, WARMUP, (k) => [fill(w, k, 100, 10)]);
    expect(run(d, WARMUP, 2, (k) => [fill(w, k, 100, 31)]).flat().map((f) => f.severity)).toEqual(['warning']);
    // On a clean baseline, 19 and 20 of 40 both sit at z ≈ 150, within [z, 2z) for z = 100:
    // only the ratio tells them apart.
    const severityAt = (errors: number): string[] => {
      const x = new ErrorSpikeDetector(config({ z: 100 }), W);
      run(x, 0, WARMUP, (k) => [fill(w, k, 40, 0)]);
      return run(x, WARMUP, 2, (k) => [fill(w, k, 40, errors)]).flat().map((f) => f.severity);
    };
    expect(severityAt(19)).toEqual(['warning']);
    expect(severityAt(20)).toEqual(['critical']);
  });

  test('a 1-of-3 error burst on a quiet endpoint never fires, even window after window', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('admin', 'POST /admin/reindex');
    run(d, 0, WARMUP, (k) => [fill(w, k, 3, 0)]);
    expect(run(d, WARMUP, 20, (k) => [fill(w, k, 3, 1)]).flat()).toEqual([]);
    expect(run(d, WARMUP + 20, 20, (k) => [fill(w, k, 3, 3)]).flat()).toEqual([]);
  });

  test('does not fire during warm-up', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    expect(run(d, 0, WARMUP, (k) => [fill(w, k, 1000, k % 3 === 0 ? 500 : 0)]).flat()).toEqual([]);
  });

  test('stops returning the finding at the first normal window', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    const e = errorsOf(2);
    run(d, 0, WARMUP, (k) => [fill(w, k, 500, e(500, 0.001))]);
    expect(run(d, WARMUP, 3, (k) => [fill(w, k, 500, 100)]).at(-1)).toHaveLength(1);
    expect(run(d, WARMUP + 3, 20, (k) => [fill(w, k, 500, e(500, 0.001))]).flat()).toEqual([]);
  });

  test('a 50-window spike still fires at its end: spiking windows stay out of the baseline', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    const e = errorsOf(3);
    run(d, 0, WARMUP + 10, (k) => [fill(w, k, 1000, e(1000, 0.001))]);
    const spike = run(d, WARMUP + 10, 50, (k) => [fill(w, k, 1000, 40)]);
    expect(spike.slice(DEFAULTS.sustain - 1).every((f) => f.length === 1)).toBe(true);
    const last = spike[49][0].evidence as Record<string, number>;
    expect(last.windows).toBe(50);
    expect(last.baseline_ratio).toBeLessThan(0.003);
  });

  test('an empty window is not judged and restarts the streak', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    run(d, 0, WARMUP, (k) => [fill(w, k, 1000, 1)]);
    const counts = [1000, 0, 1000, 0, 1000];
    expect(run(d, WARMUP, 5, (k) => [fill(w, k, counts[k - WARMUP], counts[k - WARMUP] / 10)]).flat()).toEqual([]);
    expect(run(d, WARMUP + 5, 1, (k) => [fill(w, k, 1000, 100)]).flat()).toHaveLength(1);
  });

  test('needs the ratio and the z-score: a noisy 5% endpoint at 6% is not a spike', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('search', 'GET /search');
    run(d, 0, WARMUP, (k) => [fill(w, k, 10_000, 500)]);
    // z ≈ 4.6 but only 1.2× the baseline.
    expect(run(d, WARMUP, 10, (k) => [fill(w, k, 10_000, 600)]).flat()).toEqual([]);
    // 8.6× the baseline but z ≈ 2.6 on 20 spans.
    const small = new ErrorSpikeDetector(config({ min_errors: 1 }), W);
    run(small, 0, WARMUP, (k) => [fill(w, k, 20, k % 10 === 0 ? 1 : 0)]);
    expect(run(small, WARMUP, 10, (k) => [fill(w, k, 20, 1)]).flat()).toEqual([]);
  });

  test('overflow series are ignored', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', '__overflow__', true);
    run(d, 0, WARMUP, (k) => [fill(w, k, 1000, 0)]);
    expect(run(d, WARMUP, 10, (k) => [fill(w, k, 1000, 500)]).flat()).toEqual([]);
  });

  test('exemplars are rendered, failed spans first', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    run(d, 0, WARMUP, (k) => [fill(w, k, 1000, 0)]);
    const reservoir = new ExemplarReservoir(3);
    const ids = new Uint8Array(24);
    reservoir.offer(900, false, ids, 0, 16);
    reservoir.offer(12, true, ids, 0, 16);
    w.exemplars = reservoir;
    const f = run(d, WARMUP, 2, (k) => [fill(w, k, 1000, 200)]).flat();
    expect(f).toHaveLength(1);
    expect(f[0].exemplars.map((x) => [x.error, x.durationMs])).toEqual([
      [true, 12],
      [false, 900],
    ]);
  });

  test('malformed windows (more errors than spans) do not break it', () => {
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const w = feed('checkout', 'POST /checkout');
    run(d, 0, WARMUP, (k) => [fill(w, k, 100, 200)]);
    const f = run(d, WARMUP, 2, (k) => [fill(w, k, 100, 500)]).flat();
    for (const x of f) expect(Number.isFinite(x.magnitude)).toBe(true);
  });

  test('quiet on 2000 windows of noisy healthy traffic across 20 series', () => {
    // Per series: Poisson-ish volumes from 2 to ~2000 spans a window (±30% over a two-hour
    // cycle), steady error ratios from none to 3%, and a hiccup now and then (1–8 extra errors
    // in one window, as when a dependency blips).
    const d = new ErrorSpikeDetector(DEFAULTS, W);
    const rng = mulberry32(99);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const ratios = [0, 0.0005, 0.002, 0.01, 0.03];
    const series = Array.from({ length: 20 }, (_, i) => ({ w: feed(`svc-${i % 4}`, `op-${i}`), volume: i < 4 ? 2 + i : 20 * (i - 3) * (i - 3), p: ratios[i % 5] }));
    let findings = 0;
    let judged = 0;
    for (let k = 0; k < 2000; k++) {
      const windows = series.map((s) => {
        const mean = s.volume * (1 + 0.3 * Math.sin((2 * Math.PI * k) / 720));
        const n = Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss()));
        let e = 0;
        for (let i = 0; i < n; i++) if (rng() < s.p) e++;
        if (rng() < 0.01) e = Math.min(n, e + 1 + Math.floor(rng() * 8));
        if (n > 0) judged++;
        return fill(s.w, k, n, e);
      });
      findings += d.onSpanWindows(windows).length;
    }
    expect(judged).toBeGreaterThan(39_000);
    expect(findings).toBe(0);
  });
});
