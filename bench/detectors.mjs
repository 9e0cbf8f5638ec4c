#!/usr/bin/env node
/**
 * Detector cost: windows closed per second with 10,000 live span series, with every detector
 * on (two SLOs per service, one of them a latency SLI; anomaly bands on rate, error ratio and
 * p99) next to all of them off. In-process, the real aggregator and detection stage on a
 * hand-moved clock, 1 s windows, 20 spans per series per window; each variant in a fresh
 * process. (`BENCH_DETECTORS_AB=1 node bench/run.mjs` measures the same switch end to end.)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => path.join(HERE, '..', 'dist', p);
const N = Number(process.env.BENCH_DETECTOR_SERIES) || 10_000;
const WINDOWS = 60;
const MEASURED = 30;
const SERVICES = ['frontend', 'checkout', 'payments', 'orders', 'inventory'];

async function child(on) {
  const { defaultConfig } = await import(dist('config/index.js'));
  const { Aggregator } = await import(dist('aggregate/aggregator.js'));
  const { ManualClock } = await import(dist('aggregate/clock.js'));
  const { createSketchFactory } = await import(dist('aggregate/sketches.js'));
  const { createDetectors } = await import(dist('detect/registry.js'));
  const { DetectionStage } = await import(dist('signals/detection-stage.js'));
  const { Synthesizer } = await import(dist('signals/synthesizer.js'));
  const { SpanBatch } = await import(dist('otlp/batch.js'));
  const { createLogger } = await import(dist('telemetry/logger.js'));
  const c = defaultConfig();
  c.aggregation.window = 1000;
  c.sinks = [];
  if (on) {
    const slo = (s, kind) => ({ name: `${s}-${kind}`, service: s, operation: '*', objective: kind === 'latency' ? 0.99 : 0.999, period: 30 * 86_400_000, sli: { kind, threshold_ms: kind === 'latency' ? 300 : 0 }, outcomes: [] });
    c.slos = SERVICES.flatMap((s) => [slo(s, 'availability'), slo(s, 'latency')]);
    c.detectors.metric_anomaly.span_signals = ['rate', 'error_ratio', 'p99'];
  } else {
    for (const k of ['latency_regression', 'error_spike', 'traffic_drop', 'metric_anomaly']) c.detectors[k].enabled = false;
  }
  const logger = createLogger('silent');
  const clock = new ManualClock(1_700_000_000_000);
  const synthesizer = new Synthesizer({ signals: c.signals, outcomes: {}, services: {}, windowMs: 1000 });
  const detectors = createDetectors(c);
  const stage = new DetectionStage(detectors, synthesizer, [], logger);
  const agg = new Aggregator({ config: c.aggregation, sketches: createSketchFactory('tdigest', {}), clock, logger, listener: stage });
  const b = new SpanBatch();
  b.reset(Buffer.alloc(N * 24, 1));
  for (let i = 0; i < N; i++) {
    const s = b.next(0);
    s.serviceName = SERVICES[i % 5];
    s.name = `op${Math.floor(i / 5)}`;
    s.nameId = Math.floor(i / 5);
    s.serviceId = 1_000_000 + (i % 5);
    s.kind = 2;
    s.traceIdOffset = i * 24;
    s.spanIdOffset = i * 24 + 16;
  }
  b.idsValid = true;
  let x = 1;
  let closeNs = 0n;
  for (let w = 0; w < WINDOWS; w++) {
    for (let k = 0; k < 20; k++) {
      for (let i = 0; i < N; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const s = b.spans[i];
        s.durationNs = (1 + (x % 400)) * 1e6;
        s.statusCode = x % 100 === 0 ? 2 : 0;
      }
      agg.consumeSpans(b);
    }
    clock.advance(1000);
    const t = process.hrtime.bigint();
    agg.tick();
    if (w >= WINDOWS - MEASURED) closeNs += process.hrtime.bigint() - t;
  }
  const ms = Number(closeNs) / MEASURED / 1e6;
  process.stdout.write(`${JSON.stringify({ on, detectors: detectors.map((d) => d.kind), msPerClose: ms, windowsPerSec: N / (ms / 1000) })}\n`);
}

function main() {
  const rows = [];
  for (const on of [false, true]) {
    const r = spawnSync(process.execPath, ['--max-semi-space-size=1', fileURLToPath(import.meta.url), '--child', on ? 'on' : 'off'], { encoding: 'utf8', timeout: 5 * 60_000 });
    if (r.status !== 0) throw new Error(`detector bench child failed: ${r.stderr || r.signal}`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)));
  }
  const [off, on] = rows;
  process.stdout.write(
    [
      '',
      `window closes with ${N.toLocaleString('en-US')} live span series (in-process, mean of ${MEASURED} closes):`,
      '| detectors | per close | windows closed/s | CPU at 10 s windows |',
      '|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.on ? `on (${r.detectors.join(', ')})` : 'off'} | ${r.msPerClose.toFixed(1)} ms | ${Math.round(r.windowsPerSec).toLocaleString('en-US')} | ${((r.msPerClose / 10_000) * 100).toFixed(2)}% of a core |`),
      `detectors add ${(on.msPerClose - off.msPerClose).toFixed(1)} ms per close, ${(((on.msPerClose - off.msPerClose) * 1000) / N).toFixed(2)} µs per series window`,
      '',
    ].join('\n'),
  );
}

if (process.argv[2] === '--child') await child(process.argv[3] === 'on');
else main();
