/**
 * Error spike: a series' error ratio jumped beyond what its traffic volume explains. Three
 * conditions must hold in a window, each guarding against a different false alarm:
 *
 * - `errors ≥ min_errors`: a 1-of-3 burst on a quiet endpoint is a 33% error ratio and many
 *   deviations above a near-zero baseline, yet says nothing;
 * - current ratio / baseline ratio ≥ `ratio`: on a busy series a tiny absolute rise is
 *   statistically significant without mattering;
 * - the one-sided binomial z-score ≥ `z`: on a series that always fails a little, a few more
 *   errors than usual are within chance.
 *
 * The baseline ratio p0 = (errors + 0.5) / (spans + 1) over the last `baseline_windows`
 * windows that had spans. The half-error prior keeps p0 above zero, so a clean baseline does
 * not make every later error an infinite ratio and z, and keeps it high while little traffic
 * stands behind it (0.5 with none, 1/22 after 10 clean spans): a thin baseline is not taken to
 * mean "never fails". With real volume the prior vanishes (1/60 000 after 30 000 clean spans).
 *
 * As in the latency detector, warm-up windows all enter the baseline, spiking windows after it
 * are held out (so a lasting outage does not become normal), an empty window is not judged and
 * resets the streak, and overflow series are skipped. Baselines and streaks are checkpointed.
 */
import type { ClosedSpanWindow } from '../aggregate/span-window.js';
import type { ErrorSpikeConfig } from '../config/detectors.js';
import type { Checkpointable } from '../state/checkpoints.js';
import { DEFAULT_SERIES_TTL_MS, type SeriesStateBase, SeriesStates } from './series-states.js';
import type { Detector, Finding } from './detector.js';
import { SeriesHistory, isoTime, readStreakStates, round3, writeStreakStates } from './series-history.js';

// Bump when the checkpoint layout changes: older payloads are then ignored, not misread.
const FORMAT = 1;

// Columns of the ring.
const COUNT = 0;
const ERRORS = 1;
// The prior added to the baseline: this many errors in one more span.
const PRIOR_ERRORS = 0.5;
const PRIOR_SPANS = 1;
// Error ratio at or above which a spike is critical whatever the baseline: half the calls fail.
const CRITICAL_RATIO = 0.5;

interface SeriesState extends SeriesStateBase {
  /** Spans and errors of past normal windows. */
  history: SeriesHistory;
  /** Consecutive windows over all three thresholds, up to now. */
  streak: number;
}

/** Watches every span series' error ratio against its own baseline. */
export class ErrorSpikeDetector implements Detector, Checkpointable {
  readonly kind = 'error_spike' as const;
  readonly checkpointName = 'detector.error_spike';
  private readonly states: SeriesStates<SeriesState>;

  /**
   * `windowMs` is accepted for symmetry with the other detectors: baselines count windows.
   * `seriesTtlMs` (`aggregation.series_ttl`) bounds how long restored state waits for its series.
   */
  constructor(
    private readonly config: ErrorSpikeConfig,
    readonly windowMs: number,
    seriesTtlMs = DEFAULT_SERIES_TTL_MS,
  ) {
    this.states = new SeriesStates<SeriesState>(
      () => ({ id: undefined, history: new SeriesHistory(config.baseline_windows, 2), streak: 0 }),
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
    this.states.load(readStreakStates(data, FORMAT, this.config.baseline_windows, 2), savedAt);
  }

  /** Takes one window in; the finding when the series has been spiking for `sustain` windows. */
  private judge(w: ClosedSpanWindow): Finding | undefined {
    const cfg = this.config;
    const st = this.states.of(w);
    const count = w.count;
    // Clamped so a malformed window (errors > count) cannot push p0 past 1 and z to NaN.
    const errors = Math.min(w.errors, count);
    if (!(count > 0)) {
      st.streak = 0;
      return undefined;
    }
    if (st.history.pushed < cfg.warmup_windows) {
      st.history.push(count, errors);
      st.streak = 0;
      return undefined;
    }
    const p0 = (st.history.sum(ERRORS) + PRIOR_ERRORS) / (st.history.sum(COUNT) + PRIOR_SPANS);
    const current = errors / count;
    const ratio = current / p0;
    const z = (errors - count * p0) / Math.sqrt(count * p0 * (1 - p0));
    if (!(errors >= cfg.min_errors && ratio >= cfg.ratio && z >= cfg.z)) {
      // During a confirmed spike, a window as bad in ratio but with too few errors or spans to
      // be sure (a quiet moment of the incident) continues the spike instead of going into the
      // baseline: otherwise a noisy incident raises its own baseline and resolves half-way.
      if (st.streak >= cfg.sustain && ratio >= cfg.ratio) return this.finding(w, st.streak, current, p0, ratio, z, errors, count);
      st.streak = 0;
      st.history.push(count, errors);
      return undefined;
    }
    st.streak++;
    if (st.streak < cfg.sustain) return undefined;
    return this.finding(w, st.streak, current, p0, ratio, z, errors, count);
  }

  private finding(w: ClosedSpanWindow, streak: number, current: number, p0: number, ratio: number, z: number, errors: number, count: number): Finding {
    const cfg = this.config;
    return {
      kind: this.kind,
      severity: current >= CRITICAL_RATIO || z >= 2 * cfg.z ? 'critical' : 'warning',
      service: w.series.service,
      operation: w.series.operation,
      slo: '',
      metric: '',
      outcomes: [],
      magnitude: round3(ratio),
      evidence: {
        // Kind and dimension values tell apart series of one operation (part of the fingerprint).
        series: `${w.series.kind} ${JSON.stringify(w.series.dimensions)}`,
        current_ratio: round6(current),
        baseline_ratio: round6(p0),
        errors,
        count,
        z: round3(z),
        ratio: round3(ratio),
        windows: streak,
        window: { start: isoTime(w.start), end: isoTime(w.end) },
      },
      // The reservoir ranks failed spans first, so these are the failures to open.
      exemplars: w.exemplars.render(),
    };
  }
}

// Error ratios are small: three decimals would print a 0.04% baseline as 0.
function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
