/**
 * The share of a sketch's values above a threshold, found by bisection on `quantile` so it
 * works with any {@link QuantileSketch}: latency SLIs count "slow" spans this way from the
 * window's sketch instead of keeping a counter per threshold on the hot path.
 */
import type { QuantileSketch } from '../aggregate/sketch.js';

// 2^-24 of rank precision: far below the sketches' own rank error.
const ITERATIONS = 24;

/** Fraction (0–1) of the values added to `sketch` that are greater than `threshold`. */
export function fractionAbove(sketch: QuantileSketch, threshold: number): number {
  if (sketch.count() === 0) return 0;
  if (threshold >= sketch.max()) return 0;
  if (threshold < sketch.min()) return 1;
  if (sketch.cdf !== undefined) return Math.min(1, Math.max(0, 1 - sketch.cdf(threshold)));
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < ITERATIONS; i++) {
    const mid = (lo + hi) / 2;
    if (sketch.quantile(mid) <= threshold) lo = mid;
    else hi = mid;
  }
  return 1 - lo;
}
