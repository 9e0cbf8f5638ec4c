import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/aggregate/clock.js';
import type { RetryConfig } from '../../src/config/index.js';
import type { SignalTransition } from '../../src/signals/signal.js';
import { DeliveryWorker } from '../../src/sinks/delivery-worker.js';
import { type Delivery, type SignalSink, rejected, unavailable } from '../../src/sinks/sink.js';
import { type StateDatabase, openStateDatabase } from '../../src/state/database.js';
import { Outbox } from '../../src/state/outbox.js';
import { SignalHistory } from '../../src/state/signal-history.js';
import { sampleSignal } from '../support/signals.js';

const logger = pino({ level: 'silent' });
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const fast: RetryConfig = { initial_interval: 10, max_interval: 40, max_attempts: 100, max_age: 60_000 };

/**
 * A sink whose answers the test scripts: each call consults `verdict` (undefined = accept).
 * It stands in for the target so the worker's ordering and retry rules are tested exactly;
 * the real sinks are tested against real servers in their own files.
 */
class ScriptedSink implements SignalSink {
  readonly got: Delivery[] = [];
  readonly calls: number[] = [];
  verdict: (batch: readonly Delivery[]) => Error | undefined = () => undefined;
  constructor(readonly name: string, readonly maxBatch = 10) {}
  async deliver(batch: readonly Delivery[]): Promise<void> {
    this.calls.push(batch.length);
    const err = this.verdict(batch);
    if (err) throw err;
    this.got.push(...batch);
  }
  async close(): Promise<void> {}
}

function setup(sinks: ScriptedSink[], retry: RetryConfig = fast) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-worker-'));
  const db: StateDatabase = openStateDatabase(dir);
  const outbox = new Outbox(db, new SignalHistory(db, 86_400_000), { sinks: sinks.map((s) => s.name), maxBytes: 1 << 20, maxDeadLetters: 100, clock: systemClock, logger });
  const workers = sinks.map((s) => new DeliveryWorker(s, outbox, retry, systemClock, logger, () => 0.5));
  outbox.onAppend(() => workers.forEach((w) => w.wake()));
  for (const w of workers) void w.start();
  cleanup.push(async () => {
    await Promise.all(workers.map((w) => w.shutdown(Date.now() + 1000)));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { outbox, workers };
}

let nextId = 0;
/** `count` transitions of one incident each, or the steps of one incident when `steps`. */
function transitions(count: number): SignalTransition[] {
  return Array.from({ length: count }, () => {
    const n = ++nextId;
    return { transition: 'firing' as const, sequence: 1, signal: sampleSignal({ id: `id-${n}`, fingerprint: `fp${String(n).padStart(14, '0')}` }) };
  });
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('delivery worker', () => {
  test('delivers everything appended, in order, in batches of the sink size', async () => {
    const sink = new ScriptedSink('s', 4);
    const { outbox } = setup([sink]);
    const all = transitions(10);
    outbox.append(all.slice(0, 3));
    outbox.append(all.slice(3));
    await until(() => sink.got.length === 10);
    expect(sink.got.map((d) => d.signal.id)).toEqual(all.map((t) => t.signal.id));
    expect(Math.max(...sink.calls)).toBeLessThanOrEqual(4);
    expect(outbox.pending('s', 100)).toHaveLength(0);
  });

  test('a failing sink retries with backoff and keeps order; another sink is not held up', async () => {
    const down = new ScriptedSink('down');
    const up = new ScriptedSink('up');
    let outage = true;
    down.verdict = () => (outage ? unavailable('connection refused') : undefined);
    const { outbox, workers } = setup([down, up]);
    const all = transitions(6);
    for (const t of all) outbox.append([t]);
    await until(() => up.got.length === 6);
    await until(() => down.calls.length >= 3);
    expect(down.got).toHaveLength(0);
    expect(outbox.list('pending', 'down', 100).deliveries[0].attempts).toBeGreaterThanOrEqual(2);
    outage = false;
    await until(() => down.got.length === 6, 3000);
    expect(down.got.map((d) => d.signal.id)).toEqual(all.map((t) => t.signal.id));
    expect(workers[0].stats).toMatchObject({ delivered: 6 });
    expect(workers[0].stats.failedAttempts).toBeGreaterThanOrEqual(3);
  });

  test('a permanent refusal in a batch dead-letters only the refused transition', async () => {
    const sink = new ScriptedSink('s', 10);
    const all = transitions(5);
    const bad = all[2].signal.id;
    sink.verdict = (batch) => (batch.some((d) => d.signal.id === bad) ? rejected('HTTP 400: bad field') : undefined);
    const { outbox } = setup([sink]);
    outbox.append(all);
    await until(() => sink.got.length === 4 && outbox.list('dead', 's', 10).total === 1);
    expect(sink.got.map((d) => d.signal.id)).toEqual(all.filter((t) => t.signal.id !== bad).map((t) => t.signal.id));
    const dead = outbox.list('dead', 's', 10).deliveries[0];
    expect(dead).toMatchObject({ dead_reason: 'rejected', last_error: expect.stringContaining('HTTP 400'), retryable: true });
    expect(outbox.stats.deadLettered.rejected).toBe(1);
  });

  test('after max_attempts the batch becomes a dead letter and later rows go on', async () => {
    const sink = new ScriptedSink('s', 1);
    const all = transitions(2);
    sink.verdict = (batch) => (batch[0].signal.id === all[0].signal.id ? unavailable('HTTP 503') : undefined);
    const { outbox } = setup([sink], { ...fast, max_attempts: 3 });
    outbox.append(all);
    await until(() => sink.got.length === 1);
    expect(sink.calls.length).toBe(4);
    expect(outbox.list('dead', 's', 10).deliveries[0]).toMatchObject({ dead_reason: 'max_attempts', attempts: 3 });
  });

  test('rows older than max_age are dead-lettered instead of delivered', async () => {
    const sink = new ScriptedSink('s');
    sink.verdict = () => unavailable('down');
    const { outbox } = setup([sink], { ...fast, max_age: 80 });
    outbox.append(transitions(1));
    await until(() => outbox.list('dead', 's', 10).total === 1);
    expect(outbox.list('dead', 's', 10).deliveries[0].dead_reason).toBe('max_age');
    expect(sink.got).toHaveLength(0);
  });

  test('Retry-After from the target sets the next attempt', async () => {
    const sink = new ScriptedSink('s');
    let first = true;
    sink.verdict = () => {
      if (!first) return undefined;
      first = false;
      return unavailable('HTTP 429', { retryAfterMs: 300 });
    };
    const { outbox } = setup([sink]);
    const t0 = Date.now();
    outbox.append(transitions(1));
    await until(() => sink.got.length === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  test('a retried dead letter is delivered again', async () => {
    const sink = new ScriptedSink('s');
    let refuse = true;
    sink.verdict = () => (refuse ? rejected('HTTP 422') : undefined);
    const { outbox } = setup([sink]);
    outbox.append(transitions(1));
    await until(() => outbox.list('dead', 's', 10).total === 1);
    refuse = false;
    expect(outbox.retry({ sink: 's' })).toEqual({ retried: 1, unrecoverable: 0, superseded: 0 });
    await until(() => sink.got.length === 1);
  });

  test('shutdown flushes what is ready and leaves what cannot be delivered in the outbox', async () => {
    const ok = new ScriptedSink('ok');
    const down = new ScriptedSink('down');
    down.verdict = () => unavailable('refused');
    const { outbox, workers } = setup([ok, down]);
    outbox.append(transitions(3));
    const t0 = Date.now();
    const drained = await Promise.all(workers.map((w) => w.shutdown(Date.now() + 2000)));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(drained).toEqual([true, true]);
    expect(ok.got).toHaveLength(3);
    expect(outbox.pending('down', 10)).toHaveLength(3);
  });
});
