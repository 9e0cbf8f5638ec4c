/** The detectors the config switches on, built by kind (one factory per kind, as for sinks). */
import type { FrictionConfig } from '../config/index.js';
import { BurnRateDetector } from './burn-rate.js';
import type { Detector, SignalKind } from './detector.js';
import { ErrorSpikeDetector } from './error-spike.js';
import { LatencyRegressionDetector } from './latency-regression.js';
import { MetricAnomalyDetector } from './metric-anomaly.js';
import { MetricThresholdDetector } from './metric-threshold.js';
import { TrafficDropDetector } from './traffic-drop.js';

// `ttl` (aggregation.series_ttl) is how long checkpointed per-series state waits for its series.
type Factory = (config: FrictionConfig, windowMs: number, ttl: number) => Detector | undefined;

const FACTORIES: Record<SignalKind, Factory> = {
  error_budget_burn: (c, w) => (c.slos.length > 0 ? new BurnRateDetector(c.slos, c.alerting.burn_rate_windows, w) : undefined),
  latency_regression: (c, w, ttl) => (c.detectors.latency_regression.enabled ? new LatencyRegressionDetector(c.detectors.latency_regression, w, ttl) : undefined),
  error_spike: (c, w, ttl) => (c.detectors.error_spike.enabled ? new ErrorSpikeDetector(c.detectors.error_spike, w, ttl) : undefined),
  traffic_drop: (c, w, ttl) => (c.detectors.traffic_drop.enabled ? new TrafficDropDetector(c.detectors.traffic_drop, w, ttl) : undefined),
  metric_threshold: (c, w, ttl) => (c.detectors.metric_thresholds.length > 0 ? new MetricThresholdDetector(c.detectors.metric_thresholds, w, ttl) : undefined),
  metric_anomaly: (c, w, ttl) => {
    const a = c.detectors.metric_anomaly;
    return a.enabled && (a.metrics.length > 0 || a.span_signals.length > 0) ? new MetricAnomalyDetector(a, w, ttl) : undefined;
  },
};

/**
 * Every detector the configuration enables. Those with state (all of them today) are also
 * `Checkpointable`: pick them out with `isCheckpointable` (state/checkpoints.ts).
 */
export function createDetectors(config: FrictionConfig): Detector[] {
  const W = config.aggregation.window;
  return Object.values(FACTORIES).flatMap((make) => make(config, W, config.aggregation.series_ttl) ?? []);
}
