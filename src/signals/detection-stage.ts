/**
 * The stage after the aggregator: closed windows → detectors → synthesizer → sinks. It is the
 * aggregator's {@link WindowListener}; detection and synthesis run synchronously inside the
 * close, delivery is asynchronous and bounded (a slow sink never stalls aggregation).
 */
import type { Logger } from 'pino';
import type { WindowListener } from '../aggregate/aggregator.js';
import type { ClosedMetricWindow } from '../aggregate/metric-aggregator.js';
import type { ClosedSpanWindow } from '../aggregate/span-window.js';
import type { Detector, Finding } from '../detect/detector.js';
import type { Component } from '../lifecycle/component.js';
import { beforeDeadline } from '../lifecycle/component.js';
import type { SignalSink } from '../sinks/sink.js';
import type { SignalTransition } from './signal.js';
import type { Synthesizer } from './synthesizer.js';

// Deliveries in flight per sink before new ones are dropped (and counted): sinks that hang
// must not pile up memory. The outbox of the sinks issue replaces this with durable queues.
const MAX_PENDING_PER_SINK = 64;

/** Counters for /metrics. */
export interface DetectionStats {
  findings: number;
  transitions: Record<SignalTransition['transition'], number>;
  delivered: number;
  deliveryFailures: number;
  deliveriesDropped: number;
  detectorErrors: number;
}

/** Runs the detectors on every close and hands transitions to the sinks. */
export class DetectionStage implements WindowListener, Component {
  readonly name = 'detection';
  readonly stats: DetectionStats = { findings: 0, transitions: { firing: 0, updated: 0, resolved: 0 }, delivered: 0, deliveryFailures: 0, deliveriesDropped: 0, detectorErrors: 0 };
  private readonly pending = new Map<SignalSink, Set<Promise<void>>>();
  private readonly failing = new Set<SignalSink>();

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly synthesizer: Synthesizer,
    private readonly sinks: readonly SignalSink[],
    private readonly logger: Logger,
  ) {
    for (const s of sinks) this.pending.set(s, new Set());
  }

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
        if (f) all.push(...f);
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
    for (const sink of this.sinks) {
      const inFlight = this.pending.get(sink) as Set<Promise<void>>;
      if (inFlight.size >= MAX_PENDING_PER_SINK) {
        this.stats.deliveriesDropped += transitions.length;
        continue;
      }
      const p = sink.deliver(transitions).then(
        () => {
          this.stats.delivered += transitions.length;
          if (this.failing.delete(sink)) this.logger.info({ sink: sink.name }, 'signal sink recovered');
        },
        (err: unknown) => {
          this.stats.deliveryFailures += transitions.length;
          // Log once per outage, not once per batch.
          if (!this.failing.has(sink)) this.logger.warn({ err, sink: sink.name }, 'signal sink failed; transitions are dropped until it recovers');
          this.failing.add(sink);
        },
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  }

  async shutdown(deadline: number): Promise<boolean> {
    const all = [...this.pending.values()].flatMap((s) => [...s]);
    const drained = await beforeDeadline(Promise.all(all), deadline);
    await Promise.all(this.sinks.map((s) => s.close().catch(() => undefined)));
    return drained;
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
