/**
 * The aggregation stage as one component: it is the receivers' {@link TelemetryConsumer}, owns
 * the span and metric aggregators, and closes windows on time (a timer, plus a check on every
 * batch) even when no data arrives, so an idle service still produces its empty windows.
 */
import type { Logger } from 'pino';
import type { AggregationConfig } from '../config/index.js';
import type { Component } from '../lifecycle/component.js';
import type { LogBatch, PointBatch, SpanBatch } from '../otlp/batch.js';
import type { TelemetryConsumer } from '../receiver/export-handler.js';
import type { Clock } from './clock.js';
import { type ClosedMetricWindow, MetricAggregator } from './metric-aggregator.js';
import type { SketchFactory } from './sketch.js';
import { SpanAggregator } from './span-aggregator.js';
import type { ClosedSpanWindow } from './span-window.js';

/** Where closed windows go next (the detectors). Called synchronously, in window order. */
export interface WindowListener {
  /** Closed span windows; each window's sketch is valid only during the call. */
  onSpanWindows?(windows: readonly ClosedSpanWindow[]): void;
  onMetricWindows?(windows: readonly ClosedMetricWindow[]): void;
}

/** What {@link Aggregator} is built from. */
export interface AggregatorOptions {
  config: AggregationConfig;
  sketches: SketchFactory;
  clock: Clock;
  logger: Logger;
  listener?: WindowListener;
}

// Fire a little after the boundary so a timer that runs a hair early never finds nothing due.
const TIMER_SLACK_MS = 5;

/** Spans and metric points in, closed windows out. */
export class Aggregator implements Component, TelemetryConsumer {
  readonly name = 'aggregator';
  readonly spans: SpanAggregator;
  readonly metrics: MetricAggregator;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Listener exceptions, counted rather than allowed to break window closing. */
  listenerErrors = 0;

  constructor(private readonly options: AggregatorOptions) {
    const { config, clock, logger } = options;
    this.spans = new SpanAggregator({
      config,
      sketches: options.sketches,
      clock,
      onWindows: (w) => this.deliver(() => options.listener?.onSpanWindows?.(w)),
      onCapReached: (max) =>
        logger.warn({ maxSeries: max, setting: 'aggregation.max_series' }, 'span series limit reached; new keys fold into one __overflow__ series per service (see otel_friction_aggregator_overflow_spans_total)'),
    });
    this.metrics = new MetricAggregator({
      windowMs: config.window,
      retainWindows: config.retain_windows,
      maxSeries: config.metrics.max_series,
      ttlMs: config.series_ttl,
      clock,
      onCapReached: (max) =>
        logger.warn({ maxSeries: max, setting: 'aggregation.metrics.max_series' }, 'metric series limit reached; new keys fold into one __overflow__ series per service (see otel_friction_aggregator_overflow_points_total)'),
    });
  }

  /** Attribute keys the decoder must extract for the span aggregator. */
  get decoderDimensions(): readonly string[] {
    return this.spans.decoderDimensions;
  }

  consumeSpans(batch: SpanBatch): void {
    this.spans.consume(batch);
  }

  consumePoints(batch: PointBatch): void {
    this.metrics.consume(batch);
  }

  consumeLogs(_batch: LogBatch): void {
    // Log records are accepted and counted by the receivers; no signal reads them yet.
  }

  /** Closes whatever is due now; the timer calls this, tests may too. */
  tick(): void {
    const now = this.options.clock.now();
    this.spans.closeDue(now);
    const closed = this.metrics.closeDue(now);
    if (closed.length > 0) this.deliver(() => this.options.listener?.onMetricWindows?.(closed));
  }

  private deliver(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.listenerErrors++;
      this.options.logger.error({ err }, 'window listener failed; the windows were still recorded');
    }
  }

  async start(): Promise<void> {
    if (this.stopped || this.timer !== undefined) return;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    const W = this.options.config.window;
    // Metric windows close on the boundary; span windows may wait for allowed_lateness.
    const due = Math.min(this.spans.nextClose, (Math.floor(now / W) + 1) * W);
    const delay = Math.max(0, due - now) + TIMER_SLACK_MS;
    this.timer = setTimeout(() => {
      this.tick();
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  async shutdown(_deadline: number): Promise<boolean> {
    // Open windows are partial: emitting them now would read as a traffic drop downstream,
    // so they are not emitted.
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return true;
  }
}
