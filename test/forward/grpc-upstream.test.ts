/**
 * GrpcUpstream against a real HTTP/2 server that answers as a gRPC server would: the framing
 * and gzip on the wire, metadata, and how every kind of answer is classified by the OTLP retry
 * rules.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type ForwardConfig, parseConfig } from '../../src/config/index.js';
import { GrpcUpstream } from '../../src/forward/grpc-upstream.js';
import { UpstreamError } from '../../src/forward/upstream.js';
import { statusProto } from '../../src/receiver/responses.js';

interface Got { path: string; headers: http2.IncomingHttpHeaders; message: Buffer; wire: Buffer }
type Answer = { trailers?: Record<string, string>; headersOnly?: Record<string, string>; httpStatus?: number; hang?: boolean };
let got: Got[] = [];
let answer: () => Answer = () => ({ trailers: { 'grpc-status': '0' } });
let server: http2.Http2Server;
let port = 0;

beforeAll(async () => {
  server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const frame = Buffer.concat(chunks);
      const body = frame.subarray(5, 5 + frame.readUInt32BE(1));
      got.push({ path: String(headers[':path']), headers, message: frame[0] === 1 ? gunzipSync(body) : body, wire: body });
      const a = answer();
      if (a.hang) return;
      if (a.httpStatus !== undefined) return stream.respond({ ':status': a.httpStatus }, { endStream: true });
      if (a.headersOnly !== undefined) return stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...a.headersOnly }, { endStream: true });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers(a.trailers ?? { 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  got = [];
  answer = () => ({ trailers: { 'grpc-status': '0' } });
});

function target(extra = ''): ForwardConfig['traces'] {
  return parseConfig(`forward:\n  traces: { endpoint: "http://127.0.0.1:${port}"${extra} }\n`, { source: 't', env: {} }).forward.traces;
}

async function failure(u: GrpcUpstream): Promise<UpstreamError> {
  const err = await u.send({ signal: 'traces', encoding: 'protobuf', gzipped: false, body: Buffer.from([1, 2, 3]), headers: {} }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

describe('GrpcUpstream', () => {
  test('sends the bytes as one gzip-flagged message with the configured and passed-through metadata', async () => {
    const u = new GrpcUpstream('traces', target(', headers: { X-Api-Key: k1 }'));
    const body = Buffer.alloc(300_000, 7);
    await u.send({ signal: 'traces', encoding: 'protobuf', gzipped: false, body, headers: { 'x-scope-orgid': 'blue' } });
    await u.send({ signal: 'traces', encoding: 'protobuf', gzipped: false, body: Buffer.from([9]), headers: {} });
    expect(got).toHaveLength(2);
    expect(got[0].path).toBe('/opentelemetry.proto.collector.trace.v1.TraceService/Export');
    expect(got[0].message.equals(body)).toBe(true);
    expect(got[0].headers).toMatchObject({ 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'gzip', 'x-api-key': 'k1', 'x-scope-orgid': 'blue' });
    expect(got[1].message).toEqual(Buffer.from([9]));
    u.close();
  });

  test("a gzipped request goes out as it is, flagged gzip, whatever the target's compression", async () => {
    const body = Buffer.from('span '.repeat(1000));
    const gz = gzipSync(body, { level: 9 });
    for (const extra of ['', ', compression: none']) {
      const u = new GrpcUpstream('traces', target(extra));
      await u.send({ signal: 'traces', encoding: 'protobuf', gzipped: true, body: gz, headers: {} });
      u.close();
    }
    for (const g of got) {
      expect(g.wire.equals(gz)).toBe(true);
      expect(g.message.equals(body)).toBe(true);
      expect(g.headers['grpc-encoding']).toBe('gzip');
    }
  });

  test('without compression the message flag is 0 and no grpc-encoding is sent', async () => {
    const u = new GrpcUpstream('traces', target(', compression: none'));
    await u.send({ signal: 'traces', encoding: 'protobuf', gzipped: false, body: Buffer.from([4, 5]), headers: {} });
    expect(got[0].headers['grpc-encoding']).toBeUndefined();
    expect(got[0].message).toEqual(Buffer.from([4, 5]));
    u.close();
  });

  test('classifies answers by the OTLP retry rules', async () => {
    const u = new GrpcUpstream('traces', target(', timeout: 300ms'));
    answer = () => ({ trailers: { 'grpc-status': '14', 'grpc-message': 'busy', 'grpc-status-details-bin': statusProto(14, 'busy', 3).toString('base64') } });
    let e = await failure(u);
    expect([e.retryable, e.retryAfterMs]).toEqual([true, 3000]);
    expect(e.message).toMatch(/UNAVAILABLE busy/);
    answer = () => ({ headersOnly: { 'grpc-status': '3', 'grpc-message': 'bad%20span' } }); // trailers-only
    e = await failure(u);
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/INVALID_ARGUMENT bad span/);
    answer = () => ({ trailers: { 'grpc-status': '8' } }); // too large, and no RetryInfo: never fits
    expect((await failure(u)).retryable).toBe(false);
    answer = () => ({ trailers: { 'grpc-status': '8', 'grpc-status-details-bin': statusProto(8, 'later', 1).toString('base64') } });
    expect((await failure(u)).retryable).toBe(true);
    answer = () => ({ httpStatus: 503 }); // a proxy in front
    expect((await failure(u)).retryable).toBe(true);
    answer = () => ({ httpStatus: 404 });
    expect((await failure(u)).retryable).toBe(false);
    answer = () => ({ hang: true });
    e = await failure(u);
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/no answer within 300 ms/);
    answer = () => ({ trailers: { 'grpc-status': '0' } });
    await u.send({ signal: 'traces', encoding: 'protobuf', gzipped: false, body: Buffer.from([1]), headers: {} }); // the connection still works
    u.close();
  });

  test('nothing listening is retryable, and the next send dials again', async () => {
    const dead = parseConfig('forward:\n  traces: { endpoint: "http://127.0.0.1:1" }\n', { source: 't', env: {} }).forward.traces;
    const u = new GrpcUpstream('traces', dead);
    const e = await failure(u);
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect((await failure(u)).retryable).toBe(true);
    u.close();
  });

  test('only protobuf can travel over gRPC without re-encoding', () => {
    const u = new GrpcUpstream('traces', target());
    expect(u.accepts('protobuf')).toBe(true);
    expect(u.accepts('json')).toBe(false);
    u.close();
  });
});
