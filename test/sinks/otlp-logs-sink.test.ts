/**
 * The `otlp_logs` sink against real servers: a node:http and a grpc-js server that decode what
 * arrives with protobufjs from the repository's .proto files, a raw HTTP/2 server to see gRPC
 * compression on the wire, and the otel-friction sidecar itself as a real OTLP logs receiver.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type Logger, pino } from 'pino';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SinkConfigOf, defaultConfig, parseConfig } from '../../src/config/index.js';
import { startSidecar } from '../../src/main.js';
import { encodeExportLogsRequest } from '../../src/sinks/otlp-logs-encoding.js';
import { OtlpLogsSink, logsUrl } from '../../src/sinks/otlp-logs-sink.js';
import { type Delivery, DeliveryError, type SinkContext } from '../../src/sinks/sink.js';
import { GRPC_LOGS } from '../support/clients.js';
import { ExportLogsServiceRequest, ExportLogsServiceResponse, Status } from '../support/otlp-proto.js';
import { freePort, readMetric } from '../support/sidecar-process.js';
import { sampleDelivery } from '../support/signals.js';

const silent = pino({ level: 'silent' });

function context(logger = silent): SinkContext {
  return { name: 'otlp_logs[0]', logger, firing: () => [], externalUrl: 'http://127.0.0.1:13133' };
}

// From the schema (YAML → defaults), so the test follows fields added to the sink config.
const baseConfig = parseConfig('sinks:\n  - type: otlp_logs\n    endpoint: http://127.0.0.1:4318\n').sinks[0] as SinkConfigOf<'otlp_logs'>;

function sinkConfig(over: Partial<SinkConfigOf<'otlp_logs'>>): SinkConfigOf<'otlp_logs'> {
  return { ...baseConfig, timeout: 5000, ...over };
}

/** A logger that keeps its JSON lines, to see the partial-success warning. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) }), lines };
}

// ---- decoding what arrived, with protobufjs ----

interface AnyValue { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number; arrayValue?: { values?: AnyValue[] } }
interface KeyValue { key: string; value: AnyValue }
interface LogRecord {
  timeUnixNano: string; observedTimeUnixNano: string; severityNumber?: number; severityText?: string;
  body?: AnyValue; attributes: KeyValue[]; traceId?: string; spanId?: string; eventName?: string;
}
interface Request { resourceLogs: Array<{ resource: { attributes: KeyValue[] }; scopeLogs: Array<{ scope: { name: string; version?: string }; logRecords: LogRecord[] }> }> }

function decode(buf: Buffer): Request {
  const msg = ExportLogsServiceRequest.decode(buf);
  return ExportLogsServiceRequest.toObject(msg, { longs: String, enums: Number, bytes: String, arrays: true }) as Request;
}

function plain(v: AnyValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return `int:${v.intValue}`;
  if (v.doubleValue !== undefined) return v.doubleValue;
  return (v.arrayValue?.values ?? []).map(plain);
}

function attrs(kvs: KeyValue[]): Record<string, unknown> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, plain(kv.value)]));
}

const hex = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('hex');
const nanos = (iso: string): string => (BigInt(Date.parse(iso)) * 1_000_000n).toString();

async function failure(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DeliveryError);
    return err as DeliveryError;
  }
  throw new Error('expected the delivery to fail');
}

// ---- a node:http OTLP endpoint ----

interface Received { url: string; headers: http.IncomingHttpHeaders; body: Buffer }
type HttpReply = { status: number; headers?: Record<string, string>; body?: Buffer | string } | 'hang';

const httpReceived: Received[] = [];
let httpReply: (r: Received) => HttpReply = () => ({ status: 200 });
const httpServer = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const r: Received = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    httpReceived.push(r);
    const reply = httpReply(r);
    if (reply === 'hang') return;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  });
});
let httpBase = '';

// ---- a grpc-js OTLP endpoint ----

interface GrpcReceived { metadata: grpc.Metadata; body: Buffer }
const grpcReceived: GrpcReceived[] = [];
let grpcReply: (r: GrpcReceived) => { error?: Partial<grpc.StatusObject>; response?: Buffer } = () => ({ response: Buffer.alloc(0) });
const identity = (b: Buffer): Buffer => b;
const logsService: grpc.ServiceDefinition = {
  Export: { path: GRPC_LOGS, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};
const grpcServer = new grpc.Server();
grpcServer.addService(logsService, {
  Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    const r = { metadata: call.metadata, body: call.request };
    grpcReceived.push(r);
    const reply = grpcReply(r);
    if (reply.error) callback(reply.error, null);
    else callback(null, reply.response);
  },
});
let grpcEndpoint = '';

// ---- a raw HTTP/2 gRPC endpoint, to see the compressed flag and grpc-encoding ----

const rawGrpc: Array<{ encoding: string | undefined; compressed: number; message: Buffer }> = [];
const h2Server = http2.createServer();
h2Server.on('stream', (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    const frame = Buffer.concat(chunks);
    const compressed = frame[0];
    const payload = frame.subarray(5, 5 + frame.readUInt32BE(1));
    rawGrpc.push({ encoding: headers['grpc-encoding'] as string | undefined, compressed, message: compressed ? gunzipSync(payload) : payload });
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
});
let h2Endpoint = '';

let deadPort = 0;
const sinks: OtlpLogsSink[] = [];
function sink(over: Partial<SinkConfigOf<'otlp_logs'>>, logger = silent): OtlpLogsSink {
  const s = new OtlpLogsSink(sinkConfig(over), context(logger));
  sinks.push(s);
  return s;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  httpBase = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  grpcEndpoint = `http://127.0.0.1:${grpcPort}`;
  await new Promise<void>((resolve) => h2Server.listen(0, '127.0.0.1', resolve));
  h2Endpoint = `http://127.0.0.1:${(h2Server.address() as AddressInfo).port}`;
  deadPort = await freePort();
});

afterAll(async () => {
  await Promise.all(sinks.map((s) => s.close()));
  httpServer.closeAllConnections();
  await new Promise((resolve) => httpServer.close(resolve));
  grpcServer.forceShutdown();
  await new Promise((resolve) => h2Server.close(resolve));
});

const firing = sampleDelivery(1, 'firing');

function expectFiringRecord(req: Request, observedFrom: bigint, observedTo: bigint): void {
  expect(req.resourceLogs).toHaveLength(1);
  const rl = req.resourceLogs[0];
  expect(attrs(rl.resource.attributes)).toEqual({ 'service.name': 'checkout' });
  expect(rl.scopeLogs[0].scope).toMatchObject({ name: 'otel-friction', version: '0.1.0' });
  const [r] = rl.scopeLogs[0].logRecords;
  expect(r.severityNumber).toBe(17);
  expect(r.severityText).toBe('ERROR');
  expect(plain(r.body)).toBe('checkout receives 2% of its usual requests.');
  expect(r.eventName).toBe('friction.signal.firing');
  expect(r.timeUnixNano).toBe(nanos(firing.signal.updatedAt));
  expect(BigInt(r.observedTimeUnixNano)).toBeGreaterThanOrEqual(observedFrom);
  expect(BigInt(r.observedTimeUnixNano)).toBeLessThanOrEqual(observedTo);
  expect(hex(r.traceId)).toBe('a'.repeat(32));
  expect(hex(r.spanId)).toBe('b'.repeat(16));
  expect(attrs(r.attributes)).toEqual({
    'event.name': 'friction.signal.firing',
    'friction.id': 'id-1',
    'friction.fingerprint': 'f'.repeat(16),
    'friction.kind': 'traffic_drop',
    'friction.status': 'firing',
    'friction.severity': 'critical',
    'friction.priority': 'int:80',
    'friction.operation': 'POST /cart',
    'friction.outcomes': ['revenue'],
    'friction.owner': 'team-payments',
    'friction.title': 'checkout: traffic dropped',
    'friction.transition': 'firing',
    'friction.sequence': 'int:1',
    'friction.key': firing.key,
    'friction.starts_at': '2026-11-25T00:00:00.000Z',
    'friction.updated_at': '2026-11-25T00:00:00.000Z',
    'friction.evidence': '{"ratio":0.02}',
    'friction.exemplars': JSON.stringify(firing.signal.exemplars),
  });
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

describe('otlp_logs over HTTP/protobuf', () => {
  test('POSTs one ExportLogsServiceRequest whose record carries the signal', async () => {
    httpReply = () => ({ status: 200, headers: { 'content-type': 'application/x-protobuf' } });
    httpReceived.length = 0;
    const from = nowNs();
    await sink({ endpoint: httpBase, headers: { Authorization: 'Bearer t0k', 'Content-Type': 'text/plain' } }).deliver([firing]);
    const to = nowNs();
    expect(httpReceived).toHaveLength(1);
    const [r] = httpReceived;
    expect(r.url).toBe('/v1/logs');
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(r.headers.authorization).toBe('Bearer t0k');
    expect(r.headers['user-agent']).toBe('otel-friction/0.1.0');
    expect(r.headers['content-encoding']).toBeUndefined();
    expectFiringRecord(decode(r.body), from, to);
  });

  test('groups records by service and maps warning, resolved and missing exemplars', async () => {
    httpReceived.length = 0;
    httpReply = () => ({ status: 200 });
    const warning = sampleDelivery(2, 'updated', { severity: 'warning', slo: 'availability', metric: 'http.errors', exemplars: [] });
    const resolved = sampleDelivery(3, 'resolved');
    const other = sampleDelivery(1, 'firing', { service: 'search', severity: 'info', exemplars: [{ traceId: 'zz', spanId: 'b'.repeat(16), durationMs: 1, error: true }] });
    await sink({ endpoint: `${httpBase}/` }).deliver([warning, other, resolved]);
    const req = decode(httpReceived[0].body);
    expect(req.resourceLogs.map((rl) => attrs(rl.resource.attributes)['service.name'])).toEqual(['checkout', 'search']);
    const [w, res] = req.resourceLogs[0].scopeLogs[0].logRecords;
    expect([w.severityNumber, w.severityText, w.eventName]).toEqual([13, 'WARN', 'friction.signal.updated']);
    expect(attrs(w.attributes)).toMatchObject({ 'friction.slo': 'availability', 'friction.metric': 'http.errors', 'friction.sequence': 'int:2' });
    expect(w.traceId).toBeUndefined();
    expect(attrs(w.attributes)['friction.exemplars']).toBeUndefined();
    expect([res.severityNumber, res.severityText, res.eventName]).toEqual([9, 'INFO', 'friction.signal.resolved']);
    expect(res.timeUnixNano).toBe(nanos('2026-11-25T00:10:00.000Z'));
    expect(plain(res.body)).toBe('Resolved: checkout: traffic dropped (was: checkout receives 2% of its usual requests.)');
    expect(attrs(res.attributes)).toMatchObject({ 'friction.status': 'resolved', 'friction.severity': 'critical', 'friction.ends_at': '2026-11-25T00:10:00.000Z' });
    const [info] = req.resourceLogs[1].scopeLogs[0].logRecords;
    expect([info.severityNumber, info.severityText]).toEqual([9, 'INFO']);
    // A malformed exemplar id is left out rather than sent as a record the receiver refuses.
    expect(info.traceId).toBeUndefined();
    expect(info.spanId).toBeUndefined();
  });

  test('keeps an endpoint ending in /v1/logs and appends it to any other path', async () => {
    expect(logsUrl('http://c:4318').href).toBe('http://c:4318/v1/logs');
    expect(logsUrl('http://c:4318/otlp/').href).toBe('http://c:4318/otlp/v1/logs');
    expect(logsUrl('https://c/custom/v1/logs').href).toBe('https://c/custom/v1/logs');
    httpReceived.length = 0;
    await sink({ endpoint: `${httpBase}/custom/v1/logs` }).deliver([firing]);
    await sink({ endpoint: `${httpBase}/otlp` }).deliver([firing]);
    expect(httpReceived.map((r) => r.url)).toEqual(['/custom/v1/logs', '/otlp/v1/logs']);
  });

  test('gzip: the body is compressed and decodes to the same request', async () => {
    httpReceived.length = 0;
    const from = nowNs();
    await sink({ endpoint: httpBase, compression: 'gzip' }).deliver([firing]);
    const [r] = httpReceived;
    expect(r.headers['content-encoding']).toBe('gzip');
    expectFiringRecord(decode(gunzipSync(r.body)), from, nowNs());
  });

  test('a partial success is logged as a warning, not failed', async () => {
    const body = ExportLogsServiceResponse.encode(ExportLogsServiceResponse.fromObject({ partialSuccess: { rejectedLogRecords: 1, errorMessage: 'attribute too long' } })).finish();
    httpReply = () => ({ status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });
    const { logger, lines } = capturingLogger();
    await sink({ endpoint: httpBase }, logger).deliver([firing, sampleDelivery(2)]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, sink: 'otlp_logs[0]', rejected: 1, message: 'attribute too long', batch: 2 });
  });

  test('classifies failures: 503 + Retry-After and 429 retry, 400 is permanent, dead port and timeout retry', async () => {
    httpReply = () => ({ status: 503, headers: { 'retry-after': '7' } });
    const busy = await failure(sink({ endpoint: httpBase }).deliver([firing]));
    expect([busy.permanent, busy.retryAfterMs]).toEqual([false, 7000]);

    httpReply = () => ({ status: 429 });
    expect((await failure(sink({ endpoint: httpBase }).deliver([firing]))).permanent).toBe(false);

    const status = Status.encode(Status.fromObject({ code: 3, message: 'bad log record' })).finish();
    httpReply = () => ({ status: 400, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(status) });
    const bad = await failure(sink({ endpoint: httpBase }).deliver([firing]));
    expect(bad.permanent).toBe(true);
    expect(bad.message).toContain('HTTP 400: bad log record');

    const dead = await failure(sink({ endpoint: `http://127.0.0.1:${deadPort}` }).deliver([firing]));
    expect(dead.permanent).toBe(false);

    httpReply = () => 'hang';
    const slow = await failure(sink({ endpoint: httpBase, timeout: 200 }).deliver([firing]));
    expect(slow.permanent).toBe(false);
    expect(slow.message).toContain('timed out');
    httpServer.closeAllConnections();
    httpReply = () => ({ status: 200 });
  });
});

describe('otlp_logs over gRPC', () => {
  test('calls LogsService/Export with the record and the headers as metadata', async () => {
    grpcReceived.length = 0;
    grpcReply = () => ({ response: Buffer.alloc(0) });
    const from = nowNs();
    await sink({ endpoint: grpcEndpoint, protocol: 'grpc', headers: { 'X-Tenant': 'acme' } }).deliver([firing]);
    expect(grpcReceived).toHaveLength(1);
    expect(grpcReceived[0].metadata.get('x-tenant')).toEqual(['acme']);
    expect(String(grpcReceived[0].metadata.get('user-agent')[0])).toMatch(/^otel-friction\/0\.1\.0/);
    expectFiringRecord(decode(grpcReceived[0].body), from, nowNs());
  });

  test('a partial success is logged as a warning', async () => {
    const body = ExportLogsServiceResponse.encode(ExportLogsServiceResponse.fromObject({ partialSuccess: { rejectedLogRecords: 3 } })).finish();
    grpcReply = () => ({ response: Buffer.from(body) });
    const { logger, lines } = capturingLogger();
    await sink({ endpoint: grpcEndpoint, protocol: 'grpc' }, logger).deliver([firing]);
    expect(lines[0]).toMatchObject({ rejected: 3 });
  });

  test('classifies status codes: UNAVAILABLE (with RetryInfo) and RESOURCE_EXHAUSTED retry, INVALID_ARGUMENT is permanent, dead port retries', async () => {
    // google.rpc.RetryInfo { retry_delay: Duration { seconds: 2, nanos: 500_000_000 } }
    const retryInfo = protobuf.Writer.create().uint32(10).fork().uint32(8).int64(2).uint32(16).int32(500_000_000).ldelim().finish();
    const details = Status.encode(Status.fromObject({ code: 14, message: 'busy', details: [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo }] })).finish();
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', Buffer.from(details));
    grpcReply = () => ({ error: { code: grpc.status.UNAVAILABLE, details: 'busy', metadata } });
    const busy = await failure(sink({ endpoint: grpcEndpoint, protocol: 'grpc' }).deliver([firing]));
    expect([busy.permanent, busy.retryAfterMs]).toEqual([false, 2500]);
    expect(busy.message).toContain('UNAVAILABLE: busy');

    grpcReply = () => ({ error: { code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down' } });
    expect((await failure(sink({ endpoint: grpcEndpoint, protocol: 'grpc' }).deliver([firing]))).permanent).toBe(false);

    grpcReply = () => ({ error: { code: grpc.status.INVALID_ARGUMENT, details: 'no' } });
    const bad = await failure(sink({ endpoint: grpcEndpoint, protocol: 'grpc' }).deliver([firing]));
    expect(bad.permanent).toBe(true);
    expect(bad.message).toContain('INVALID_ARGUMENT: no');

    const dead = await failure(sink({ endpoint: `http://127.0.0.1:${deadPort}`, protocol: 'grpc' }).deliver([firing]));
    expect(dead.permanent).toBe(false);
    expect(dead.message).toContain('UNAVAILABLE');
    grpcReply = () => ({ response: Buffer.alloc(0) });
  });

  test('gzip: grpc-encoding gzip and a compressed message that decodes', async () => {
    rawGrpc.length = 0;
    const from = nowNs();
    await sink({ endpoint: h2Endpoint, protocol: 'grpc', compression: 'gzip' }).deliver([firing]);
    expect(rawGrpc).toHaveLength(1);
    expect(rawGrpc[0].encoding).toBe('gzip');
    expect(rawGrpc[0].compressed).toBe(1);
    expectFiringRecord(decode(rawGrpc[0].message), from, nowNs());
  });

  test('close is idempotent and a closed sink refuses with a retryable error', async () => {
    const s = sink({ endpoint: grpcEndpoint, protocol: 'grpc' });
    await s.close();
    await s.close();
    expect((await failure(s.deliver([firing]))).permanent).toBe(false);
  });
});

describe('encoding', () => {
  test('every attribute value kind survives a protobufjs decode', () => {
    const buf = encodeExportLogsRequest([{
      resource: [['service.name', '']],
      scope: { name: 's' },
      records: [{
        timeUnixNano: 2n ** 63n + 5n, observedTimeUnixNano: 1n, severityNumber: 0, severityText: '', body: 'é ✓', eventName: '',
        attributes: [['b', false], ['i', -3n], ['d', 0.5], ['z', 0n], ['a', ['x', '']], ['long', 'x'.repeat(300)]],
      }],
    }]);
    const req = decode(buf);
    const r = req.resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(r.timeUnixNano).toBe((2n ** 63n + 5n).toString());
    expect(plain(r.body)).toBe('é ✓');
    expect(attrs(r.attributes)).toEqual({ b: false, i: 'int:-3', d: 0.5, z: 'int:0', a: ['x', ''], long: 'x'.repeat(300) });
    expect(attrs(req.resourceLogs[0].resource.attributes)).toEqual({ 'service.name': '' });
  });
});

/** An OTLP receiver of otel-friction, its ports and its Prometheus text. */
interface FrictionReceiver {
  httpPort: number;
  grpcPort: number;
  scrape(): Promise<string>;
  stop(): Promise<unknown>;
}

/** The whole sidecar, in-process, on free ports; GET /metrics from its admin server. */
async function wholeSidecar(stateDir: string): Promise<FrictionReceiver> {
  const config = defaultConfig();
  config.receivers.otlp.protocols.grpc.endpoint = { host: '127.0.0.1', port: 0 };
  config.receivers.otlp.protocols.http.endpoint = { host: '127.0.0.1', port: 0 };
  config.admin.endpoint = { host: '127.0.0.1', port: 0 };
  config.state.path = stateDir;
  config.sinks = [];
  const s = await startSidecar(config, { logger: silent });
  return {
    httpPort: s.http?.port ?? 0, grpcPort: s.grpc?.port ?? 0,
    scrape: async () => (await fetch(`http://127.0.0.1:${s.admin?.port}/metrics`)).text(),
    stop: () => s.shutdown(),
  };
}

describe('otlp_logs into the otel-friction sidecar', () => {
  let receiver: FrictionReceiver;
  const stateDir = mkdtempSync(join(tmpdir(), 'friction-otlp-logs-'));

  beforeAll(async () => {
    receiver = await wholeSidecar(stateDir);
  });

  afterAll(async () => {
    await receiver?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const batch: Delivery[] = [sampleDelivery(1), sampleDelivery(2, 'updated', { severity: 'warning' }), sampleDelivery(3, 'resolved', { service: 'search' })];
  const accepted = async (protocol: 'grpc' | 'http'): Promise<number> =>
    readMetric(await receiver.scrape(), 'otel_friction_receiver_accepted_log_records_total', { protocol });

  for (const [protocol, compression] of [['http/protobuf', 'none'], ['http/protobuf', 'gzip'], ['grpc', 'none'], ['grpc', 'gzip']] as const) {
    test(`${protocol} ${compression}: the receiver accepts every record of the batch`, async () => {
      const label = protocol === 'grpc' ? 'grpc' : 'http';
      const before = await accepted(label);
      const port = protocol === 'grpc' ? receiver.grpcPort : receiver.httpPort;
      await sink({ endpoint: `http://127.0.0.1:${port}`, protocol, compression }).deliver(batch);
      await expect.poll(() => accepted(label)).toBe(before + batch.length);
      expect(await readMetric(await receiver.scrape(), 'otel_friction_receiver_refused_log_records_total')).toBe(0);
    });
  }
});
