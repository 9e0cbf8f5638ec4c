import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/aggregate/clock.js';
import { type ForwardConfig, parseConfig } from '../../src/config/index.js';
import { Forwarder } from '../../src/forward/forwarder.js';
import { openStateDatabase } from '../../src/state/database.js';

const logger = pino({ level: 'silent' });
interface Got { url: string; headers: http.IncomingHttpHeaders; body: Buffer; raw: Buffer }
let got: Got[] = [];
let answer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 });
let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      got.push({ url: req.url ?? '', headers: req.headers, body: req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw, raw });
      const a = answer(got.length);
      res.writeHead(a.status, a.headers).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  got = [];
  answer = () => ({ status: 200 });
});

function config(yaml: string): ForwardConfig {
  return parseConfig(`forward:\n${yaml.replace(/^/gm, '  ')}\n`, { source: 't', env: {} }).forward;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('forwarder', () => {
  test('HTTP upstream: the original bytes, its content type, gzip on the wire, configured and passed-through headers', async () => {
    const f = new Forwarder(config(`metrics: { endpoint: "http://127.0.0.1:${port}", protocol: http/protobuf, headers: { x-api-key: k1 } }\npassthrough_headers: [X-Tenant]`), systemClock, logger);
    await f.start();
    const body = Buffer.from([0x0a, 0x02, 0x08, 0x01]);
    f.offer('metrics', 'protobuf', body, { 'x-tenant': 'blue', 'x-other': 'no' });
    f.offer('metrics', 'json', Buffer.from('{"resourceMetrics":[]}'), {});
    f.offer('traces', 'protobuf', body); // not configured: ignored
    await until(() => got.length === 2 && f.stats.forwarded.metrics === 2);
    // Requests go out several at a time: their order on arrival is not fixed.
    const proto = got.find((g) => g.headers['content-type'] === 'application/x-protobuf');
    expect(proto?.url).toBe('/v1/metrics');
    expect(proto?.body.equals(body)).toBe(true);
    expect(proto?.headers).toMatchObject({ 'content-encoding': 'gzip', 'x-api-key': 'k1', 'x-tenant': 'blue' });
    expect(proto?.headers['x-other']).toBeUndefined();
    expect(got.filter((g) => g.headers['content-type'] === 'application/json')).toHaveLength(1);
    expect(f.stats.forwarded).toEqual({ traces: 0, metrics: 2, logs: 0 });
    expect(await f.shutdown(Date.now() + 1000)).toBe(true);
  });

  test('retries 503 honouring Retry-After, drops a permanent 400, and keeps the copy independent of the caller buffer', async () => {
    answer = (n) => (n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : n === 3 ? { status: 400 } : { status: 200 });
    const f = new Forwarder(config(`traces: { endpoint: "http://127.0.0.1:${port}/v1/traces", protocol: http/protobuf, compression: none }\nretry: { initial_interval: 10ms }`), systemClock, logger);
    await f.start();
    const buf = Buffer.from('first');
    const t0 = Date.now();
    f.offer('traces', 'protobuf', buf);
    buf.write('XXXXX'); // the receiver reuses its buffers
    await until(() => f.stats.forwarded.traces === 1, 4000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(got.map((g) => g.body.toString())).toEqual(['first', 'first']);
    f.offer('traces', 'protobuf', Buffer.from('second'));
    await until(() => f.stats.dropped.rejected === 1);
    expect(got[0].url).toBe('/v1/traces');
    expect(f.stats.retries).toBe(1);
    await f.shutdown(Date.now() + 1000);
  });

  test('a full queue refuses (backpressure) or drops and counts (drop); OTLP/JSON is never sent over gRPC', async () => {
    const dead = `http://127.0.0.1:1`;
    const refuse = new Forwarder(config(`traces: { endpoint: "${dead}", protocol: http/protobuf }\nqueue: { max_mb: 0.001 }`), systemClock, logger);
    expect(refuse.refuses('traces')).toBe(false);
    refuse.offer('traces', 'protobuf', Buffer.alloc(2000));
    expect(refuse.refuses('traces')).toBe(true);
    expect(refuse.refuses('metrics')).toBe(false);
    expect(refuse.stats.refused).toBe(1);
    const drop = new Forwarder(config(`traces: { endpoint: "${dead}", protocol: http/protobuf }\nqueue: { max_mb: 0.001, when_full: drop }`), systemClock, logger);
    drop.offer('traces', 'protobuf', Buffer.alloc(800));
    drop.offer('traces', 'protobuf', Buffer.alloc(800));
    expect(drop.refuses('traces')).toBe(false);
    expect(drop.stats.dropped.queue_full).toBe(1);
    expect(drop.bytes).toBe(800);
    const grpc = new Forwarder(config(`logs: { endpoint: "${dead}" }`), systemClock, logger);
    grpc.offer('logs', 'json', Buffer.from('{}'));
    expect(grpc.stats.dropped.json_over_grpc).toBe(1);
    expect(grpc.bytes).toBe(0);
    for (const f of [refuse, drop, grpc]) await f.shutdown(Date.now() + 100);
    expect(refuse.stats.dropped.shutdown).toBe(1);
  });

  test('requests older than max_elapsed_time are dropped and counted', async () => {
    answer = () => ({ status: 503 });
    const f = new Forwarder(config(`traces: { endpoint: "http://127.0.0.1:${port}", protocol: http/protobuf }\nretry: { initial_interval: 20ms, max_interval: 40ms, max_elapsed_time: 200ms }`), systemClock, logger);
    await f.start();
    f.offer('traces', 'protobuf', Buffer.from('x'));
    await until(() => f.stats.dropped.expired === 1, 3000);
    expect(f.bytes).toBe(0);
    await f.shutdown(Date.now() + 500);
  });

  test("a gzip request bound for a gzip upstream keeps the client's compressed bytes; other targets get the body", async () => {
    const body = Buffer.from('span data '.repeat(500));
    // Level 9: our own recompression (level 1) would give other bytes, so equality proves a relay.
    const gz = gzipSync(body, { level: 9 });
    const f = new Forwarder(config(`traces: { endpoint: "http://127.0.0.1:${port}", protocol: http/protobuf }\nmetrics: { endpoint: "http://127.0.0.1:${port}", protocol: http/protobuf, compression: none }`), systemClock, logger);
    await f.start();
    f.offer('traces', 'protobuf', body, {}, { compression: 'gzip', body: gz });
    await until(() => f.stats.forwarded.traces === 1);
    expect(got[0].raw.equals(gz)).toBe(true);
    expect(got[0].headers['content-encoding']).toBe('gzip');
    f.offer('metrics', 'protobuf', body, {}, { compression: 'gzip', body: gz });
    await until(() => f.stats.forwarded.metrics === 1);
    expect(got[1].raw.equals(body)).toBe(true);
    expect(got[1].headers['content-encoding']).toBeUndefined();
    // deflate is not what the upstream was configured for: decompressed, gzipped by us.
    f.offer('traces', 'protobuf', body, {}, { compression: 'deflate', body: deflateSync(body) });
    await until(() => f.stats.forwarded.traces === 2);
    expect(got[2].body.equals(body)).toBe(true);
    expect(got[2].raw.equals(gz)).toBe(false);
    await f.shutdown(Date.now() + 1000);
  });

  test('a spilled gzip relay stays gzip across a restart, even when the target stopped compressing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fwd-spill-'));
    try {
      const body = Buffer.from('metric data '.repeat(300));
      const gz = gzipSync(body, { level: 9 });
      let db = openStateDatabase(dir);
      const down = new Forwarder(config(`traces: { endpoint: "http://127.0.0.1:1", protocol: http/protobuf }\nqueue: { spill: true }`), systemClock, logger, db);
      down.offer('traces', 'protobuf', body, {}, { compression: 'gzip', body: gz });
      expect(down.bytes).toBe(gz.length);
      db.close();
      db = openStateDatabase(dir);
      const up = new Forwarder(config(`traces: { endpoint: "http://127.0.0.1:${port}", protocol: http/protobuf, compression: none }\nqueue: { spill: true }`), systemClock, logger, db);
      await up.start();
      await until(() => up.stats.forwarded.traces === 1);
      expect(got[0].raw.equals(gz)).toBe(true);
      expect(got[0].headers['content-encoding']).toBe('gzip');
      await up.shutdown(Date.now() + 1000);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
