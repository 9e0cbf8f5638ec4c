/**
 * Seeded latency-like data for the sketch tests: the same seed gives the same values on every
 * machine, so accuracy assertions are reproducible.
 */

import { mulberry32 } from '../support/generate.js';

/** mulberry32: a tiny 32-bit PRNG; uniform in [0, 1). */
export { mulberry32 };

/** Standard normal samples by Box-Muller (both outputs used). */
export function normals(rand: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = Number.NaN;
      return s;
    }
    const u = 1 - rand(); // (0, 1]: log(0) would be -Infinity
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** n lognormal values: exp(mu + sigma·Z). Default: median 50 ms, sigma 1. */
export function lognormal(n: number, seed: number, median = 50, sigma = 1): Float64Array {
  const z = normals(mulberry32(seed));
  const mu = Math.log(median);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(mu + sigma * z());
  return out;
}

/** n Pareto values by inverse CDF: xm / U^(1/alpha). Default xm 10 ms, alpha 1.5 (infinite variance). */
export function pareto(n: number, seed: number, xm = 10, alpha = 1.5): Float64Array {
  const rand = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = xm / Math.pow(1 - rand(), 1 / alpha);
  return out;
}

/**
 * Two lognormal modes (e.g. cache hit / miss): `fraction` of the values around `lowMedian`, the
 * rest around `highMedian`, interleaved at random. With the defaults the median falls in the gap.
 */
export function bimodal(n: number, seed: number, lowMedian = 5, highMedian = 500, sigma = 0.25, fraction = 0.5): Float64Array {
  const rand = mulberry32(seed);
  const z = normals(mulberry32(seed ^ 0x9e3779b9));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const median = rand() < fraction ? lowMedian : highMedian;
    out[i] = median * Math.exp(sigma * z());
  }
  return out;
}

/** Sorted copy, for exact quantiles. */
export function sorted(values: Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * Exact quantile as the sketches define rank: the value at 0-based rank floor(q·(n-1)) of the
 * sorted data (a real data point, no interpolation; DDSketch's guarantee is stated against it).
 */
export function exactQuantile(sortedValues: Float64Array, q: number): number {
  return sortedValues[Math.floor(q * (sortedValues.length - 1))];
}

/** |estimate - exact| / |exact|. */
export function relativeError(estimate: number, exact: number): number {
  return Math.abs(estimate - exact) / Math.abs(exact);
}
