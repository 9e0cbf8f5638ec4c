/**
 * One entry point from request bytes to batches, for either encoding. Malformed input of any
 * kind comes out as a single coded error, so receivers have one thing to catch.
 */
import { FrictionError } from '../errors.js';
import { LogBatch, PointBatch, SpanBatch } from './batch.js';
import { StringInterner } from './interner.js';
import { scanLogsJson, scanMetricsJson, scanTracesJson } from './json-scanner.js';
import { LogScanner } from './log-scanner.js';
import { MetricScanner } from './metric-scanner.js';
import { TraceScanner } from './trace-scanner.js';

/** Body encodings OTLP defines. */
export type OtlpEncoding = 'protobuf' | 'json';

/** What the decoder extracts beyond the fixed fields. */
export interface OtlpDecoderOptions {
  /** Span/resource attribute keys extracted as series dimensions. */
  dimensions?: readonly string[];
  /** Bound on interned strings (see StringInterner). */
  maxInternedStrings?: number;
}

/** Decodes OTLP export requests into pooled batches. Synchronous; one scan at a time. */
export class OtlpDecoder {
  readonly interner: StringInterner;
  private readonly dimensions: readonly string[];
  private readonly traces: TraceScanner;
  private readonly metrics: MetricScanner;
  private readonly logs = new LogScanner();

  constructor(options: OtlpDecoderOptions = {}) {
    this.interner = new StringInterner({ maxEntries: options.maxInternedStrings ?? 65536 });
    this.dimensions = options.dimensions ?? [];
    this.traces = new TraceScanner({ dimensions: this.dimensions, interner: this.interner });
    this.metrics = new MetricScanner({ interner: this.interner });
  }

  decodeTraces(body: Buffer, encoding: OtlpEncoding, batch: SpanBatch): void {
    guard(() => (encoding === 'json' ? scanTracesJson(body, batch, this.dimensions) : this.traces.scan(body, batch)));
  }

  decodeMetrics(body: Buffer, encoding: OtlpEncoding, batch: PointBatch): void {
    guard(() => (encoding === 'json' ? scanMetricsJson(body, batch) : this.metrics.scan(body, batch)));
  }

  decodeLogs(body: Buffer, encoding: OtlpEncoding, batch: LogBatch): void {
    guard(() => (encoding === 'json' ? scanLogsJson(body, batch) : this.logs.scan(body, batch)));
  }
}

// Anything a scan throws means the body is not a valid request: WireError and JsonShapeError
// by design, SyntaxError/RangeError from BigInt or Buffer on hostile values.
function guard(scan: () => void): void {
  try {
    scan();
  } catch (err) {
    throw new FrictionError('OTLP_DECODE', `cannot decode request: ${(err as Error).message}`, { cause: err });
  }
}
