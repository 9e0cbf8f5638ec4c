/**
 * `otel-friction replay`: recorded OTLP through the same pipeline (decoder → aggregator →
 * detectors → synthesizer) on a simulated clock taken from the telemetry's own timestamps, as
 * fast as the CPU allows, printing the signals that would have fired. For tuning thresholds on
 * real traffic before deploying them.
 *
 * Inputs: recordings (`*.otlp`, written by `record:`), OTLP-JSON lines (`*.jsonl`, `*.json`, one
 * Export*ServiceRequest per line, as the Collector's file exporter writes them) and single
 * protobuf requests (`*.pb`, `*.binpb`; metrics or logs when the file name says so).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Aggregator } from '../aggregate/aggregator.js';
import { ManualClock } from '../aggregate/clock.js';
import { createSketchFactory } from '../aggregate/sketches.js';
import { decoderDimensionsFor } from '../aggregate/span-aggregator.js';
import type { FrictionConfig } from '../config/index.js';
import { createDetectors } from '../detect/registry.js';
import { PointBatch, SpanBatch } from '../otlp/batch.js';
import { OtlpDecoder } from '../otlp/decoder.js';
import { DetectionStage, type TransitionLog } from '../signals/detection-stage.js';
import type { SignalTransition } from '../signals/signal.js';
import { Synthesizer } from '../signals/synthesizer.js';
import { createLogger } from '../telemetry/logger.js';
import { type RecordedRequest, readFrames } from './recording.js';

const EXTENSIONS = ['.otlp', '.jsonl', '.json', '.pb', '.binpb'];

/** What a replay did. */
export interface ReplayResult {
  files: number;
  requests: number;
  spans: number;
  points: number;
  /** Requests that could not be decoded, with the reason (the replay goes on). */
  skipped: string[];
  transitions: SignalTransition[];
}

/** Every input file, directories expanded (sorted by name, so time-stamped recordings replay in order). */
export function replayFiles(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (statSync(input).isDirectory()) {
      for (const f of readdirSync(input).sort()) if (EXTENSIONS.includes(path.extname(f))) out.push(path.join(input, f));
    } else out.push(input);
  }
  return out;
}

/** The requests of one file, in order. */
function* requestsOf(file: string): Generator<RecordedRequest> {
  const bytes = readFileSync(file);
  const ext = path.extname(file);
  if (ext === '.otlp') {
    yield* readFrames(bytes, file);
  } else if (ext === '.pb' || ext === '.binpb') {
    const base = path.basename(file).toLowerCase();
    const signal = base.includes('metric') ? 'metrics' : base.includes('log') ? 'logs' : 'traces';
    yield { signal, encoding: 'protobuf', receivedAt: Number.NaN, body: bytes };
  } else {
    for (const line of bytes.toString('utf8').split('\n')) {
      const text = line.trim();
      if (text === '') continue;
      const signal = text.includes('"resourceMetrics"') ? 'metrics' : text.includes('"resourceLogs"') ? 'logs' : 'traces';
      yield { signal, encoding: 'json', receivedAt: Number.NaN, body: Buffer.from(text) };
    }
  }
}

/** Keeps the transitions a replay produces (a replay writes no outbox and calls no sinks). */
class CollectingLog implements TransitionLog {
  readonly seen: SignalTransition[] = [];
  constructor(private readonly onTransition: (t: SignalTransition) => void) {}
  append(transitions: readonly SignalTransition[]): void {
    for (const t of transitions) {
      this.seen.push(t);
      this.onTransition(t);
    }
  }
}

/** Replays `inputs` through the pipeline `config` describes; `onTransition` sees each signal change. */
export async function replay(config: FrictionConfig, inputs: readonly string[], onTransition: (t: SignalTransition) => void): Promise<ReplayResult> {
  const logger = createLogger('warn');
  const agg = config.aggregation;
  const clock = new ManualClock(0);
  const sink = new CollectingLog(onTransition);
  const synthesizer = new Synthesizer({ signals: config.signals, outcomes: config.outcomes, services: config.services, windowMs: agg.window });
  const detection = new DetectionStage(createDetectors(config), synthesizer, sink, logger);
  const sketches = createSketchFactory(agg.sketch.type, { compression: agg.sketch.compression, relativeAccuracy: agg.sketch.relative_accuracy });
  const files = replayFiles(inputs);
  // The aggregator's windows start from the clock it is built with: set it to the first event.
  let aggregator: Aggregator | undefined;
  let decoder: OtlpDecoder | undefined;
  const spans = new SpanBatch();
  const points = new PointBatch();
  const result: ReplayResult = { files: files.length, requests: 0, spans: 0, points: 0, skipped: [], transitions: sink.seen };
  for (const file of files) {
    for (const req of requestsOf(file)) {
      if (req.signal === 'logs') continue;
      result.requests++;
      decoder ??= new OtlpDecoder({ dimensions: decoderDimensionsFor(agg) });
      try {
        if (req.signal === 'traces') decoder.decodeTraces(req.body, req.encoding, spans);
        else decoder.decodeMetrics(req.body, req.encoding, points);
      } catch (err) {
        result.skipped.push(`${file}: ${(err as Error).message}`);
        continue;
      }
      const t = req.signal === 'traces' ? latestSpanEnd(spans) : latestPointTime(points);
      const at = Number.isFinite(t) ? t : req.receivedAt;
      if (Number.isFinite(at) && at > clock.now()) clock.set(at);
      if (aggregator === undefined) {
        aggregator = new Aggregator({ config: agg, sketches, clock, logger, listener: detection });
      }
      aggregator.tick();
      if (req.signal === 'traces') {
        aggregator.consumeSpans(spans);
        result.spans += spans.length;
      } else {
        aggregator.consumePoints(points);
        result.points += points.length;
      }
    }
  }
  if (aggregator !== undefined) {
    // Close the last windows: move past their end and any lateness.
    clock.advance(agg.window + (agg.time === 'span_end' ? agg.allowed_lateness : 0) + 1);
    aggregator.tick();
  }
  await detection.shutdown();
  return result;
}

function latestSpanEnd(b: SpanBatch): number {
  let t = Number.NaN;
  for (let i = 0; i < b.length; i++) {
    const s = b.spans[i];
    const end = (s.endHi * 4294967296 + s.endLo) / 1e6;
    if (!(end <= t)) t = end;
  }
  return t;
}

function latestPointTime(b: PointBatch): number {
  let t = Number.NaN;
  for (let i = 0; i < b.length; i++) {
    const p = b.points[i];
    const at = (p.timeHi * 4294967296 + p.timeLo) / 1e6;
    if (!(at <= t)) t = at;
  }
  return t;
}
