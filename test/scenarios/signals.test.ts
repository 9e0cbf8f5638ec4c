/**
 * Scenarios with the default detectors (SLO burn windows scaled to the test's time): each
 * injected incident fires its signal for the affected series only, and resolves after it; and a
 * long run of healthy, noisy traffic across 20 services fires nothing at all.
 */
import { describe, expect, test } from 'vitest';
import type { FrictionConfig } from '../../src/config/index.js';
import { type Operation, SimulatedPipeline, fleet } from './pipeline.js';

const W = 1000; // one-second windows: baselines, warm-ups and sustain count windows

function pipeline(edit: (c: FrictionConfig) => void = () => {}) {
  return new SimulatedPipeline((c) => {
    c.aggregation.window = W;
    c.aggregation.series_ttl = 3_600_000;
    edit(c);
  });
}

// Busy enough for every detector's default volume guards (latency needs 400 spans a window).
const checkout: Operation = { service: 'checkout', name: 'POST /checkout', rate: 800, medianMs: 60, sigma: 0.5, errorRate: 0.002 };
const cart: Operation = { service: 'checkout', name: 'GET /cart', rate: 900, medianMs: 15, sigma: 0.4, errorRate: 0.001 };
const search: Operation = { service: 'search', name: 'GET /search', rate: 700, medianMs: 30, sigma: 0.6, errorRate: 0.003 };
const OPS = [checkout, cart, search];

describe('scenarios', () => {
  test('a p99 regression on one operation fires latency_regression for that operation only, within 3 windows, and resolves after', () => {
    const p = pipeline();
    p.run(OPS, 60);
    expect(p.transitions).toEqual([]);
    const incident = p.clock.now();
    p.run(OPS, 20, (op) => (op === cart ? { latencyFactor: 4 } : undefined));
    const fired = p.transitions.filter((t) => t.transition === 'firing');
    expect(fired.map((t) => `${t.signal.kind} ${t.signal.service} ${t.signal.operation}`)).toEqual(['latency_regression checkout GET /cart']);
    // Sustain 3: the close of the third regressed window fires it (plus the window the
    // incident started in, which it only partly covers).
    expect(Date.parse(fired[0].signal.startsAt) - incident).toBeLessThanOrEqual(4 * W);
    expect(fired[0].signal.evidence).toMatchObject({ quantile: 'p99' });
    expect(fired[0].signal.exemplars.length).toBeGreaterThan(0);
    p.run(OPS, 10);
    expect(p.transitions.at(-1)).toMatchObject({ transition: 'resolved', signal: { kind: 'latency_regression', operation: 'GET /cart' } });
  });

  test('an error burst fires error_budget_burn and error_spike, for the failing service', () => {
    const p = pipeline((c) => {
      c.slos = [{ name: 'checkout-availability', service: 'checkout', operation: '*', objective: 0.99, period: 3_600_000, sli: { kind: 'availability', threshold_ms: 0 }, outcomes: [] }];
      c.alerting.burn_rate_windows = [
        { long: 60_000, short: 5_000, factor: 14.4, severity: 'critical' },
        { long: 360_000, short: 30_000, factor: 6, severity: 'critical' },
      ];
    });
    p.run(OPS, 60);
    // 90% of POST /checkout fails for 30 s: 42% of the service's calls, 42× its budget rate.
    p.run(OPS, 30, (op) => (op === checkout ? { errorRate: 0.9 } : undefined));
    const kinds = new Set(p.fired());
    expect(kinds).toEqual(new Set(['error_budget_burn checkout', 'error_spike checkout POST /checkout']));
  });

  test('a traffic stop fires one service-level traffic_drop', () => {
    const p = pipeline();
    p.run(OPS, 60);
    p.run(OPS, 10, (op) => (op.service === 'search' ? { rateFactor: 0 } : undefined));
    expect(p.fired()).toEqual(['traffic_drop search']);
    p.run(OPS, 10);
    expect(p.transitions.at(-1)).toMatchObject({ transition: 'resolved', signal: { kind: 'traffic_drop', service: 'search' } });
  });

  test('a CPU metric above its threshold for the configured time fires metric_threshold', () => {
    const p = pipeline((c) => {
      c.detectors.metric_thresholds = [{ name: 'cpu-hot', metric: 'system.cpu.utilization', attributes: {}, service: 'checkout', above: 0.9, below: null, for: 5000, severity: 'warning', outcomes: [] }];
    });
    for (let k = 0; k < 20; k++) {
      p.gauge('checkout', 'system.cpu.utilization', k < 10 ? 0.5 : 0.97, { cpu: '0' });
      p.run([], 1);
    }
    const fired = p.transitions.filter((t) => t.transition === 'firing');
    expect(fired.map((t) => `${t.signal.kind} ${t.signal.metric}`)).toEqual(['metric_threshold system.cpu.utilization']);
    expect(fired[0].signal.title).toBe('system.cpu.utilization (checkout) is above 0.9');
  });
});

describe('quiet test', () => {
  test('two hours of healthy, noisy, diurnal traffic across 20 services fire no signal with default settings', () => {
    const p = new SimulatedPipeline((c) => {
      c.sinks = [];
    }, 42);
    const ops = fleet(20, 3, 11);
    // Default 10 s windows; the rate swings ±40% over the two hours.
    p.run(ops, 720, undefined, (w) => 1 + 0.4 * Math.sin((2 * Math.PI * w) / 720));
    expect(p.aggregator.spans.keyspace.size).toBe(60);
    expect(p.fired()).toEqual([]);
  });
});
