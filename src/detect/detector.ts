/**
 * What every detector is: a pure function of closed windows and time. Detectors keep their own
 * small state (baselines, buckets), never read the clock themselves (the time comes with the
 * call), and report what is wrong *now* as findings. Whether a finding is new, ongoing or over
 * is the synthesizer's business, not theirs.
 */
import type { ClosedMetricWindow } from '../aggregate/metric-aggregator.js';
import type { ClosedSpanWindow } from '../aggregate/span-window.js';
import type { Exemplar } from '../aggregate/exemplars.js';

/** The signal kinds detectors produce. */
export const SIGNAL_KINDS = ['error_budget_burn', 'latency_regression', 'error_spike', 'traffic_drop', 'metric_threshold', 'metric_anomaly'] as const;
/** One of {@link SIGNAL_KINDS}. */
export type SignalKind = (typeof SIGNAL_KINDS)[number];
/** Severities, most urgent first. */
export type Severity = 'critical' | 'warning' | 'info';

/** Something a detector sees as wrong at the time of the call. */
export interface Finding {
  kind: SignalKind;
  severity: Severity;
  service: string;
  /** Operation, or "" when the finding is about a whole service or SLO. */
  operation: string;
  /** SLO name, or "" when none is involved. */
  slo: string;
  /** Metric name, or "" for span findings. */
  metric: string;
  /** Business outcomes declared for the SLO or service. */
  outcomes: readonly string[];
  /** How far from normal, for ranking: burn rate, or ratio to baseline. */
  magnitude: number;
  /** The numbers that made it fire (JSON-serializable). */
  evidence: Record<string, unknown>;
  exemplars: readonly Exemplar[];
}

/**
 * A detector. Both methods are called once per window close with every series' window
 * (windows' sketches are valid only during the call) and the close time; each returns every
 * finding that holds after taking the windows in. Detectors must not throw on odd data.
 * Detectors that keep state across closes also implement `Checkpointable`
 * (state/checkpoints.ts), so that state survives a restart.
 */
export interface Detector {
  readonly kind: SignalKind;
  onSpanWindows?(windows: readonly ClosedSpanWindow[], now: number): Finding[];
  onMetricWindows?(windows: readonly ClosedMetricWindow[], now: number): Finding[];
}
