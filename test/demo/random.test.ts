import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../../src/demo/random.js';

function draws(seed: number, n: number): number[] {
  const r = new SeededRandom(seed);
  return Array.from({ length: n }, () => r.next());
}

describe('SeededRandom', () => {
  test('the same seed gives the same stream, another seed another one', () => {
    expect(draws(1, 50)).toEqual(draws(1, 50));
    expect(draws(1, 50)).not.toEqual(draws(2, 50));
    for (const x of draws(7, 1000)) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  test('lognormal has the asked median and spread', () => {
    const r = new SeededRandom(3);
    const xs = Array.from({ length: 20_000 }, () => r.lognormal(80, 0.3)).sort((a, b) => a - b);
    expect(xs[10_000]).toBeGreaterThan(78);
    expect(xs[10_000]).toBeLessThan(82);
    // p99 of a lognormal: median · e^(2.326 σ) ≈ 160 for σ = 0.3
    expect(xs[19_800]).toBeGreaterThan(150);
    expect(xs[19_800]).toBeLessThan(172);
    expect(xs[0]).toBeGreaterThan(0);
  });

  test('poisson counts average their mean, small and large', () => {
    for (const mean of [0.7, 4, 55]) {
      const r = new SeededRandom(11);
      let sum = 0;
      for (let i = 0; i < 20_000; i++) sum += r.poisson(mean);
      expect(sum / 20_000).toBeCloseTo(mean, mean > 10 ? 0 : 1);
    }
    expect(new SeededRandom(1).poisson(0)).toBe(0);
  });
});
