/**
 * Small, explicit clients for driving the receivers with exactly the bytes a test wants:
 * valid requests built with protobufjs, a grpc-js unary caller with raw (de)serializers, and
 * a slow uploader that holds a request open to occupy the in-flight budget.
 */
import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import http2 from 'node:http2';
import { ExportTraceServiceRequest } from './otlp-proto.js';

/** gRPC method paths of the three OTLP services. */
export const GRPC_TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const GRPC_METRICS = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
export const GRPC_LOGS = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** A valid ExportTraceServiceRequest with `spans` spans, each padded with `padBytes` of attribute. */
export function traceRequest(spans: number, padBytes = 16, service = 'checkout'): Buffer {
  const pad = 'x'.repeat(padBytes);
  const list = [];
  for (let i = 0; i < spans; i++) {
    const traceId = Buffer.alloc(16, 0);
    traceId.writeUInt32BE(i + 1, 12);
    const spanId = Buffer.alloc(8, 0);
    spanId.writeUInt32BE(i + 1, 4);
    list.push({
      traceId,
      spanId,
      name: `GET /items/${i % 5}`,
      kind: 2,
      startTimeUnixNano: 1_700_000_000_000_000_000n.toString(),
      endTimeUnixNano: (1_700_000_000_000_000_000n + 2_500_000n).toString(),
      attributes: [{ key: 'pad', value: { stringValue: pad } }],
      status: { code: i % 10 === 0 ? 2 : 0 },
    });
  }
  const msg = ExportTraceServiceRequest.fromObject({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans: list }] }],
  });
  return Buffer.from(ExportTraceServiceRequest.encode(msg).finish());
}

/** Result of a raw gRPC unary call. */
export interface GrpcResult {
  code: number;
  details: string;
  metadata?: grpc.Metadata;
  response?: Buffer;
}

/** A grpc-js client that sends `body` verbatim (the OTel exporters use grpc-js underneath). */
export class RawGrpcClient {
  private readonly client: grpc.Client;

  constructor(port: number, options: grpc.ClientOptions = {}) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
      ...options,
    });
  }

  call(path: string, body: Buffer): Promise<GrpcResult> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        { deadline: Date.now() + 20_000 },
        (err, response) => {
          if (err) resolve({ code: err.code, details: err.details, metadata: err.metadata });
          else resolve({ code: 0, details: '', response });
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Response of a raw HTTP request. */
export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Sends one HTTP request with exactly these headers and body. */
export function httpRequest(port: number, path: string, options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer }): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'POST', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * An HTTP upload that sends its headers and the first part of its body, then waits:
 * the receiver has reserved the declared length in its in-flight budget meanwhile.
 */
export function slowHttpUpload(port: number, body: Buffer, firstPart: number): { finish(): Promise<HttpResult>; abort(): void } {
  const req = http.request({
    host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', agent: false,
    headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
  });
  const result = new Promise<HttpResult>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
  // A test may never await the answer (the server cut the connection on purpose).
  result.catch(() => undefined);
  req.write(body.subarray(0, firstPart));
  return {
    finish: () => {
      req.end(body.subarray(firstPart));
      return result;
    },
    abort: () => req.destroy(),
  };
}

/**
 * A gRPC call over a bare HTTP/2 stream that sends the message header and part of the
 * message, then waits (grpc-js always sends whole messages, so it cannot do this).
 */
export function slowGrpcUpload(port: number, message: Buffer, firstPart: number): { finish(): Promise<{ grpcStatus: string }>; close(): void } {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request({ ':method': 'POST', ':path': GRPC_TRACES, 'content-type': 'application/grpc', te: 'trailers' });
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  const done = new Promise<{ grpcStatus: string }>((resolve, reject) => {
    let status = '';
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    });
    stream.on('trailers', (t) => (status = String(t['grpc-status'])));
    stream.on('data', () => undefined);
    stream.on('end', () => resolve({ grpcStatus: status }));
    stream.on('error', reject);
  });
  stream.write(frame.subarray(0, 5 + firstPart));
  return {
    finish: () => {
      stream.end(frame.subarray(5 + firstPart));
      return done;
    },
    close: () => session.close(),
  };
}

/** Waits until `check` is true, polling; throws after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
