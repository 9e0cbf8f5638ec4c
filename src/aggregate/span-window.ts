/**
 * One open window of one span series: the numbers that accumulate per span, and the shape a
 * window has once closed.
 */
import { type Exemplar, ExemplarReservoir } from './exemplars.js';
import type { QuantileSketch } from './sketch.js';
import { type WindowSummary, emptySummary } from './window-history.js';

/** The key of a span series, as readers see it. */
export interface SpanSeriesKey {
  readonly service: string;
  readonly operation: string;
  /** `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`. */
  readonly kind: string;
  /** Values of `aggregation.dimensions`, by key ("" when the span and resource lack it). */
  readonly dimensions: Readonly<Record<string, string>>;
  /** True for the series that collects new keys past `aggregation.max_series`. */
  readonly overflow: boolean;
}

/** A closed window, retained on its series: the numbers plus exemplar spans. */
export interface LastWindow extends WindowSummary {
  /** Window end (exclusive), ms since the epoch. */
  end: number;
  exemplars: Exemplar[];
}

/**
 * A window as handed to detectors when it closes. `sketch` is the window's own quantile
 * sketch and is only valid during the callback (it is reset for the next window afterwards):
 * merge or serialize it there if you need it later.
 */
export interface ClosedSpanWindow extends LastWindow {
  readonly series: SpanSeriesKey;
  readonly sketch: QuantileSketch;
}

/** Accumulates one window; reused window after window. */
export class SpanWindowAccumulator {
  /** Window index (start / window length), -1 when idle. */
  index = -1;
  count = 0;
  errors = 0;
  sumMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = Number.NEGATIVE_INFINITY;
  readonly exemplars: ExemplarReservoir;

  constructor(readonly sketch: QuantileSketch, exemplars: number) {
    this.exemplars = new ExemplarReservoir(exemplars);
  }

  begin(index: number): void {
    this.index = index;
  }

  add(durationMs: number, error: boolean): void {
    this.count++;
    if (error) this.errors++;
    this.sumMs += durationMs;
    if (durationMs < this.minMs) this.minMs = durationMs;
    if (durationMs > this.maxMs) this.maxMs = durationMs;
    this.sketch.add(durationMs);
  }

  /** The closed form of this window. Call {@link reset} once readers are done with the sketch. */
  close(series: SpanSeriesKey, windowMs: number): ClosedSpanWindow {
    const start = this.index * windowMs;
    const s = this.sketch;
    return {
      series,
      start,
      end: start + windowMs,
      count: this.count,
      errors: this.errors,
      sumMs: this.sumMs,
      minMs: this.count > 0 ? this.minMs : Number.NaN,
      maxMs: this.count > 0 ? this.maxMs : Number.NaN,
      p50: s.quantile(0.5),
      p90: s.quantile(0.9),
      p99: s.quantile(0.99),
      p999: s.quantile(0.999),
      exemplars: this.exemplars.render(),
      sketch: s,
    };
  }

  reset(): void {
    this.index = -1;
    this.count = 0;
    this.errors = 0;
    this.sumMs = 0;
    this.minMs = Number.POSITIVE_INFINITY;
    this.maxMs = Number.NEGATIVE_INFINITY;
    this.sketch.reset();
    this.exemplars.reset();
  }
}

/** The closed form of a window in which nothing arrived (detectors need the gaps: traffic drops). */
export function emptyClosedWindow(series: SpanSeriesKey, index: number, windowMs: number, sketch: QuantileSketch): ClosedSpanWindow {
  const start = index * windowMs;
  return { ...emptySummary(start), series, end: start + windowMs, exemplars: [], sketch };
}
