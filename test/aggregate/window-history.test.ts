import { describe, expect, test } from 'vitest';
import { RECORD_BYTES, WindowHistory, WindowRingSlab, decodeLatency, emptySummary, encodeLatency } from '../../src/aggregate/window-history.js';
import { ExemplarReservoir } from '../../src/aggregate/exemplars.js';

describe('latency codes', () => {
  test('round-trip within 0.025% over nanoseconds to days; zero and NaN exact', () => {
    for (let v = 1e-6; v < 1e8; v *= 1.37) {
      const back = decodeLatency(encodeLatency(v));
      expect(Math.abs(back - v) / v).toBeLessThanOrEqual(0.00026);
    }
    expect(decodeLatency(encodeLatency(0))).toBe(0);
    expect(decodeLatency(encodeLatency(-5))).toBe(0);
    expect(Number.isNaN(decodeLatency(encodeLatency(Number.NaN)))).toBe(true);
    expect(encodeLatency(1e300)).toBe(65534);
    expect(encodeLatency(1e-300)).toBe(1);
  });
});

describe('WindowHistory', () => {
  const summary = (start: number, count: number) => ({ ...emptySummary(start), count, errors: count % 3, sumMs: count * 2, minMs: 1, maxMs: count, p50: 2, p90: 3, p99: 4, p999: 5 });

  test('keeps the newest `limit` windows in order, with their starts', () => {
    const h = new WindowHistory(new WindowRingSlab(5), 10_000);
    for (let i = 0; i < 12; i++) h.push(summary(i * 10_000, i + 1));
    expect(h.length).toBe(5);
    const all = h.toArray();
    expect(all.map((w) => w.count)).toEqual([8, 9, 10, 11, 12]);
    expect(all.map((w) => w.start)).toEqual([70_000, 80_000, 90_000, 100_000, 110_000]);
    expect(all[4].errors).toBe(12 % 3);
    expect(Math.abs(all[4].sumMs - 24) / 24).toBeLessThan(0.00026); // rebuilt from the coded mean
    expect(Number.isNaN(all[4].minMs)).toBe(true); // not retained
    expect(all[4].maxMs).toBeCloseTo(12, 2);
    expect(all[4].p99).toBeCloseTo(4, 2);
    expect(h.toArray(2).map((w) => w.count)).toEqual([11, 12]);
    expect(() => h.get(5, emptySummary())).toThrow(RangeError);
  });

  test('rings come from shared chunks, are fixed size, and are reused after release', () => {
    const slab = new WindowRingSlab(360);
    const h = new WindowHistory(slab, 10_000);
    expect(slab.reservedBytes).toBe(0); // nothing until the first window
    h.push(summary(0, 1));
    const chunk = slab.reservedBytes;
    expect(chunk).toBe(256 * 360 * RECORD_BYTES);
    for (let i = 1; i < 1000; i++) h.push(summary(i * 10_000, i));
    expect(h.length).toBe(360);
    expect(h.toArray().map((w) => w.count)).toEqual(Array.from({ length: 360 }, (_, i) => 640 + i));
    // 300 more series fit in one more chunk; a released ring is handed out again.
    const others = Array.from({ length: 300 }, () => new WindowHistory(slab, 10_000));
    for (const o of others) o.push(summary(0, 7));
    expect(slab.reservedBytes).toBe(2 * chunk);
    for (const o of others) o.release();
    const again = new WindowHistory(slab, 10_000);
    again.push(summary(0, 9));
    expect(slab.reservedBytes).toBe(2 * chunk);
    expect(again.toArray().map((w) => w.count)).toEqual([9]);
    // Neighbouring rings do not overwrite each other.
    expect(h.toArray().at(-1)?.count).toBe(999);
  });

  test('empty windows read back as NaN latencies and zero counts', () => {
    const h = new WindowHistory(new WindowRingSlab(3), 1000);
    h.push(emptySummary(0));
    const w = h.get(0, emptySummary());
    expect(w.count).toBe(0);
    expect(Number.isNaN(w.p99)).toBe(true);
  });
});

describe('ExemplarReservoir', () => {
  const ids = (n: number) => {
    const b = new Uint8Array(24);
    b.fill(n);
    return b;
  };

  test('keeps failed spans first, then the slowest', () => {
    const r = new ExemplarReservoir(3);
    const durations = [5, 50, 1, 500, 20, 7];
    durations.forEach((d, i) => r.offer(d, i === 2, ids(i + 1), 0, 16));
    const out = r.render();
    expect(out.map((e) => e.durationMs)).toEqual([1, 500, 50]);
    expect(out[0].error).toBe(true);
    expect(out[0].traceId).toBe('03'.repeat(16));
    expect(out[0].spanId).toBe('03'.repeat(8));
    r.reset();
    expect(r.render()).toEqual([]);
  });

  test('capacity 0 keeps nothing', () => {
    const r = new ExemplarReservoir(0);
    r.offer(1, true, ids(1), 0, 16);
    expect(r.render()).toEqual([]);
  });
});
