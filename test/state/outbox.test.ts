import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { ManualClock } from '../../src/aggregate/clock.js';
import type { SignalTransition } from '../../src/signals/signal.js';
import { type StateDatabase, openStateDatabase } from '../../src/state/database.js';
import { Outbox } from '../../src/state/outbox.js';
import { SignalHistory } from '../../src/state/signal-history.js';
import { sampleSignal } from '../support/signals.js';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
const dbs: StateDatabase[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir = mkdtempSync(path.join(os.tmpdir(), 'friction-outbox-')), sinks = ['a', 'b'], maxBytes = 1 << 20, maxDeadLetters = 1000) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const db = openStateDatabase(dir);
  dbs.push(db);
  const clock = new ManualClock(Date.parse('2026-11-25T00:00:00Z'));
  const history = new SignalHistory(db, 30 * 86_400_000);
  const outbox = new Outbox(db, history, { sinks, maxBytes, maxDeadLetters, clock, logger });
  return { dir, db, clock, history, outbox };
}

/** Transition `seq` of incident `n` (its own id and fingerprint). */
function tr(n: number, seq: number, transition: SignalTransition['transition'] = seq === 1 ? 'firing' : 'resolved', service = 'checkout'): SignalTransition {
  const resolved = transition === 'resolved';
  const startsAt = new Date(Date.parse('2026-11-25T00:00:00Z') + n * 1000).toISOString();
  const endsAt = resolved ? new Date(Date.parse(startsAt) + 60_000 * n).toISOString() : null;
  return {
    transition, sequence: seq,
    signal: sampleSignal({ id: `id-${n}`, fingerprint: `fp${String(n).padStart(14, '0')}`, service, status: resolved ? 'resolved' : 'firing', startsAt, updatedAt: endsAt ?? startsAt, endsAt, priority: n }),
  };
}

describe('outbox', () => {
  test('an append writes history, the transition and one pending delivery per sink; each sink reads its own rows in order', () => {
    const { outbox, history } = open();
    outbox.append([tr(1, 1), tr(2, 1)]);
    outbox.append([tr(1, 2)]);
    const a = outbox.pending('a', 10);
    expect(a.map((r) => [r.delivery.signal.id, r.delivery.sequence, r.delivery.transition])).toEqual([['id-1', 1, 'firing'], ['id-2', 1, 'firing'], ['id-1', 2, 'resolved']]);
    expect(a[0].delivery.key).toMatch(/^fp0+1:[0-9a-z]+:1$/);
    outbox.delivered('a', [a[0].outboxId, a[1].outboxId]);
    expect(outbox.pending('a', 10)).toHaveLength(1);
    expect(outbox.pending('b', 10)).toHaveLength(3);
    expect(history.open().map((o) => o.signal.id)).toEqual(['id-2']);
    expect(history.query({ status: 'resolved', limit: 10 }).signals.map((s) => s.id)).toEqual(['id-1']);
    expect(outbox.stats.appended).toBe(3);
  });

  test('what was appended is still pending after the database is reopened', () => {
    const first = open();
    first.outbox.append([tr(1, 1), tr(2, 1)]);
    first.outbox.delivered('a', [first.outbox.pending('a', 1)[0].outboxId]);
    first.db.close();
    const again = open(first.dir);
    expect(again.outbox.pending('a', 10).map((r) => r.delivery.signal.id)).toEqual(['id-2']);
    expect(again.outbox.pending('b', 10)).toHaveLength(2);
    expect(again.outbox.payloadBytes).toBe(first.outbox.payloadBytes);
  });

  test('at the bound, delivered rows go first; then the oldest undelivered are dead-lettered without payload and counted', () => {
    const { outbox } = open(undefined, ['a'], 8_000);
    const one = outbox.payloadBytes;
    outbox.append([tr(1, 1)]);
    const size = outbox.payloadBytes - one;
    const perBound = Math.floor(8_000 / size);
    for (let n = 2; n <= perBound; n++) outbox.append([tr(n, 1)]);
    // Deliver the first half: those are the ones to prune first.
    const half = outbox.pending('a', Math.floor(perBound / 2));
    outbox.delivered('a', half.map((r) => r.outboxId));
    outbox.append([tr(100, 1), tr(101, 1)]);
    expect(outbox.payloadBytes).toBeLessThanOrEqual(8_000);
    expect(outbox.stats.pruned).toBeGreaterThan(0);
    expect(outbox.stats.deadLettered.outbox_full).toBe(0);
    // Nothing delivered any more: the next appends must dead-letter the oldest pending rows.
    for (let n = 200; n < 200 + perBound; n++) outbox.append([tr(n, 1)]);
    expect(outbox.payloadBytes).toBeLessThanOrEqual(8_000);
    const lost = outbox.stats.deadLettered.outbox_full;
    expect(lost).toBeGreaterThan(0);
    const dead = outbox.list('dead', 'a', 1000);
    expect(dead.total).toBe(lost);
    expect(dead.deliveries.every((d) => d.dead_reason === 'outbox_full' && !d.retryable)).toBe(true);
    // The newest transitions are the ones still pending.
    expect(outbox.pending('a', 1000).at(-1)?.delivery.signal.id).toBe(`id-${199 + perBound}`);
  });

  test('dead letters are capped: the oldest are dropped and counted', () => {
    const { outbox, clock } = open(undefined, ['a'], 1 << 20, 3);
    for (let n = 1; n <= 5; n++) outbox.append([tr(n, 1)]);
    for (const r of outbox.pending('a', 10)) {
      clock.advance(1000);
      outbox.dead('a', [r.outboxId], 'rejected', 'HTTP 400');
    }
    const dead = outbox.list('dead', undefined, 10);
    expect(dead.total).toBe(3);
    expect(dead.deliveries.map((d) => d.fingerprint)).toEqual(['fp00000000000003', 'fp00000000000004', 'fp00000000000005']);
    expect(outbox.stats.deadLettersDropped).toBe(2);
    expect(outbox.stats.deadLettered.rejected).toBe(5);
  });

  test('retry puts dead letters back in line, oldest first; payloads already pruned are reported, not retried', () => {
    const { outbox } = open(undefined, ['a', 'b']);
    outbox.append([tr(1, 1), tr(2, 1), tr(3, 1)]);
    const rows = outbox.pending('a', 10);
    outbox.dead('a', [rows[0].outboxId, rows[1].outboxId], 'max_attempts', 'timeout');
    outbox.dead('b', [rows[0].outboxId], 'rejected', '400');
    expect(outbox.retry({ sink: 'a', ids: [rows[1].outboxId] })).toEqual({ retried: 1, unrecoverable: 0, superseded: 0 });
    expect(outbox.pending('a', 10).map((r) => r.delivery.signal.id)).toEqual(['id-2', 'id-3']);
    expect(outbox.retry({})).toEqual({ retried: 2, unrecoverable: 0, superseded: 0 });
    expect(outbox.pending('a', 10).map((r) => r.delivery.signal.id)).toEqual(['id-1', 'id-2', 'id-3']);
    expect(outbox.list('dead', undefined, 10).total).toBe(0);
  });

  test('retry leaves a dead transition dead when a later one of the same signal was delivered to that sink', () => {
    const { outbox } = open(undefined, ['a', 'b']);
    outbox.append([tr(1, 1)]);
    const [firing] = outbox.pending('a', 10);
    outbox.dead('a', [firing.outboxId], 'max_attempts', 'timeout');
    outbox.dead('b', [firing.outboxId], 'max_attempts', 'timeout');
    outbox.append([tr(1, 2)]);
    const [resolvedA] = outbox.pending('a', 10);
    outbox.delivered('a', [resolvedA.outboxId]);
    // Sink a has the resolve: the old firing would re-open it. Sink b has not: both go in order.
    expect(outbox.retry({})).toEqual({ retried: 1, unrecoverable: 0, superseded: 1 });
    expect(outbox.list('dead', undefined, 10).deliveries.map((d) => [d.sink, d.id])).toEqual([['a', firing.outboxId]]);
    expect(outbox.pending('b', 10).map((r) => r.delivery.transition)).toEqual(['firing', 'resolved']);
  });

  test('a failed attempt keeps the row pending with its error and next attempt time', () => {
    const { outbox, clock } = open(undefined, ['a']);
    outbox.append([tr(1, 1)]);
    const [row] = outbox.pending('a', 1);
    outbox.failed('a', [row.outboxId], 'webhook answered HTTP 503', clock.now() + 5000);
    const [again] = outbox.pending('a', 1);
    expect(again.attempts).toBe(1);
    expect(again.nextAt).toBe(clock.now() + 5000);
    expect(outbox.list('pending', 'a', 10).deliveries[0]).toMatchObject({ last_error: 'webhook answered HTTP 503', attempts: 1, state: 'pending' });
    expect(outbox.backlog()).toEqual([{ sink: 'a', pending: 1, dead: 0, oldestPendingSeconds: 0 }]);
  });

  test('pending deliveries of a sink removed from the config become dead letters at start', () => {
    const first = open(undefined, ['a', 'old']);
    first.outbox.append([tr(1, 1)]);
    first.db.close();
    const again = open(first.dir, ['a']);
    expect(again.outbox.stats.deadLettered.sink_removed).toBe(1);
    expect(again.outbox.list('dead', undefined, 10).deliveries[0]).toMatchObject({ sink: 'old', dead_reason: 'sink_removed', retryable: true });
    expect(again.outbox.pending('a', 10)).toHaveLength(1);
  });
});

describe('signal history', () => {
  test('filters by status, service, kind and since; firing first by priority, then resolved newest first', () => {
    const { outbox, history } = open();
    outbox.append([tr(1, 1), tr(2, 1), tr(3, 1, 'firing', 'cart'), tr(4, 1)]);
    outbox.append([tr(1, 2), tr(2, 2)]);
    const all = history.query({ limit: 10 });
    expect(all.signals.map((s) => s.id)).toEqual(['id-4', 'id-3', 'id-2', 'id-1']);
    expect(history.query({ service: 'cart', limit: 10 }).signals.map((s) => s.id)).toEqual(['id-3']);
    expect(history.query({ status: 'resolved', limit: 1 })).toMatchObject({ total: 2 });
    // id-1 resolved 1 min after its start, id-2 2 min after: since = just after id-1 ended.
    const since = Date.parse('2026-11-25T00:01:30Z');
    expect(history.query({ status: 'resolved', since, limit: 10 }).signals.map((s) => s.id)).toEqual(['id-2']);
    expect(history.query({ kind: 'latency_regression', limit: 10 }).total).toBe(0);
  });

  test('MTTR per service and kind; retention prunes old resolved signals but never firing ones', () => {
    const { outbox, history } = open();
    outbox.append([tr(1, 1), tr(2, 1), tr(3, 1), tr(1, 2), tr(2, 2)]);
    // id-1 took 60 s, id-2 120 s.
    expect(history.mttr(0)).toEqual([{ service: 'checkout', kind: 'traffic_drop', resolved: 2, mttr_seconds: 90, p50_seconds: 60, max_seconds: 120 }]);
    expect(history.serviceMttr(0)).toEqual([{ service: 'checkout', resolved: 2, mean_seconds: 90, max_seconds: 120 }]);
    expect(history.serviceMttr(Date.parse('2026-11-25T00:01:30Z'))).toEqual([{ service: 'checkout', resolved: 1, mean_seconds: 120, max_seconds: 120 }]);
    expect(history.firingCounts()).toEqual([{ service: 'checkout', kind: 'traffic_drop', firing: 1 }]);
    expect(history.prune(Date.parse('2026-11-25T00:01:30Z') + 30 * 86_400_000)).toBe(1);
    expect(history.query({ limit: 10 }).signals.map((s) => s.id)).toEqual(['id-3', 'id-2']);
  });

  test('an older transition never overwrites a newer one (a redelivered write is harmless)', () => {
    const { history } = open();
    history.record(tr(1, 2));
    history.record(tr(1, 1));
    expect(history.query({ limit: 10 }).signals[0].status).toBe('resolved');
  });

  test('a database from a newer version is refused with FRICTION_ERR_STATE_OPEN', () => {
    const { dir, db } = open();
    db.pragma('user_version = 99');
    db.close();
    expect(() => openStateDatabase(dir)).toThrow(expect.objectContaining({ code: 'FRICTION_ERR_STATE_OPEN' }));
  });
});
