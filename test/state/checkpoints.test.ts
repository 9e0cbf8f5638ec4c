/**
 * Checkpoints: the store on a real SQLite file (round trip, damaged and foreign payloads,
 * shutdown), then restarts of the simulated pipeline. A restart between two windows must be
 * invisible: the transitions after it are exactly those of an uninterrupted run (same kinds,
 * fingerprints, sequences, times and evidence; ids continue). And the controls: the same
 * restart without checkpoints does change what happens, so the comparison has teeth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Logger, pino } from 'pino';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { ManualClock } from '../../src/aggregate/clock.js';
import type { FrictionConfig } from '../../src/config/index.js';
import { ByteReader, ByteWriter } from '../../src/detect/checkpoint-codec.js';
import type { Finding } from '../../src/detect/detector.js';
import type { SignalTransition } from '../../src/signals/signal.js';
import { Synthesizer } from '../../src/signals/synthesizer.js';
import { type Checkpointable, CheckpointStore } from '../../src/state/checkpoints.js';
import { type StateDatabase, openStateDatabase } from '../../src/state/database.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { mulberry32 } from '../support/generate.js';
import { type CheckpointTransfer, type Condition, type Operation, SimulatedPipeline, T0 } from '../scenarios/pipeline.js';

const dirs: string[] = [];
const dbs: StateDatabase[] = [];
function tempDb(): StateDatabase {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-checkpoints-'));
  dirs.push(dir);
  const db = openStateDatabase(dir);
  dbs.push(db);
  return db;
}
afterAll(() => {
  for (const db of dbs) if (db.open) db.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface LogLine {
  level: number;
  msg: string;
  part?: string;
}

function capture(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

/** A part holding one number, in format version 1. */
class Counter implements Checkpointable {
  value = 0;
  restoredAt = Number.NaN;
  failSnapshot = false;
  constructor(readonly checkpointName: string) {}
  snapshot(): Buffer {
    if (this.failSnapshot) throw new Error('snapshot exploded');
    const w = new ByteWriter(1);
    w.uint(this.value);
    return w.done();
  }
  restore(data: Buffer, savedAt: number): void {
    const r = new ByteReader(data, 1);
    const v = r.uint();
    r.end();
    this.value = v;
    this.restoredAt = savedAt;
  }
}

const payloadOf = (value: number, format = 1): Buffer => {
  const w = new ByteWriter(format);
  w.uint(value);
  return w.done();
};

describe('CheckpointStore', () => {
  afterEach(() => vi.useRealTimers());

  test('saves every part in one transaction and restores them into a new process', () => {
    const db = tempDb();
    const clock = new ManualClock(T0);
    const a = new Counter('a');
    const b = new Counter('b');
    a.value = 7;
    b.value = 300_000;
    const store = new CheckpointStore(db, [a, b], 30_000, clock, createLogger('silent'));
    expect(store.saveAll()).toBe(true);
    clock.advance(30_000);
    b.value = 300_001;
    expect(store.saveAll()).toBe(true);
    expect(store.stats).toMatchObject({ saves: 2, failures: 0, bytes: 4 + 6, partBytes: { a: 4, b: 6 } });
    // One row per part, overwritten in place.
    expect(db.prepare('SELECT name, saved_at FROM checkpoints ORDER BY name').all()).toEqual([
      { name: 'a', saved_at: T0 + 30_000 },
      { name: 'b', saved_at: T0 + 30_000 },
    ]);

    const a2 = new Counter('a');
    const b2 = new Counter('b');
    const none = new Counter('never-saved');
    const next = new CheckpointStore(db, [a2, b2, none], 30_000, clock, createLogger('silent'));
    expect(next.restoreAll()).toBe(2);
    expect([a2.value, b2.value, none.value]).toEqual([7, 300_001, 0]);
    expect(a2.restoredAt).toBe(T0 + 30_000);
    expect(next.stats).toMatchObject({ restored: 2, skipped: 0 });
  });

  test('a damaged payload is logged and skipped, and the other parts still restore', () => {
    const db = tempDb();
    const put = db.prepare('INSERT INTO checkpoints (name, saved_at, payload) VALUES (?, ?, ?)');
    put.run('garbage', T0, Buffer.from('{"not": "ours"}'));
    put.run('truncated', T0, payloadOf(300_000).subarray(0, 4));
    put.run('trailing', T0, Buffer.concat([payloadOf(5), Buffer.from([1])]));
    put.run('good', T0, payloadOf(42));
    const parts = ['garbage', 'truncated', 'trailing', 'good'].map((n) => new Counter(n));
    const { logger, lines } = capture();
    const store = new CheckpointStore(db, parts, 30_000, new ManualClock(T0), logger);
    expect(store.restoreAll()).toBe(1);
    expect(parts.map((p) => p.value)).toEqual([0, 0, 0, 42]);
    expect(store.stats).toMatchObject({ restored: 1, skipped: 3 });
    const warned = lines.filter((l) => l.level === 40 && l.msg.startsWith('damaged checkpoint ignored'));
    expect(warned.map((l) => l.part)).toEqual(['garbage', 'truncated', 'trailing']);
  });

  test('a payload of another format version is ignored (logged at info), not misread', () => {
    const db = tempDb();
    db.prepare('INSERT INTO checkpoints (name, saved_at, payload) VALUES (?, ?, ?)').run('a', T0, payloadOf(9, 2));
    const a = new Counter('a');
    const { logger, lines } = capture();
    const store = new CheckpointStore(db, [a], 30_000, new ManualClock(T0), logger);
    expect(store.restoreAll()).toBe(0);
    expect(a.value).toBe(0);
    expect(store.stats.skipped).toBe(1);
    expect(lines.find((l) => l.part === 'a')).toMatchObject({ level: 30, found: 2, expected: 1 });
  });

  test('saves on its interval; shutdown saves once more, stops, and is idempotent', async () => {
    vi.useFakeTimers();
    const db = tempDb();
    const a = new Counter('a');
    const store = new CheckpointStore(db, [a], 30_000, new ManualClock(T0), createLogger('silent'));
    const saved = (): number => new ByteReader((db.prepare(`SELECT payload FROM checkpoints WHERE name = 'a'`).get() as { payload: Buffer }).payload, 1).uint();
    await store.start();
    a.value = 1;
    vi.advanceTimersByTime(29_999);
    expect(store.stats.saves).toBe(0);
    vi.advanceTimersByTime(1);
    expect(store.stats.saves).toBe(1);
    expect(saved()).toBe(1);
    a.value = 2;
    expect(await store.shutdown(Date.now() + 1000)).toBe(true);
    expect(store.stats.saves).toBe(2);
    expect(saved()).toBe(2);
    a.value = 3;
    expect(await store.shutdown(Date.now() + 1000)).toBe(true);
    vi.advanceTimersByTime(120_000);
    expect(store.stats.saves).toBe(2);
    expect(saved()).toBe(2);
    // Restarting a stopped store does nothing.
    await store.start();
    vi.advanceTimersByTime(120_000);
    expect(store.stats.saves).toBe(2);
  });

  test('a part whose snapshot throws keeps its previous row; a failing database is counted and logged once', () => {
    const db = tempDb();
    const a = new Counter('a');
    const b = new Counter('b');
    a.value = 1;
    b.value = 1;
    const { logger, lines } = capture();
    const store = new CheckpointStore(db, [a, b], 30_000, new ManualClock(T0), logger);
    expect(store.saveAll()).toBe(true);
    a.value = 2;
    b.value = 2;
    a.failSnapshot = true;
    expect(store.saveAll()).toBe(true);
    const rows = db.prepare('SELECT name, payload FROM checkpoints ORDER BY name').all() as { name: string; payload: Buffer }[];
    expect(rows.map((r) => [r.name, new ByteReader(r.payload, 1).uint()])).toEqual([['a', 1], ['b', 2]]);
    expect(store.stats.failures).toBe(1);

    db.close();
    expect(store.saveAll()).toBe(false);
    expect(store.saveAll()).toBe(false);
    expect(store.stats.failures).toBe(1 + 2 + 2); // two snapshot failures of `a`, two failed writes
    expect(lines.filter((l) => l.msg.startsWith('cannot write checkpoints'))).toHaveLength(1);
  });

  test('two parts with one name are refused', () => {
    expect(() => new CheckpointStore(tempDb(), [new Counter('x'), new Counter('x')], 1000, new ManualClock(), createLogger('silent'))).toThrow(/two checkpoint parts are named x/);
  });
});

// ---------------------------------------------------------------------------------------------
// Restarts of the simulated pipeline

const W = 1000; // one-second windows: baselines, warm-ups and sustain count windows

const checkout: Operation = { service: 'checkout', name: 'POST /checkout', rate: 800, medianMs: 60, sigma: 0.5, errorRate: 0.002 };
const cart: Operation = { service: 'checkout', name: 'GET /cart', rate: 900, medianMs: 15, sigma: 0.4, errorRate: 0.001 };
const search: Operation = { service: 'search', name: 'GET /search', rate: 700, medianMs: 30, sigma: 0.6, errorRate: 0.003 };
const OPS = [checkout, cart, search];

function pipeline(edit: (c: FrictionConfig) => void = () => {}, window = W): SimulatedPipeline {
  return new SimulatedPipeline((c) => {
    c.aggregation.window = window;
    c.aggregation.series_ttl = 3_600_000;
    c.slos = [{ name: 'checkout-availability', service: 'checkout', operation: '*', objective: 0.99, period: 3_600_000, sli: { kind: 'availability', threshold_ms: 0 }, outcomes: [] }];
    c.alerting.burn_rate_windows = [
      { long: 60_000, short: 5_000, factor: 14.4, severity: 'critical' },
      { long: 360_000, short: 30_000, factor: 6, severity: 'critical' },
    ];
    c.detectors.metric_anomaly.span_signals = ['rate', 'error_ratio', 'p99'];
    edit(c);
  });
}

/** Checkpoints go through a real CheckpointStore and SQLite file, as in main.ts. */
const throughSqlite: CheckpointTransfer = (from, to, now) => {
  const db = tempDb();
  const clock = { now: () => now };
  const logger = createLogger('silent');
  expect(new CheckpointStore(db, from, 30_000, clock, logger).saveAll()).toBe(true);
  expect(new CheckpointStore(db, to, 30_000, clock, logger).restoreAll()).toBe(to.length);
  db.close();
};
const withoutCheckpoints: CheckpointTransfer = () => {};

/** Everything a transition says but the id (ids are random per run; continuity is checked apart). */
function view(ts: readonly SignalTransition[]): Record<string, unknown>[] {
  return ts
    .map(({ transition, sequence, signal }) => ({ ...signal, id: '', transition, sequence }))
    .sort((x, y) => x.updatedAt.localeCompare(y.updatedAt) || x.fingerprint.localeCompare(y.fingerprint) || x.transition.localeCompare(y.transition));
}

const at = (t: SignalTransition): number => Date.parse(t.signal.updatedAt);

/** Signals firing at `time`, by fingerprint: each one's last transition by then, unless resolved. */
function openAt(ts: readonly SignalTransition[], time: number): Map<string, SignalTransition['signal']> {
  const last = new Map<string, SignalTransition>();
  for (const t of ts) if (at(t) <= time) last.set(t.signal.fingerprint, t);
  return new Map([...last].filter(([, t]) => t.transition !== 'resolved').map(([fp, t]) => [fp, t.signal]));
}

// Window 60 to 89: POST /checkout fails 90% (budget burn, error spike), GET /cart is 4× slower
// (latency regression, p99 anomaly), search gets no traffic at all (traffic drop).
function incident(op: Operation, w: number): Condition | undefined {
  if (w < 60 || w >= 90) return undefined;
  return op === checkout ? { errorRate: 0.9 } : op === cart ? { latencyFactor: 4 } : { rateFactor: 0 };
}
const INCIDENT_KINDS = ['error_budget_burn', 'error_spike', 'latency_regression', 'traffic_drop'];

describe('restart mid-incident', () => {
  const uninterrupted = pipeline();
  uninterrupted.run(OPS, 160, incident);

  test('a restart between two windows changes nothing: same transitions, same times, same evidence, ids continue', () => {
    const p = pipeline();
    p.run(OPS, 160, incident, undefined, [{ afterWindows: 75, transfer: throughSqlite }]);
    expect(view(p.transitions)).toEqual(view(uninterrupted.transitions));

    // Not vacuous: every kind of the incident was firing when the process stopped…
    const restartAt = T0 + 75 * W;
    const after = p.transitions.filter((t) => at(t) > restartAt);
    const firingAtRestart = openAt(p.transitions, restartAt);
    expect(new Set([...firingAtRestart.values()].map((s) => s.kind))).toEqual(new Set([...INCIDENT_KINDS, 'metric_anomaly']));
    // …none of them is announced again, and each resolves with the id it fired with.
    for (const t of after) if (firingAtRestart.has(t.signal.fingerprint)) expect(t.transition).not.toBe('firing');
    const resolved = after.filter((t) => t.transition === 'resolved');
    for (const [fp, signal] of firingAtRestart) expect(resolved.find((t) => t.signal.fingerprint === fp)?.signal.id).toBe(signal.id);
    // The budget was still burning after the restart and stopped at the same close as without one.
    const burn = (ts: readonly SignalTransition[]) => ts.find((t) => t.signal.kind === 'error_budget_burn' && t.transition === 'resolved');
    expect(burn(p.transitions)).toBeDefined();
    expect(at(burn(p.transitions) as SignalTransition)).toBe(at(burn(uninterrupted.transitions) as SignalTransition));
    expect(at(burn(p.transitions) as SignalTransition)).toBeGreaterThan(T0 + 90 * W);
  });

  test('restarts while signals count clean closes towards resolving, twice in a row, or in every close: still nothing changes', () => {
    // The incident ends after window 89; its signals resolve three clean closes later.
    for (const afterWindows of [[91], [92], [76, 77]]) {
      const p = pipeline();
      p.run(OPS, 160, incident, undefined, afterWindows.map((n) => ({ afterWindows: n })));
      expect(view(p.transitions)).toEqual(view(uninterrupted.transitions));
    }
    const p = pipeline();
    p.run(OPS, 160, incident, undefined, Array.from({ length: 159 }, (_, i) => ({ afterWindows: i + 1 })));
    expect(view(p.transitions)).toEqual(view(uninterrupted.transitions));
  });

  test('a detector restored and not yet run snapshots to the very same bytes; any damaged payload is refused whole', () => {
    const p = pipeline();
    p.run(OPS, 75, incident);
    const before = p.checkpointParts().filter((x) => x.checkpointName.startsWith('detector.'));
    const saved = before.map((x) => x.snapshot());
    p.restart();
    const after = p.checkpointParts().filter((x) => x.checkpointName.startsWith('detector.'));
    expect(after.map((x) => x.checkpointName)).toEqual(before.map((x) => x.checkpointName));
    expect(after.map((x) => x.snapshot())).toEqual(saved);
    // Every truncation throws (reads are bounds-checked and the end is checked), and a refused
    // payload leaves the detector as it was: a restore of the intact one still works after.
    const rng = mulberry32(5);
    const fresh = pipeline().checkpointParts().filter((x) => x.checkpointName.startsWith('detector.'));
    fresh.forEach((part, i) => {
      for (let k = 0; k < 20; k++) {
        const cut = Math.floor(rng() * saved[i].length);
        expect(() => part.restore(saved[i].subarray(0, cut), T0)).toThrow();
      }
      part.restore(saved[i], T0);
      expect(part.snapshot()).toEqual(saved[i]);
    });
  });

  test('control: the same restart without checkpoints resolves the incident while it still goes on', () => {
    const p = pipeline();
    p.run(OPS, 160, incident, undefined, [{ afterWindows: 75, transfer: withoutCheckpoints }]);
    expect(view(p.transitions)).not.toEqual(view(uninterrupted.transitions));
    const early = p.transitions.filter((t) => t.transition === 'resolved' && at(t) < T0 + 90 * W).map((t) => t.signal.kind);
    expect(early.length).toBeGreaterThan(0);
  });

  test('a restart during warm-up does not restart the warm-up', () => {
    // GET /cart regresses in windows 40–59; the warm-up is 30 windows, the restart after 20.
    const slow = (op: Operation, w: number): Condition | undefined => (op === cart && w >= 40 && w < 60 ? { latencyFactor: 4 } : undefined);
    const edit = (c: FrictionConfig) => {
      c.slos = [];
      c.detectors.metric_anomaly.span_signals = [];
    };
    const a = pipeline(edit);
    a.run(OPS, 80, slow);
    const b = pipeline(edit);
    b.run(OPS, 80, slow, undefined, [{ afterWindows: 20, transfer: throughSqlite }]);
    expect(view(b.transitions)).toEqual(view(a.transitions));
    expect(a.fired()).toEqual(['latency_regression checkout GET /cart']);
    const firedAt = (p: SimulatedPipeline) => p.transitions.filter((t) => t.transition === 'firing').map(at);
    expect(firedAt(a)[0]).toBeLessThan(T0 + 45 * W);
    // Control: starting over, the warm-up runs to window 50 and the regression is found late.
    const c = pipeline(edit);
    c.run(OPS, 80, slow, undefined, [{ afterWindows: 20, transfer: withoutCheckpoints }]);
    expect(firedAt(c).every((t) => t > T0 + 50 * W)).toBe(true);
  });

  test('a restart mid-window loses that window\'s early spans but announces nothing again', () => {
    // Two-second windows: the restart comes one second into window 75 (spans of its first half die).
    const p = pipeline(() => {}, 2 * W);
    const q = pipeline(() => {}, 2 * W);
    p.run(OPS, 160, incident);
    q.run(OPS, 160, incident, undefined, [{ afterWindows: 75, steps: 1, transfer: throughSqlite }]);
    const restartAt = T0 + 75 * 2 * W + W;
    const openAtRestart = new Set(openAt(q.transitions, restartAt).keys());
    expect(openAtRestart.size).toBeGreaterThanOrEqual(INCIDENT_KINDS.length);
    const after = q.transitions.filter((t) => at(t) > restartAt);
    expect(after.filter((t) => t.transition === 'firing' && openAtRestart.has(t.signal.fingerprint))).toEqual([]);
    const names = (s: SimulatedPipeline) => [...new Set(s.fired())].sort();
    expect(names(q)).toEqual(names(p));
    // Every signal resolves within a window of when it resolved without the restart.
    const ends = (s: SimulatedPipeline) => new Map(s.transitions.filter((t) => t.transition === 'resolved').map((t) => [t.signal.fingerprint, at(t)]));
    const pEnds = ends(p);
    for (const [fp, t] of ends(q)) expect(Math.abs(t - (pEnds.get(fp) ?? Number.NaN))).toBeLessThanOrEqual(2 * W);
  });

  test('the window a restart cut through is not taken for a traffic drop, even with sustain 1', () => {
    // Ten-second windows; the restart comes 9 s into window 20, so the new process sees 10% of it.
    const light = OPS.map((o) => ({ ...o, rate: 50 }));
    const edit = (c: FrictionConfig) => {
      c.slos = [];
      c.detectors.traffic_drop.sustain = 1;
      c.detectors.traffic_drop.warmup_windows = 10;
      c.detectors.metric_anomaly.span_signals = [];
    };
    const p = new SimulatedPipeline((c) => {
      c.aggregation.series_ttl = 3_600_000;
      edit(c);
    });
    p.run(light, 30, undefined, undefined, [{ afterWindows: 20, steps: 9, transfer: throughSqlite }]);
    expect(p.fired()).toEqual([]);
  });
});

describe('restart with metric detectors', () => {
  // One gauge report per window: a queue's depth, normal around 100, then stuck at 500 from report 45 to 69.
  const depth = (k: number): number => (k >= 45 && k < 70 ? 500 : 100 + 10 * Math.sin(k * 1.7) + 5 * Math.cos(k * 0.9));
  function feed(p: SimulatedPipeline, windows: number, restartAfter: readonly number[] = [], silentFrom = Number.POSITIVE_INFINITY): void {
    for (let k = 0; k < windows; k++) {
      p.clock.advance(W);
      p.aggregator.tick();
      if (restartAfter.includes(k)) p.restart(throughSqlite);
      if (k < silentFrom) p.gauge('orders', 'queue.depth', depth(k), { queue: 'payments' });
      // Another series keeps metric windows closing (a close without windows reaches no detector).
      p.gauge('orders', 'process.cpu.utilization', 0.3);
    }
  }
  const edit = (c: FrictionConfig) => {
    c.slos = [];
    c.detectors.metric_thresholds = [{ name: 'queue-deep', metric: 'queue.depth', attributes: {}, service: '', above: 300, below: null, for: 10_000, severity: 'warning', outcomes: [] }];
    c.detectors.metric_anomaly.metrics = ['queue.depth'];
  };

  test('a threshold\'s `for` clause and an anomaly band carry over a restart', () => {
    const a = pipeline(edit);
    feed(a, 100);
    expect(new Set(a.fired())).toEqual(new Set(['metric_threshold orders', 'metric_anomaly orders']));
    // Restarts during the warm-up, inside the `for` clause, and while both fire.
    for (const restartAfter of [20, 50, 60]) {
      const b = pipeline(edit);
      feed(b, 100, [restartAfter]);
      expect(view(b.transitions)).toEqual(view(a.transitions));
    }
  });

  test('a series that went silent while firing is still judged after a restart, as its empty windows would be', () => {
    // No report after the 60th: the threshold's last value stands for five minutes, then goes
    // stale and resolves; the anomaly's verdict stands until the series is evicted.
    const a = pipeline(edit);
    feed(a, 400, [], 60);
    const ends = a.transitions.filter((t) => t.transition === 'resolved').map((t) => `${t.signal.kind}@${(at(t) - T0) / W}`);
    expect(ends).toEqual(['metric_threshold@364']);
    for (const restartAfter of [[62], [62, 200]]) {
      const b = pipeline(edit);
      feed(b, 400, restartAfter, 60);
      expect(view(b.transitions)).toEqual(view(a.transitions));
    }
  });
});

describe('the synthesizer across a restart', () => {
  const finding = (o: Partial<Finding> = {}): Finding => ({
    kind: 'latency_regression', severity: 'warning', service: 'checkout', operation: 'POST /cart', slo: '', metric: '', outcomes: [], magnitude: 2,
    evidence: { ratio: 2 }, exemplars: [], ...o,
  });
  function synth(): Synthesizer {
    let n = 0;
    return new Synthesizer({
      signals: { resolve_after: 2, renotify_interval: 3_600_000, flap_threshold: 3, flap_windows: 100 },
      outcomes: {}, services: {}, windowMs: W, newId: () => `id-${++n}`,
    });
  }
  /** What the history lists as firing after `ts`. */
  const history = (ts: readonly SignalTransition[]) => {
    const last = new Map<string, SignalTransition>();
    for (const t of ts) last.set(t.signal.id, t);
    return [...last.values()].filter((t) => t.transition !== 'resolved').map((t) => ({ signal: JSON.parse(JSON.stringify(t.signal)) as SignalTransition['signal'], sequence: t.sequence }));
  };
  // Fires and resolves twice, then fires a third time (flapping from then on), then goes quiet.
  const script = (k: number): Finding[] => ([0, 3, 6].includes(k) ? [finding()] : []);

  test('a flapping signal stays flapping and its clean count carries over, whichever restore comes first', () => {
    const a = synth();
    const expected: SignalTransition[] = [];
    for (let k = 0; k < 16; k++) expected.push(...a.observe('spans', script(k), T0 + k * W));
    // Flapping: six clean closes (2 × 3) after the third start, not two.
    expect(expected.map((t) => `${t.transition}@${(Date.parse(t.signal.updatedAt) - T0) / W}`)).toEqual(['firing@0', 'resolved@2', 'firing@3', 'resolved@5', 'firing@6', 'resolved@12']);
    for (const stopAfter of [6, 8, 10]) {
      for (const historyFirst of [true, false]) {
        const before = synth();
        const got: SignalTransition[] = [];
        for (let k = 0; k <= stopAfter; k++) got.push(...before.observe('spans', script(k), T0 + k * W));
        const after = synth();
        if (historyFirst) after.restore(history(got));
        after.checkpoint.restore(before.checkpoint.snapshot(), T0 + stopAfter * W);
        if (!historyFirst) after.restore(history(got));
        for (let k = stopAfter + 1; k < 16; k++) got.push(...after.observe('spans', script(k), T0 + k * W));
        expect(view(got)).toEqual(view(expected));
      }
    }
  });

  test('the history wins over an older checkpoint', () => {
    const s = synth();
    s.observe('spans', [finding()], T0);
    s.observe('spans', [], T0 + W); // one clean close
    const checkpoint = s.checkpoint.snapshot();
    // The signal escalated after the checkpoint: the history has sequence 2.
    const [updated] = s.observe('spans', [finding({ severity: 'critical' })], T0 + 2 * W);
    const after = synth();
    after.restore([{ signal: updated.signal, sequence: 2 }]);
    after.checkpoint.restore(checkpoint, T0 + W);
    expect(after.firing()[0].severity).toBe('critical');
    // Two clean closes from zero resolve it, not one.
    expect(after.observe('spans', [], T0 + 3 * W)).toEqual([]);
    expect(after.observe('spans', [], T0 + 4 * W).map((t) => [t.transition, t.sequence])).toEqual([['resolved', 3]]);
  });

  test('a span anomaly restored from the history resolves on span closes', () => {
    const s = synth();
    const [fired] = s.observe('spans', [finding({ kind: 'metric_anomaly', evidence: { signal: 'p99', scope: 'server {}' } })], T0);
    const after = synth();
    after.restore([{ signal: fired.signal, sequence: 1 }]);
    after.observe('spans', [], T0 + W);
    expect(after.observe('spans', [], T0 + 2 * W).map((t) => t.transition)).toEqual(['resolved']);
  });

  test('a damaged synthesizer checkpoint throws and changes nothing', () => {
    const s = synth();
    const fired = s.observe('spans', [finding()], T0);
    s.observe('spans', [], T0 + W);
    const good = s.checkpoint.snapshot();
    const w = new ByteWriter(1);
    w.str(JSON.stringify({ active: [{ ...(JSON.parse(new ByteReader(good, 1).str()) as { active: object[] }).active[0], clean: 'one' }], starts: [] }));
    const after = synth();
    after.restore(history(fired));
    expect(() => after.checkpoint.restore(w.done(), T0)).toThrow(/malformed/);
    expect(() => after.checkpoint.restore(Buffer.from('OF\u0001\u0001{'), T0)).toThrow();
    // Nothing was taken: the clean close before the stop is not counted, two more are needed.
    expect(after.observe('spans', [], T0 + 2 * W)).toEqual([]);
    expect(after.observe('spans', [], T0 + 3 * W).map((t) => t.transition)).toEqual(['resolved']);
  });
});
