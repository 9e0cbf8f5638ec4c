/**
 * Latency regression: a quantile (p99 by default) of an operation's closed window against the
 * series' own recent normal, the median of that quantile over its last `baseline_windows`
 * judged windows. The median, not the mean, so one slow window in the baseline does not lift it.
 *
 * Decisions worth knowing:
 * - A window with fewer than `min_samples` spans is not judged: it neither enters the baseline
 *   nor counts toward `sustain`, and it resets the streak. A finding says what holds *now*, and
 *   a window too thin to say anything cannot carry an earlier streak forward.
 * - The baseline ring holds the last `baseline_windows` windows that had `min_samples` spans,
 *   however far back: a quiet night thins the traffic but does not empty the baseline.
 * - Every warm-up window goes into the baseline. After the warm-up, a window over both
 *   thresholds is held out of it, sustained or not: were it let in, a lasting regression would
 *   become the new normal within half a baseline and the finding would resolve by itself while
 *   the regression goes on. The flip side: a deliberate, permanent slowdown keeps firing.
 * - Overflow series are skipped: they mix unrelated operations, so their quantiles move with
 *   the mix, not with any one operation's health.
 * - Baselines and streaks are checkpointed and continue after a restart as they were saved.
 */
import type { ClosedSpanWindow } from '../aggregate/span-window.js';
import type { LatencyRegressionConfig } from '../config/detectors.js';
import type { Checkpointable } from '../state/checkpoints.js';
import { DEFAULT_SERIES_TTL_MS, type SeriesStateBase, SeriesStates } from './series-states.js';
import type { Detector, Finding } from './detector.js';
import { SeriesHistory, isoTime, readStreakStates, round3, writeStreakStates } from './series-history.js';

// Bump when the checkpoint layout changes: older payloads are then ignored, not misread.
const FORMAT = 1;

// Baselines below this (ms) are taken as this, so a ratio over an all-zero baseline stays finite.
const MIN_BASELINE_MS = 0.001;

interface SeriesState extends SeriesStateBase {
  /** The configured quantile (ms) of past normal windows. */
  history: SeriesHistory;
  /** Consecutive judged windows over both thresholds, up to now. */
  streak: number;
}

/** Watches every span series' latency quantile against its own baseline. */
export class LatencyRegressionDetector implements Detector, Checkpointable {
  readonly kind = 'latency_regression' as const;
  readonly checkpointName = 'detector.latency_regression';
  private readonly states: SeriesStates<SeriesState>;
  private readonly scratch: Float64Array;
  private readonly label: string;

  /**
   * `windowMs` is accepted for symmetry with the other detectors: baselines count windows.
   * `seriesTtlMs` (`aggregation.series_ttl`) bounds how long restored state waits for its series.
   */
  constructor(
    private readonly config: LatencyRegressionConfig,
    readonly windowMs: number,
    seriesTtlMs = DEFAULT_SERIES_TTL_MS,
  ) {
    this.scratch = new Float64Array(config.baseline_windows);
    this.label = quantileLabel(config.quantile);
    this.states = new SeriesStates<SeriesState>(
      () => ({ id: undefined, history: new SeriesHistory(config.baseline_windows), streak: 0 }),
      windowMs,
      seriesTtlMs,
    );
  }

  /** Restored series states still waiting for their series to show up. */
  get waitingStates(): number {
    return this.states.waiting;
  }

  // Windows carry their own times; `now` (the close time) only ages restored state.
  onSpanWindows(windows: readonly ClosedSpanWindow[], now?: number): Finding[] {
    if (windows.length === 0) return [];
    this.states.begin(windows, now ?? windows[windows.length - 1].end);
    const findings: Finding[] = [];
    for (const w of windows) {
      if (w.series.overflow) continue;
      const f = this.judge(w);
      if (f !== undefined) findings.push(f);
    }
    // Restored series that have not shown up again: empty windows, which end their streaks.
    for (const w of this.states.standIns()) this.judge(w);
    return findings;
  }

  snapshot(): Buffer {
    return writeStreakStates(FORMAT, this.states.entries());
  }

  restore(data: Buffer, savedAt: number): void {
    this.states.load(readStreakStates(data, FORMAT, this.config.baseline_windows, 1), savedAt);
  }

  /** Takes one window in; the finding when the series has been regressed for `sustain` windows. */
  private judge(w: ClosedSpanWindow): Finding | undefined {
    const cfg = this.config;
    const st = this.states.of(w);
    // The sketch may have refused every value (non-finite durations) even when count says otherwise.
    const current = w.count >= cfg.min_samples ? w.sketch.quantile(cfg.quantile) : Number.NaN;
    if (!Number.isFinite(current)) {
      st.streak = 0;
      return undefined;
    }
    if (st.history.pushed < cfg.warmup_windows) {
      st.history.push(current);
      st.streak = 0;
      return undefined;
    }
    const baseline = st.history.median(0, this.scratch);
    const ratio = current / Math.max(baseline, MIN_BASELINE_MS);
    const delta = current - baseline;
    if (!(ratio >= cfg.ratio && delta >= cfg.min_delta_ms)) {
      st.streak = 0;
      st.history.push(current);
      return undefined;
    }
    st.streak++;
    if (st.streak < cfg.sustain) return undefined;
    return {
      kind: this.kind,
      severity: ratio >= 2 * cfg.ratio ? 'critical' : 'warning',
      service: w.series.service,
      operation: w.series.operation,
      slo: '',
      metric: '',
      outcomes: [],
      magnitude: round3(ratio),
      evidence: {
        // Kind and dimension values tell apart series of one operation (part of the fingerprint).
        series: `${w.series.kind} ${JSON.stringify(w.series.dimensions)}`,
        quantile: this.label,
        current_ms: round3(current),
        baseline_ms: round3(baseline),
        ratio: round3(ratio),
        delta_ms: round3(delta),
        count: w.count,
        windows: st.streak,
        window: { start: isoTime(w.start), end: isoTime(w.end) },
      },
      exemplars: w.exemplars.render(),
    };
  }
}

/** The usual name of a quantile: 0.99 → "p99", 0.999 → "p99.9", 0.5 → "p50". */
export function quantileLabel(q: number): string {
  // toPrecision trims binary noise such as 0.999 * 100 = 99.90000000000001.
  return `p${Number((q * 100).toPrecision(10))}`;
}
