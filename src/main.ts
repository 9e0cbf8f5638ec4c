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
import { deliveriesApi, retryDeliveriesAction } from './admin/deliveries-api.js';
import { statsApi } from './admin/stats-api.js';
import { loadDashboardAssets } from './admin/dashboard-assets.js';
import { overviewApi } from './admin/overview-api.js';
import { BurnRateDetector } from './detect/burn-rate.js';
import { DeliveryWorker } from './sinks/delivery-worker.js';
import type { SignalSink } from './sinks/sink.js';
import { StateStore } from './state/state-store.js';
import { openStateDatabase } from './state/database.js';
import { CheckpointStore, isCheckpointable } from './state/checkpoints.js';
import { Forwarder } from './forward/forwarder.js';
import { createRedactor } from './signals/privacy.js';
import { createDetectors } from './detect/registry.js';
import { DetectionStage } from './signals/detection-stage.js';
import { Synthesizer } from './signals/synthesizer.js';
import { RequestRecorder } from './replay/recorder.js';
import { createSink } from './sinks/registry.js';
import { Aggregator, type WindowListener } from './aggregate/aggregator.js';
import { type Clock, systemClock } from './aggregate/clock.js';
import { createSketchFactory } from './aggregate/sketches.js';
import { type Endpoint, type FrictionConfig, formatEndpoint, sinkName } from './config/index.js';
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
  // Read before anything opens files or sockets, so a broken install fails with nothing to undo.
  const dashboard = config.admin.dashboard.enabled ? loadDashboardAssets() : undefined;
  const budget = new InflightBudget(config.limits.max_inflight_bytes_mib * MIB);
  const metrics = new SelfMetrics({ version: VERSION });
  metrics.setInflightLimit(budget.limitBytes);
  metrics.observe('receiver_inflight_bytes', 'Bytes accepted but not yet processed', () => budget.bytes);
  const buffers = new BufferPool();
  metrics.observe('receiver_pooled_buffer_bytes', 'Idle request buffers kept for reuse', () => buffers.idle);
  const agg = config.aggregation;
  const sketches = createSketchFactory(agg.sketch.type, { compression: agg.sketch.compression, relativeAccuracy: agg.sketch.relative_accuracy });
  const clock = options.clock ?? systemClock;
  const synthesizer = new Synthesizer({ signals: config.signals, outcomes: config.outcomes, services: config.services, windowMs: agg.window });
  const sinkNames = config.sinks.map(sinkName);
  const state = new StateStore(config.state, sinkNames, clock, logger);
  // Signals firing when the process stopped continue instead of being announced again.
  synthesizer.restore(state.history.open());
  const externalUrl = (config.admin.external_url || `http://${formatEndpoint(config.admin.endpoint)}`).replace(/\/+$/, '');
  let sinks: SignalSink[];
  try {
    sinks = await Promise.all(config.sinks.map((c, i) => createSink(c, { name: sinkNames[i], logger, firing: () => synthesizer.firing(), externalUrl })));
  } catch (err) {
    await state.shutdown();
    throw err;
  }
  const workers = sinks.map((sink, i) => new DeliveryWorker(sink, state.outbox, config.sinks[i].retry, clock, logger));
  state.outbox.onAppend(() => {
    for (const w of workers) w.wake();
  });
  const detectors = createDetectors(config);
  const detection = new DetectionStage(detectors, synthesizer, state.outbox, logger, createRedactor(config.privacy));
  observeDetection(metrics, detection, state, workers);
  // Checkpoints get their own connection: a save writes megabytes at 10k series, and losing the
  // last one to a power cut costs one interval of state, not correctness (the outbox keeps FULL).
  const checkpointDb = openStateDatabase(config.state.path);
  checkpointDb.pragma('synchronous = NORMAL');
  const checkpoints = new CheckpointStore(checkpointDb, [...detectors.filter(isCheckpointable), synthesizer.checkpoint], config.state.checkpoint_interval, clock, logger);
  // Before the first window closes: baselines, budgets and firing signals continue.
  checkpoints.restoreAll();
  observeCheckpoints(metrics, checkpoints);
  const aggregator = new Aggregator({ config: agg, sketches, clock, logger, listener: options.windowListener ?? detection });
  observeAggregator(metrics, aggregator);
  const decoder = new OtlpDecoder({ dimensions: aggregator.decoderDimensions });
  metrics.observe('decoder_interned_strings', 'Distinct strings held by the decoder', () => decoder.interner.size);
  metrics.observe('decoder_interner_resets', 'Times the string table filled up and started over (a sign of unbounded names)', () => decoder.interner.resets);
  const recorder = config.record.path !== '' ? new RequestRecorder(config.record.path, Math.floor(config.record.max_mb * MIB), logger) : undefined;
  if (recorder) {
    metrics.observeCounter('recorder_requests_total', 'Requests written to the recording (record.path)', () => recorder.recorded);
    metrics.observeCounter('recorder_skipped_total', 'Requests not recorded because the disk fell behind', () => recorder.skipped);
  }
  // The spill queue gets its own connection: it writes a request body per accepted request, so
  // it commits without the outbox's per-transaction fsync (WAL still survives the process dying).
  const spill = config.forward.queue.spill ? openStateDatabase(config.state.path) : undefined;
  spill?.pragma('synchronous = NORMAL');
  const forwarder = new Forwarder(config.forward, clock, logger, spill);
  if (forwarder.enabled) observeForwarder(metrics, forwarder);
  const handler = new ExportHandler(decoder, metrics, options.consumer ?? aggregator, recorder, forwarder.enabled ? forwarder : undefined);

  const { grpc: grpcConfig, http: httpConfig } = config.receivers.otlp.protocols;
  const grpc = grpcConfig.enabled
    ? new GrpcReceiver({
        endpoint: grpcConfig.endpoint,
        maxMessageBytes: Math.floor(grpcConfig.max_recv_msg_size_mib * MIB),
        maxConcurrentStreams: grpcConfig.max_concurrent_streams,
        windowBytes: Math.floor(grpcConfig.flow_control_window_mib * MIB),
        tls: grpcConfig.tls,
        auth: grpcConfig.auth,
        handler, budget, buffers, metrics, logger,
      })
    : undefined;
  const http = httpConfig.enabled
    ? new HttpReceiver({
        endpoint: httpConfig.endpoint,
        maxBodyBytes: Math.floor(httpConfig.max_request_body_size_mib * MIB),
        tls: httpConfig.tls,
        auth: httpConfig.auth,
        handler, budget, buffers, metrics, logger,
      })
    : undefined;
  const admin = new AdminServer({
    endpoint: config.admin.endpoint, health, metrics, logger,
    routes: {
      '/api/v1/series': seriesApi(aggregator.spans),
      '/api/v1/metric-series': metricSeriesApi(aggregator.metrics),
      '/api/v1/signals': signalsApi(synthesizer, state.history),
      '/api/v1/stats': statsApi(state.history),
      '/api/v1/deliveries': deliveriesApi(state.outbox, sinkNames),
      '/api/v1/overview': overviewApi({
        spans: aggregator.spans, live: synthesizer, archive: state.history, stats: state.history, services: config.services,
        slos: detectors.find((d) => d instanceof BurnRateDetector) ?? { status: () => [] },
        traceUrl: config.admin.dashboard.trace_url,
      }),
    },
    assets: dashboard,
    actions: { '/api/v1/deliveries/retry': retryDeliveriesAction(state.outbox, sinkNames) },
    token: config.admin.token,
  });
  const receivers: Component[] = [grpc, http].filter((r): r is GrpcReceiver | HttpReceiver => r !== undefined);

  const shutdown = once(async (): Promise<boolean> => {
    health.phase = 'draining';
    const deadline = Date.now() + config.shutdown_timeout;
    // Receivers first (they finish in-flight requests), the admin server last so probes and
    // scrapes keep answering while we drain.
    const drained = await Promise.all(receivers.map((r) => r.shutdown(deadline)));
    const relayed = forwarder.shutdown(deadline);
    // The aggregator's last closes write their transitions to the outbox; the workers then
    // flush what is ready until the deadline, and whatever is left stays for the next start.
    await aggregator.shutdown(deadline);
    await detection.shutdown();
    await checkpoints.shutdown(deadline);
    checkpointDb.close();
    const delivered = (await Promise.all(workers.map((w) => w.shutdown(deadline)))).every(Boolean);
    await recorder?.close();
    const forwarded = await relayed;
    spill?.close();
    await state.shutdown();
    await admin.shutdown(Math.max(deadline, Date.now() + 100));
    health.phase = 'stopped';
    return drained.every(Boolean) && delivered && forwarded;
  });

  try {
    await admin.start();
    await state.start();
    await forwarder.start();
    await Promise.all(workers.map((w) => w.start()));
    await checkpoints.start();
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

/** Detection, outbox and delivery metrics. */
function observeDetection(metrics: SelfMetrics, detection: DetectionStage, state: StateStore, workers: readonly DeliveryWorker[]): void {
  const s = detection.stats;
  const o = state.outbox;
  metrics.observeCounter('detector_findings_total', 'Findings reported by the detectors, summed over window closes', () => s.findings);
  metrics.observeCounter('detector_errors_total', 'Detector exceptions (that detector skipped the window)', () => s.detectorErrors);
  metrics.observeCounter('signal_firing_total', 'Signals that started firing', () => s.transitions.firing);
  metrics.observeCounter('signal_updated_total', 'Firing signals re-sent (severity change or renotify_interval)', () => s.transitions.updated);
  metrics.observeCounter('signal_resolved_total', 'Signals resolved', () => s.transitions.resolved);
  metrics.observeCounter('signal_lost_total', 'Signal transitions the outbox could not write (disk errors)', () => s.lost);
  metrics.observeCounter('outbox_appended_total', 'Signal transitions written to the outbox', () => o.stats.appended);
  metrics.observe('outbox_payload_bytes', 'Payload bytes held by the outbox (bounded by state.max_outbox_mb)', () => o.payloadBytes);
  metrics.observeCounter('outbox_pruned_total', 'Delivered outbox rows pruned at the state.max_outbox_mb bound', () => o.stats.pruned);
  metrics.observeFamily('counter', 'outbox_dead_letters_total', 'Deliveries moved to the dead letters, by reason', ['reason'], () =>
    Object.entries(o.stats.deadLettered).map(([reason, n]): [{ reason: string }, number] => [{ reason }, n]));
  metrics.observeCounter('outbox_dead_letters_dropped_total', 'Dead letters deleted past state.max_dead_letters', () => o.stats.deadLettersDropped);
  metrics.observeFamily('gauge', 'sink_pending', 'Deliveries waiting in the outbox, per sink', ['sink'], () => o.backlog().map((b): [{ sink: string }, number] => [{ sink: b.sink }, b.pending]));
  metrics.observeFamily('gauge', 'sink_dead_letters', 'Dead letters per sink (GET /api/v1/deliveries?state=dead)', ['sink'], () => o.backlog().map((b): [{ sink: string }, number] => [{ sink: b.sink }, b.dead]));
  metrics.observeFamily('gauge', 'sink_oldest_pending_seconds', 'Age of the oldest undelivered transition, per sink', ['sink'], () => o.backlog().map((b): [{ sink: string }, number] => [{ sink: b.sink }, b.oldestPendingSeconds]));
  metrics.observeFamily('counter', 'sink_delivered_total', 'Signal transitions delivered, per sink', ['sink'], () => workers.map((w): [{ sink: string }, number] => [{ sink: w.sink.name }, w.stats.delivered]));
  metrics.observeFamily('counter', 'sink_failed_attempts_total', 'Delivery attempts that failed (retried later or dead-lettered), per sink', ['sink'], () => workers.map((w): [{ sink: string }, number] => [{ sink: w.sink.name }, w.stats.failedAttempts]));
}

/** Checkpoint metrics. */
function observeCheckpoints(metrics: SelfMetrics, c: CheckpointStore): void {
  const s = c.stats;
  metrics.observeCounter('checkpoint_saves_total', 'Checkpoints of detector and signal state written (state.checkpoint_interval and at shutdown)', () => s.saves);
  metrics.observeCounter('checkpoint_failures_total', 'Checkpoint saves or parts that failed (database errors, a part that threw)', () => s.failures);
  metrics.observe('checkpoint_bytes', 'Payload bytes of the last checkpoint, all parts', () => s.bytes);
  metrics.observe('checkpoint_save_seconds', 'How long the last checkpoint took (snapshot and transaction)', () => s.lastSaveMs / 1000);
  metrics.observeFamily('gauge', 'checkpoint_part_bytes', 'Payload bytes of the last checkpoint, per part', ['part'], () =>
    Object.entries(s.partBytes).map(([part, n]): [{ part: string }, number] => [{ part }, n]));
  metrics.observe('checkpoint_restored_parts', 'Checkpoint parts restored at start', () => s.restored);
  metrics.observe('checkpoint_skipped_parts', 'Checkpoint parts ignored at start (damaged or another format version)', () => s.skipped);
}

/** Forwarding metrics. */
function observeForwarder(metrics: SelfMetrics, f: Forwarder): void {
  metrics.observe('forward_queue_bytes', 'Request bytes waiting to be forwarded upstream (bounded by forward.queue.max_mb)', () => f.bytes);
  metrics.observeFamily('counter', 'forward_requests_total', 'Requests relayed upstream, by signal', ['signal'], () =>
    Object.entries(f.stats.forwarded).map(([signal, n]): [{ signal: string }, number] => [{ signal }, n]));
  metrics.observeFamily('counter', 'forward_dropped_total', 'Requests not relayed, by reason', ['reason'], () =>
    Object.entries(f.stats.dropped).map(([reason, n]): [{ reason: string }, number] => [{ reason }, n]));
  metrics.observeCounter('forward_retries_total', 'Forward attempts that failed and were retried', () => f.stats.retries);
  metrics.observeCounter('forward_refused_total', 'Requests refused with the retryable answer because the forward queue was full', () => f.stats.refused);
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
