/**
 * Signals end to end: spans from the official exporter into the real process, an error burst
 * that burns an SLO's budget (burn-rate windows scaled down to seconds), the signal in
 * /api/v1/signals and in the file sink, and its resolution once the errors stop.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type SidecarProcess, startSidecarProcess } from '../support/sidecar-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-signals-'));
const file = path.join(dir, 'signals.jsonl');
const recording = path.join(dir, 'recording');
let sidecar: SidecarProcess;

// Everything that decides signals, shared by the live process and the replay.
const DETECTION = `aggregation: { window: 1s }
outcomes: { revenue: { weight: 5 } }
services:
  checkout-e2e: { outcomes: [revenue], owner: team-payments, tier: 1 }
slos:
  - { name: checkout-availability, service: checkout-e2e, objective: 0.99, period: 1h }
alerting:
  burn_rate_windows:
    - { long: 10s, short: 2s, factor: 10, severity: critical }
signals: { resolve_after: 2 }
`;

beforeAll(async () => {
  sidecar = await startSidecarProcess({
    extraYaml: () => `${DETECTION}sinks:
  - { type: file, path: "${file}" }
record: { path: "${recording}" }
`,
  });
});

afterAll(async () => {
  await sidecar.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Signal {
  kind: string;
  status: string;
  severity: string;
  service: string;
  slo: string;
  owner: string;
  outcomes: string[];
  priority: number;
  title: string;
  summary: string;
  evidence: Record<string, unknown>;
}

async function signals(status: string): Promise<Signal[]> {
  const res = await fetch(`http://127.0.0.1:${sidecar.adminPort}/api/v1/signals?status=${status}&service=checkout-e2e`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { signals: Signal[] }).signals;
}

async function until<T>(what: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await what();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

describe('signals end to end', () => {
  it('an error burst fires error_budget_burn with its evidence, and it resolves after the errors stop', async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout-e2e' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${sidecar.grpcPort}` }), { scheduledDelayMillis: 50, maxExportBatchSize: 256 })],
    });
    const tracer = provider.getTracer('e2e-signals');
    let failing = false;
    let stop = false;
    // 100 spans/s for as long as the test needs; `failing` turns every span into an error.
    const traffic = (async () => {
      while (!stop) {
        for (let i = 0; i < 10; i++) {
          const span = tracer.startSpan('POST /checkout');
          if (failing) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect(await signals('firing')).toEqual([]); // healthy traffic: quiet
      failing = true;
      const fired = await until(async () => (await signals('firing')).find((s) => s.kind === 'error_budget_burn'), 10_000);
      expect(fired).toBeDefined();
      expect(fired).toMatchObject({ status: 'firing', severity: 'critical', service: 'checkout-e2e', slo: 'checkout-availability', owner: 'team-payments', outcomes: ['revenue'] });
      expect(fired?.title).toMatch(/^SLO checkout-availability \(checkout-e2e\) is burning its error budget \d+(\.\d)?× too fast$/);
      expect(fired?.priority).toBeGreaterThan(50);
      expect(fired?.evidence).toHaveProperty('burnRates');
      failing = false;
      const resolved = await until(async () => (await signals('resolved')).find((s) => s.kind === 'error_budget_burn'), 15_000);
      expect(resolved).toBeDefined();
      expect(await signals('firing')).toEqual([]);
    } finally {
      stop = true;
      await traffic;
      await provider.shutdown();
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { transition: string; sequence: number; kind: string });
    const burn = lines.filter((l) => l.kind === 'error_budget_burn');
    expect(burn[0]).toMatchObject({ transition: 'firing', sequence: 1 });
    expect(burn.at(-1)).toMatchObject({ transition: 'resolved' });
    expect(await sidecar.metric('otel_friction_signal_firing_total')).toBeGreaterThanOrEqual(1);
    expect(await sidecar.metric('otel_friction_signal_resolved_total')).toBeGreaterThanOrEqual(1);
    expect(await sidecar.metric('otel_friction_recorder_requests_total')).toBeGreaterThan(10);
  });

  it('replaying the recording of that run, on its own clock, finds the same incident', async () => {
    // The recording is complete once the process has stopped.
    expect(await sidecar.stop()).toBe(0);
    expect(readdirSync(recording).some((f) => f.endsWith('.otlp'))).toBe(true);
    const config = path.join(dir, 'replay.yaml');
    writeFileSync(config, DETECTION);
    const out = execFileSync(process.execPath, [CLI, 'replay', '--config', config, '--input', recording, '--json'], { encoding: 'utf8', timeout: 60_000 });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { transition: string; kind: string; slo: string });
    const burn = lines.filter((l) => l.kind === 'error_budget_burn');
    expect(burn.map((l) => l.transition)).toEqual(['firing', 'resolved']);
    expect(burn[0].slo).toBe('checkout-availability');
  });
});
