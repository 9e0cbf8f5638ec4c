/**
 * Signal transitions as an OTLP `ExportLogsServiceRequest`, written by hand: protobufjs is only
 * a dev dependency, and the handful of message types below do not justify a runtime one.
 * Also reads the two small messages an OTLP endpoint answers with (the export response's
 * partial success, and `google.rpc.Status` with its `RetryInfo`).
 *
 * Field numbers (proto/opentelemetry/proto/...):
 *   ExportLogsServiceRequest.resource_logs = 1
 *   ResourceLogs: resource = 1, scope_logs = 2;  Resource.attributes = 1
 *   ScopeLogs: scope = 1, log_records = 2;  InstrumentationScope: name = 1, version = 2
 *   LogRecord: time_unix_nano = 1 (fixed64), severity_number = 2, severity_text = 3, body = 5,
 *     attributes = 6, trace_id = 9, span_id = 10, observed_time_unix_nano = 11 (fixed64), event_name = 12
 *   KeyValue: key = 1, value = 2;  AnyValue: string = 1, bool = 2, int = 3, double = 4, array = 5
 *   ArrayValue.values = 1
 *   ExportLogsServiceResponse.partial_success = 1 → rejected_log_records = 1, error_message = 2
 *   google.rpc.Status: code = 1, message = 2, details = 3 (Any: type_url = 1, value = 2)
 *   google.rpc.RetryInfo.retry_delay = 1 (Duration: seconds = 1, nanos = 2)
 */
import { WireReader, WireType, readTag } from '../otlp/wire.js';

/**
 * An attribute value: `bigint` is an OTLP int, `number` a double, a string array an array
 * value. Keeping int and double apart in the type is what lets `priority` and `sequence`
 * arrive as ints that backends can compare numerically.
 */
export type AttributeValue = string | boolean | bigint | number | readonly string[];

/** One attribute, key first, in the order it is written. */
export type Attribute = readonly [key: string, value: AttributeValue];

/** One OTLP LogRecord, in the fields this sink sets. */
export interface LogRecordModel {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: string;
  attributes: readonly Attribute[];
  /** 16 bytes, or absent. */
  traceId?: Buffer;
  /** 8 bytes, or absent. */
  spanId?: Buffer;
  eventName: string;
}

/** One ResourceLogs with a single ScopeLogs: the records of one service. */
export interface ResourceLogsModel {
  resource: readonly Attribute[];
  scope: { name: string; version?: string };
  records: readonly LogRecordModel[];
}

/** A growable protobuf writer. Nested messages are written to a child writer, then copied in with their length. */
class ProtoWriter {
  private buf = Buffer.allocUnsafe(512);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private varint(value: number | bigint): void {
    this.ensure(10);
    if (typeof value === 'number' && value >= 0 && value < 0x80000000) {
      let v = value;
      while (v >= 0x80) {
        this.buf[this.len++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.len++] = v;
      return;
    }
    // int64 two's complement: negative values take all 10 bytes, as protobuf requires.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  uint(field: number, value: number | bigint): this {
    this.tag(field, WireType.VARINT);
    this.varint(value);
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.uint(field, value ? 1 : 0);
  }

  fixed64(field: number, value: bigint): this {
    this.tag(field, WireType.I64);
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, value), this.len);
    this.len += 8;
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, WireType.I64);
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.len);
    this.len += 8;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LEN);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const child = new ProtoWriter();
    write(child);
    return this.bytes(field, child.finish());
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

// AnyValue is a oneof: the chosen field is written even when it holds its default ('' or 0).
function anyValue(w: ProtoWriter, value: AttributeValue): void {
  if (typeof value === 'string') w.string(1, value);
  else if (typeof value === 'boolean') w.bool(2, value);
  else if (typeof value === 'bigint') w.uint(3, value);
  else if (typeof value === 'number') w.double(4, value);
  else w.message(5, (arr) => value.forEach((v) => arr.message(1, (item) => anyValue(item, v))));
}

function keyValues(w: ProtoWriter, field: number, attributes: readonly Attribute[]): void {
  for (const [key, value] of attributes) w.message(field, (kv) => kv.string(1, key).message(2, (v) => anyValue(v, value)));
}

function logRecord(w: ProtoWriter, r: LogRecordModel): void {
  w.fixed64(1, r.timeUnixNano);
  if (r.severityNumber !== 0) w.uint(2, r.severityNumber);
  if (r.severityText !== '') w.string(3, r.severityText);
  w.message(5, (body) => body.string(1, r.body));
  keyValues(w, 6, r.attributes);
  if (r.traceId) w.bytes(9, r.traceId);
  if (r.spanId) w.bytes(10, r.spanId);
  w.fixed64(11, r.observedTimeUnixNano);
  if (r.eventName !== '') w.string(12, r.eventName);
}

/** Encodes an `ExportLogsServiceRequest` holding the given resource logs. */
export function encodeExportLogsRequest(resourceLogs: readonly ResourceLogsModel[]): Buffer {
  const w = new ProtoWriter();
  for (const rl of resourceLogs) {
    w.message(1, (r) => {
      r.message(1, (res) => keyValues(res, 1, rl.resource));
      r.message(2, (sl) => {
        sl.message(1, (scope) => {
          scope.string(1, rl.scope.name);
          if (rl.scope.version) scope.string(2, rl.scope.version);
        });
        for (const record of rl.records) sl.message(2, (lr) => logRecord(lr, record));
      });
    });
  }
  return w.finish();
}

/** Calls `fn` for each field of the message in `[r.pos, end)`; `fn` must consume the value or return false to skip it. */
function fields(r: WireReader, end: number, fn: (field: number, wireType: number) => boolean): void {
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    const tag = readTag(r);
    if (!fn(tag >>> 3, tag & 7)) r.skip(tag & 7, tag >>> 3);
  }
  r.end = outer;
}

function readString(r: WireReader): string {
  const end = r.readLengthEnd();
  const s = r.buf.toString('utf8', r.pos, end);
  r.pos = end;
  return s;
}

/** The partial success of an export response: what the endpoint refused though it answered OK. */
export interface PartialSuccess {
  rejectedLogRecords: number;
  errorMessage: string;
}

/** Reads an `ExportLogsServiceResponse`; throws a WireError on malformed bytes. */
export function decodeExportLogsResponse(buf: Buffer): PartialSuccess {
  const out: PartialSuccess = { rejectedLogRecords: 0, errorMessage: '' };
  const r = new WireReader(buf);
  fields(r, buf.length, (f, wt) => {
    if (f !== 1 || wt !== WireType.LEN) return false;
    fields(r, r.readLengthEnd(), (pf, pwt) => {
      if (pf === 1 && pwt === WireType.VARINT) out.rejectedLogRecords = r.readVarint64();
      else if (pf === 2 && pwt === WireType.LEN) out.errorMessage = readString(r);
      else return false;
      return true;
    });
    return true;
  });
  return out;
}

/** What a `google.rpc.Status` says: its message, and the delay its RetryInfo asks for (ms). */
export interface RpcStatus {
  code: number;
  message: string;
  retryDelayMs?: number;
}

const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';

function retryDelayMs(r: WireReader, end: number): number | undefined {
  let ms: number | undefined;
  fields(r, end, (f, wt) => {
    if (f !== 1 || wt !== WireType.LEN) return false;
    let seconds = 0;
    let nanos = 0;
    fields(r, r.readLengthEnd(), (df, dwt) => {
      if (dwt !== WireType.VARINT || (df !== 1 && df !== 2)) return false;
      if (df === 1) seconds = r.readVarint64();
      else nanos = r.readVarint64();
      return true;
    });
    ms = Math.max(0, Math.round(seconds * 1000 + nanos / 1e6));
    return true;
  });
  return ms;
}

/** Reads a `google.rpc.Status` (OTLP/HTTP error body, gRPC `grpc-status-details-bin`); throws a WireError on malformed bytes. */
export function decodeRpcStatus(buf: Buffer): RpcStatus {
  const out: RpcStatus = { code: 0, message: '' };
  const r = new WireReader(buf);
  fields(r, buf.length, (f, wt) => {
    if (f === 1 && wt === WireType.VARINT) out.code = r.readVarint64();
    else if (f === 2 && wt === WireType.LEN) out.message = readString(r);
    else if (f === 3 && wt === WireType.LEN) {
      // details: Any. Only RetryInfo matters to us; its value may come before its type_url.
      let typeUrl = '';
      let value: [number, number] | undefined;
      fields(r, r.readLengthEnd(), (af, awt) => {
        if (awt !== WireType.LEN || (af !== 1 && af !== 2)) return false;
        if (af === 1) typeUrl = readString(r);
        else {
          const end = r.readLengthEnd();
          value = [r.pos, end];
          r.pos = end;
        }
        return true;
      });
      if (typeUrl === RETRY_INFO && value) {
        const inner = new WireReader(buf, value[0], value[1]);
        out.retryDelayMs = retryDelayMs(inner, value[1]);
      }
    } else return false;
    return true;
  });
  return out;
}
