/**
 * Transparent forwarding end to end: the official exporters → sidecar A → sidecar B (the
 * upstream, a second instance of the real process). Both record what they accept, so the test
 * compares the bytes: B must have received exactly what A accepted. Then B is down for a while
 * (everything arrives once it is back), A's queue fills (A refuses with the retryable answer),
 * and A restarts with spilled requests (they are sent after the restart).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { OTLPTraceExporter as TracesGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TracesHttp } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readFrames } from '../../src/replay/recording.js';
import { traceRequest } from '../support/clients.js';
import { type SidecarProcess, freePort, startSidecarProcess } from '../support/sidecar-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-forward-'));
const running: SidecarProcess[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(name: string, yaml: (ports: { grpc: number; http: number; admin: number }) => string, options: { ports?: { grpc: number; http: number; admin: number }; state?: string } = {}): Promise<SidecarProcess> {
  const s = await startSidecarProcess({ extraYaml: yaml, ports: options.ports, state: options.state ?? `path: "${path.join(dir, `${name}-state`)}"` });
  running.push(s);
  return s;
}

/** Every request a sidecar recorded, in order. */
function recorded(recDir: string): { signal: string; encoding: string; body: Buffer }[] {
  return readdirSync(recDir).filter((f) => f.endsWith('.otlp')).sort()
    .flatMap((f) => [...readFrames(readFileSync(path.join(recDir, f)), f)].map((r) => ({ signal: r.signal, encoding: r.encoding, body: Buffer.from(r.body) })));
}

async function sendSpans(exporter: SpanExporter, spans: number, service: string): Promise<void> {
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 100, scheduledDelayMillis: 20 })] });
  const tracer = provider.getTracer('e2e-forward');
  for (let i = 0; i < spans; i++) tracer.startSpan(`op-${i % 7}`, { attributes: { i } }).end();
  await provider.forceFlush();
  await provider.shutdown();
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const accepted = (s: SidecarProcess) => s.metric('otel_friction_receiver_accepted_spans_total');

describe('forwarding', () => {
  it('relays every accepted request upstream byte for byte, over gRPC and HTTP, gzip clients included', async () => {
    const recA = path.join(dir, 'rec-a');
    const recB = path.join(dir, 'rec-b');
    const b = await start('b', () => `record: { path: "${recB}" }\n`);
    const a = await start('a', () => `record: { path: "${recA}" }
forward:
  traces: { endpoint: "http://127.0.0.1:${b.grpcPort}", protocol: grpc }
  metrics: { endpoint: "http://127.0.0.1:${b.httpPort}", protocol: http/protobuf, compression: none }
  passthrough_headers: [x-tenant]
`);
    await sendSpans(new TracesGrpc({ url: `http://127.0.0.1:${a.grpcPort}` }), 700, 'fwd-grpc');
    // gzip from the client to a gzip upstream: relayed compressed as it came, B decodes the same bytes.
    await sendSpans(new TracesGrpc({ url: `http://127.0.0.1:${a.grpcPort}`, compression: CompressionAlgorithm.GZIP }), 300, 'fwd-grpc-gzip');
    await sendSpans(new TracesHttp({ url: `http://127.0.0.1:${a.httpPort}/v1/traces`, headers: { 'x-tenant': 'blue' } }), 300, 'fwd-json');
    // gzip to an upstream without compression: B gets the decompressed body.
    const meters = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `http://127.0.0.1:${a.httpPort}/v1/metrics`, compression: CompressionAlgorithm.GZIP }), exportIntervalMillis: 60_000 })] });
    meters.getMeter('e2e').createCounter('forwarded.things').add(5);
    await meters.forceFlush();
    await meters.shutdown();
    // OTLP/JSON (the http exporter) cannot go over gRPC without re-encoding: counted, not relayed.
    await until(async () => (await a.metric('otel_friction_forward_requests_total', { signal: 'traces' })) > 0 && (await a.metric('otel_friction_forward_requests_total', { signal: 'metrics' })) > 0, 10_000, 'forwarding');
    await until(async () => (await a.metric('otel_friction_forward_queue_bytes')) === 0, 10_000, 'an empty queue');
    expect(await a.metric('otel_friction_forward_dropped_total', { reason: 'json_over_grpc' })).toBeGreaterThan(0);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    const fromA = recorded(recA).filter((r) => r.encoding === 'protobuf');
    const atB = recorded(recB);
    expect(fromA.length).toBeGreaterThan(1);
    // Same requests, same bytes, same order per signal: nothing re-encoded.
    for (const signal of ['traces', 'metrics']) {
      const x = fromA.filter((r) => r.signal === signal).map((r) => r.body.toString('base64'));
      const y = atB.filter((r) => r.signal === signal).map((r) => r.body.toString('base64'));
      expect(y.sort(), signal).toEqual(x.sort());
    }
  });

  it('holds requests while the upstream is down and delivers all of them when it returns', async () => {
    const ports = { grpc: await freePort(), http: await freePort(), admin: await freePort() };
    const a = await start('a2', () => `forward:\n  traces: { endpoint: "http://127.0.0.1:${ports.grpc}" }\n  retry: { initial_interval: 100ms, max_interval: 500ms }\n`);
    await sendSpans(new TracesGrpc({ url: `http://127.0.0.1:${a.grpcPort}` }), 1000, 'outage');
    expect(await accepted(a)).toBe(1000);
    await until(async () => (await a.metric('otel_friction_forward_retries_total')) > 0, 10_000, 'a failed attempt');
    expect(await a.metric('otel_friction_forward_queue_bytes')).toBeGreaterThan(0);
    const b = await start('b2', () => '', { ports });
    await until(async () => (await accepted(b)) === 1000, 15_000, 'all spans upstream');
    expect(await a.metric('otel_friction_forward_queue_bytes')).toBe(0);
    expect(await a.metric('otel_friction_forward_dropped_total')).toBe(0);
  });

  it('a full queue refuses new requests with the retryable answer (HTTP 503 + Retry-After, gRPC UNAVAILABLE), and keeps serving', async () => {
    const dead = await freePort();
    const a = await start('a3', () => `forward:\n  traces: { endpoint: "http://127.0.0.1:${dead}", protocol: http/protobuf }\n  queue: { max_mb: 0.05 }\n`);
    const body = traceRequest(200, 64);
    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i < 20 && refusal === undefined; i++) {
      const res = await fetch(`http://127.0.0.1:${a.httpPort}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
      statuses.push(res.status);
      if (res.status !== 200) refusal = res;
      else await res.arrayBuffer();
    }
    expect(statuses[0]).toBe(200);
    expect(refusal?.status).toBe(503);
    expect(refusal?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await a.metric('otel_friction_forward_refused_total')).toBeGreaterThan(0);
    expect(await a.metric('otel_friction_receiver_requests_total', { outcome: 'backpressure' })).toBeGreaterThan(0);
    // The admin side and the other signals are unaffected.
    expect((await fetch(`http://127.0.0.1:${a.adminPort}/readyz`)).status).toBe(200);
  });

  it('with spill, requests queued when the sidecar stops are sent after it restarts', async () => {
    const ports = { grpc: await freePort(), http: await freePort(), admin: await freePort() };
    const state = `path: "${path.join(dir, 'a4-state')}"`;
    const config = () => `forward:\n  traces: { endpoint: "http://127.0.0.1:${ports.grpc}" }\n  queue: { spill: true }\n  retry: { initial_interval: 100ms, max_interval: 500ms }\nshutdown_timeout: 2s\n`;
    const first = await start('a4', config, { state });
    await sendSpans(new TracesGrpc({ url: `http://127.0.0.1:${first.grpcPort}` }), 500, 'spill');
    expect(await accepted(first)).toBe(500);
    // Killed hard: the spilled rows are all there is.
    first.child.kill('SIGKILL');
    await first.stop();
    const b = await start('b4', () => '', { ports });
    await start('a4', config, { state });
    await until(async () => (await accepted(b)) === 500, 15_000, 'the spilled spans upstream');
  });
});
