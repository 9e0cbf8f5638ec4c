/**
 * The stage after the aggregator: closed windows → detectors → synthesizer → transition log
 * (the outbox). It is the aggregator's {@link WindowListener}; detection, synthesis and the
 * durable write run synchronously inside the close. Delivery to sinks happens elsewhere, from
 * the outbox, so a slow or dead sink never stalls aggregation.
 */
import type { Logger } from 'pino';
import type { WindowListener } from '../aggregate/aggregator.js';
import type { ClosedMetricWindow } from '../aggregate/metric-aggregator.js';
import type { ClosedSpanWindow } from '../aggregate/span-window.js';
import type { Detector, Finding } from '../detect/detector.js';
import type { Component } from '../lifecycle/component.js';
import type { SignalTransition } from './signal.js';
import type { FindingRedactor } from './privacy.js';
import type { Synthesizer } from './synthesizer.js';

/** Where transitions are written as they happen: the outbox, or a collector in replays. */
export interface TransitionLog {
  /** Records transitions durably before returning; throws when it cannot. */
  append(transitions: readonly SignalTransition[]): void;
}

/** Counters for /metrics. */
export interface DetectionStats {
  findings: number;
  transitions: Record<SignalTransition['transition'], number>;
  /** Transitions the log could not write (the outbox's disk failed). */
  lost: number;
  detectorErrors: number;
}

/** Runs the detectors on every close and writes the resulting transitions. */
export class DetectionStage implements WindowListener, Component {
  readonly name = 'detection';
  readonly stats: DetectionStats = { findings: 0, transitions: { firing: 0, updated: 0, resolved: 0 }, lost: 0, detectorErrors: 0 };
  private logFailing = false;

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly synthesizer: Synthesizer,
    private readonly log: TransitionLog,
    private readonly logger: Logger,
    /** `privacy:` applied to every finding before it becomes a signal. */
    private readonly redact?: FindingRedactor,
  ) {}

  async start(): Promise<void> {}

  onSpanWindows(windows: readonly ClosedSpanWindow[]): void {
    if (windows.length === 0) return;
    const now = closeTime(windows);
    const findings = this.run((d) => d.onSpanWindows?.(windows, now));
    const share = shareOf(windows);
    this.emit(this.synthesizer.observe('spans', findings, now, share));
  }

  onMetricWindows(windows: readonly ClosedMetricWindow[]): void {
    if (windows.length === 0) return;
    const now = closeTime(windows);
    this.emit(this.synthesizer.observe('metrics', this.run((d) => d.onMetricWindows?.(windows, now)), now));
  }

  private run(call: (d: Detector) => Finding[] | undefined): Finding[] {
    const all: Finding[] = [];
    for (const d of this.detectors) {
      try {
        const f = call(d);
        if (f) for (const x of f) all.push(this.redact ? this.redact(x) : x);
      } catch (err) {
        // One broken detector must not silence the others.
        this.stats.detectorErrors++;
        this.logger.error({ err, detector: d.kind }, 'detector failed; its findings for this window are lost');
      }
    }
    this.stats.findings += all.length;
    return all;
  }

  private emit(transitions: SignalTransition[]): void {
    if (transitions.length === 0) return;
    for (const t of transitions) this.stats.transitions[t.transition]++;
    try {
      this.log.append(transitions);
      if (this.logFailing) {
        this.logFailing = false;
        this.logger.info('the outbox accepts transitions again');
      }
    } catch (err) {
      this.stats.lost += transitions.length;
      // Once per outage: a full disk would otherwise log at every close.
      if (!this.logFailing) this.logger.error({ err, lost: transitions.length }, 'cannot write signal transitions to the outbox; they are lost (otel_friction_signal_lost_total)');
      this.logFailing = true;
    }
  }

  async shutdown(): Promise<boolean> {
    return true;
  }
}

/** The close's time: the latest window end (all windows end together unless catching up). */
function closeTime(windows: readonly { end: number }[]): number {
  let t = 0;
  for (const w of windows) if (w.end > t) t = w.end;
  return t;
}

/** Share of its service's spans each operation carried in this close. */
function shareOf(windows: readonly ClosedSpanWindow[]): (service: string, operation: string) => number {
  const services = new Map<string, number>();
  const ops = new Map<string, number>();
  for (const w of windows) {
    services.set(w.series.service, (services.get(w.series.service) ?? 0) + w.count);
    const k = `${w.series.service}\u0000${w.series.operation}`;
    ops.set(k, (ops.get(k) ?? 0) + w.count);
  }
  return (service, operation) => {
    const total = services.get(service) ?? 0;
    return total > 0 ? (ops.get(`${service}\u0000${operation}`) ?? 0) / total : Number.NaN;
  };
}
