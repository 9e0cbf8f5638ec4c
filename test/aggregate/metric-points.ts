/**
 * Test support for the metric aggregator: PointBatch entries filled by hand, as the scanner
 * would fill them.
 */
import { PointBatch } from '../../src/otlp/batch.js';

/** Fields of one point; unset ones keep the scanner's blank values. */
export interface PointSpec {
  type: number;
  service?: string;
  metric?: string;
  unit?: string;
  temporality?: number;
  monotonic?: boolean;
  /** Start time, ns (low half only; enough for tests). */
  start?: number;
  /** Point time, ms since the epoch (split into the uint64 halves of nanoseconds). */
  timeMs?: number;
  flags?: number;
  attrs?: Record<string, string> | [string, string][];
  value?: number;
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  buckets?: number[];
  bounds?: number[];
  scale?: number;
  zeroCount?: number;
  posOffset?: number;
  pos?: number[];
  negOffset?: number;
  neg?: number[];
  quantiles?: [number, number][];
}

/** A batch holding `specs`, filled through `next()` like the scanner does. */
export function batchOf(...specs: PointSpec[]): PointBatch {
  const b = new PointBatch();
  b.reset();
  for (const s of specs) {
    const p = b.next();
    p.serviceName = s.service ?? 'svc';
    p.metricName = s.metric ?? 'm';
    p.unit = s.unit ?? '';
    p.type = s.type;
    p.temporality = s.temporality ?? 0;
    p.monotonic = s.monotonic ?? false;
    p.startLo = s.start ?? 0;
    if (s.timeMs !== undefined) {
      const ns = BigInt(s.timeMs) * 1_000_000n;
      p.timeHi = Number(ns >> 32n);
      p.timeLo = Number(ns & 0xffffffffn);
    }
    p.flags = s.flags ?? 0;
    const attrs = Array.isArray(s.attrs) ? s.attrs : Object.entries(s.attrs ?? {});
    for (const [k, v] of attrs) p.attrs.push(k, v);
    p.value = s.value ?? 0;
    p.count = s.count ?? 0;
    if (s.sum !== undefined) {
      p.sum = s.sum;
      p.hasSum = true;
    }
    if (s.min !== undefined) {
      p.min = s.min;
      p.hasMin = true;
    }
    if (s.max !== undefined) {
      p.max = s.max;
      p.hasMax = true;
    }
    p.bucketCounts.push(...(s.buckets ?? []));
    p.explicitBounds.push(...(s.bounds ?? []));
    p.scale = s.scale ?? 0;
    p.zeroCount = s.zeroCount ?? 0;
    p.positiveOffset = s.posOffset ?? 0;
    p.positiveCounts.push(...(s.pos ?? []));
    p.negativeOffset = s.negOffset ?? 0;
    p.negativeCounts.push(...(s.neg ?? []));
    for (const [q, v] of s.quantiles ?? []) {
      p.quantiles.push(q);
      p.quantileValues.push(v);
    }
  }
  return b;
}

/** Index of the exponential bucket holding v > 0 at `scale`: bucket i is (base^i, base^(i+1)]. */
export function expoIndex(v: number, scale: number): number {
  return Math.ceil(Math.log2(v) * 2 ** scale) - 1;
}

/** Positive buckets (offset, counts) of `values` at `scale`. */
export function expoBuckets(values: readonly number[], scale: number): { offset: number; counts: number[] } {
  const idx = values.map((v) => expoIndex(v, scale));
  const offset = Math.min(...idx);
  const counts = new Array<number>(Math.max(...idx) - offset + 1).fill(0);
  for (const i of idx) counts[i - offset]++;
  return { offset, counts };
}

/** Exact φ-quantile of a sample (nearest rank). */
export function exactQuantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** A seeded PRNG, so distributions are reproducible. */
export { mulberry32 as rng } from '../support/generate.js';
