import { describe, expect, test } from 'vitest';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import type { SpanSeriesKey } from '../../src/aggregate/span-window.js';
import type { ClosedSpanWindow } from '../../src/aggregate/span-window.js';
import { NO_EXEMPLARS } from '../../src/aggregate/exemplars.js';
import { type SloConfig, defaultConfig } from '../../src/config/index.js';
import { BurnRateDetector } from '../../src/detect/burn-rate.js';
import type { Finding } from '../../src/detect/detector.js';

const W = 10_000; // aggregation window
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % W);
const RULES = defaultConfig().alerting.burn_rate_windows;
const sketches = createSketchFactory('tdigest', {});

function series(service: string, operation: string, overflow = false): SpanSeriesKey {
  return { service, operation, kind: 'server', dimensions: {}, overflow };
}

function slo(overrides: Partial<SloConfig> = {}): SloConfig {
  return { name: 'checkout-availability', service: 'checkout', operation: '*', objective: 0.999, period: 30 * 86_400_000, sli: { kind: 'availability', threshold_ms: 0 }, outcomes: ['revenue'], ...overrides };
}

/** A closed window of `count` spans, `errors` of them failed, with durations `ms(i)`. */
function window(s: SpanSeriesKey, start: number, count: number, errors: number, ms: (i: number) => number = () => 10): ClosedSpanWindow {
  const sketch = sketches.create();
  let sum = 0;
  for (let i = 0; i < count; i++) {
    sketch.add(ms(i));
    sum += ms(i);
  }
  return { series: s, start, end: start + W, count, errors, sumMs: sum, minMs: sketch.min(), maxMs: sketch.max(), p50: sketch.quantile(0.5), p90: sketch.quantile(0.9), p99: sketch.quantile(0.99), p999: sketch.quantile(0.999), exemplars: NO_EXEMPLARS, sketch };
}

/** Feeds one window per step from `from` for `steps` windows; returns the findings of each close. */
function run(d: BurnRateDetector, from: number, steps: number, make: (start: number) => ClosedSpanWindow[]): Finding[][] {
  const out: Finding[][] = [];
  for (let k = 0; k < steps; k++) {
    const start = from + k * W;
    out.push(d.onSpanWindows(make(start), start + W));
  }
  return out;
}

const checkout = series('checkout', 'POST /checkout');
const HISTORY = 2160; // six hours of windows
const critical = (f: Finding[]): Finding[] => f.filter((x) => x.severity === 'critical');

describe('BurnRateDetector (SRE Workbook defaults, 99.9%)', () => {
  test('100% errors pages (critical) in about a minute', () => {
    const d = new BurnRateDetector([slo()], RULES, W);
    // Six hours of healthy traffic first (100 requests/s), so both paging rules have full windows.
    const healthy = run(d, T0, HISTORY, (t) => [window(checkout, t, 1000, 0)]);
    expect(healthy.flat()).toEqual([]);
    const outage = run(d, T0 + HISTORY * W, 12, (t) => [window(checkout, t, 1000, 1000)]);
    const first = outage.findIndex((f) => f.some((x) => x.severity === 'critical'));
    // 14.4 × 0.1% of an hour ≈ 52 s of total failure: the window closing at 60 s pages.
    expect((first + 1) * W).toBe(60_000);
    const f = outage[first][0];
    expect(f).toMatchObject({ kind: 'error_budget_burn', severity: 'critical', service: 'checkout', slo: 'checkout-availability', outcomes: ['revenue'] });
    expect(f.evidence).toMatchObject({ rule: { long: '1h', short: '5m', factor: 14.4 } });
    const rates = f.evidence.burnRates as Record<string, number>;
    expect(rates['5m']).toBeGreaterThan(14.4);
    expect(rates['1h']).toBeGreaterThanOrEqual(14.4);
    expect(f.evidence.budgetConsumed).toBeGreaterThan(0);
    expect(Date.parse(f.evidence.projectedExhaustion as string)).toBeGreaterThan(T0);
  });

  test('0.1% errors (exactly the budget) never pages over three days', () => {
    const d = new BurnRateDetector([slo()], RULES, W);
    const findings = run(d, T0, 3 * 8640, (t) => [window(checkout, t, 1000, 1)]).flat();
    expect(findings.filter((f) => f.severity === 'critical')).toEqual([]);
  });

  test('stops paging once the errors stop: each rule within its short window (the ticket may stay)', () => {
    const d = new BurnRateDetector([slo()], RULES, W);
    run(d, T0, HISTORY, (t) => [window(checkout, t, 1000, 0)]);
    const burst = run(d, T0 + HISTORY * W, 30, (t) => [window(checkout, t, 1000, 1000)]);
    expect(critical(burst.at(-1) ?? [])).toHaveLength(1);
    const after = run(d, T0 + (HISTORY + 30) * W, 240, (t) => [window(checkout, t, 1000, 0)]);
    const ruleAt = (k: number): string => String((critical(after[k])[0]?.evidence.rule as { long: string } | undefined)?.long ?? 'none');
    // The 1h/5m pair lets go within five minutes; the 6h/30m pair keeps paging for its 30 minutes.
    expect(ruleAt(0)).toBe('1h');
    expect(ruleAt(31)).toBe('6h');
    const quiet = after.findIndex((f) => critical(f).length === 0);
    expect((quiet + 1) * W).toBeGreaterThan(25 * 60_000);
    expect((quiet + 1) * W).toBeLessThanOrEqual(31 * 60_000);
    expect(after.slice(quiet).every((f) => critical(f).length === 0)).toBe(true);
    // Five minutes of total failure in six hours of traffic is burn ≥ 1 on the 3d/6h pair: a ticket.
    expect(after.at(-1)?.[0]?.severity).toBe('warning');
  });

  test('a latency SLI counts spans slower than its threshold, from the window sketch', () => {
    const latency = slo({ name: 'checkout-latency', sli: { kind: 'latency', threshold_ms: 300 }, objective: 0.99 });
    const d = new BurnRateDetector([latency], RULES, W);
    // Healthy: all spans 100 ms. Then 40% of spans take 500 ms: burn 40 ≥ 14.4 on every pair.
    run(d, T0, 60, (t) => [window(checkout, t, 500, 0, () => 100)]);
    const slow = run(d, T0 + 60 * W, 30, (t) => [window(checkout, t, 500, 0, (i) => (i % 5 < 2 ? 500 : 100))]);
    const f = slow.at(-1)?.[0];
    expect(f).toMatchObject({ slo: 'checkout-latency', severity: 'critical' });
    expect((f?.evidence.burnRates as Record<string, number>)['5m']).toBeCloseTo(40, 0);
    expect(f?.evidence.sli).toBe('latency ≤ 300 ms');
  });

  test('SLOs see only their service and operations; overflow series only service-wide SLOs', () => {
    const payOnly = slo({ name: 'pay', operation: 'POST /pay*' });
    const all = slo({ name: 'all' });
    const d = new BurnRateDetector([payOnly, all], RULES, W);
    const pay = series('checkout', 'POST /payments');
    const other = series('checkout', 'GET /cart');
    const foreign = series('cart', 'POST /payments');
    const overflow = series('checkout', '__overflow__', true);
    const findings = run(d, T0, 12, (t) => [window(other, t, 100, 100), window(foreign, t, 100, 100), window(overflow, t, 100, 100), window(pay, t, 100, 0)]).at(-1) ?? [];
    expect(findings.map((f) => f.slo)).toEqual(['all']);
    expect(findings[0].operation).toBe('');
  });

  test('budget consumed is bad events against the budget of the events seen in the period', () => {
    const d = new BurnRateDetector([slo({ period: 86_400_000 })], RULES, W);
    // 2 hours at 1% errors against a 0.1% budget: ten times the budget, as Sloth/Pyrra report it.
    const f = run(d, T0, 720, (t) => [window(checkout, t, 1000, 10)]).at(-1)?.[0];
    expect(f?.evidence.budgetConsumed).toBeCloseTo(10, 1);
    expect(f?.evidence.budgetRemaining).toBe(0);
    expect(f?.evidence.projectedExhaustion).toBe(new Date(T0 + 720 * W).toISOString());
    expect(d.bytes).toBeLessThan(200_000);
    const small = new BurnRateDetector([slo()], RULES, W);
    expect(small.bytes).toBeLessThan(200_000);
  });

  test("status(): each SLO's budget and every rule's burn rates as of the last close, firing or not", () => {
    const d = new BurnRateDetector([slo(), slo({ name: 'idle', service: 'email' })], RULES, W);
    expect(d.status()[0]).toMatchObject({ name: 'checkout-availability', budgetRemaining: 1, budgetConsumed: 0, periodEvents: 0, at: 0 });
    expect(d.status()[0].rules.every((r) => r.longRate === null && r.shortRate === null && !r.firing)).toBe(true);
    run(d, T0, 360, (t) => [window(checkout, t, 1000, 0)]);
    const outage = run(d, T0 + 360 * W, 12, (t) => [window(checkout, t, 1000, 1000)]).at(-1) ?? [];
    const [checkoutSlo, idle] = d.status();
    expect(checkoutSlo).toMatchObject({ service: 'checkout', operation: '*', objective: 0.999, sli: 'availability', period: '30d', periodEvents: 372_000, periodBad: 12_000, at: T0 + 372 * W });
    // The same numbers the finding carries.
    expect(checkoutSlo.budgetConsumed).toBe(outage[0].evidence.budgetConsumed);
    expect(checkoutSlo.budgetRemaining).toBe(0);
    expect(checkoutSlo.rules.map((r) => [r.long, r.short, r.firing])).toEqual([['1h', '5m', true], ['6h', '30m', true], ['1d', '2h', true], ['3d', '6h', true]]);
    expect(checkoutSlo.rules[0].shortRate).toBe((outage[0].evidence.burnRates as Record<string, number>)['5m']);
    expect(idle).toMatchObject({ service: 'email', periodEvents: 0, budgetRemaining: 1 });
  });

  test('status() after a restore reports the checkpoint, not untouched budgets, until the next close', () => {
    const d = new BurnRateDetector([slo()], RULES, W);
    run(d, T0, 360, (t) => [window(checkout, t, 1000, 0)]);
    run(d, T0 + 360 * W, 12, (t) => [window(checkout, t, 1000, 1000)]);
    const before = d.status()[0];
    const restarted = new BurnRateDetector([slo()], RULES, W);
    restarted.restore(d.snapshot(), T0 + 372 * W);
    expect(restarted.status()[0]).toEqual(before);
  });
});
