/**
 * Quantile sketches: a compact, mergeable summary of a latency distribution.
 * Two implementations sit behind one interface so users can pick the trade-off
 * (`aggregation.sketch.type`): our merging t-digest (default; rank-accurate, tiny) and a
 * DDSketch adapter (relative-error guarantee at every quantile, exact merges).
 */

/** The sketch implementations `aggregation.sketch.type` can name. */
export const SKETCH_TYPES = ['tdigest', 'ddsketch'] as const;

/** One of {@link SKETCH_TYPES}. */
export type SketchType = (typeof SKETCH_TYPES)[number];

/**
 * A streaming estimate of a distribution's quantiles.
 *
 * Values are latencies (milliseconds) or other non-negative measurements. `add` must not
 * allocate per call once the sketch has warmed up: it is on the per-span hot path.
 * Non-finite values are ignored and counted in {@link rejected}; implementations document how
 * they treat negative values.
 */
export interface QuantileSketch {
  /** Adds `value` with `weight` (default 1; a positive integer). */
  add(value: number, weight?: number): void;
  /** Folds another sketch of the same type and parameters into this one. */
  merge(other: QuantileSketch): void;
  /** Estimated value at quantile q in [0, 1]; NaN when empty. q=0 and q=1 are the exact min and max. */
  quantile(q: number): number;
  /**
   * Fraction (0–1) of the added weight at or below `x`, when the sketch can answer it directly
   * (cheaper than inverting {@link quantile}); NaN when empty.
   */
  cdf?(x: number): number;
  /** Number of values added (total weight). */
  count(): number;
  /** Exact smallest and largest value added; NaN when empty. */
  min(): number;
  max(): number;
  /** Values refused (NaN, ±Infinity, or outside what the sketch can represent). */
  rejected(): number;
  /** Empties the sketch, keeping its parameters (and, within reason, its buffers for reuse). */
  reset(): void;
  /** A self-contained binary form; {@link SketchFactory.deserialize} restores it exactly. */
  serialize(): Uint8Array;
  /** Approximate bytes of memory held (for the memory bench and gauges). */
  byteSize(): number;
}

/** Builds and restores sketches of one configured type. */
export interface SketchFactory {
  readonly type: SketchType;
  create(): QuantileSketch;
  /** Restores a serialized sketch; throws on bytes that are not a sketch of this type. */
  deserialize(bytes: Uint8Array): QuantileSketch;
}
