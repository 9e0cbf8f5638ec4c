/**
 * The OTLP answers, encoded by hand: they are tiny, fixed messages and building them needs
 * no protobuf library on the server.
 *
 *   Export{Trace,Metrics,Logs}ServiceResponse { partial_success = 1 }
 *   Export*PartialSuccess { rejected_{spans,data_points,log_records} = 1 (int64), error_message = 2 }
 *   google.rpc.Status { code = 1 (int32), message = 2, details = 3 (Any) }
 *   google.protobuf.Any { type_url = 1, value = 2 };  google.rpc.RetryInfo { retry_delay = 1 (Duration) }
 *   google.protobuf.Duration { seconds = 1, nanos = 2 }
 */
import type { Signal } from './signals.js';

/** gRPC status codes used by the receivers (google.rpc.Code). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Outcome of one export, as returned to the client. */
export interface ExportOutcome {
  /** Items the request carried that were not accepted (partial success); 0 on full success. */
  rejected: number;
  /** Why; empty when nothing was rejected. */
  errorMessage: string;
}

const PARTIAL_SUCCESS_JSON_KEY: Record<Signal, string> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

function varint(out: number[], n: number): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

function lenField(out: number[], field: number, bytes: Uint8Array | number[]): void {
  out.push((field << 3) | 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

const EMPTY = Buffer.alloc(0);

/** Protobuf Export*ServiceResponse; empty (0 bytes) for full success, as the spec requires. */
export function exportResponseProto(outcome: ExportOutcome): Buffer {
  if (outcome.rejected === 0 && outcome.errorMessage === '') return EMPTY;
  const partial: number[] = [];
  if (outcome.rejected > 0) {
    partial.push(1 << 3);
    varint(partial, outcome.rejected);
  }
  if (outcome.errorMessage !== '') lenField(partial, 2, Buffer.from(outcome.errorMessage, 'utf8'));
  const out: number[] = [];
  lenField(out, 1, partial);
  return Buffer.from(out);
}

/** OTLP-JSON Export*ServiceResponse (int64 as a string, per the proto3 JSON mapping). */
export function exportResponseJson(signal: Signal, outcome: ExportOutcome): Buffer {
  if (outcome.rejected === 0 && outcome.errorMessage === '') return Buffer.from('{}');
  const partial: Record<string, string> = {};
  if (outcome.rejected > 0) partial[PARTIAL_SUCCESS_JSON_KEY[signal]] = String(outcome.rejected);
  if (outcome.errorMessage !== '') partial.errorMessage = outcome.errorMessage;
  return Buffer.from(JSON.stringify({ partialSuccess: partial }));
}

/** Protobuf google.rpc.Status, optionally carrying a RetryInfo detail. */
export function statusProto(code: number, message: string, retryDelaySeconds?: number): Buffer {
  const out: number[] = [];
  if (code !== 0) {
    out.push(1 << 3);
    varint(out, code);
  }
  if (message !== '') lenField(out, 2, Buffer.from(message, 'utf8'));
  if (retryDelaySeconds !== undefined) {
    const duration: number[] = [];
    duration.push(1 << 3);
    varint(duration, retryDelaySeconds);
    const retryInfo: number[] = [];
    lenField(retryInfo, 1, duration);
    const any: number[] = [];
    lenField(any, 1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo'));
    lenField(any, 2, retryInfo);
    lenField(out, 3, any);
  }
  return Buffer.from(out);
}

/** OTLP-JSON google.rpc.Status. */
export function statusJson(code: number, message: string, retryDelaySeconds?: number): Buffer {
  const body: Record<string, unknown> = { code, message };
  if (retryDelaySeconds !== undefined) {
    body.details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryDelaySeconds}s` }];
  }
  return Buffer.from(JSON.stringify(body));
}

/** Percent-encodes a grpc-message value as the gRPC HTTP/2 protocol requires. */
export function grpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
