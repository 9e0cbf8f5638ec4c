/**
 * gRPC framing edge cases on the node:http2 receiver, driven by a bare HTTP/2 client so the
 * bytes and their chunking are exactly what each case needs.
 */
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpDecoder } from '../../src/otlp/decoder.js';
import { BufferPool } from '../../src/receiver/buffer-pool.js';
import { ExportHandler } from '../../src/receiver/export-handler.js';
import { GrpcReceiver } from '../../src/receiver/grpc-receiver.js';
import { InflightBudget } from '../../src/receiver/inflight.js';
import { SelfMetrics } from '../../src/telemetry/metrics.js';
import { GRPC_TRACES, traceRequest } from '../support/clients.js';
import { readMetric } from '../support/sidecar-process.js';

const WINDOW = 8 * 1024 * 1024;
let receiver: GrpcReceiver;
let metrics: SelfMetrics;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  metrics = new SelfMetrics();
  receiver = new GrpcReceiver({
    endpoint: { host: '127.0.0.1', port: 0 },
    maxMessageBytes: 1024 * 1024,
    maxConcurrentStreams: 50,
    windowBytes: WINDOW,
    handler: new ExportHandler(new OtlpDecoder(), metrics),
    budget: new InflightBudget(64 * 1024 * 1024),
    buffers: new BufferPool(),
    metrics,
    logger: pino({ level: 'silent' }),
  });
  await receiver.start();
  session = http2.connect(`http://127.0.0.1:${receiver.address?.port}`);
  await new Promise((r) => session.once('remoteSettings', r));
});

afterAll(async () => {
  session.close();
  expect(await receiver.shutdown(Date.now() + 2000)).toBe(true);
  // Safe twice.
  expect(await receiver.shutdown(Date.now() + 2000)).toBe(true);
});

function frame(message: Buffer, compressed = false): Buffer {
  const f = Buffer.alloc(5 + message.length);
  f[0] = compressed ? 1 : 0;
  f.writeUInt32BE(message.length, 1);
  message.copy(f, 5);
  return f;
}

interface CallResult {
  status: string;
  message: string;
  httpStatus: number;
  acceptEncoding?: string;
  body: Buffer;
}

/** Sends `chunks` as separate DATA writes, then ends the stream. */
async function call(chunks: Buffer[], headers: http2.OutgoingHttpHeaders = {}): Promise<CallResult> {
  const stream = session.request({ ':method': 'POST', ':path': GRPC_TRACES, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  const result = new Promise<CallResult>((resolve, reject) => {
    const r: CallResult = { status: '', message: '', httpStatus: 0, body: Buffer.alloc(0) };
    const body: Buffer[] = [];
    const read = (h: http2.IncomingHttpHeaders): void => {
      if (h[':status'] !== undefined) r.httpStatus = Number(h[':status']);
      if (h['grpc-status'] !== undefined) r.status = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) r.message = decodeURIComponent(String(h['grpc-message']));
      if (h['grpc-accept-encoding'] !== undefined) r.acceptEncoding = String(h['grpc-accept-encoding']);
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.on('data', (d: Buffer) => body.push(d));
    stream.on('close', () => resolve({ ...r, body: Buffer.concat(body) }));
    stream.on('error', reject);
  });
  for (const c of chunks) {
    if (stream.closed) break;
    await new Promise<void>((resolve) => stream.write(c, () => resolve()));
  }
  if (!stream.closed) stream.end();
  return result;
}

const GOOD = traceRequest(10);

describe('gRPC framing', () => {
  it('advertises the configured receive window', () => {
    expect(session.remoteSettings.initialWindowSize).toBe(WINDOW);
  });

  it('accepts a message split into single bytes, header included', async () => {
    const f = frame(GOOD);
    const chunks: Buffer[] = [...f.subarray(0, 40)].map((b) => Buffer.from([b]));
    chunks.push(f.subarray(40));
    const r = await call(chunks);
    expect(r.status).toBe('0');
    // The response is one empty, uncompressed message.
    expect(r.body.equals(Buffer.from([0, 0, 0, 0, 0]))).toBe(true);
  });

  it('accepts a gzip-compressed message', async () => {
    const r = await call([frame(gzipSync(GOOD), true)], { 'grpc-encoding': 'gzip' });
    expect(r.status).toBe('0');
  });

  it('refuses a second message in a unary call', async () => {
    const r = await call([Buffer.concat([frame(GOOD), frame(GOOD)])]);
    expect(r.status).toBe('12');
    expect(r.message).toMatch(/second request message/);
  });

  it('refuses trailing bytes after the message', async () => {
    const r = await call([Buffer.concat([frame(GOOD), Buffer.from([0, 0])])]);
    expect(r.status).toBe('12');
  });

  it('refuses a call that ends before its message is complete', async () => {
    expect((await call([frame(GOOD).subarray(0, 30)])).status).toBe('12');
    expect((await call([])).status).toBe('12');
  });

  it('refuses the compressed flag without grpc-encoding with INTERNAL', async () => {
    const r = await call([frame(gzipSync(GOOD), true)]);
    expect(r.status).toBe('13');
  });

  it('refuses an unknown grpc-encoding with UNIMPLEMENTED and says what it accepts', async () => {
    const r = await call([frame(GOOD)], { 'grpc-encoding': 'snappy' });
    expect(r.status).toBe('12');
    expect(r.acceptEncoding).toBe('identity,deflate,gzip');
  });

  it('refuses an oversized length prefix before buffering the message', async () => {
    const header = Buffer.from([0, 0x7f, 0xff, 0xff, 0xff]);
    const r = await call([header]);
    expect(r.status).toBe('8');
    expect(r.message).toMatch(/2147483647 bytes exceeds the limit of 1048576/);
  });

  it('refuses an undecodable message with INVALID_ARGUMENT', async () => {
    const r = await call([frame(Buffer.from([0x0a, 0x05, 0xff]))]);
    expect(r.status).toBe('3');
    expect(r.message).toMatch(/cannot decode request/);
  });

  it('counts outcomes by protocol and signal', async () => {
    const text = (await metrics.render()).body;
    expect(readMetric(text, 'otel_friction_receiver_requests_total', { protocol: 'grpc', signal: 'traces', outcome: 'success' })).toBe(2);
    expect(readMetric(text, 'otel_friction_receiver_accepted_spans_total', { protocol: 'grpc' })).toBe(20);
    expect(readMetric(text, 'otel_friction_receiver_requests_total', { protocol: 'grpc', outcome: 'too_large' })).toBe(1);
  });
});

describe('gRPC receive timeout', () => {
  it('answers DEADLINE_EXCEEDED to a call that stalls and gives its bytes back', async () => {
    const budget = new InflightBudget(1024 * 1024);
    const m = new SelfMetrics();
    const slowReceiver = new GrpcReceiver({
      endpoint: { host: '127.0.0.1', port: 0 },
      maxMessageBytes: 1024 * 1024,
      maxConcurrentStreams: 10,
      windowBytes: WINDOW,
      handler: new ExportHandler(new OtlpDecoder(), m),
      budget,
      buffers: new BufferPool(),
      metrics: m,
      logger: pino({ level: 'silent' }),
      receiveTimeoutMs: 200,
    });
    await slowReceiver.start();
    const s = http2.connect(`http://127.0.0.1:${slowReceiver.address?.port}`);
    try {
      const stream = s.request({ ':method': 'POST', ':path': GRPC_TRACES, 'content-type': 'application/grpc' });
      const status = new Promise<string>((resolve) => stream.on('response', (h) => resolve(String(h['grpc-status']))));
      stream.on('error', () => undefined);
      stream.write(frame(GOOD).subarray(0, 20));
      await expect.poll(() => budget.bytes).toBe(GOOD.length);
      expect(await status).toBe('4');
      expect(budget.bytes).toBe(0);
      expect(readMetric((await m.render()).body, 'otel_friction_receiver_requests_total', { outcome: 'timeout' })).toBe(1);
    } finally {
      s.destroy();
      await slowReceiver.shutdown(Date.now() + 1000);
    }
  });
});
