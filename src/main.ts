/**
 * Wiring: the only module that knows every stage. It builds them from the validated config,
 * starts them, and runs the graceful shutdown. The only `process.exit` lives here.
 */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { AdminServer } from './admin/admin-server.js';
import { HealthState } from './admin/health.js';
import { metricSeriesApi } from './admin/metric-series-api.js';
import { seriesApi } from './admin/series-api.js';
import { signalsApi } from './admin/signals-api.js';
import { createDetectors } from './detect/registry.js';
import { DetectionStage } from './signals/detection-stage.js';
import { Synthesizer } from './signals/synthesizer.js';
import { RequestRecorder } from './replay/recorder.js';
import { createSink } from './sinks/registry.js';
import { Aggregator, type WindowListener } from './aggregate/aggregator.js';
import { type Clock, systemClock } from './aggregate/clock.js';
import { createSketchFactory } from './aggregate/sketches.js';
import { type Endpoint, type FrictionConfig, formatEndpoint } from './config/index.js';
import { type Component, once } from './lifecycle/component.js';
import { OtlpDecoder } from './otlp/decoder.js';
import { BufferPool } from './receiver/buffer-pool.js';
import { ExportHandler, type TelemetryConsumer } from './receiver/export-handler.js';
import { GrpcReceiver } from './receiver/grpc-receiver.js';
import { HttpReceiver } from './receiver/http-receiver.js';
import { InflightBudget } from './receiver/inflight.js';
import { createLogger } from './telemetry/logger.js';
import { SelfMetrics } from './telemetry/metrics.js';

const MIB = 1024 * 1024;

/** The package version, for logs and build_info. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** A started sidecar. */
export interface Sidecar {
  readonly grpc?: Endpoint;
  readonly http?: Endpoint;
  readonly admin?: Endpoint;
  readonly metrics: SelfMetrics;
  readonly aggregator: Aggregator;
  /** Drains and stops everything; resolves true if it finished before the deadline. Runs once. */
  shutdown(): Promise<boolean>;
}

/** Optional collaborators, for embedding and tests. */
export interface StartOptions {
  logger?: Logger;
  /** Replaces the aggregator as the stage after decoding (receiver tests). */
  consumer?: TelemetryConsumer;
  /** Receives closed windows instead of the detectors (aggregator tests). */
  windowListener?: WindowListener;
  clock?: Clock;
}

/** Builds and starts the sidecar; on a start-up failure, stops what started and rethrows. */
export async function startSidecar(config: FrictionConfig, options: StartOptions = {}): Promise<Sidecar> {
  const logger = options.logger ?? createLogger(config.log.level);
  const health = new HealthState();
  const budget = new InflightBudget(config.limits.max_inflight_bytes_mib * MIB);
  const metrics = new SelfMetrics({ version: VERSION });
  metrics.setInflightLimit(budget.limitBytes);
  metrics.observe('receiver_inflight_bytes', 'Bytes accepted but not yet processed', () => budget.bytes);
  const buffers = new BufferPool();
  metrics.observe('receiver_pooled_buffer_bytes', 'Idle request buffers kept for reuse', () => buffers.idle);
  const agg = config.aggregation;
  const sketches = createSketchFactory(agg.sketch.type, { compression: agg.sketch.compression, relativeAccuracy: agg.sketch.relative_accuracy });
  const synthesizer = new Synthesizer({ signals: config.signals, outcomes: config.outcomes, services: config.services, windowMs: agg.window });
  const detection = new DetectionStage(createDetectors(config), synthesizer, config.sinks.map(createSink), logger);
  observeDetection(metrics, detection);
  const aggregator = new Aggregator({ config: agg, sketches, clock: options.clock ?? systemClock, logger, listener: options.windowListener ?? detection });
  observeAggregator(metrics, aggregator);
  const decoder = new OtlpDecoder({ dimensions: aggregator.decoderDimensions });
  metrics.observe('decoder_interned_strings', 'Distinct strings held by the decoder', () => decoder.interner.size);
  metrics.observe('decoder_interner_resets', 'Times the string table filled up and started over (a sign of unbounded names)', () => decoder.interner.resets);
  const recorder = config.record.path !== '' ? new RequestRecorder(config.record.path, Math.floor(config.record.max_mb * MIB), logger) : undefined;
  if (recorder) {
    metrics.observeCounter('recorder_requests_total', 'Requests written to the recording (record.path)', () => recorder.recorded);
    metrics.observeCounter('recorder_skipped_total', 'Requests not recorded because the disk fell behind', () => recorder.skipped);
  }
  const handler = new ExportHandler(decoder, metrics, options.consumer ?? aggregator, recorder);

  const { grpc: grpcConfig, http: httpConfig } = config.receivers.otlp.protocols;
  const grpc = grpcConfig.enabled
    ? new GrpcReceiver({
        endpoint: grpcConfig.endpoint,
        maxMessageBytes: Math.floor(grpcConfig.max_recv_msg_size_mib * MIB),
        maxConcurrentStreams: grpcConfig.max_concurrent_streams,
        windowBytes: Math.floor(grpcConfig.flow_control_window_mib * MIB),
        handler, budget, buffers, metrics, logger,
      })
    : undefined;
  const http = httpConfig.enabled
    ? new HttpReceiver({ endpoint: httpConfig.endpoint, maxBodyBytes: Math.floor(httpConfig.max_request_body_size_mib * MIB), handler, budget, buffers, metrics, logger })
    : undefined;
  const admin = new AdminServer({
    endpoint: config.admin.endpoint, health, metrics, logger,
    routes: {
      '/api/v1/series': seriesApi(aggregator.spans),
      '/api/v1/metric-series': metricSeriesApi(aggregator.metrics),
      '/api/v1/signals': signalsApi(synthesizer),
    },
  });
  const receivers: Component[] = [grpc, http].filter((r): r is GrpcReceiver | HttpReceiver => r !== undefined);

  const shutdown = once(async (): Promise<boolean> => {
    health.phase = 'draining';
    const deadline = Date.now() + config.shutdown_timeout;
    // Receivers first (they finish in-flight requests), the admin server last so probes and
    // scrapes keep answering while we drain.
    const drained = await Promise.all(receivers.map((r) => r.shutdown(deadline)));
    await aggregator.shutdown(deadline);
    const delivered = await detection.shutdown(deadline);
    await recorder?.close();
    await admin.shutdown(Math.max(deadline, Date.now() + 100));
    health.phase = 'stopped';
    return drained.every(Boolean) && delivered;
  });

  try {
    await admin.start();
    await aggregator.start();
    await Promise.all(receivers.map((r) => r.start()));
  } catch (err) {
    await shutdown();
    throw err;
  }
  health.phase = 'ready';
  logger.info(
    {
      version: VERSION,
      grpc: grpc?.address ? formatEndpoint(grpc.address) : 'disabled',
      http: http?.address ? formatEndpoint(http.address) : 'disabled',
      admin: admin.address ? formatEndpoint(admin.address) : undefined,
    },
    'otel-friction listening',
  );
  return { grpc: grpc?.address, http: http?.address, admin: admin.address, metrics, aggregator, shutdown };
}

/** Detection and delivery counters. */
function observeDetection(metrics: SelfMetrics, detection: DetectionStage): void {
  const s = detection.stats;
  metrics.observeCounter('detector_findings_total', 'Findings reported by the detectors, summed over window closes', () => s.findings);
  metrics.observeCounter('detector_errors_total', 'Detector exceptions (that detector skipped the window)', () => s.detectorErrors);
  metrics.observeCounter('signal_firing_total', 'Signals that started firing', () => s.transitions.firing);
  metrics.observeCounter('signal_updated_total', 'Firing signals re-sent (severity change or renotify_interval)', () => s.transitions.updated);
  metrics.observeCounter('signal_resolved_total', 'Signals resolved', () => s.transitions.resolved);
  metrics.observeCounter('sink_delivered_total', 'Signal transitions delivered, summed over sinks', () => s.delivered);
  metrics.observeCounter('sink_failed_total', 'Signal transitions a sink failed to deliver', () => s.deliveryFailures);
  metrics.observeCounter('sink_dropped_total', 'Signal transitions dropped because a sink had too many deliveries in flight', () => s.deliveriesDropped);
}

/** The aggregator's gauges and counters, read at scrape time from its plain-number stats. */
function observeAggregator(metrics: SelfMetrics, aggregator: Aggregator): void {
  const spans = aggregator.spans;
  const points = aggregator.metrics;
  metrics.observe('aggregator_series', 'Live span series, overflow series included', () => spans.keyspace.size);
  metrics.observe('aggregator_overflow_series', 'Live __overflow__ span series (aggregation.max_series reached)', () => spans.keyspace.overflowSeries);
  metrics.observeCounter('aggregator_overflow_spans_total', 'Spans folded into an __overflow__ series because aggregation.max_series was reached', () => spans.stats.overflowSpans);
  metrics.observeCounter('aggregator_evicted_series_total', 'Span series evicted after aggregation.series_ttl without data', () => spans.keyspace.evicted);
  metrics.observeCounter('aggregator_late_spans_total', 'Spans whose window had already closed (time: span_end), counted and not aggregated', () => spans.stats.lateSpans);
  metrics.observeCounter('aggregator_negative_duration_spans_total', 'Spans that ended before they started, aggregated with duration 0', () => spans.stats.negativeDurations);
  metrics.observe('aggregator_metric_series', 'Live metric series, overflow series included', () => points.stats.liveSeries);
  metrics.observeCounter('aggregator_overflow_points_total', 'Metric points folded into an __overflow__ series because aggregation.metrics.max_series was reached', () => points.stats.overflowedPoints);
  metrics.observeCounter('aggregator_evicted_metric_series_total', 'Metric series evicted after aggregation.series_ttl without data', () => points.stats.evicted);
  metrics.observeCounter('aggregator_metric_resets_total', 'Cumulative metric series that restarted (counter reset, new start time, changed type or buckets)', () => points.stats.resets);
  metrics.observeCounter('aggregator_skipped_points_total', 'Metric points without a usable value (no recorded value, NaN)', () => points.stats.skippedPoints);
  metrics.observeCounter('aggregator_listener_errors_total', 'Exceptions thrown by window listeners (detectors); windows are still recorded', () => aggregator.listenerErrors);
}

/**
 * Runs the sidecar as the process: starts it, drains on SIGTERM/SIGINT, exits 0 after a
 * clean drain (1 when the shutdown deadline passed or start-up failed).
 */
export async function runSidecar(config: FrictionConfig): Promise<void> {
  const logger = createLogger(config.log.level);
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar(config, { logger });
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: string }).code }, (err as Error).message);
    logger.flush();
    process.exitCode = 1;
    return;
  }
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    logger.info({ signal, timeoutMs: config.shutdown_timeout }, 'shutting down');
    const clean = await sidecar.shutdown();
    if (!clean) logger.warn({ code: 'FRICTION_ERR_SHUTDOWN_TIMEOUT' }, 'shutdown deadline passed; in-flight requests were abandoned');
    else logger.info('stopped');
    logger.flush(() => process.exit(clean ? 0 : 1));
  };
  process.once('SIGTERM', (s) => void stop(s));
  process.once('SIGINT', (s) => void stop(s));
}
