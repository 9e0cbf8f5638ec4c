/**
 * The `detectors:` section: thresholds of the window detectors. Baselines, warm-ups and
 * `sustain` are counted in windows, not wall time, so a shorter `aggregation.window` scales
 * every detector. Defaults are chosen to stay quiet on healthy, noisy traffic.
 */
import * as s from './spec.js';
import { SEVERITIES } from './slos.js';

/** `detectors.latency_regression` */
export interface LatencyRegressionConfig {
  enabled: boolean;
  /** Quantile compared, e.g. 0.99. */
  quantile: number;
  /** Preceding windows the baseline is built from. */
  baseline_windows: number;
  /** Windows of history needed before it may fire. */
  warmup_windows: number;
  /** Spans needed in the window (and on average in the baseline) for a verdict. */
  min_samples: number;
  /** current / baseline must reach this … */
  ratio: number;
  /** … and current − baseline this many ms. */
  min_delta_ms: number;
  /** Consecutive windows over the thresholds before it fires. */
  sustain: number;
}

/** `detectors.error_spike` */
export interface ErrorSpikeConfig {
  enabled: boolean;
  baseline_windows: number;
  warmup_windows: number;
  /** Errors needed in the window: a 1-of-3 burst on a quiet endpoint is not a spike. */
  min_errors: number;
  /** current error ratio / baseline ratio must reach this. */
  ratio: number;
  /** One-sided test statistic (standard deviations of the binomial count under the baseline ratio). */
  z: number;
  sustain: number;
}

/** `detectors.traffic_drop` */
export interface TrafficDropConfig {
  enabled: boolean;
  baseline_windows: number;
  warmup_windows: number;
  /** Baseline rate (spans per second) below which a drop is not judged. */
  min_baseline_rate: number;
  /** Fires when current / baseline falls to or below this. */
  drop_ratio: number;
  sustain: number;
}

/** One `detectors.metric_thresholds[]` rule. */
export interface MetricThresholdConfig {
  /** Rule name, part of the fingerprint. */
  name: string;
  metric: string;
  /** Point attributes that must all match (others are ignored). */
  attributes: Record<string, string>;
  /** Service filter; "" = any. */
  service: string;
  /** Fires when the value is above (or below) for `for`. NaN when unset. */
  above: number | null;
  below: number | null;
  /** ms */
  for: number;
  severity: (typeof SEVERITIES)[number];
  outcomes: string[];
}

/** `detectors.metric_anomaly` */
export interface MetricAnomalyConfig {
  enabled: boolean;
  /** Metric names watched (in addition to the span series' own signals). */
  metrics: string[];
  /** Span series signals watched: one or more of rate, error_ratio, p99. */
  span_signals: ('rate' | 'error_ratio' | 'p99')[];
  /** Band width in robust standard deviations: higher is quieter. */
  sensitivity: number;
  /** EWMA smoothing factor per window. */
  alpha: number;
  warmup_windows: number;
  sustain: number;
}

/** The validated `detectors` section. */
export interface DetectorsConfig {
  latency_regression: LatencyRegressionConfig;
  error_spike: ErrorSpikeConfig;
  traffic_drop: TrafficDropConfig;
  metric_thresholds: MetricThresholdConfig[];
  metric_anomaly: MetricAnomalyConfig;
}

const windows = (d: number) => s.integer({ default: d, min: 1, max: 100_000 });

/** Schema of {@link DetectorsConfig}. */
export const detectorsSpec = s.object({
  latency_regression: s.object({
    enabled: s.boolean({ default: true }),
    quantile: s.number({ default: 0.99, greaterThan: 0, max: 1 }),
    baseline_windows: windows(30),
    warmup_windows: windows(30),
    min_samples: s.integer({ default: 400, min: 1 }),
    ratio: s.number({ default: 1.5, greaterThan: 1 }),
    min_delta_ms: s.number({ default: 20, min: 0 }),
    sustain: windows(3),
  }),
  error_spike: s.object({
    enabled: s.boolean({ default: true }),
    baseline_windows: windows(30),
    warmup_windows: windows(30),
    min_errors: s.integer({ default: 10, min: 1 }),
    ratio: s.number({ default: 3, greaterThan: 1 }),
    z: s.number({ default: 4, greaterThan: 0 }),
    sustain: windows(2),
  }),
  traffic_drop: s.object({
    enabled: s.boolean({ default: true }),
    baseline_windows: windows(30),
    warmup_windows: windows(30),
    min_baseline_rate: s.number({ default: 1, greaterThan: 0 }),
    drop_ratio: s.number({ default: 0.2, min: 0, max: 0.99 }),
    sustain: windows(3),
  }),
  metric_thresholds: s.list(
    s.object(
      {
        name: s.string({ default: '', nonEmpty: true }),
        metric: s.string({ default: '', nonEmpty: true }),
        attributes: s.stringMap(),
        service: s.string({ default: '' }),
        above: s.optionalNumber(),
        below: s.optionalNumber(),
        for: s.duration({ default: '1m', min: 0 }),
        severity: s.oneOf(SEVERITIES, { default: 'warning' }),
        outcomes: s.list(s.string({ default: '', nonEmpty: true })),
      },
      {
        check(r, issue, path) {
          if (r.name === '') issue(s.join(path, 'name'), 'is required');
          if (r.metric === '') issue(s.join(path, 'metric'), 'is required');
          if (r.above === null && r.below === null) issue(path, 'needs `above` or `below`');
        },
      },
    ),
  ),
  metric_anomaly: s.object({
    enabled: s.boolean({ default: true }),
    metrics: s.list(s.string({ default: '', nonEmpty: true })),
    span_signals: s.list(s.oneOf(['rate', 'error_ratio', 'p99'] as const, { default: 'p99' }), { default: () => [] }),
    sensitivity: s.number({ default: 6, greaterThan: 0 }),
    alpha: s.number({ default: 0.05, greaterThan: 0, max: 1 }),
    warmup_windows: windows(30),
    sustain: windows(3),
  }),
});
