/**
 * The in-process detection pipeline the detector and checkpoint benches share: the real span
 * aggregator, detectors, synthesizer and detection stage on a hand-moved clock, 1 s windows,
 * `series` live span series over five services, 20 spans per series per window.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = (p) => path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', p);
export const SERVICES = ['frontend', 'checkout', 'payments', 'orders', 'inventory'];

/**
 * Builds the pipeline with every detector on (two SLOs per service, one a latency SLI; anomaly
 * bands on rate, error ratio and p99) or all of them off. `close()` feeds one window of spans,
 * closes it, and returns how long the close took (ns).
 */
export async function detectionPipeline(series, detectorsOn) {
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
  if (detectorsOn) {
    const slo = (s, kind) => ({ name: `${s}-${kind}`, service: s, operation: '*', objective: kind === 'latency' ? 0.99 : 0.999, period: 30 * 86_400_000, sli: { kind, threshold_ms: kind === 'latency' ? 300 : 0 }, outcomes: [] });
    c.slos = SERVICES.flatMap((s) => [slo(s, 'availability'), slo(s, 'latency')]);
    c.detectors.metric_anomaly.span_signals = ['rate', 'error_ratio', 'p99'];
  } else {
    for (const k of ['latency_regression', 'error_spike', 'traffic_drop', 'metric_anomaly']) c.detectors[k].enabled = false;
  }
  const logger = createLogger('silent');
  const clock = new ManualClock(1_700_000_000_000);
  /** Fresh detectors and synthesizer for this config (a restarted process's). */
  const build = () => ({ synthesizer: new Synthesizer({ signals: c.signals, outcomes: {}, services: {}, windowMs: 1000 }), detectors: createDetectors(c) });
  const { synthesizer, detectors } = build();
  const stage = new DetectionStage(detectors, synthesizer, { append() {} }, logger);
  const aggregator = new Aggregator({ config: c.aggregation, sketches: createSketchFactory('tdigest', {}), clock, logger, listener: stage });
  const b = new SpanBatch();
  b.reset(Buffer.alloc(series * 24, 1));
  for (let i = 0; i < series; i++) {
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
  const close = () => {
    for (let k = 0; k < 20; k++) {
      for (let i = 0; i < series; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const s = b.spans[i];
        s.durationNs = (1 + (x % 400)) * 1e6;
        s.statusCode = x % 100 === 0 ? 2 : 0;
      }
      aggregator.consumeSpans(b);
    }
    clock.advance(1000);
    const t = process.hrtime.bigint();
    aggregator.tick();
    return process.hrtime.bigint() - t;
  };
  return { clock, logger, detectors, synthesizer, build, close };
}
