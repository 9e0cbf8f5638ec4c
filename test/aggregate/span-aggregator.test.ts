import { describe, expect, test } from 'vitest';
import { ManualClock } from '../../src/aggregate/clock.js';
import type { Exemplar } from '../../src/aggregate/exemplars.js';
import { createSketchFactory } from '../../src/aggregate/sketches.js';
import { SpanAggregator } from '../../src/aggregate/span-aggregator.js';
import type { ClosedSpanWindow } from '../../src/aggregate/span-window.js';
import { type AggregationConfig, defaultConfig } from '../../src/config/index.js';
import { SpanBatch } from '../../src/otlp/batch.js';

const T0 = 1_700_000_000_000; // a window boundary for 1s and 10s windows

type Snapshot = Omit<ClosedSpanWindow, 'exemplars'> & { exemplars: Exemplar[] };

interface SpanSpec {
  service?: string;
  name?: string;
  kind?: number;
  ms?: number;
  error?: boolean;
  endMs?: number;
  dims?: string[];
  id?: number;
}

/** A batch as the decoder would hand it over; ids are filled with `id` bytes. */
function batchOf(specs: SpanSpec[], dimCount = 0): SpanBatch {
  const buf = Buffer.alloc(specs.length * 24);
  const b = new SpanBatch();
  b.reset(buf);
  specs.forEach((p, i) => {
    const s = b.next(dimCount);
    s.serviceName = p.service ?? 'checkout';
    s.name = p.name ?? 'GET /cart';
    s.kind = p.kind ?? 2;
    s.statusCode = p.error ? 2 : 0;
    s.durationNs = (p.ms ?? 10) * 1e6;
    const endNs = BigInt(Math.round((p.endMs ?? T0) * 1e6));
    s.endHi = Number(endNs >> 32n);
    s.endLo = Number(endNs & 0xffffffffn);
    buf.fill(p.id ?? i + 1, i * 24, i * 24 + 24);
    s.traceIdOffset = i * 24;
    s.spanIdOffset = i * 24 + 16;
    for (let d = 0; d < dimCount; d++) s.dims[d] = p.dims?.[d] ?? '';
  });
  return b;
}

/** Gives the batch's spans interner ids, as the wire scanner does: one id per distinct string. */
function withIds(b: SpanBatch, generation = 0): SpanBatch {
  const ids = new Map<string, number>();
  const id = (v: string): number => {
    let x = ids.get(v);
    if (x === undefined) ids.set(v, (x = ids.size));
    return x;
  };
  for (let i = 0; i < b.length; i++) {
    b.spans[i].nameId = id(`n:${b.spans[i].name}`);
    b.spans[i].serviceId = id(`s:${b.spans[i].serviceName}`);
  }
  b.idsValid = true;
  b.idGeneration = generation;
  return b;
}

function setup(overrides: Partial<AggregationConfig> = {}, start = T0) {
  const config = { ...defaultConfig().aggregation, window: 1000, ...overrides };
  const clock = new ManualClock(start);
  const closed: Snapshot[][] = [];
  const caps: number[] = [];
  const agg = new SpanAggregator({
    config,
    clock,
    sketches: createSketchFactory('tdigest', {}),
    onWindows: (w) => {
      // The sketch is only valid now: read from it here, as a detector would.
      for (const x of w) expect(x.sketch.count()).toBe(x.count);
      // Window objects are reused at the next close: keep copies, as a detector would.
      closed.push(w.map((x) => ({ ...x, exemplars: x.exemplars.render() })));
    },
    onCapReached: (n) => caps.push(n),
  });
  return { agg, clock, closed, caps, config };
}

describe('SpanAggregator', () => {
  test('one window: count, errors, sum, min, max, quantiles and exemplars favouring failures and slow spans', () => {
    const { agg, clock, closed } = setup({ exemplars: 2 });
    const specs: SpanSpec[] = Array.from({ length: 100 }, (_, i) => ({ ms: i + 1, error: i === 10, id: i + 1 }));
    agg.consume(batchOf(specs));
    clock.set(T0 + 1000);
    agg.closeDue(clock.now());
    expect(closed).toHaveLength(1);
    const [w] = closed[0];
    expect(w.series).toMatchObject({ service: 'checkout', operation: 'GET /cart', kind: 'server', overflow: false });
    expect(w).toMatchObject({ start: T0, end: T0 + 1000, count: 100, errors: 1, sumMs: 5050, minMs: 1, maxMs: 100 });
    expect(w.p50).toBeGreaterThan(49);
    expect(w.p50).toBeLessThan(52);
    expect(w.p99).toBeGreaterThan(98);
    expect(w.exemplars.map((e) => [e.durationMs, e.error])).toEqual([[11, true], [100, false]]);
    expect(w.exemplars[1].traceId).toBe('64'.repeat(16));
    const series = [...agg.series()][0];
    expect(series.last).toMatchObject({ count: 100, errors: 1 });
    expect(series.history.length).toBe(1);
  });

  test('windows roll over with the clock; idle windows are emitted empty; nothing closes early', () => {
    const { agg, clock, closed } = setup();
    agg.consume(batchOf([{ ms: 5 }, { ms: 7 }]));
    clock.set(T0 + 999);
    agg.closeDue(clock.now());
    expect(closed).toHaveLength(0);
    clock.set(T0 + 1500);
    agg.consume(batchOf([{ ms: 9 }])); // closes the first window on the way in
    expect(closed).toHaveLength(1);
    expect(closed[0][0].count).toBe(2);
    clock.set(T0 + 4000);
    agg.closeDue(clock.now());
    const counts = closed.flat().map((w) => [w.start - T0, w.count]);
    expect(counts).toEqual([[0, 2], [1000, 1], [2000, 0], [3000, 0]]);
    expect(Number.isNaN(closed.flat()[3].p99)).toBe(true);
    expect([...agg.series()][0].history.toArray().map((w) => w.count)).toEqual([2, 1, 0, 0]);
  });

  test('series are keyed by service, renamed operation, kind and dimensions', () => {
    const { agg, clock, closed } = setup({
      dimensions: ['deployment.environment', 'http.route'],
      operation_rules: [{ match: '/user/\\d+', replace: '/user/{id}' }],
    });
    expect(agg.decoderDimensions).toEqual(['deployment.environment', 'http.route']);
    agg.consume(batchOf([
      { name: 'GET /user/1', dims: ['prod', ''] },
      { name: 'GET /user/2', dims: ['prod', ''] },
      { name: 'GET /user/3', dims: ['canary', ''] },
      { name: 'GET /user/3', kind: 3, dims: ['prod', ''] },
      { name: 'GET /user/3', kind: 99, dims: ['prod', ''] },
      { service: 'cart', name: 'GET /user/4', dims: ['prod', ''] },
    ], 2));
    clock.set(T0 + 1000);
    agg.closeDue(clock.now());
    const keys = closed[0].map((w) => `${w.series.service}|${w.series.operation}|${w.series.kind}|${w.series.dimensions['deployment.environment']}|${w.count}`).sort();
    expect(keys).toEqual([
      'cart|GET /user/{id}|server|prod|1',
      'checkout|GET /user/{id}|client|prod|1',
      'checkout|GET /user/{id}|server|canary|1',
      'checkout|GET /user/{id}|server|prod|2',
      'checkout|GET /user/{id}|unspecified|prod|1',
    ]);
    expect(closed[0][0].series.dimensions).toHaveProperty('http.route', '');
  });

  test('HTTP 5xx and configured gRPC codes count as errors when switched on', () => {
    const { agg, clock, closed } = setup({ errors: { http_5xx: true, grpc_codes: [13, 14] } });
    expect(agg.decoderDimensions).toEqual(['http.response.status_code', 'http.status_code', 'rpc.grpc.status_code']);
    agg.consume(batchOf([
      { dims: ['503', '', ''] },
      { dims: ['', '500', ''] },
      { dims: ['404', '', ''] },
      { dims: ['', '', '14'] },
      { dims: ['', '', '5'] },
      { dims: ['', '', ''], error: true },
      { dims: ['5000', '', ''] },
    ], 3));
    clock.set(T0 + 1000);
    agg.closeDue(clock.now());
    expect(closed[0][0]).toMatchObject({ count: 7, errors: 4 });
  });

  test('cardinality cap: new keys fold into the service overflow series, counted, reported once', () => {
    const { agg, clock, closed, caps } = setup({ max_series: 3 });
    agg.consume(batchOf(Array.from({ length: 10 }, (_, i) => ({ name: `op${i}` }))));
    agg.consume(batchOf([{ name: 'op0' }, { name: 'op9' }]));
    expect(caps).toEqual([3]);
    expect(agg.stats.overflowSpans).toBe(8);
    clock.set(T0 + 1000);
    agg.closeDue(clock.now());
    const overflow = closed[0].find((w) => w.series.overflow);
    expect(overflow).toMatchObject({ count: 8, series: { service: 'checkout', operation: '__overflow__' } });
    expect(agg.keyspace.size).toBe(4);
  });

  test('idle series are evicted after the TTL', () => {
    const { agg, clock } = setup({ series_ttl: 5000 });
    agg.consume(batchOf([{ name: 'a' }]));
    clock.set(T0 + 3000);
    agg.consume(batchOf([{ name: 'b' }]));
    clock.set(T0 + 5000);
    agg.closeDue(clock.now());
    expect([...agg.series()].map((s) => s.operation)).toEqual(['b']);
    expect(agg.keyspace.evicted).toBe(1);
    clock.set(T0 + 8000);
    agg.closeDue(clock.now());
    expect(agg.keyspace.size).toBe(0);
  });

  test('span_end time: spans land in their own window while it is open, later ones count as late', () => {
    const { agg, clock, closed } = setup({ time: 'span_end', allowed_lateness: 2000 });
    clock.set(T0 + 2500);
    agg.consume(batchOf([
      { endMs: T0 + 100 }, // window 0, still open until T0 + 3000
      { endMs: T0 + 1200 },
      { endMs: T0 + 2400 },
      { endMs: T0 + 60_000 }, // from a clock ahead of ours: current window
    ]));
    clock.set(T0 + 3100);
    agg.consume(batchOf([{ endMs: T0 + 900 }, { endMs: T0 + 1900 }])); // window 0 just closed: late
    expect(agg.stats.lateSpans).toBe(1);
    clock.set(T0 + 10_000);
    agg.closeDue(clock.now());
    const counts = closed.flat().map((w) => [w.start - T0, w.count]);
    expect(counts.slice(0, 4)).toEqual([[0, 1], [1000, 2], [2000, 2], [3000, 0]]);
    expect([...agg.series()][0].late).toBe(1);
  });

  test('negative durations count as zero and are counted', () => {
    const { agg, clock, closed } = setup();
    agg.consume(batchOf([{ ms: -5 }, { ms: 3 }]));
    clock.set(T0 + 1000);
    agg.closeDue(clock.now());
    expect(closed[0][0]).toMatchObject({ count: 2, minMs: 0, maxMs: 3 });
    expect(agg.stats.negativeDurations).toBe(1);
  });

  test('the series keeps its newest closed window; a reader sees each window of a catch-up', () => {
    const { agg, clock, closed } = setup();
    agg.consume(batchOf([{ ms: 4 }]));
    clock.set(T0 + 3000);
    agg.closeDue(clock.now());
    expect(closed).toHaveLength(1);
    expect(closed[0].map((w) => w.count)).toEqual([1, 0, 0]);
    expect(closed[0][0].exemplars).toHaveLength(1);
    const series = [...agg.series()][0];
    expect(series.last).toMatchObject({ start: T0 + 2000, count: 0 });
    expect(series.last?.exemplars.size).toBe(0);
  });

  test('the id fast path gives the same windows as string lookups, across services sharing a name', () => {
    const specs: SpanSpec[] = [];
    for (let i = 0; i < 3000; i++) specs.push({ service: `svc${i % 7}`, name: `op${i % 13}`, kind: 2 + (i % 2), ms: 1 + (i % 50), error: i % 31 === 0 });
    const run = (ids: boolean) => {
      const { agg, clock, closed } = setup();
      for (let k = 0; k < 3; k++) agg.consume(ids ? withIds(batchOf(specs)) : batchOf(specs));
      clock.set(T0 + 1000);
      agg.closeDue(clock.now());
      return closed[0].map((w) => `${w.series.service}|${w.series.operation}|${w.series.kind}|${w.count}|${w.errors}|${w.sumMs}|${w.minMs}|${w.maxMs}`).sort();
    };
    const slow = run(false);
    expect(slow).toHaveLength(new Set(specs.map((p) => `${p.service}|${p.name}|${p.kind}`)).size);
    expect(run(true)).toEqual(slow);
  });

  test('more spans than one staging flush holds are all counted, in the right series', () => {
    const { agg, clock, closed } = setup();
    const specs: SpanSpec[] = Array.from({ length: 10_000 }, (_, i) => ({ name: `op${i % 3}`, ms: 2 }));
    for (let k = 0; k < 5; k++) agg.consume(withIds(batchOf(specs))); // 50,000 > one stage
    clock.set(T0 + 1000);
    agg.closeDue(clock.now());
    expect(closed[0].map((w) => w.count).sort()).toEqual([16_665, 16_665, 16_670]);
    expect(closed[0].reduce((n, w) => n + w.sumMs, 0)).toBe(100_000);
  });

  test('a new interner generation invalidates cached ids; evicted slots are reused', () => {
    const { agg, clock, closed } = setup({ series_ttl: 2000 });
    agg.consume(withIds(batchOf([{ name: 'a' }, { name: 'b' }]), 0));
    // Same ids, but the decoder's string table started over: id 0 now names "b".
    const swapped = withIds(batchOf([{ name: 'b' }, { name: 'b' }, { name: 'a' }]), 1);
    agg.consume(swapped);
    clock.set(T0 + 1000);
    agg.closeDue(clock.now());
    expect(closed[0].map((w) => `${w.series.operation}:${w.count}`).sort()).toEqual(['a:2', 'b:3']);
    clock.set(T0 + 3000);
    agg.closeDue(clock.now()); // both evicted (idle 2 s)
    expect(agg.keyspace.size).toBe(0);
    agg.consume(withIds(batchOf([{ name: 'c' }, { name: 'a' }]), 1));
    clock.set(T0 + 4000);
    agg.closeDue(clock.now());
    expect(closed.at(-1)?.map((w) => `${w.series.operation}:${w.count}`).sort()).toEqual(['a:1', 'c:1']);
  });

  test('a long stall replays at most retain_windows windows per series', () => {
    const { agg, clock, closed } = setup({ retain_windows: 5 });
    agg.consume(batchOf([{}]));
    clock.set(T0 + 1000 * 1000);
    agg.closeDue(clock.now());
    expect(closed.flat().length).toBeLessThanOrEqual(6);
  });

  test('a listener that throws does not stop the windows from being recorded', () => {
    const config = { ...defaultConfig().aggregation, window: 1000 };
    const clock = new ManualClock(T0);
    const agg = new SpanAggregator({ config, clock, sketches: createSketchFactory('tdigest', {}), onWindows: () => { throw new Error('boom'); } });
    agg.consume(batchOf([{}]));
    clock.set(T0 + 1000);
    expect(() => agg.closeDue(clock.now())).toThrow('boom');
    expect([...agg.series()][0].history.length).toBe(1);
    // The lane was reset for reuse regardless.
    clock.set(T0 + 2000);
    expect(() => agg.closeDue(clock.now())).toThrow('boom');
    expect([...agg.series()][0].history.toArray().map((w) => w.count)).toEqual([1, 0]);
  });
});
