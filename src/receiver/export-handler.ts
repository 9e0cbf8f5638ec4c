/**
 * What both receivers do with a request body once the transport has delivered it:
 * decode into a pooled batch, hand the batch to the pipeline, count, and say what to answer.
 * Transport concerns (framing, compression, status codes) stay in the receivers.
 */
import { LogBatch, PointBatch, SpanBatch } from '../otlp/batch.js';
import type { OtlpDecoder, OtlpEncoding } from '../otlp/decoder.js';
import { FrictionError } from '../errors.js';
import type { Protocol, SelfMetrics } from '../telemetry/metrics.js';
import type { BodyCompression } from './body.js';
import type { ExportOutcome } from './responses.js';
import { ITEM_NAME, type Signal } from './signals.js';

/**
 * The next stage of the pipeline. A batch is only valid until the returned promise settles
 * (or, for a synchronous consumer, until the call returns): copy what you keep.
 */
export interface TelemetryConsumer {
  consumeSpans(batch: SpanBatch): void | Promise<void>;
  consumePoints(batch: PointBatch): void | Promise<void>;
  consumeLogs(batch: LogBatch): void | Promise<void>;
}

// Pooled batches beyond this many are let go, so one burst does not pin memory for good.
const MAX_IDLE_BATCHES = 8;
const MAX_POOLED_ENTRIES = 65536;

/** Keeps a copy of every accepted request (recording for `otel-friction replay`). */
export interface RequestTap {
  record(signal: Signal, encoding: OtlpEncoding, body: Buffer): void;
}

/**
 * Relays accepted requests upstream (`forward:`): asked before decoding whether it must refuse
 * (its queue is full), given the request after it was accepted.
 */
export interface RequestForwarder {
  refuses(signal: Signal): boolean;
  offer(signal: Signal, encoding: OtlpEncoding, body: Buffer, headers?: Readonly<Record<string, string | string[] | undefined>>, wire?: WireBody): void;
}

/**
 * The request body as it came off the wire, before decompression: a forwarder whose upstream
 * uses the same compression relays these bytes instead of compressing the body again.
 */
export interface WireBody {
  compression: BodyCompression;
  body: Buffer;
}

/** Free list of batches: an async consumer may hold one while the next request decodes. */
class BatchPool<T extends { trim(max: number): void }> {
  private readonly free: T[] = [];
  constructor(private readonly make: () => T) {}
  take(): T {
    return this.free.pop() ?? this.make();
  }
  give(b: T): void {
    b.trim(MAX_POOLED_ENTRIES);
    if (this.free.length < MAX_IDLE_BATCHES) this.free.push(b);
  }
}

/** Decodes, forwards to the consumer, counts. Throws FrictionError(OTLP_DECODE) on bad bodies. */
export class ExportHandler {
  private readonly spans = new BatchPool(() => new SpanBatch());
  private readonly points = new BatchPool(() => new PointBatch());
  private readonly logs = new BatchPool(() => new LogBatch());

  constructor(
    private readonly decoder: OtlpDecoder,
    private readonly metrics: SelfMetrics,
    private readonly consumer?: TelemetryConsumer,
    private readonly tap?: RequestTap,
    private readonly forward?: RequestForwarder,
  ) {}

  /**
   * `headers` are the request's (HTTP headers or gRPC metadata) and `wire` its compressed body
   * when it was compressed, for forwarding. Throws FrictionError BACKPRESSURE when the forward
   * queue is full, before any decoding.
   */
  async handle(protocol: Protocol, signal: Signal, body: Buffer, encoding: OtlpEncoding, headers?: Readonly<Record<string, string | string[] | undefined>>, wire?: WireBody): Promise<ExportOutcome> {
    // An empty body is an empty request: nothing to do, full success.
    if (body.length === 0) return { rejected: 0, errorMessage: '' };
    if (this.forward?.refuses(signal)) throw new FrictionError('BACKPRESSURE', 'the forward queue is full (forward.queue.max_mb); retry later');
    switch (signal) {
      case 'traces': {
        const batch = this.spans.take();
        try {
          this.decoder.decodeTraces(body, encoding, batch);
          await this.consumer?.consumeSpans(batch);
          this.tap?.record(signal, encoding, body);
          this.forward?.offer(signal, encoding, body, headers, wire);
          return this.outcome(protocol, signal, batch.length, batch.rejected, batch.rejectReason);
        } finally {
          batch.reset(EMPTY);
          this.spans.give(batch);
        }
      }
      case 'metrics': {
        const batch = this.points.take();
        try {
          this.decoder.decodeMetrics(body, encoding, batch);
          await this.consumer?.consumePoints(batch);
          this.tap?.record(signal, encoding, body);
          this.forward?.offer(signal, encoding, body, headers, wire);
          return this.outcome(protocol, signal, batch.length, batch.rejected, batch.rejectReason);
        } finally {
          this.points.give(batch);
        }
      }
      case 'logs': {
        const batch = this.logs.take();
        try {
          this.decoder.decodeLogs(body, encoding, batch);
          await this.consumer?.consumeLogs(batch);
          this.tap?.record(signal, encoding, body);
          this.forward?.offer(signal, encoding, body, headers, wire);
          return this.outcome(protocol, signal, batch.length, batch.rejected, batch.rejectReason);
        } finally {
          this.logs.give(batch);
        }
      }
    }
  }

  private outcome(protocol: Protocol, signal: Signal, accepted: number, rejected: number, reason: string): ExportOutcome {
    this.metrics.items(protocol, signal, accepted, rejected);
    if (rejected === 0) return { rejected: 0, errorMessage: '' };
    return { rejected, errorMessage: `${rejected} of ${accepted + rejected} ${ITEM_NAME[signal]} rejected; first: ${reason}` };
  }
}

const EMPTY = Buffer.alloc(0);
