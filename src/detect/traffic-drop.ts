/**
 * Traffic drop: requests collapsed against the recent normal, the silent outage. A service
 * nobody can reach shows no errors and no latency; the only symptom is that calls stop.
 *
 * Judged at two levels in every close:
 * - per operation (each non-overflow series), and
 * - per service, on the sum of all its series, overflow series included: the total is what
 *   matters, and without the overflow series a key that the cap pushes from a regular series
 *   into the overflow one (after eviction) would look like a drop. The global overflow series
 *   (service `__overflow__`) is not a service and is left out.
 * When a service-level drop fires, that service's operation-level findings are withheld: one
 * finding for the outage, not one per endpoint. Their state still advances, so they are ready
 * the moment the service recovers but one operation does not.
 *
 * The baseline is the median rate (spans per second) of the last `baseline_windows` windows,
 * empty windows included, and a drop is judged only while it is at least `min_baseline_rate`.
 * As in the other window detectors, warm-up windows all enter the baseline, dropped windows
 * after it are held out (else an outage becomes the new normal), and a window that is not a
 * drop resets the streak.
 *
 * Limitation: the detector sees only live series. A series evicted after `aggregation.series_ttl`
 * without spans leaves the windows array, and with it its state; a service whose every series was
 * evicted is simply gone, with no finding (so a firing service-level drop resolves about one TTL
 * into a total outage, although nothing came back).
 */
import { OVERFLOW_SERVICE } from '../aggregate/keyspace.js';
import type { ClosedSpanWindow } from '../aggregate/span-window.js';
import type { TrafficDropConfig } from '../config/detectors.js';
import type { Detector, Finding } from './detector.js';
import { SeriesHistory, isoTime, round3 } from './series-history.js';

interface DropState {
  /** Rates (spans/s) of past normal windows. */
  history: SeriesHistory;
  /** Consecutive dropped windows, up to now. */
  streak: number;
  // The last judgement's numbers, kept here so judging allocates nothing.
  rate: number;
  baseline: number;
  ratio: number;
}

interface ServiceState extends DropState {
  /** Spans of the service in the close being judged. */
  count: number;
  /** The close that last saw the service; older means all its series are gone. */
  seen: number;
  start: number;
  end: number;
  /** Whether the service-level finding fired in the latest close. */
  firing: boolean;
}

// About a day at the default 10 s windows.
const MAX_ABSENT_CLOSES = 8640;

/** Watches operations' and services' request rates for collapses. */
export class TrafficDropDetector implements Detector {
  readonly kind = 'traffic_drop' as const;
  private readonly operations = new WeakMap<object, DropState>();
  // Keyed by name, which a WeakMap cannot hold. A service whose series were all evicted (idle
  // past series_ttl) is still judged, as zero traffic, for MAX_ABSENT_CLOSES closes: a dead
  // service must not "recover" just because the aggregator forgot it. Then it is forgotten.
  private readonly services = new Map<string, ServiceState>();
  private readonly scratch: Float64Array;
  private readonly perSecond: number;
  private closes = 0;

  constructor(
    private readonly config: TrafficDropConfig,
    windowMs: number,
  ) {
    this.scratch = new Float64Array(config.baseline_windows);
    this.perSecond = 1000 / windowMs;
  }

  /** Services with state held now. */
  get trackedServices(): number {
    return this.services.size;
  }

  // `now` is unused (windows carry their own times) but accepted, as callers pass it.
  onSpanWindows(windows: readonly ClosedSpanWindow[], _now?: number): Finding[] {
    const close = ++this.closes;
    const operationFindings: Finding[] = [];
    for (const w of windows) {
      const service = w.series.service;
      if (service !== OVERFLOW_SERVICE) this.serviceOf(service, close, w).count += w.count;
      if (w.series.overflow) continue;
      const st = this.operationOf(w.series);
      if (this.judge(st, w.count)) operationFindings.push(this.finding(st, service, w.series.operation, 'operation', w.count, w.start, w.end, `${w.series.kind} ${JSON.stringify(w.series.dimensions)}`));
    }
    const findings: Finding[] = [];
    for (const [name, s] of this.services) {
      if (s.seen !== close) {
        // Absent from this close: no live series left. Judge it as silent while it may still be
        // an outage (only a service that was firing or has a baseline matters), then forget it.
        if (close - s.seen > MAX_ABSENT_CLOSES || s.history.length === 0) {
          this.services.delete(name);
          continue;
        }
        s.count = 0;
        s.start = s.end;
        s.end = s.start + 1000 / this.perSecond;
      }
      s.firing = this.judge(s, s.count);
      if (s.firing) findings.push(this.finding(s, name, '', 'service', s.count, s.start, s.end));
    }
    for (const f of operationFindings) if (this.services.get(f.service)?.firing !== true) findings.push(f);
    return findings;
  }

  private operationOf(series: object): DropState {
    let s = this.operations.get(series);
    if (s === undefined) {
      s = { history: new SeriesHistory(this.config.baseline_windows), streak: 0, rate: 0, baseline: 0, ratio: 0 };
      this.operations.set(series, s);
    }
    return s;
  }

  /** The service's state, reset for this close on its first series in it. */
  private serviceOf(name: string, close: number, w: ClosedSpanWindow): ServiceState {
    let s = this.services.get(name);
    if (s === undefined) {
      s = { history: new SeriesHistory(this.config.baseline_windows), streak: 0, rate: 0, baseline: 0, ratio: 0, count: 0, seen: 0, start: 0, end: 0, firing: false };
      this.services.set(name, s);
    }
    if (s.seen !== close) {
      s.seen = close;
      s.count = 0;
      s.start = w.start;
      s.end = w.end;
    }
    return s;
  }

  /** Takes one window's span count in; true when the rate has been down for `sustain` windows. */
  private judge(st: DropState, count: number): boolean {
    const cfg = this.config;
    const rate = count * this.perSecond;
    st.rate = rate;
    if (st.history.pushed < cfg.warmup_windows) {
      st.history.push(rate);
      st.streak = 0;
      return false;
    }
    const baseline = st.history.median(0, this.scratch);
    st.baseline = baseline;
    st.ratio = baseline > 0 ? rate / baseline : 1;
    if (!(baseline >= cfg.min_baseline_rate && st.ratio <= cfg.drop_ratio)) {
      st.history.push(rate);
      st.streak = 0;
      return false;
    }
    st.streak++;
    return st.streak >= cfg.sustain;
  }

  private finding(st: DropState, service: string, operation: string, scope: 'service' | 'operation', count: number, start: number, end: number, series = ''): Finding {
    return {
      kind: this.kind,
      severity: st.rate === 0 || st.ratio <= this.config.drop_ratio / 4 ? 'critical' : 'warning',
      service,
      operation,
      slo: '',
      metric: '',
      outcomes: [],
      // The collapse factor (baseline / current) ranks bigger drops higher; a dead series ranks
      // as a thousandfold drop rather than an unrankable infinity.
      magnitude: round3(st.rate > 0 ? Math.min(st.baseline / st.rate, 1000) : 1000),
      evidence: {
        // Kind and dimension values tell apart series of one operation (part of the fingerprint).
        series,
        current_rate: round3(st.rate),
        baseline_rate: round3(st.baseline),
        ratio: round3(st.ratio),
        count,
        windows: st.streak,
        scope,
        window: { start: isoTime(start), end: isoTime(end) },
      },
      exemplars: [],
    };
  }
}
