/**
 * Scenarios with the default detectors (SLO burn windows scaled to the test's time), recorded as
 * OTLP/protobuf and driven through `otel-friction replay` (decoder, aggregator, detectors,
 * synthesizer, on the data's own clock): each injected incident fires its signal for the
 * affected series only, and resolves after it. And the quiet test: a long run of healthy, noisy
 * traffic across 20 services fires nothing at all (fed straight into the aggregator: 21 million
 * spans are too many to encode in a test).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { frameHeader } from '../../src/replay/recording.js';
import { replay } from '../../src/replay/replay.js';
import { encodeGaugeRequest } from './otlp-encode.js';
import type { FrictionConfig } from '../../src/config/index.js';
import { type Condition, type Operation, SimulatedPipeline, T0, fleet } from './pipeline.js';

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

/** Records the phases' traffic, replays the recording (`otel-friction replay`), returns what fired. */
async function scenario(edit: (c: FrictionConfig) => void, phases: [number, (op: Operation) => Condition | undefined][], ops = OPS, extra?: (p: SimulatedPipeline) => Buffer) {
  const p = pipeline(edit);
  const frames = phases.map(([windows, condition]) => p.record(ops, windows, (op) => condition(op)));
  if (extra) frames.push(extra(p));
  const file = path.join(dir, `scenario-${++scenarios}.otlp`);
  writeFileSync(file, Buffer.concat(frames));
  const result = await replay(p.config, [file], () => {});
  expect(result.skipped).toEqual([]);
  const fired = result.transitions.filter((t) => t.transition === 'firing');
  return { transitions: result.transitions, fired, names: fired.map((t) => `${t.signal.kind} ${t.signal.service} ${t.signal.operation}`.trim()) };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-scenarios-'));
let scenarios = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const healthy = (): undefined => undefined;
const at = (t: { signal: { startsAt: string } }): number => (Date.parse(t.signal.startsAt) - T0) / W;

describe('scenarios, through otel-friction replay', () => {
  test('a p99 regression on one operation fires latency_regression for that operation only, within 3 windows, and resolves after', async () => {
    const r = await scenario(() => {}, [[60, healthy], [20, (op) => (op === cart ? { latencyFactor: 4 } : undefined)], [10, healthy]]);
    expect(r.names).toEqual(['latency_regression checkout GET /cart']);
    // The incident starts in window 60; sustain 3 fires it at the close of window 62 (or 63).
    expect(at(r.fired[0])).toBeGreaterThanOrEqual(63);
    expect(at(r.fired[0])).toBeLessThanOrEqual(64);
    expect(r.fired[0].signal.evidence).toMatchObject({ quantile: 'p99' });
    expect(r.fired[0].signal.exemplars.length).toBeGreaterThan(0);
    expect(r.transitions.at(-1)).toMatchObject({ transition: 'resolved', signal: { kind: 'latency_regression', operation: 'GET /cart' } });
  });

  test('an error burst fires error_budget_burn and error_spike, for the failing service', async () => {
    const r = await scenario(
      (c) => {
        c.slos = [{ name: 'checkout-availability', service: 'checkout', operation: '*', objective: 0.99, period: 3_600_000, sli: { kind: 'availability', threshold_ms: 0 }, outcomes: [] }];
        c.alerting.burn_rate_windows = [
          { long: 60_000, short: 5_000, factor: 14.4, severity: 'critical' },
          { long: 360_000, short: 30_000, factor: 6, severity: 'critical' },
        ];
      },
      // 90% of POST /checkout fails for 30 s: 42% of the service's calls, 42× its budget rate.
      [[60, healthy], [30, (op) => (op === checkout ? { errorRate: 0.9 } : undefined)]],
    );
    expect(new Set(r.names)).toEqual(new Set(['error_budget_burn checkout', 'error_spike checkout POST /checkout']));
  });

  test('a traffic stop fires one service-level traffic_drop, resolved when traffic returns', async () => {
    const r = await scenario(() => {}, [[60, healthy], [10, (op) => (op.service === 'search' ? { rateFactor: 0 } : undefined)], [10, healthy]]);
    expect(r.names).toEqual(['traffic_drop search']);
    expect(r.transitions.at(-1)).toMatchObject({ transition: 'resolved', signal: { kind: 'traffic_drop', service: 'search' } });
  });

  test('a CPU metric above its threshold for the configured time fires metric_threshold', async () => {
    const r = await scenario(
      (c) => {
        c.detectors.metric_thresholds = [{ name: 'cpu-hot', metric: 'system.cpu.utilization', attributes: {}, service: 'checkout', above: 0.9, below: null, for: 5000, severity: 'warning', outcomes: [] }];
      },
      [],
      [],
      (p) => {
        // One report a second, 20 s long; from the 10th second the CPU sits at 97%.
        const frames: Buffer[] = [];
        for (let k = 0; k < 20; k++) {
          p.clock.advance(W);
          const body = encodeGaugeRequest('checkout', 'system.cpu.utilization', k < 10 ? 0.5 : 0.97, BigInt(p.clock.now()) * 1_000_000n, { cpu: '0' });
          frames.push(frameHeader('metrics', 'protobuf', p.clock.now(), body.length), body);
        }
        return Buffer.concat(frames);
      },
    );
    expect(r.fired.map((t) => `${t.signal.kind} ${t.signal.metric}`)).toEqual(['metric_threshold system.cpu.utilization']);
    expect(r.fired[0].signal.title).toBe('system.cpu.utilization (checkout) is above 0.9');
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
