import { describe, expect, test } from 'vitest';
import { defaultConfig, parseConfig } from '../../src/config/index.js';
import { MIN_ERRORS, RESOLVE_AFTER_WINDOWS, SCENARIO_WARMUP_MS, SCENARIO_WINDOW_MS, WARMUP_WINDOWS, demoSidecarYaml } from '../../src/demo/sidecar-config.js';

const ports = { grpc: 14317, http: 14318, admin: 23133 };

describe('demo sidecar config', () => {
  test('is a valid config: loopback ports, fresh state, no sinks, detection scaled to the demo', () => {
    const c = parseConfig(demoSidecarYaml({ speed: 1, ports, statePath: '/tmp/x y/state' }));
    expect(c.receivers.otlp.protocols.grpc.endpoint).toMatchObject({ host: '127.0.0.1', port: 14317 });
    expect(c.receivers.otlp.protocols.http.endpoint).toMatchObject({ host: '127.0.0.1', port: 14318 });
    expect(c.admin.endpoint).toMatchObject({ host: '127.0.0.1', port: 23133 });
    expect(c.state.path).toBe('/tmp/x y/state');
    expect(c.sinks).toEqual([]);
    expect(c.aggregation.window).toBe(SCENARIO_WINDOW_MS);
    for (const d of [c.detectors.latency_regression, c.detectors.error_spike, c.detectors.traffic_drop]) {
      expect(d.warmup_windows).toBe(WARMUP_WINDOWS);
      expect(d.baseline_windows).toBe(WARMUP_WINDOWS);
    }
    // The incidents start only once every detector is warm.
    expect(SCENARIO_WARMUP_MS).toBeGreaterThan(WARMUP_WINDOWS * SCENARIO_WINDOW_MS);
    expect(c.slos).toMatchObject([{ name: 'checkout-availability', service: 'checkout', operation: 'POST /checkout', objective: 0.99 }]);
    expect(c.detectors.metric_thresholds).toMatchObject([{ metric: 'system.cpu.utilization', above: 0.85, for: 6000, service: '' }]);
    // Tens of requests a window: a 40% burst must not miss the error floor now and then, nor a
    // quiet window or two end a signal (each miss fed the burst into the baseline).
    expect(c.detectors.error_spike.min_errors).toBe(MIN_ERRORS);
    expect(c.signals.resolve_after).toBe(RESOLVE_AFTER_WINDOWS);
    // What the demo does not tune keeps the production defaults.
    const d = defaultConfig();
    expect(c.detectors.latency_regression.ratio).toBe(d.detectors.latency_regression.ratio);
    expect(c.detectors.latency_regression.sustain).toBe(d.detectors.latency_regression.sustain);
    expect(c.detectors.traffic_drop.drop_ratio).toBe(d.detectors.traffic_drop.drop_ratio);
    expect(c.detectors.error_spike.z).toBe(d.detectors.error_spike.z);
  });

  test('speed divides every time setting; window counts stay', () => {
    const slow = parseConfig(demoSidecarYaml({ speed: 1, ports, statePath: 's' }));
    const fast = parseConfig(demoSidecarYaml({ speed: 4, ports, statePath: 's' }));
    expect(fast.aggregation.window).toBe(slow.aggregation.window / 4);
    expect(fast.alerting.burn_rate_windows.map((w) => [w.long, w.short])).toEqual(slow.alerting.burn_rate_windows.map((w) => [w.long / 4, w.short / 4]));
    expect(fast.detectors.metric_thresholds[0].for).toBe(slow.detectors.metric_thresholds[0].for / 4);
    expect(fast.detectors.latency_regression.warmup_windows).toBe(slow.detectors.latency_regression.warmup_windows);
  });
});
