/**
 * Bad input over both protocols gets the OTLP answer, is counted, and the process keeps
 * serving: after every bad request a good one must succeed.
 */
import { gzipSync } from 'node:zlib';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_TRACES, GRPC_METRICS, RawGrpcClient, httpRequest, traceRequest } from '../support/clients.js';
import { Status } from '../support/otlp-proto.js';
import { type SidecarProcess, startSidecarProcess } from '../support/sidecar-process.js';

let sidecar: SidecarProcess;
let grpcClient: RawGrpcClient;
const GOOD = traceRequest(20);
// Truncated inside the length-delimited resource_spans: no longer a valid message.
const TRUNCATED = GOOD.subarray(0, GOOD.length - 7);
const GARBAGE = Buffer.from('this is not a protobuf message \xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1');
const MIB = 1024 * 1024;

beforeAll(async () => {
  sidecar = await startSidecarProcess({
    yaml: (p) => `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:${p.grpc}", max_recv_msg_size_mib: 1 }
      http: { endpoint: "127.0.0.1:${p.http}", max_request_body_size_mib: 1 }
admin: { endpoint: "127.0.0.1:${p.admin}" }
`,
  });
  grpcClient = new RawGrpcClient(sidecar.grpcPort);
});

afterAll(async () => {
  grpcClient.close();
  expect(await sidecar.stop()).toBe(0);
});

function decodeStatus(body: Buffer): { code: number; message: string } {
  return Status.toObject(Status.decode(body)) as { code: number; message: string };
}

async function goodHttpStillWorks(): Promise<void> {
  const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: { 'content-type': 'application/x-protobuf' }, body: GOOD });
  expect(res.status).toBe(200);
}

describe('OTLP/HTTP bad input', () => {
  const proto = { 'content-type': 'application/x-protobuf' };
  const json = { 'content-type': 'application/json' };

  it.each([
    ['garbage bytes', proto, GARBAGE],
    ['truncated protobuf', proto, TRUNCATED],
  ])('%s → 400 with a protobuf google.rpc.Status', async (_name, headers, body) => {
    const errorsBefore = await sidecar.metric('otel_friction_decoder_errors_total', { protocol: 'http' });
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers, body });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/x-protobuf');
    const status = decodeStatus(res.body);
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/cannot decode/);
    expect(await sidecar.metric('otel_friction_decoder_errors_total', { protocol: 'http' })).toBe(errorsBefore + 1);
    await goodHttpStillWorks();
  });

  it('invalid JSON → 400 with a JSON google.rpc.Status', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: json, body: Buffer.from('{"resourceSpans": [') });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 3, message: expect.stringMatching(/invalid JSON/) });
    await goodHttpStillWorks();
  });

  it('JSON of the wrong shape → 400', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/metrics', { headers: json, body: Buffer.from('{"resourceMetrics": {"not": "a list"}}') });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).code).toBe(3);
  });

  it('wrong content type → 415', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: { 'content-type': 'text/plain' }, body: GOOD });
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body.toString()).message).toMatch(/application\/x-protobuf or application\/json/);
    expect(await sidecar.metric('otel_friction_receiver_requests_total', { protocol: 'http', outcome: 'unsupported_media_type' })).toBeGreaterThan(0);
    await goodHttpStillWorks();
  });

  it('unsupported content encoding → 415', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: { ...proto, 'content-encoding': 'br' }, body: GOOD });
    expect(res.status).toBe(415);
    await goodHttpStillWorks();
  });

  it('corrupt gzip → 400', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: { ...proto, 'content-encoding': 'gzip' }, body: Buffer.from('not gzip at all') });
    expect(res.status).toBe(400);
    expect(decodeStatus(res.body).code).toBe(3);
    await goodHttpStillWorks();
  });

  it('wrong method → 405 with Allow: POST', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    await goodHttpStillWorks();
  });

  it('unknown path → 404', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/profiles', { headers: proto, body: GOOD });
    expect(res.status).toBe(404);
  });

  it('oversize body → 413 (declared length)', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: proto, body: Buffer.alloc(2 * MIB) });
    expect(res.status).toBe(413);
    expect(decodeStatus(res.body).code).toBe(8);
    expect(await sidecar.metric('otel_friction_receiver_requests_total', { protocol: 'http', outcome: 'too_large' })).toBeGreaterThan(0);
    await goodHttpStillWorks();
  });

  it('oversize chunked body (no length) → 413', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: { ...proto, 'transfer-encoding': 'chunked' }, body: Buffer.alloc(2 * MIB) });
    expect(res.status).toBe(413);
    await goodHttpStillWorks();
  });

  it('gzip bomb (small body inflating past the limit) → 413', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MIB));
    expect(bomb.length).toBeLessThan(MIB);
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: { ...proto, 'content-encoding': 'gzip' }, body: bomb });
    expect(res.status).toBe(413);
    expect(decodeStatus(res.body).message).toMatch(/after decompression/);
    await goodHttpStillWorks();
  });

  it('gzip-compressed valid body → 200', async () => {
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: { ...proto, 'content-encoding': 'gzip' }, body: gzipSync(GOOD) });
    expect(res.status).toBe(200);
  });

  it.each([
    ['protobuf', proto, ''],
    ['json', json, '{}'],
  ])('empty %s body → success', async (_name, headers, expected) => {
    const res = await httpRequest(sidecar.httpPort, '/v1/logs', { headers, body: Buffer.alloc(0) });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(expected);
  });

  it('a span with an invalid trace id → partial success, the rest accepted', async () => {
    const body = JSON.stringify({
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart' } }] },
        scopeSpans: [{ spans: [
          { traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', name: 'ok' },
          { traceId: '0102', spanId: '0102030405060708', name: 'short id' },
        ] }],
      }],
    });
    const before = await sidecar.metric('otel_friction_receiver_refused_spans_total', { protocol: 'http' });
    const res = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: json, body: Buffer.from(body) });
    expect(res.status).toBe(200);
    const parsed = JSON.parse(res.body.toString());
    expect(parsed.partialSuccess.rejectedSpans).toBe('1');
    expect(parsed.partialSuccess.errorMessage).toMatch(/trace_id length 2/);
    expect(await sidecar.metric('otel_friction_receiver_refused_spans_total', { protocol: 'http' })).toBe(before + 1);
  });
});

describe('OTLP/gRPC bad input (grpc-js client)', () => {
  async function goodGrpcStillWorks(): Promise<void> {
    expect((await grpcClient.call(GRPC_TRACES, GOOD)).code).toBe(0);
  }

  it.each([
    ['garbage bytes', GARBAGE],
    ['truncated protobuf', TRUNCATED],
  ])('%s → INVALID_ARGUMENT', async (_name, body) => {
    const before = await sidecar.metric('otel_friction_decoder_errors_total', { protocol: 'grpc' });
    const res = await grpcClient.call(GRPC_TRACES, body);
    expect(res.code).toBe(3);
    expect(res.details).toMatch(/cannot decode/);
    expect(await sidecar.metric('otel_friction_decoder_errors_total', { protocol: 'grpc' })).toBe(before + 1);
    await goodGrpcStillWorks();
  });

  it('oversize message → RESOURCE_EXHAUSTED', async () => {
    const res = await grpcClient.call(GRPC_TRACES, Buffer.alloc(2 * MIB));
    expect(res.code).toBe(8);
    await goodGrpcStillWorks();
  });

  it('gzip bomb → RESOURCE_EXHAUSTED', async () => {
    const gzipClient = new RawGrpcClient(sidecar.grpcPort, { 'grpc.default_compression_algorithm': 2 });
    try {
      const res = await gzipClient.call(GRPC_TRACES, Buffer.alloc(64 * MIB));
      expect(res.code).toBe(8);
      expect(res.details).toMatch(/after decompression/);
      expect((await gzipClient.call(GRPC_TRACES, GOOD)).code).toBe(0);
    } finally {
      gzipClient.close();
    }
  });

  it('empty message → OK with an empty response', async () => {
    const res = await grpcClient.call(GRPC_METRICS, Buffer.alloc(0));
    expect(res.code).toBe(0);
    expect(res.response?.length).toBe(0);
  });

  it('unknown method → UNIMPLEMENTED', async () => {
    const res = await grpcClient.call('/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export', GOOD);
    expect(res.code).toBe(12);
    await goodGrpcStillWorks();
  });

  it('partial success is reported in the response message', async () => {
    const body = traceRequest(3);
    // Corrupt the first span's trace id length: 16 → 15 is not possible in place, so build one.
    const { ExportTraceServiceRequest, ExportTraceServiceResponse } = await import('../support/otlp-proto.js');
    const msg = ExportTraceServiceRequest.decode(body) as unknown as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: Uint8Array }> }> }> };
    msg.resourceSpans[0].scopeSpans[0].spans[0].traceId = new Uint8Array(15).fill(1);
    const res = await grpcClient.call(GRPC_TRACES, Buffer.from(ExportTraceServiceRequest.encode(msg).finish()));
    expect(res.code).toBe(0);
    const response = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(res.response as Buffer), { longs: Number });
    expect(response.partialSuccess).toMatchObject({ rejectedSpans: 1, errorMessage: expect.stringMatching(/trace_id length 15/) });
  });

  it('not a gRPC request (wrong content type) → HTTP 415', async () => {
    const session = http2.connect(`http://127.0.0.1:${sidecar.grpcPort}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': GRPC_TRACES, 'content-type': 'application/json' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.resume();
        req.on('error', reject);
        req.end('{}');
      });
      expect(status).toBe(415);
    } finally {
      session.close();
    }
    await goodGrpcStillWorks();
  });
});
