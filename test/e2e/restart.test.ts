/**
 * State across a restart, end to end: an error burst burns an SLO's budget in the real process,
 * the process is stopped (SIGTERM: the last checkpoint) and started again on the same state
 * directory while the application goes on with healthy traffic. The restored burn-rate buckets
 * still hold the burst, so the signal keeps firing with the same fingerprint, is not announced
 * again, and resolves only once the burst has slid out of the short window — where a process
 * that forgot its buckets would resolve it after `resolve_after` clean closes (2 s).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { type SidecarProcess, freePort, startSidecarProcess } from '../support/sidecar-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-restart-'));
const file = path.join(dir, 'signals.jsonl');
const stateDir = path.join(dir, 'state');
const running: SidecarProcess[] = [];

// Short window 10 s: after the restart the burst stays in it for several seconds.
const CONFIG = `aggregation: { window: 1s }
services:
  checkout-restart: { owner: team-payments }
slos:
  - { name: checkout-availability, service: checkout-restart, objective: 0.99, period: 1h }
alerting:
  burn_rate_windows:
    - { long: 30s, short: 10s, factor: 10, severity: critical }
signals: { resolve_after: 2 }
sinks:
  - { type: file, path: "${file}" }
`;

afterAll(async () => {
  for (const s of running) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Signal {
  kind: string;
  fingerprint: string;
  startsAt?: string;
}

async function firing(s: SidecarProcess): Promise<Signal[]> {
  const res = await fetch(`http://127.0.0.1:${s.adminPort}/api/v1/signals?status=firing&service=checkout-restart`);
  return ((await res.json()) as { signals: Signal[] }).signals.filter((x) => x.kind === 'error_budget_burn');
}

async function until(what: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('state across a restart', () => {
  it('a burning budget is still burning after a restart, the signal is not announced again, and resolves once', async () => {
    const ports = { grpc: await freePort(), http: await freePort(), admin: await freePort() };
    // Both processes share the state directory; no periodic checkpoint: only the one at shutdown.
    const start = async () => {
      const s = await startSidecarProcess({ ports, state: `path: "${stateDir}", checkpoint_interval: 1h`, extraYaml: () => CONFIG });
      running.push(s);
      return s;
    };
    let sidecar = await start();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout-restart' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.grpc}` }), { scheduledDelayMillis: 50, maxExportBatchSize: 256 })],
    });
    const tracer = provider.getTracer('e2e-restart');
    let failing = false;
    let paused = false;
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        if (!paused) {
          for (let i = 0; i < 10; i++) {
            const span = tracer.startSpan('POST /checkout');
            if (failing) span.setStatus({ code: SpanStatusCode.ERROR });
            span.end();
          }
        }
        await sleep(100);
      }
    })();
    try {
      await sleep(2000);
      failing = true;
      expect(await until(async () => (await firing(sidecar)).length === 1, 15_000)).toBe(true);
      const before = (await firing(sidecar))[0];
      await sleep(2000);
      // Stop sending, flush what the exporter holds, then restart on the same state.
      paused = true;
      failing = false;
      await provider.forceFlush();
      expect(await sidecar.stop()).toBe(0);
      running.pop();
      sidecar = await start();
      paused = false;
      // Every detector's and the synthesizer's checkpoint came back.
      expect(await sidecar.metric('otel_friction_checkpoint_restored_parts')).toBeGreaterThanOrEqual(2);
      // Healthy traffic for 5 s: the restored short window still holds the burst.
      await sleep(5000);
      const after = await firing(sidecar);
      expect(after).toHaveLength(1);
      expect(after[0].fingerprint).toBe(before.fingerprint);
      // It resolves once the burst has left the short window.
      expect(await until(async () => (await firing(sidecar)).length === 0, 30_000)).toBe(true);
    } finally {
      stop = true;
      await traffic;
      await provider.shutdown();
    }
    expect(await sidecar.stop()).toBe(0);
    running.pop();
    const burn = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { transition: string; kind: string }).filter((l) => l.kind === 'error_budget_burn');
    expect(burn.filter((l) => l.transition === 'firing')).toHaveLength(1);
    expect(burn.filter((l) => l.transition === 'resolved')).toHaveLength(1);
    expect(burn.at(-1)?.transition).toBe('resolved');
  }, 90_000);
});
