/**
 * One open window of one span series: the numbers that accumulate per span, and the shape a
 * window has once closed.
 */
import { ExemplarReservoir, type ExemplarSet } from './exemplars.js';
import type { QuantileSketch } from './sketch.js';
import type { WindowSummary } from './window-history.js';

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

/** A closed window: the numbers plus exemplar spans. */
export interface LastWindow extends WindowSummary {
  /** Window end (exclusive), ms since the epoch. */
  end: number;
  /** Valid until the series closes its next window. */
  exemplars: ExemplarSet;
}

/**
 * A window as handed to detectors when it closes. The object is the series' own and is
 * refilled at its next close; `sketch` is the window's quantile sketch and is only valid
 * during the callback (it is reset for the next window afterwards): merge or serialize it
 * there if you need it later, and copy the numbers you keep.
 */
export interface ClosedSpanWindow extends LastWindow {
  readonly series: SpanSeriesKey;
  sketch: QuantileSketch;
}

/** A reusable closed window for `series`. */
export function newClosedWindow(series: SpanSeriesKey, sketch: QuantileSketch, exemplars: ExemplarSet): ClosedSpanWindow {
  const nan = Number.NaN;
  return { series, start: 0, end: 0, count: 0, errors: 0, sumMs: 0, minMs: nan, maxMs: nan, p50: nan, p90: nan, p99: nan, p999: nan, exemplars, sketch };
}

/**
 * Accumulates one window; reused window after window. Which window it holds is recorded in the
 * aggregator's slot table (`SpanSlots.laneWindow`), the one place the hot loop reads it.
 */
export class SpanWindowAccumulator {
  count = 0;
  errors = 0;
  sumMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = Number.NEGATIVE_INFINITY;
  /** Swapped with the series' last-window reservoir at close, so neither is copied. */
  exemplars: ExemplarReservoir;

  constructor(readonly sketch: QuantileSketch, exemplars: number) {
    this.exemplars = new ExemplarReservoir(exemplars);
  }

  /** Adds the staged spans at [from, to): durations (ms) and error flags. */
  addMany(values: Float64Array, errors: Uint8Array, from: number, to: number): void {
    let sum = 0;
    let errs = 0;
    let min = this.minMs;
    let max = this.maxMs;
    const sketch = this.sketch;
    for (let i = from; i < to; i++) {
      const v = values[i];
      sum += v;
      errs += errors[i];
      if (v < min) min = v;
      if (v > max) max = v;
      sketch.add(v);
    }
    this.count += to - from;
    this.errors += errs;
    this.sumMs += sum;
    this.minMs = min;
    this.maxMs = max;
  }

  /**
   * Writes the closed form of this window into `out` and hands its exemplars over (returning
   * the reservoir `out` held before, now owned by this accumulator). Call {@link reset} once
   * readers are done with the sketch.
   */
  closeInto(out: ClosedSpanWindow, index: number, windowMs: number, previous: ExemplarReservoir): ExemplarReservoir {
    const start = index * windowMs;
    const s = this.sketch;
    out.start = start;
    out.end = start + windowMs;
    out.count = this.count;
    out.errors = this.errors;
    out.sumMs = this.sumMs;
    out.minMs = this.count > 0 ? this.minMs : Number.NaN;
    out.maxMs = this.count > 0 ? this.maxMs : Number.NaN;
    out.p50 = s.quantile(0.5);
    out.p90 = s.quantile(0.9);
    out.p99 = s.quantile(0.99);
    out.p999 = s.quantile(0.999);
    out.sketch = s;
    const mine = this.exemplars;
    out.exemplars = mine;
    this.exemplars = previous;
    return mine;
  }

  reset(): void {
    this.count = 0;
    this.errors = 0;
    this.sumMs = 0;
    this.minMs = Number.POSITIVE_INFINITY;
    this.maxMs = Number.NEGATIVE_INFINITY;
    this.sketch.reset();
    this.exemplars.reset();
  }
}

/** Writes an empty window (nothing arrived: detectors need the gaps, e.g. traffic drops) into `out`. */
export function closeEmptyInto(out: ClosedSpanWindow, index: number, windowMs: number, sketch: QuantileSketch, exemplars: ExemplarSet): void {
  const nan = Number.NaN;
  out.start = index * windowMs;
  out.end = out.start + windowMs;
  out.count = 0;
  out.errors = 0;
  out.sumMs = 0;
  out.minMs = out.maxMs = out.p50 = out.p90 = out.p99 = out.p999 = nan;
  out.sketch = sketch;
  out.exemplars = exemplars;
}
