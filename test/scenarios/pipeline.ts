/**
 * The pipeline from the aggregator on — the real Aggregator, detectors, Synthesizer and
 * DetectionStage — on a hand-moved clock, fed with span batches as the decoder fills them
 * (interner ids included). Scenario and quiet tests drive it with simulated traffic: hours of
 * windows in seconds, deterministic. {@link SimulatedPipeline.restart} stops the process and
 * starts a new one from its checkpoints, with the traffic going on as if nothing happened.
 */
import { Aggregator } from '../../src/aggregate/aggregator.js';
import { ManualClock } from '../../src/aggregate/clock.js';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import { type FrictionConfig, defaultConfig } from '../../src/config/index.js';
import type { Detector } from '../../src/detect/detector.js';
import { createDetectors } from '../../src/detect/registry.js';
import { PointBatch, SpanBatch } from '../../src/otlp/batch.js';
import { DetectionStage } from '../../src/signals/detection-stage.js';
import type { SignalTransition } from '../../src/signals/signal.js';
import { Synthesizer } from '../../src/signals/synthesizer.js';
import { type Checkpointable, isCheckpointable } from '../../src/state/checkpoints.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { mulberry32 } from '../support/generate.js';
import { type SimSpan, encodeTraceRequest } from './otlp-encode.js';
import { frameHeader } from '../../src/replay/recording.js';

/** One kind of call a simulated service receives. */
export interface Operation {
  service: string;
  name: string;
  /** Mean spans per second. */
  rate: number;
  /** Median latency, ms, and lognormal spread. */
  medianMs: number;
  sigma: number;
  /** Share of failed spans. */
  errorRate: number;
}

/** What an incident changes for the operations it touches, while it lasts. */
export interface Condition {
  latencyFactor?: number;
  errorRate?: number;
  rateFactor?: number;
}

export const T0 = Date.UTC(2026, 10, 25, 0, 0, 0);

/** Moves checkpoints from the stopped process's parts to the new one's (by default in memory). */
export type CheckpointTransfer = (from: readonly Checkpointable[], to: readonly Checkpointable[], now: number) => void;

/** Where {@link SimulatedPipeline.run} restarts the process. */
export interface RestartAt {
  /** Restart once this many of the run's windows have closed… */
  afterWindows: number;
  /**
   * …plus this many one-second steps into the next window (default 0: right after the close,
   * before the next window has any span, so nothing is lost and the run must match an
   * uninterrupted one; more cuts that window, whose spans so far die with the old process).
   */
  steps?: number;
  transfer?: CheckpointTransfer;
}

/** Snapshot → restore, part by part, as if saved at `now`. */
export const directTransfer: CheckpointTransfer = (from, to, now) => {
  for (const part of to) {
    const old = from.find((p) => p.checkpointName === part.checkpointName);
    if (old !== undefined) part.restore(old.snapshot(), now);
  }
};

/** A pipeline under test; `transitions` collects every signal change. */
export class SimulatedPipeline {
  readonly clock = new ManualClock(T0);
  readonly config: FrictionConfig;
  readonly transitions: SignalTransition[] = [];
  private process!: { aggregator: Aggregator; detectors: Detector[]; synthesizer: Synthesizer };
  private readonly rng: () => number;
  private readonly ids = new Map<string, number>();
  private readonly batch = new SpanBatch();
  private buf = Buffer.alloc(0);
  private spanCount = 0;

  constructor(edit: (c: FrictionConfig) => void = () => {}, seed = 1) {
    const c = defaultConfig();
    c.sinks = [];
    edit(c);
    this.config = c;
    this.rng = mulberry32(seed);
    this.start();
  }

  /** The running process's aggregator. */
  get aggregator(): Aggregator {
    return this.process.aggregator;
  }

  /** What the running process checkpoints: its stateful detectors and the synthesizer. */
  checkpointParts(): Checkpointable[] {
    return [...this.process.detectors.filter(isCheckpointable), this.process.synthesizer.checkpoint];
  }

  // Builds the process from the aggregator on, as main.ts does.
  private start(): void {
    const c = this.config;
    const logger = createLogger('silent');
    const synthesizer = new Synthesizer({ signals: c.signals, outcomes: c.outcomes, services: c.services, windowMs: c.aggregation.window });
    const collect = { append: (t: readonly SignalTransition[]) => void this.transitions.push(...t) };
    const detectors = createDetectors(c);
    const detection = new DetectionStage(detectors, synthesizer, collect, logger);
    const a = c.aggregation;
    const sketches = createSketchFactory(a.sketch.type, { compression: a.sketch.compression, relativeAccuracy: a.sketch.relative_accuracy });
    const aggregator = new Aggregator({ config: a, sketches, clock: this.clock, logger, listener: detection });
    this.process = { aggregator, detectors, synthesizer };
  }

  /**
   * Stops the process now and starts a new one at once, on the same clock, as main.ts does: the
   * new synthesizer continues the signals the history lists as firing, then the checkpoints are
   * restored (`transfer` moves them: in memory by default, or through a real CheckpointStore).
   * What the old aggregator held of the open window dies with it, as in a real stop.
   */
  restart(transfer: CheckpointTransfer = directTransfer): void {
    const from = this.checkpointParts();
    this.start();
    this.process.synthesizer.restore(this.openSignals());
    transfer(from, this.checkpointParts(), this.clock.now());
  }

  /** What the signal history would list as firing: each signal's last transition, unless resolved. */
  openSignals(): { signal: SignalTransition['signal']; sequence: number }[] {
    const last = new Map<string, SignalTransition>();
    for (const t of this.transitions) last.set(t.signal.id, t);
    return [...last.values()]
      .filter((t) => t.transition !== 'resolved')
      // The history stores signals as JSON.
      .map((t) => ({ signal: JSON.parse(JSON.stringify(t.signal)) as SignalTransition['signal'], sequence: t.sequence }));
  }

  private id(s: string): number {
    let x = this.ids.get(s);
    if (x === undefined) this.ids.set(s, (x = this.ids.size));
    return x;
  }

  private gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.rng())) * Math.cos(2 * Math.PI * this.rng());
  }

  /** Poisson-ish count with mean `mean`. */
  private count(mean: number): number {
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.gauss()));
  }

  /**
   * Simulates `windows` windows of traffic, one batch per operation per second of each window,
   * `condition(op, window)` applying incidents. Rates follow `shape(windowIndex)` (diurnal
   * curves); one span in 500 is 3–30× slower (a cold cache, a GC pause). `restarts` stop the
   * process on the way (see {@link restart}) while the traffic goes on.
   */
  run(ops: readonly Operation[], windows: number, condition: (op: Operation, w: number) => Condition | undefined = () => undefined, shape: (w: number) => number = () => 1, restarts: readonly RestartAt[] = []): void {
    const W = this.config.aggregation.window;
    const steps = Math.max(1, Math.round(W / 1000));
    const stepMs = W / steps;
    // Each step moves the clock first, so the tick of a window's last step is the one closing it.
    const stops = new Map(restarts.map((r) => [r.afterWindows * steps - 1 + (r.steps ?? 0), r]));
    for (let w = 0; w < windows; w++) {
      for (let k = 0; k < steps; k++) {
        this.clock.advance(stepMs);
        this.aggregator.tick();
        const stop = stops.get(w * steps + k);
        if (stop !== undefined) this.restart(stop.transfer);
        for (const op of ops) {
          const c = condition(op, w) ?? {};
          const n = this.count((op.rate * stepMs * (c.rateFactor ?? 1) * shape(w)) / 1000);
          if (n > 0) this.aggregator.consumeSpans(this.spans(op, n, c));
        }
      }
    }
    this.clock.advance(1);
    this.aggregator.tick();
  }

  private spans(op: Operation, n: number, c: Condition): SpanBatch {
    if (this.buf.length < n * 24) this.buf = Buffer.alloc(n * 48);
    const b = this.batch;
    b.reset(this.buf);
    const nameId = this.id(`n:${op.name}`);
    const serviceId = this.id(`s:${op.service}`);
    const errorRate = c.errorRate ?? op.errorRate;
    for (let i = 0; i < n; i++) {
      const s = b.next(0);
      s.serviceName = op.service;
      s.name = op.name;
      s.nameId = nameId;
      s.serviceId = serviceId;
      s.kind = 2;
      let ms = op.medianMs * Math.exp(op.sigma * this.gauss()) * (c.latencyFactor ?? 1);
      if (this.rng() < 0.002) ms *= 3 + 27 * this.rng();
      s.durationNs = Math.round(ms * 1e6);
      s.statusCode = this.rng() < errorRate ? 2 : 0;
      // Distinct ids so exemplars are real trace ids.
      const id = ++this.spanCount;
      this.buf.writeUInt32BE(id, i * 24 + 12);
      this.buf[i * 24] = 1;
      s.traceIdOffset = i * 24;
      s.spanIdOffset = i * 24 + 16;
      this.buf[i * 24 + 16] = 1;
    }
    b.idsValid = true;
    b.idGeneration = 0;
    return b;
  }

  /** Feeds one gauge point per series now (receive time = clock). */
  gauge(service: string, metric: string, value: number, attrs: Record<string, string> = {}): void {
    const b = new PointBatch();
    b.reset();
    const p = b.next();
    p.serviceName = service;
    p.metricName = metric;
    p.type = 1;
    p.value = value;
    for (const [k, v] of Object.entries(attrs)) p.attrs.push(k, v);
    const ns = BigInt(this.clock.now()) * 1_000_000n;
    p.timeHi = Number(ns >> 32n);
    p.timeLo = Number(ns & 0xffffffffn);
    this.aggregator.consumePoints(b);
  }

  /**
   * The same traffic as {@link run}, written as a recording (`.otlp` frames of OTLP/protobuf
   * requests, span times = the simulated clock) instead of fed in: for tests that go through
   * `otel-friction replay`, decoder included.
   */
  record(ops: readonly Operation[], windows: number, condition: (op: Operation, w: number) => Condition | undefined = () => undefined): Buffer {
    const W = this.config.aggregation.window;
    const steps = Math.max(1, Math.round(W / 1000));
    const stepMs = W / steps;
    const frames: Buffer[] = [];
    for (let w = 0; w < windows; w++) {
      for (let k = 0; k < steps; k++) {
        this.clock.advance(stepMs);
        const end = BigInt(this.clock.now()) * 1_000_000n;
        for (const op of ops) {
          const c = condition(op, w) ?? {};
          const n = this.count((op.rate * stepMs * (c.rateFactor ?? 1)) / 1000);
          if (n === 0) continue;
          const spans: SimSpan[] = [];
          const errorRate = c.errorRate ?? op.errorRate;
          for (let i = 0; i < n; i++) {
            let ms = op.medianMs * Math.exp(op.sigma * this.gauss()) * (c.latencyFactor ?? 1);
            if (this.rng() < 0.002) ms *= 3 + 27 * this.rng();
            const id = ++this.spanCount;
            const traceId = Buffer.alloc(16);
            traceId.writeUInt32BE(id, 12);
            traceId[0] = 1;
            const spanId = Buffer.alloc(8);
            spanId.writeUInt32BE(id, 4);
            spanId[0] = 1;
            spans.push({ traceId, spanId, name: op.name, kind: 2, startNs: end - BigInt(Math.round(ms * 1e6)), endNs: end, error: this.rng() < errorRate });
          }
          const body = encodeTraceRequest(op.service, spans);
          frames.push(frameHeader('traces', 'protobuf', this.clock.now(), body.length), body);
        }
      }
    }
    return Buffer.concat(frames);
  }

  /** Firing transitions, as `kind service operation`. */
  fired(): string[] {
    return this.transitions.filter((t) => t.transition === 'firing').map((t) => `${t.signal.kind} ${t.signal.service} ${t.signal.operation}`.trim());
  }
}

/** A small fleet: `services` × `opsPerService` operations with varied rates and latencies. */
export function fleet(services: number, opsPerService: number, seed = 7, rateScale = 1): Operation[] {
  const rng = mulberry32(seed);
  const out: Operation[] = [];
  for (let s = 0; s < services; s++) {
    for (let o = 0; o < opsPerService; o++) {
      out.push({
        service: `svc-${s}`,
        name: `op-${o}`,
        rate: rateScale * (5 + 150 * rng() ** 2),
        medianMs: 2 + 80 * rng(),
        sigma: 0.3 + 0.6 * rng(),
        errorRate: rng() < 0.3 ? 0 : 0.001 + 0.01 * rng(),
      });
    }
  }
  return out;
}
