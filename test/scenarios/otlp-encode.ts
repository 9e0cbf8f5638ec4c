/**
 * A minimal OTLP/protobuf trace encoder for simulated traffic: fast enough to write hundreds of
 * thousands of spans into a recording in a test (protobufjs's object path is ~10× slower).
 * Field numbers from opentelemetry/proto/trace/v1 and collector/trace/v1.
 */

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function len(field: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(body.length)]), body]);
}

function fixed64(field: number, ns: bigint): Buffer {
  const b = Buffer.alloc(9);
  b[0] = (field << 3) | 1;
  b.writeBigUInt64LE(ns, 1);
  return b;
}

/** One span to encode. */
export interface SimSpan {
  traceId: Buffer;
  spanId: Buffer;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  error: boolean;
}

function span(s: SimSpan): Buffer {
  const parts = [len(1, s.traceId), len(2, s.spanId), len(5, Buffer.from(s.name)), Buffer.from([(6 << 3) | 0, ...varint(s.kind)]), fixed64(7, s.startNs), fixed64(8, s.endNs)];
  if (s.error) parts.push(len(15, Buffer.from([(3 << 3) | 0, 2])));
  return Buffer.concat(parts);
}

/** An ExportTraceServiceRequest with one resource (`service.name`) and its spans. */
export function encodeTraceRequest(service: string, spans: readonly SimSpan[]): Buffer {
  const attr = len(1, Buffer.concat([len(1, Buffer.from('service.name')), len(2, len(1, Buffer.from(service)))]));
  const resource = len(1, attr);
  const scope = len(2, Buffer.concat(spans.map((s) => len(2, span(s)))));
  return len(1, Buffer.concat([resource, scope]));
}

/** An ExportMetricsServiceRequest with one gauge point. */
export function encodeGaugeRequest(service: string, metric: string, value: number, timeNs: bigint, attrs: Record<string, string> = {}): Buffer {
  const kv = (k: string, v: string): Buffer => len(1, Buffer.concat([len(1, Buffer.from(k)), len(2, len(1, Buffer.from(v)))]));
  const resource = len(1, kv('service.name', service));
  const dbl = Buffer.alloc(9);
  dbl[0] = (4 << 3) | 1;
  dbl.writeDoubleLE(value, 1);
  const point = Buffer.concat([...Object.entries(attrs).map(([k, v]) => len(7, Buffer.concat([len(1, Buffer.from(k)), len(2, len(1, Buffer.from(v)))]))), fixed64(3, timeNs), dbl]);
  const gauge = len(5, len(1, point));
  const m = len(2, Buffer.concat([len(1, Buffer.from(metric)), gauge]));
  return len(1, Buffer.concat([resource, len(2, m)]));
}
