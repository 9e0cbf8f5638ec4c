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
 * Across a restart the baselines, streaks and services (absent ones included) are checkpointed.
 * The window a restart cut through is not judged, at either level: its spans before the
 * restart died with the old process, so its rate reads low whatever the traffic was. The last
 * verdict stands over it (a firing drop keeps firing).
 *
 * Limitation: the detector sees only live series. A series evicted after `aggregation.series_ttl`
 * without spans leaves the windows array, and with it its state; a service whose every series was
 * evicted is simply gone, with no finding (so a firing service-level drop resolves about one TTL
 * into a total outage, although nothing came back).
 */
import { OVERFLOW_SERVICE } from '../aggregate/keyspace.js';
import type { ClosedSpanWindow } from '../aggregate/span-window.js';
import type { TrafficDropConfig } from '../config/detectors.js';
import type { Checkpointable } from '../state/checkpoints.js';
import { ByteReader, ByteWriter } from './checkpoint-codec.js';
import { DEFAULT_SERIES_TTL_MS, type SeriesStateBase, SeriesStates } from './series-states.js';
import type { Detector, Finding } from './detector.js';
import { SeriesHistory, isoTime, readHistory, round3, writeHistory } from './series-history.js';

// Bump when the checkpoint layout changes: older payloads are then ignored, not misread.
const FORMAT = 1;

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

interface OperationState extends DropState, SeriesStateBase {}

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
export class TrafficDropDetector implements Detector, Checkpointable {
  readonly kind = 'traffic_drop' as const;
  readonly checkpointName = 'detector.traffic_drop';
  private readonly operations: SeriesStates<OperationState>;
  // Keyed by name, which a WeakMap cannot hold. A service whose series were all evicted (idle
  // past series_ttl) is still judged, as zero traffic, for MAX_ABSENT_CLOSES closes: a dead
  // service must not "recover" just because the aggregator forgot it. Then it is forgotten.
  private readonly services = new Map<string, ServiceState>();
  private readonly scratch: Float64Array;
  private readonly perSecond: number;
  private closes = 0;
  // Windows starting before this (the restored checkpoint's time) were cut by the restart.
  private partialBefore = Number.NEGATIVE_INFINITY;

  /** `seriesTtlMs` (`aggregation.series_ttl`) bounds how long restored state waits for its series. */
  constructor(
    private readonly config: TrafficDropConfig,
    windowMs: number,
    seriesTtlMs = DEFAULT_SERIES_TTL_MS,
  ) {
    this.scratch = new Float64Array(config.baseline_windows);
    this.perSecond = 1000 / windowMs;
    this.operations = new SeriesStates<OperationState>(() => ({ id: undefined, ...this.freshDrop() }), windowMs, seriesTtlMs);
  }

  private freshDrop(): DropState {
    return { history: new SeriesHistory(this.config.baseline_windows), streak: 0, rate: 0, baseline: 0, ratio: 0 };
  }

  /** Services with state held now. */
  get trackedServices(): number {
    return this.services.size;
  }

  // Windows carry their own times; `now` (the close time) only ages restored state.
  onSpanWindows(windows: readonly ClosedSpanWindow[], now?: number): Finding[] {
    if (windows.length > 0) this.operations.begin(windows, now ?? windows[windows.length - 1].end);
    const close = ++this.closes;
    const operationFindings: Finding[] = [];
    for (const w of windows) this.operation(w, close, operationFindings);
    // Restored operations that have not shown up again: silent, as far as this process knows.
    for (const w of this.operations.standIns()) this.operation(w, close, operationFindings);
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
      s.firing = this.take(s, s.count, s.start);
      if (s.firing) findings.push(this.finding(s, name, '', 'service', s.count, s.start, s.end));
    }
    for (const f of operationFindings) if (this.services.get(f.service)?.firing !== true) findings.push(f);
    return findings;
  }

  /** Takes one series' window in, at the operation level and into its service's count. */
  private operation(w: ClosedSpanWindow, close: number, findings: Finding[]): void {
    const service = w.series.service;
    if (service !== OVERFLOW_SERVICE) this.serviceOf(service, close, w).count += w.count;
    if (w.series.overflow) return;
    const st = this.operations.of(w);
    if (this.take(st, w.count, w.start)) findings.push(this.finding(st, service, w.series.operation, 'operation', w.count, w.start, w.end, `${w.series.kind} ${JSON.stringify(w.series.dimensions)}`));
  }

  /** The service's state, reset for this close on its first series in it. */
  private serviceOf(name: string, close: number, w: ClosedSpanWindow): ServiceState {
    let s = this.services.get(name);
    if (s === undefined) {
      s = { ...this.freshDrop(), count: 0, seen: 0, start: 0, end: 0, firing: false };
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

  /** {@link judge}, except for a window cut by a restart: that one leaves the state and verdict as they were. */
  private take(st: DropState, count: number, start: number): boolean {
    if (start < this.partialBefore) return st.streak >= this.config.sustain;
    return this.judge(st, count);
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

  snapshot(): Buffer {
    const w = new ByteWriter(FORMAT);
    const ops = [...this.operations.entries()];
    w.uint(ops.length);
    for (const [id, s] of ops) {
      w.str(id);
      writeDrop(w, s, this.perSecond);
    }
    w.uint(this.services.size);
    for (const [name, s] of this.services) {
      w.str(name);
      writeDrop(w, s, this.perSecond);
      // Closes since the service was last seen: close numbers start over in the next process.
      w.uint(this.closes - s.seen);
      w.num(s.start);
      w.num(s.end);
      w.u8(s.firing ? 1 : 0);
    }
    return w.done();
  }

  restore(data: Buffer, savedAt: number): void {
    const r = new ByteReader(data, FORMAT);
    const cap = this.config.baseline_windows;
    const ops = new Map<string, OperationState>();
    for (let i = r.uint(); i > 0; i--) {
      const id = r.str();
      ops.set(id, { id, ...readDrop(r, cap) });
    }
    const services = new Map<string, ServiceState>();
    for (let i = r.uint(); i > 0; i--) {
      const name = r.str();
      const drop = readDrop(r, cap);
      const absent = r.uint();
      const start = r.num();
      const end = r.num();
      const firing = r.u8() === 1;
      services.set(name, { ...drop, count: 0, seen: this.closes - absent, start, end, firing });
    }
    r.end();
    // First, as it may still throw (a malformed identity): nothing is applied before it.
    this.operations.load(ops, savedAt);
    for (const [name, s] of services) this.services.set(name, s);
    this.partialBefore = savedAt;
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

// `perSecond` is the rate of one span a window: rates are multiples of it, stored as counts.
function writeDrop(w: ByteWriter, s: DropState, perSecond: number): void {
  w.uint(s.streak);
  w.num(s.rate);
  w.num(s.baseline);
  w.num(s.ratio);
  writeHistory(w, s.history, perSecond);
}

function readDrop(r: ByteReader, capacity: number): DropState {
  const streak = r.uint();
  const rate = r.num();
  const baseline = r.num();
  const ratio = r.num();
  return { streak, rate, baseline, ratio, history: readHistory(r, capacity, 1) };
}
