/**
 * TLS, mTLS and bearer-token auth on both receivers, driven by the official OpenTelemetry JS
 * exporters (gRPC, HTTP/protobuf, HTTP/JSON) with certificates made by the openssl CLI for
 * the run: a throwaway CA, a server certificate for 127.0.0.1/localhost, a client certificate,
 * and a client certificate from another CA that must not pass.
 */
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as TracesGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TracesJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TracesProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverAuthConfig, ServerTlsConfig } from '../../src/config/index.js';
import { isFrictionError } from '../../src/errors.js';
import { OtlpDecoder } from '../../src/otlp/decoder.js';
import type { SpanBatch } from '../../src/otlp/batch.js';
import { BufferPool } from '../../src/receiver/buffer-pool.js';
import { ExportHandler, type TelemetryConsumer } from '../../src/receiver/export-handler.js';
import { GrpcReceiver } from '../../src/receiver/grpc-receiver.js';
import { HttpReceiver } from '../../src/receiver/http-receiver.js';
import { InflightBudget } from '../../src/receiver/inflight.js';
import { SelfMetrics } from '../../src/telemetry/metrics.js';
import { GRPC_TRACES, RawGrpcClient, httpRequest, traceRequest } from '../support/clients.js';
import { Status } from '../support/otlp-proto.js';
import { readMetric } from '../support/sidecar-process.js';

let dir: string;
const pem = (name: string): Buffer => readFileSync(join(dir, name));
const file = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

function makeLeaf(name: string, ca: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(file(`${name}.ext`), ext);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'friction-tls-'));
  makeCa('ca');
  makeCa('rogue-ca');
  makeLeaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  makeLeaf('client', 'ca', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  makeLeaf('rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Recorder implements TelemetryConsumer {
  spans = 0;
  consumeSpans(batch: SpanBatch): void {
    this.spans += batch.length;
  }
  consumePoints(): void {}
  consumeLogs(): void {}
}

interface Setup {
  grpc: GrpcReceiver;
  http: HttpReceiver;
  grpcPort: number;
  httpPort: number;
  metrics: SelfMetrics;
  consumer: Recorder;
  logs: string[];
}

const running: Array<GrpcReceiver | HttpReceiver> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.shutdown(Date.now() + 2000);
});

const serverTls = (mtls = false): ServerTlsConfig => ({ cert_file: file('server.crt'), key_file: file('server.key'), client_ca_file: mtls ? file('ca.crt') : '' });
const NO_TLS: ServerTlsConfig = { cert_file: '', key_file: '', client_ca_file: '' };

function receivers(options: { tls?: ServerTlsConfig; auth?: ReceiverAuthConfig } = {}): { grpc: GrpcReceiver; http: HttpReceiver; metrics: SelfMetrics; consumer: Recorder; logs: string[] } {
  const metrics = new SelfMetrics();
  const consumer = new Recorder();
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(line) });
  const common = {
    endpoint: { host: '127.0.0.1', port: 0 },
    handler: new ExportHandler(new OtlpDecoder(), metrics, consumer),
    budget: new InflightBudget(64 * 1024 * 1024),
    buffers: new BufferPool(),
    metrics,
    logger,
    tls: options.tls,
    auth: options.auth,
    authPollMs: 50,
  };
  const grpcReceiver = new GrpcReceiver({ ...common, maxMessageBytes: 4 * 1024 * 1024, maxConcurrentStreams: 50, windowBytes: 8 * 1024 * 1024 });
  const httpReceiver = new HttpReceiver({ ...common, maxBodyBytes: 4 * 1024 * 1024 });
  return { grpc: grpcReceiver, http: httpReceiver, metrics, consumer, logs };
}

async function start(options: { tls?: ServerTlsConfig; auth?: ReceiverAuthConfig } = {}): Promise<Setup> {
  const r = receivers(options);
  await r.grpc.start();
  running.push(r.grpc);
  await r.http.start();
  running.push(r.http);
  return { ...r, grpcPort: r.grpc.address?.port as number, httpPort: r.http.address?.port as number };
}

/** How a test client connects: TLS (trusting the test CA), with which client certificate, which token. */
interface Client {
  tls?: boolean;
  cert?: 'client' | 'rogue';
  token?: string;
}

function grpcExporter(port: number, c: Client): SpanExporter {
  const metadata = new grpc.Metadata();
  if (c.token !== undefined) metadata.set('authorization', `Bearer ${c.token}`);
  const credentials = !c.tls
    ? grpc.credentials.createInsecure()
    : c.cert === undefined ? grpc.credentials.createSsl(pem('ca.crt')) : grpc.credentials.createSsl(pem('ca.crt'), pem(`${c.cert}.key`), pem(`${c.cert}.crt`));
  // Over TLS by name (the certificate's DNS SAN): grpc-js would send an IP as the TLS server name, which Node warns about.
  return new TracesGrpc({ url: c.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`, credentials, metadata, timeoutMillis: 3000 });
}

function httpExporter(port: number, c: Client, json = false): SpanExporter {
  const url = `${c.tls ? 'https' : 'http'}://127.0.0.1:${port}/v1/traces`;
  const headers: Record<string, string> = c.token !== undefined ? { authorization: `Bearer ${c.token}` } : {};
  const httpAgentOptions = c.tls ? { ca: pem('ca.crt'), ...(c.cert !== undefined ? { cert: pem(`${c.cert}.crt`), key: pem(`${c.cert}.key`) } : {}), keepAlive: false } : { keepAlive: false };
  const options = { url, headers, httpAgentOptions, timeoutMillis: 3000 };
  return json ? new TracesJson(options) : new TracesProto(options);
}

function finishedSpans(n: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('tls-auth');
  for (let i = 0; i < n; i++) tracer.startSpan(`GET /items/${i}`).end();
  return memory.getFinishedSpans();
}

/** The export's result; `error.code` is the gRPC status or the HTTP status. */
interface Sent {
  ok: boolean;
  error?: Error & { code?: number; data?: string; details?: string; metadata?: grpc.Metadata };
}

async function send(exporter: SpanExporter, spans = 3): Promise<Sent> {
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(finishedSpans(spans), resolve));
  await exporter.shutdown();
  return { ok: result.code === 0, error: result.error as Sent['error'] };
}

const unauthenticated = async (s: Setup, protocol: string): Promise<number> =>
  readMetric((await s.metrics.render()).body, 'otel_friction_receiver_requests_total', { protocol, outcome: 'unauthenticated' });

describe('TLS', () => {
  it('gRPC and HTTP (protobuf and JSON) exporters that trust the CA deliver spans', async () => {
    const s = await start({ tls: serverTls() });
    expect((await send(grpcExporter(s.grpcPort, { tls: true }), 3)).ok).toBe(true);
    expect((await send(httpExporter(s.httpPort, { tls: true }), 4)).ok).toBe(true);
    expect((await send(httpExporter(s.httpPort, { tls: true }, true), 5)).ok).toBe(true);
    expect(s.consumer.spans).toBe(12);
  });

  it('a plaintext client cannot talk to a TLS port, and the port keeps serving', async () => {
    const s = await start({ tls: serverTls() });
    expect((await send(grpcExporter(s.grpcPort, {}))).ok).toBe(false);
    expect((await send(httpExporter(s.httpPort, {}))).ok).toBe(false);
    expect(s.consumer.spans).toBe(0);
    expect((await send(grpcExporter(s.grpcPort, { tls: true }), 2)).ok).toBe(true);
    expect((await send(httpExporter(s.httpPort, { tls: true }), 2)).ok).toBe(true);
    expect(s.consumer.spans).toBe(4);
  });

  it('without TLS the receivers stay plaintext', async () => {
    const s = await start({ tls: NO_TLS });
    expect((await send(grpcExporter(s.grpcPort, {}), 1)).ok).toBe(true);
    expect((await send(httpExporter(s.httpPort, {}), 1)).ok).toBe(true);
    expect(s.consumer.spans).toBe(2);
  });
});

describe('mTLS', () => {
  it('a client with a certificate from the client CA is accepted', async () => {
    const s = await start({ tls: serverTls(true) });
    expect((await send(grpcExporter(s.grpcPort, { tls: true, cert: 'client' }), 3)).ok).toBe(true);
    expect((await send(httpExporter(s.httpPort, { tls: true, cert: 'client' }), 3)).ok).toBe(true);
    expect(s.consumer.spans).toBe(6);
  });

  it('a client without a certificate, or with one from another CA, is refused at the handshake', async () => {
    const s = await start({ tls: serverTls(true) });
    for (const c of [{ tls: true }, { tls: true, cert: 'rogue' as const }]) {
      const viaGrpc = await send(grpcExporter(s.grpcPort, c));
      expect(viaGrpc.ok).toBe(false);
      expect(viaGrpc.error?.code).toBe(grpc.status.UNAVAILABLE);
      expect((await send(httpExporter(s.httpPort, c))).ok).toBe(false);
    }
    expect(s.consumer.spans).toBe(0);
    // Nothing reached the request handling: no request was counted at all.
    expect(readMetric((await s.metrics.render()).body, 'otel_friction_receiver_requests_total')).toBe(0);
    // And the refusals did not hurt the servers.
    expect((await send(grpcExporter(s.grpcPort, { tls: true, cert: 'client' }), 1)).ok).toBe(true);
    expect((await send(httpExporter(s.httpPort, { tls: true, cert: 'client' }), 1)).ok).toBe(true);
    expect(s.consumer.spans).toBe(2);
  });
});

describe('start-up errors', () => {
  it('an unreadable certificate is FRICTION_ERR_TLS_CONFIG naming the setting, and nothing listens', async () => {
    const r = receivers({ tls: { ...serverTls(), cert_file: file('missing.crt') } });
    const err = await r.grpc.start().catch((e: unknown) => e);
    expect(isFrictionError(err, 'TLS_CONFIG')).toBe(true);
    expect((err as Error).message).toContain('receivers.otlp.protocols.grpc.tls.cert_file');
    expect(r.grpc.address).toBeUndefined();
    expect(await r.grpc.shutdown(Date.now() + 100)).toBe(true);
  });

  it('a key that does not belong to the certificate, or a CA file without PEM, is FRICTION_ERR_TLS_CONFIG', async () => {
    const r = receivers({ tls: { ...serverTls(), key_file: file('client.key') } });
    const err = await r.http.start().catch((e: unknown) => e);
    expect(isFrictionError(err, 'TLS_CONFIG')).toBe(true);
    expect((err as Error).message).toContain('receivers.otlp.protocols.http.tls');
    writeFileSync(file('not-a-ca.pem'), 'hello\n');
    const r2 = receivers({ tls: { ...serverTls(), client_ca_file: file('not-a-ca.pem') } });
    expect(isFrictionError(await r2.grpc.start().catch((e: unknown) => e), 'TLS_CONFIG')).toBe(true);
  });

  it('a missing token file is FRICTION_ERR_AUTH_CONFIG', async () => {
    const r = receivers({ auth: { bearer_tokens_file: file('no-tokens') } });
    expect(isFrictionError(await r.http.start().catch((e: unknown) => e), 'AUTH_CONFIG')).toBe(true);
    expect(isFrictionError(await r.grpc.start().catch((e: unknown) => e), 'AUTH_CONFIG')).toBe(true);
  });
});

describe('bearer auth', () => {
  const tokens = (name: string, ...list: string[]): ReceiverAuthConfig => {
    writeFileSync(file(name), `# test tokens\n${list.join('\n')}\n`);
    return { bearer_tokens_file: file(name) };
  };

  it('gRPC: no token or a wrong one is UNAUTHENTICATED (16) with a Status; the right one is accepted', async () => {
    const s = await start({ auth: tokens('grpc-tokens', 'grpc-secret-1') });
    const none = await send(grpcExporter(s.grpcPort, {}));
    expect(none.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(none.error?.details).toMatch(/bearer token is required/);
    const details = none.error?.metadata?.get('grpc-status-details-bin')[0] as Buffer;
    expect(Status.toObject(Status.decode(details))).toMatchObject({ code: 16 });
    const wrong = await send(grpcExporter(s.grpcPort, { token: 'grpc-secret-2' }));
    expect(wrong.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(wrong.error?.details).toMatch(/not accepted/);
    expect(s.consumer.spans).toBe(0);
    expect((await send(grpcExporter(s.grpcPort, { token: 'grpc-secret-1' }), 3)).ok).toBe(true);
    expect(s.consumer.spans).toBe(3);
    // A raw client without metadata: same answer, and the body was never taken in.
    const raw = new RawGrpcClient(s.grpcPort);
    expect((await raw.call(GRPC_TRACES, traceRequest(5))).code).toBe(16);
    raw.close();
    expect(await unauthenticated(s, 'grpc')).toBe(3);
    expect(readMetric((await s.metrics.render()).body, 'otel_friction_receiver_received_bytes_total', { protocol: 'grpc' })).toBeGreaterThan(0);
  });

  it('HTTP: no token or a wrong one is 401 with WWW-Authenticate and a Status body; the right one is accepted', async () => {
    const s = await start({ auth: tokens('http-tokens', 'http-secret-1') });
    const none = await send(httpExporter(s.httpPort, {}));
    expect(none.error?.code).toBe(401);
    const wrongJson = await send(httpExporter(s.httpPort, { token: 'nope' }, true));
    expect(wrongJson.error?.code).toBe(401);
    expect(JSON.parse(wrongJson.error?.data ?? '')).toMatchObject({ code: 16, message: expect.stringMatching(/not accepted/) });
    expect(s.consumer.spans).toBe(0);
    expect((await send(httpExporter(s.httpPort, { token: 'http-secret-1' }), 2)).ok).toBe(true);
    expect((await send(httpExporter(s.httpPort, { token: 'http-secret-1' }, true), 2)).ok).toBe(true);
    expect(s.consumer.spans).toBe(4);

    const proto = await httpRequest(s.httpPort, '/v1/traces', { headers: { 'content-type': 'application/x-protobuf' }, body: traceRequest(2) });
    expect(proto.status).toBe(401);
    expect(proto.headers['www-authenticate']).toBe('Bearer');
    expect(proto.headers['content-type']).toBe('application/x-protobuf');
    expect(Status.toObject(Status.decode(proto.body))).toMatchObject({ code: 16, message: expect.stringMatching(/bearer token is required/) });
    const json = await httpRequest(s.httpPort, '/v1/traces', { headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: Buffer.from('{}') });
    expect(json.status).toBe(401);
    expect(json.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(JSON.parse(json.body.toString())).toMatchObject({ code: 16 });
    expect(await unauthenticated(s, 'http')).toBe(4);
    expect(s.consumer.spans).toBe(4);
  });

  it('a large refused upload is answered without being taken in', async () => {
    const s = await start({ auth: tokens('big-tokens', 't') });
    const big = await httpRequest(s.httpPort, '/v1/traces', { headers: { 'content-type': 'application/x-protobuf' }, body: traceRequest(3000, 1000) });
    expect(big.status).toBe(401);
    expect(readMetric((await s.metrics.render()).body, 'otel_friction_receiver_received_bytes_total')).toBe(0);
  });

  it('TLS, mTLS and a token together', async () => {
    const s = await start({ tls: serverTls(true), auth: tokens('tls-tokens', 'both') });
    expect((await send(grpcExporter(s.grpcPort, { tls: true, cert: 'client' }))).error?.code).toBe(16);
    expect((await send(grpcExporter(s.grpcPort, { tls: true, cert: 'client', token: 'both' }), 2)).ok).toBe(true);
    expect((await send(httpExporter(s.httpPort, { tls: true, cert: 'client' }))).error?.code).toBe(401);
    expect((await send(httpExporter(s.httpPort, { tls: true, cert: 'client', token: 'both' }), 2)).ok).toBe(true);
    expect(s.consumer.spans).toBe(4);
  });

  it('follows edits of the token file, keeps the last good tokens while it is unusable, and never logs a token', async () => {
    const auth = tokens('rotating', 'old-token-aaaa');
    const s = await start({ auth });
    const accepted = async (token: string): Promise<[boolean, boolean]> => [
      (await send(grpcExporter(s.grpcPort, { token }), 1)).ok,
      (await send(httpExporter(s.httpPort, { token }), 1)).ok,
    ];
    expect(await accepted('old-token-aaaa')).toEqual([true, true]);

    // Rotation by rewriting in place.
    writeFileSync(auth.bearer_tokens_file, 'new-token-bbbb\n');
    await expect.poll(() => accepted('new-token-bbbb'), { timeout: 5000, interval: 50 }).toEqual([true, true]);
    expect(await accepted('old-token-aaaa')).toEqual([false, false]);

    // The file disappears, then comes back broken: the last good token keeps working, and each
    // receiver (two watchers, one logger) warns once for the whole spell.
    rmSync(auth.bearer_tokens_file);
    await expect.poll(() => s.logs.filter((l) => l.includes('keeping the last good tokens')).length, { timeout: 5000 }).toBe(2);
    writeFileSync(auth.bearer_tokens_file, '# emptied by mistake\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(s.logs.filter((l) => l.includes('keeping the last good tokens')).length).toBe(2);
    expect(await accepted('new-token-bbbb')).toEqual([true, true]);

    // Rotation by write-and-rename (editors, Kubernetes secrets).
    writeFileSync(`${auth.bearer_tokens_file}.tmp`, 'third-token-cccc\nnew-token-bbbb\n');
    renameSync(`${auth.bearer_tokens_file}.tmp`, auth.bearer_tokens_file);
    await expect.poll(() => accepted('third-token-cccc'), { timeout: 5000, interval: 50 }).toEqual([true, true]);
    expect(await accepted('new-token-bbbb')).toEqual([true, true]);
    expect(await accepted('old-token-aaaa')).toEqual([false, false]);

    expect(s.logs.some((l) => l.includes('bearer tokens reloaded'))).toBe(true);
    for (const t of ['old-token-aaaa', 'new-token-bbbb', 'third-token-cccc']) expect(s.logs.join('')).not.toContain(t);
    expect(await unauthenticated(s, 'grpc')).toBeGreaterThanOrEqual(2);
    expect(await unauthenticated(s, 'http')).toBeGreaterThanOrEqual(2);
  });
});
