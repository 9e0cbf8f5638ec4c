/**
 * The outbox: every signal transition is written here, with its history row and one pending
 * delivery per sink, in a single transaction, before any sink sees it. Sinks read their own
 * pending rows in order (the oldest pending row is the sink's cursor); a row leaves when it is
 * delivered, or becomes a dead letter after `max_attempts`/`max_age`, a permanent refusal, or
 * when the outbox is full and it is the oldest undelivered payload.
 *
 * Bounded by `state.max_outbox_mb` of payload: past it, delivered rows go first (oldest first);
 * then the oldest undelivered rows are dead-lettered, counted and their payload dropped, so the
 * dead letter still says what was lost. Dead letters are capped by `state.max_dead_letters`.
 */
import type { Logger } from 'pino';
import type { Clock } from '../aggregate/clock.js';
import type { SignalTransition } from '../signals/signal.js';
import { type Delivery, idempotencyKey } from '../sinks/sink.js';
import type { StateDatabase } from './database.js';
import type { SignalHistory } from './signal-history.js';

/** What {@link Outbox.retry} did: requeued, payload pruned, or superseded by a delivered later transition. */
export interface RetryResult {
  retried: number;
  unrecoverable: number;
  superseded: number;
}

/** Why a delivery became a dead letter. */
export type DeadReason = 'rejected' | 'max_attempts' | 'max_age' | 'outbox_full' | 'sink_removed';

/** A pending delivery as a sink worker sees it. */
export interface PendingDelivery {
  outboxId: number;
  attempts: number;
  /** When the next attempt may start (ms); 0 = now. */
  nextAt: number;
  /** When the transition was written (ms). */
  createdAt: number;
  delivery: Delivery;
}

/** One row of `GET /api/v1/deliveries`. */
export interface DeliveryRecord {
  sink: string;
  id: number;
  state: 'pending' | 'dead';
  key: string;
  fingerprint: string;
  sequence: number;
  transition: string;
  created_at: string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  dead_at: string | null;
  dead_reason: DeadReason | null;
  /** False once the payload was pruned: the row records a loss and cannot be retried. */
  retryable: boolean;
}

/** Per-sink backlog, for /metrics. */
export interface SinkBacklog {
  sink: string;
  pending: number;
  dead: number;
  /** Age of the oldest pending row, seconds (0 when none). */
  oldestPendingSeconds: number;
}

/** Running totals for /metrics. */
export interface OutboxStats {
  appended: number;
  writeErrors: number;
  deadLettered: Record<DeadReason, number>;
  /** Dead letters deleted past `max_dead_letters`. */
  deadLettersDropped: number;
  /** Delivered rows pruned at the bound. */
  pruned: number;
}

/** Settings of {@link Outbox}. */
export interface OutboxOptions {
  sinks: readonly string[];
  maxBytes: number;
  maxDeadLetters: number;
  clock: Clock;
  logger: Logger;
}

/** The durable queue between the synthesizer and the sinks. */
export class Outbox {
  readonly stats: OutboxStats = { appended: 0, writeErrors: 0, deadLettered: { rejected: 0, max_attempts: 0, max_age: 0, outbox_full: 0, sink_removed: 0 }, deadLettersDropped: 0, pruned: 0 };
  private bytes: number;
  private readonly listeners: (() => void)[] = [];
  private readonly insert;
  private readonly insertDelivery;
  private readonly writeAll: (transitions: readonly SignalTransition[]) => void;
  private warnedFull = false;
  private warnedDropped = false;

  constructor(private readonly db: StateDatabase, private readonly history: SignalHistory, private readonly options: OutboxOptions) {
    this.insert = db.prepare(`INSERT INTO outbox (key, fingerprint, sequence, transition, created_at, bytes, payload) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.insertDelivery = db.prepare(`INSERT INTO deliveries (sink, outbox_id, state) VALUES (?, ?, 'pending')`);
    this.writeAll = db.transaction((transitions: readonly SignalTransition[]) => {
      const now = options.clock.now();
      for (const t of transitions) {
        this.history.record(t);
        const delivery: Delivery = { ...t, key: idempotencyKey(t) };
        const payload = JSON.stringify(delivery);
        const bytes = Buffer.byteLength(payload);
        const id = this.insert.run(delivery.key, t.signal.fingerprint, t.sequence, t.transition, now, bytes, payload).lastInsertRowid;
        for (const sink of options.sinks) this.insertDelivery.run(sink, id);
        this.bytes += bytes;
      }
      if (this.bytes > options.maxBytes) this.enforceBound(now);
    });
    this.bytes = (db.prepare(`SELECT COALESCE(SUM(bytes), 0) AS b FROM outbox`).get() as { b: number }).b;
    this.retireRemovedSinks();
  }

  /** Payload bytes held. */
  get payloadBytes(): number {
    return this.bytes;
  }

  /** Calls `listener` after every append (sink workers wake up). */
  onAppend(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Writes transitions durably (history + outbox + one delivery per sink, one transaction).
   * Throws when the database cannot be written; the caller counts and logs that.
   */
  append(transitions: readonly SignalTransition[]): void {
    if (transitions.length === 0) return;
    try {
      this.writeAll(transitions);
    } catch (err) {
      this.stats.writeErrors += transitions.length;
      throw err;
    }
    this.stats.appended += transitions.length;
    for (const l of this.listeners) l();
  }

  /** A sink's oldest pending deliveries, in order. */
  pending(sink: string, limit: number): PendingDelivery[] {
    const rows = this.db
      .prepare(`SELECT d.outbox_id AS id, d.attempts, d.next_at, o.created_at, o.payload FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
                WHERE d.sink = ? AND d.state = 'pending' ORDER BY d.outbox_id LIMIT ?`)
      .all(sink, limit) as { id: number; attempts: number; next_at: number; created_at: number; payload: string }[];
    return rows.map((r) => ({ outboxId: r.id, attempts: r.attempts, nextAt: r.next_at, createdAt: r.created_at, delivery: JSON.parse(r.payload) as Delivery }));
  }

  /** Marks deliveries done. */
  delivered(sink: string, ids: readonly number[]): void {
    const del = this.db.prepare(`DELETE FROM deliveries WHERE sink = ? AND outbox_id = ?`);
    this.db.transaction(() => {
      for (const id of ids) del.run(sink, id);
    })();
  }

  /** Records a failed attempt; the rows wait until `nextAt`. */
  failed(sink: string, ids: readonly number[], error: string, nextAt: number): void {
    const upd = this.db.prepare(`UPDATE deliveries SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE sink = ? AND outbox_id = ?`);
    this.db.transaction(() => {
      for (const id of ids) upd.run(nextAt, error.slice(0, 1000), sink, id);
    })();
  }

  /** Moves deliveries to the dead letters. */
  dead(sink: string, ids: readonly number[], reason: DeadReason, error: string): void {
    const now = this.options.clock.now();
    const upd = this.db.prepare(`UPDATE deliveries SET state = 'dead', dead_at = ?, dead_reason = ?, last_error = ?, attempts = attempts + ? WHERE sink = ? AND outbox_id = ? AND state = 'pending'`);
    let n = 0;
    this.db.transaction(() => {
      for (const id of ids) n += upd.run(now, reason, error.slice(0, 1000), reason === 'max_age' ? 0 : 1, sink, id).changes;
      this.capDeadLetters();
    })();
    this.stats.deadLettered[reason] += n;
  }

  /**
   * Puts dead letters back in line (all, one sink's, or the given ids). Rows whose payload was
   * pruned cannot be retried and are counted apart. So are rows superseded for their sink: a
   * later transition of the same signal was delivered there already, and sending the older one
   * now would undo it (a stale `firing` after its `resolved` re-opens the alert); they stay dead.
   */
  retry(filter: { sink?: string; ids?: readonly number[] }): RetryResult {
    const where = [`state = 'dead'`];
    const args: (string | number)[] = [];
    if (filter.sink !== undefined) {
      where.push('sink = ?');
      args.push(filter.sink);
    }
    if (filter.ids !== undefined) {
      if (filter.ids.length === 0) return { retried: 0, unrecoverable: 0, superseded: 0 };
      where.push(`outbox_id IN (${filter.ids.map(() => '?').join(',')})`);
      args.push(...filter.ids);
    }
    const cond = where.join(' AND ');
    const withPayload = `outbox_id IN (SELECT id FROM outbox WHERE payload IS NOT NULL)`;
    // Delivered rows leave the deliveries table: a later row of the signal without one for this
    // sink went out there.
    const superseded = `EXISTS (SELECT 1 FROM outbox o JOIN outbox later ON later.fingerprint = o.fingerprint AND later.id > o.id
      WHERE o.id = deliveries.outbox_id AND NOT EXISTS (SELECT 1 FROM deliveries d2 WHERE d2.sink = deliveries.sink AND d2.outbox_id = later.id))`;
    const result = this.db.transaction(() => {
      const count = (extra: string) => (this.db.prepare(`SELECT COUNT(*) AS n FROM deliveries WHERE ${cond} AND ${extra}`).get(...args) as { n: number }).n;
      const unrecoverable = count(`NOT ${withPayload}`);
      const stale = count(`${withPayload} AND ${superseded}`);
      const retried = this.db
        .prepare(`UPDATE deliveries SET state = 'pending', attempts = 0, next_at = 0, dead_at = NULL, dead_reason = NULL WHERE ${cond} AND ${withPayload} AND NOT ${superseded}`)
        .run(...args).changes;
      return { retried, unrecoverable, superseded: stale };
    })();
    if (result.retried > 0) for (const l of this.listeners) l();
    return result;
  }

  /** Deliveries in one state, oldest first. */
  list(state: 'pending' | 'dead', sink: string | undefined, limit: number): { total: number; deliveries: DeliveryRecord[] } {
    const cond = `d.state = ?${sink === undefined ? '' : ' AND d.sink = ?'}`;
    const args = sink === undefined ? [state] : [state, sink];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM deliveries d WHERE ${cond}`).get(...args) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT d.sink, d.outbox_id AS id, d.state, d.attempts, d.next_at, d.last_error, d.dead_at, d.dead_reason,
                       o.key, o.fingerprint, o.sequence, o.transition, o.created_at, o.payload IS NOT NULL AS has_payload
                FROM deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE ${cond} ORDER BY d.outbox_id, d.sink LIMIT ?`)
      .all(...args, limit) as (Omit<DeliveryRecord, 'created_at' | 'next_attempt_at' | 'dead_at' | 'retryable'> & { next_at: number; created_at: number; dead_at: number | null; has_payload: number })[];
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      total,
      deliveries: rows.map(({ next_at, created_at, dead_at, has_payload, ...r }) => ({
        ...r,
        created_at: iso(created_at),
        next_attempt_at: r.state === 'pending' && next_at > 0 ? iso(next_at) : null,
        dead_at: dead_at === null ? null : iso(dead_at),
        retryable: has_payload === 1,
      })),
    };
  }

  /** Pending and dead rows per configured sink. */
  backlog(): SinkBacklog[] {
    const now = this.options.clock.now();
    const rows = this.db
      .prepare(`SELECT d.sink, d.state, COUNT(*) AS n, MIN(o.created_at) AS oldest FROM deliveries d JOIN outbox o ON o.id = d.outbox_id GROUP BY d.sink, d.state`)
      .all() as { sink: string; state: string; n: number; oldest: number }[];
    return this.options.sinks.map((sink) => {
      const p = rows.find((r) => r.sink === sink && r.state === 'pending');
      const d = rows.find((r) => r.sink === sink && r.state === 'dead');
      return { sink, pending: p?.n ?? 0, dead: d?.n ?? 0, oldestPendingSeconds: p ? Math.max(0, (now - p.oldest) / 1000) : 0 };
    });
  }

  /** Deletes rows that only recorded a loss and are no longer referenced; returns how many. */
  housekeep(): number {
    return this.db.prepare(`DELETE FROM outbox WHERE payload IS NULL AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = outbox.id)`).run().changes;
  }

  /** Frees payload bytes down to the bound; see the module comment for the order. */
  private enforceBound(now: number): void {
    const max = this.options.maxBytes;
    const delivered = this.db.prepare(`SELECT id, bytes FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = o.id) ORDER BY id LIMIT 256`);
    const del = this.db.prepare(`DELETE FROM outbox WHERE id = ?`);
    while (this.bytes > max) {
      const rows = delivered.all() as { id: number; bytes: number }[];
      if (rows.length === 0) break;
      for (const r of rows) {
        del.run(r.id);
        this.bytes -= r.bytes;
        this.stats.pruned++;
        if (this.bytes <= max) break;
      }
    }
    if (this.bytes <= max) return;
    const oldest = this.db.prepare(`SELECT id, bytes FROM outbox WHERE payload IS NOT NULL ORDER BY id LIMIT 64`);
    const kill = this.db.prepare(`UPDATE deliveries SET state = 'dead', dead_at = ?, dead_reason = 'outbox_full', last_error = 'outbox full (state.max_outbox_mb): payload dropped' WHERE outbox_id = ? AND state = 'pending'`);
    const strip = this.db.prepare(`UPDATE outbox SET payload = NULL, bytes = 0 WHERE id = ?`);
    let lost = 0;
    while (this.bytes > max) {
      const rows = oldest.all() as { id: number; bytes: number }[];
      if (rows.length === 0) break;
      for (const r of rows) {
        lost += kill.run(now, r.id).changes;
        strip.run(r.id);
        this.bytes -= r.bytes;
        if (this.bytes <= max) break;
      }
    }
    this.stats.deadLettered.outbox_full += lost;
    if (lost > 0 && !this.warnedFull) {
      this.warnedFull = true;
      this.options.logger.error({ lost, maxBytes: max }, 'outbox full: the oldest undelivered transitions were dead-lettered without payload (counted in otel_friction_outbox_dead_letters_total{reason="outbox_full"}); raise state.max_outbox_mb or fix the failing sink');
    }
    this.capDeadLetters();
  }

  private capDeadLetters(): void {
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM deliveries WHERE state = 'dead'`).get() as { n: number };
    const excess = n - this.options.maxDeadLetters;
    if (excess <= 0) return;
    this.db.prepare(`DELETE FROM deliveries WHERE (sink, outbox_id) IN (SELECT sink, outbox_id FROM deliveries WHERE state = 'dead' ORDER BY dead_at, outbox_id LIMIT ?)`).run(excess);
    this.stats.deadLettersDropped += excess;
    if (!this.warnedDropped) {
      this.warnedDropped = true;
      this.options.logger.error({ dropped: excess, max: this.options.maxDeadLetters }, 'dead letters past state.max_dead_letters: the oldest were deleted (counted in otel_friction_outbox_dead_letters_dropped_total)');
    }
  }

  /** Pending rows of sinks no longer configured become dead letters, so they are visible, not stuck. */
  private retireRemovedSinks(): void {
    const known = this.options.sinks;
    const cond = known.length > 0 ? `sink NOT IN (${known.map(() => '?').join(',')})` : '1';
    const n = this.db
      .prepare(`UPDATE deliveries SET state = 'dead', dead_at = ?, dead_reason = 'sink_removed', last_error = 'the sink is no longer configured' WHERE state = 'pending' AND ${cond}`)
      .run(this.options.clock.now(), ...known).changes;
    if (n > 0) {
      this.stats.deadLettered.sink_removed += n;
      this.options.logger.warn({ deliveries: n }, 'pending deliveries of sinks no longer in the config were dead-lettered');
    }
  }
}
