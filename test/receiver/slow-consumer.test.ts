/**
 * Backpressure from a slow pipeline: while the next stage holds batches, the bytes stay in
 * flight; past the limit the receivers refuse with the retryable answer, and the official
 * exporters, retrying, deliver everything once the stage catches up.
 */
import { OTLPTraceExporter as TracesProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { type Sidecar, startSidecar } from '../../src/main.js';
import type { LogBatch, PointBatch, SpanBatch } from '../../src/otlp/batch.js';
import type { TelemetryConsumer } from '../../src/receiver/export-handler.js';
import { httpRequest, traceRequest } from '../support/clients.js';

/** A consumer that holds every batch until opened. */
class GatedConsumer implements TelemetryConsumer {
  spans = 0;
  private waiters: Array<() => void> = [];
  private open = false;

  private async gate(): Promise<void> {
    if (!this.open) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async consumeSpans(batch: SpanBatch): Promise<void> {
    await this.gate();
    this.spans += batch.length;
  }

  async consumePoints(_batch: PointBatch): Promise<void> {
    await this.gate();
  }

  async consumeLogs(_batch: LogBatch): Promise<void> {
    await this.gate();
  }

  get held(): number {
    return this.waiters.length;
  }

  release(): void {
    this.open = true;
    for (const w of this.waiters.splice(0)) w();
  }
}

let sidecar: Sidecar | undefined;

afterEach(async () => {
  await sidecar?.shutdown();
  sidecar = undefined;
});

async function start(consumer: TelemetryConsumer): Promise<Sidecar> {
  const config = defaultConfig();
  config.receivers.otlp.protocols.grpc.endpoint = { host: '127.0.0.1', port: 0 };
  config.receivers.otlp.protocols.http.endpoint = { host: '127.0.0.1', port: 0 };
  config.admin.endpoint = { host: '127.0.0.1', port: 0 };
  config.limits.max_inflight_bytes_mib = 1;
  sidecar = await startSidecar(config, { consumer, logger: pino({ level: 'silent' }) });
  return sidecar;
}

const proto = { 'content-type': 'application/x-protobuf' };

describe('slow consumer', () => {
  it('refuses with 503 while the pipeline holds the budget and accepts again after', async () => {
    const consumer = new GatedConsumer();
    const s = await start(consumer);
    const port = s.http?.port as number;
    const big = traceRequest(1500, 300);

    const first = httpRequest(port, '/v1/traces', { headers: proto, body: big });
    await expect.poll(() => consumer.held).toBe(1);
    const refused = await httpRequest(port, '/v1/traces', { headers: proto, body: big });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();

    consumer.release();
    expect((await first).status).toBe(200);
    expect((await httpRequest(port, '/v1/traces', { headers: proto, body: big })).status).toBe(200);
    expect(consumer.spans).toBe(3000);
  });

  it('the official exporter retries through the refusals and nothing is lost', async () => {
    const consumer = new GatedConsumer();
    const s = await start(consumer);
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'orders' }),
      spanProcessors: [new SimpleSpanProcessor(new TracesProto({ url: `http://127.0.0.1:${s.http?.port}/v1/traces` }))],
    });
    const tracer = provider.getTracer('slow');
    const pad = 'p'.repeat(300_000);
    // Each span ~300 KB: four exports in flight need more than the 1 MiB budget.
    for (let i = 0; i < 4; i++) tracer.startSpan(`op${i}`, { attributes: { pad } }).end();
    await expect.poll(() => consumer.held, { timeout: 5000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await s.metrics.render()).body.includes('outcome="backpressure"'), { timeout: 10_000 }).toBe(true);

    setTimeout(() => consumer.release(), 300);
    await provider.forceFlush();
    await provider.shutdown();
    expect(consumer.spans).toBe(4);
  });
});
