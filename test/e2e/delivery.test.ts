/**
 * Durable delivery end to end: the real process, spans from the official gRPC exporter, an
 * error burst that fires and resolves a burn-rate signal, and a real HTTP webhook receiver that
 * is down (nothing listens) or hangs. Every transition must arrive once the receiver is back, in
 * order per fingerprint — also across a `kill -9` in the middle of a delivery and a restart.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { STATE_FILE } from '../../src/state/database.js';
import { type SidecarProcess, freePort, startSidecarProcess } from '../support/sidecar-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-delivery-'));
const running: SidecarProcess[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SERVICE = 'checkout-delivery';
const DETECTION = `aggregation: { window: 1s }
slos:
  - { name: checkout-availability, service: ${SERVICE}, objective: 0.99, period: 1h }
alerting:
  burn_rate_windows:
    - { long: 10s, short: 2s, factor: 10, severity: critical }
detectors: { error_spike: { enabled: false } }
`;

interface Received {
  key: string;
  transition: string;
  sequence: number;
  fingerprint: string;
  id: string;
  kind: string;
}

/** A webhook receiver that can be down (not listening), hang (never answer) or answer 200. */
class Receiver {
  readonly got: Received[] = [];
  hanging = 0;
  mode: 'ok' | 'hang' = 'ok';
  private server: http.Server | undefined;
  constructor(readonly port: number) {}
  async up(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (this.mode === 'hang') {
          this.hanging++;
          return;
        }
        this.got.push(JSON.parse(body) as Received);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server?.listen(this.port, '127.0.0.1', r));
  }
  async down(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
}

/** 100 spans/s of SERVICE from the official exporter; `failing` makes every span an error. */
function traffic(grpcPort: number) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${grpcPort}` }), { scheduledDelayMillis: 50, maxExportBatchSize: 256 })],
  });
  const tracer = provider.getTracer('e2e-delivery');
  const state = { failing: false, stop: false };
  const loop = (async () => {
    while (!state.stop) {
      for (let i = 0; i < 10; i++) {
        const span = tracer.startSpan('POST /checkout');
        if (state.failing) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    state,
    async stop() {
      state.stop = true;
      await loop;
      await provider.shutdown();
    },
  };
}

async function until<T>(what: () => Promise<T | undefined> | T | undefined, timeoutMs: number, label: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await what();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function api<T>(s: SidecarProcess, query: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${s.adminPort}${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** First receipt of each key, in arrival order. */
function firstReceipts(got: readonly Received[]): Received[] {
  const seen = new Set<string>();
  return got.filter((r) => !seen.has(r.key) && seen.add(r.key));
}

describe('durable delivery', () => {
  it('transitions that fire and resolve while the webhook is down all arrive, in order, once it is back', async () => {
    const receiver = new Receiver(await freePort());
    const file = path.join(dir, 'outage.jsonl');
    const sidecar = await startSidecarProcess({
      extraYaml: () => `${DETECTION}signals: { resolve_after: 2 }
sinks:
  - { type: file, path: "${file}" }
  - type: webhook
    url: "http://127.0.0.1:${receiver.port}/hook"
    retry: { initial_interval: 200ms, max_interval: 1s }
`,
    });
    running.push(sidecar);
    const load = traffic(sidecar.grpcPort);
    try {
      await new Promise((r) => setTimeout(r, 2000));
      load.state.failing = true;
      await until(async () => (await api<{ signals: unknown[] }>(sidecar, `/api/v1/signals?service=${SERVICE}`)).signals.length > 0, 15_000, 'firing');
      load.state.failing = false;
      await until(async () => (await api<{ signals: unknown[] }>(sidecar, `/api/v1/signals?status=resolved&service=${SERVICE}`)).signals.length > 0, 20_000, 'resolved');
    } finally {
      await load.stop();
    }
    // The file sink has everything; the webhook has nothing yet and its rows wait in the outbox.
    const expected = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Received);
    expect(expected.map((e) => e.transition)).toContain('resolved');
    expect(await sidecar.metric('otel_friction_sink_pending', { sink: 'webhook[1]' })).toBe(expected.length);
    expect(await sidecar.metric('otel_friction_sink_failed_attempts_total', { sink: 'webhook[1]' })).toBeGreaterThan(0);
    const pending = await api<{ total: number; deliveries: { key: string; attempts: number; last_error: string }[] }>(sidecar, '/api/v1/deliveries?state=pending&sink=webhook[1]');
    expect(pending.total).toBe(expected.length);
    expect(pending.deliveries[0].last_error).toMatch(/ECONNREFUSED/);
    expect(pending.deliveries.map((d) => d.key)).toEqual(expected.map((e) => e.key));

    await receiver.up();
    try {
      await until(() => firstReceipts(receiver.got).length >= expected.length, 15_000, 'the backlog');
      expect(firstReceipts(receiver.got).map((r) => r.key)).toEqual(expected.map((e) => e.key));
      expect(await sidecar.metric('otel_friction_sink_pending', { sink: 'webhook[1]' })).toBe(0);
      expect(await sidecar.metric('otel_friction_sink_delivered_total', { sink: 'webhook[1]' })).toBe(expected.length);
      expect(await sidecar.stop()).toBe(0);
    } finally {
      await receiver.down();
    }
  });

  it('kill -9 in the middle of a delivery, restart: every accepted transition arrives and the incident is not announced twice', async () => {
    const receiver = new Receiver(await freePort());
    receiver.mode = 'hang';
    await receiver.up();
    const stateDir = path.join(dir, 'state-kill');
    const config = () => `${DETECTION}signals: { resolve_after: 5 }
sinks:
  - type: webhook
    url: "http://127.0.0.1:${receiver.port}/hook"
    timeout: 60s
    retry: { initial_interval: 200ms, max_interval: 1s }
`;
    const first = await startSidecarProcess({ extraYaml: config, state: `path: "${stateDir}"` });
    running.push(first);
    let load = traffic(first.grpcPort);
    let keys: { key: string; transition: string }[];
    try {
      await new Promise((r) => setTimeout(r, 2000));
      load.state.failing = true;
      await until(() => receiver.hanging > 0, 15_000, 'a delivery in flight');
    } finally {
      await load.stop();
    }
    first.child.kill('SIGKILL');
    expect(await first.stop()).toBeNull();
    {
      const db = new Database(path.join(stateDir, STATE_FILE), { readonly: true });
      keys = db.prepare('SELECT key, transition FROM outbox ORDER BY id').all() as typeof keys;
      db.close();
    }
    expect(keys.map((k) => k.transition)).toContain('firing');

    receiver.mode = 'ok';
    const second = await startSidecarProcess({ extraYaml: config, state: `path: "${stateDir}"` });
    running.push(second);
    load = traffic(second.grpcPort);
    try {
      load.state.failing = true;
      // Everything the killed process had accepted arrives from the restarted one.
      await until(() => keys.every((k) => receiver.got.some((r) => r.key === k.key)), 15_000, 'the transitions written before the kill');
      await new Promise((r) => setTimeout(r, 3000));
      load.state.failing = false;
      await until(() => receiver.got.some((r) => r.transition === 'resolved'), 30_000, 'the resolution');
    } finally {
      await load.stop();
      await receiver.down();
    }
    const burn = firstReceipts(receiver.got).filter((r) => r.kind === 'error_budget_burn');
    // One incident: one signal id, announced once, resolved by the restarted process.
    expect(new Set(burn.map((r) => r.id)).size).toBe(1);
    expect(burn.filter((r) => r.transition === 'firing')).toHaveLength(1);
    expect(burn.at(-1)?.transition).toBe('resolved');
    const seqs = burn.map((r) => r.sequence);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const history = await api<{ signals: { id: string; status: string }[] }>(second, `/api/v1/signals?status=all&service=${SERVICE}`);
    expect(history.signals.map((s) => [s.id, s.status])).toEqual([[burn[0].id, 'resolved']]);
    expect(await second.stop()).toBe(0);
  });
});
