/**
 * Signal history: one row per signal (incident), rewritten at each of its transitions, kept for
 * `state.history_retention` after it resolved. It answers the API's history queries, the MTTR
 * statistics, and which signals were firing when the process stopped.
 */
import type { FrictionSignal, SignalTransition } from '../signals/signal.js';
import type { StateDatabase } from './database.js';

/** A filter over the history; absent fields match everything. */
export interface HistoryQuery {
  status?: 'firing' | 'resolved';
  service?: string;
  kind?: string;
  fingerprint?: string;
  /** Only signals still firing at or after this time (ms): firing, or resolved since. */
  since?: number;
  limit: number;
}

/** Resolution times of one service and kind. */
export interface MttrRow {
  service: string;
  kind: string;
  resolved: number;
  /** Seconds from firing to resolved. */
  mttr_seconds: number;
  p50_seconds: number;
  max_seconds: number;
}

/** Time to resolve of one service's signals, all kinds together. */
export interface ServiceMttrRow {
  service: string;
  resolved: number;
  /** Mean over the resolved signals, seconds. */
  mean_seconds: number;
  max_seconds: number;
}

/** A signal that was firing when last recorded, with the sequence its next transition continues. */
export interface OpenSignal {
  signal: FrictionSignal;
  sequence: number;
}

// Resolved rows beyond this are pruned oldest first even inside the retention, so a signal
// storm cannot grow the file without limit.
const MAX_ROWS = 100_000;

/** The history table. */
export class SignalHistory {
  private readonly upsert;
  private readonly pruneOld;
  private readonly pruneExcess;

  constructor(private readonly db: StateDatabase, private readonly retentionMs: number) {
    this.upsert = db.prepare(`
      INSERT INTO signals (id, fingerprint, kind, service, status, priority, sequence, starts_at, updated_at, ends_at, payload)
      VALUES (@id, @fingerprint, @kind, @service, @status, @priority, @sequence, @starts_at, @updated_at, @ends_at, @payload)
      ON CONFLICT (id) DO UPDATE SET status = excluded.status, priority = excluded.priority, sequence = excluded.sequence,
        updated_at = excluded.updated_at, ends_at = excluded.ends_at, payload = excluded.payload
      WHERE excluded.sequence >= signals.sequence`);
    this.pruneOld = db.prepare(`DELETE FROM signals WHERE status = 'resolved' AND ends_at < ?`);
    this.pruneExcess = db.prepare(`DELETE FROM signals WHERE id IN (SELECT id FROM signals WHERE status = 'resolved' ORDER BY ends_at LIMIT ?)`);
  }

  /** Records a transition; call inside the outbox's transaction. Older sequences never overwrite newer. */
  record(t: SignalTransition): void {
    const s = t.signal;
    this.upsert.run({
      id: s.id, fingerprint: s.fingerprint, kind: s.kind, service: s.service, status: s.status, priority: s.priority,
      sequence: t.sequence, starts_at: Date.parse(s.startsAt), updated_at: Date.parse(s.updatedAt),
      ends_at: s.endsAt === null ? null : Date.parse(s.endsAt), payload: JSON.stringify(s),
    });
  }

  /** Signals whose last recorded transition left them firing. */
  open(): OpenSignal[] {
    const rows = this.db.prepare(`SELECT payload, sequence FROM signals WHERE status = 'firing'`).all() as { payload: string; sequence: number }[];
    return rows.map((r) => ({ signal: JSON.parse(r.payload) as FrictionSignal, sequence: r.sequence }));
  }

  /** Matching signals, firing first by priority, then resolved newest first. */
  query(q: HistoryQuery): { total: number; signals: FrictionSignal[] } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('status = ?', q.status);
    add('service = ?', q.service);
    add('kind = ?', q.kind);
    add('fingerprint = ?', q.fingerprint);
    add('(ends_at IS NULL OR ends_at >= ?)', q.since);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM signals ${filter}`).get(...args) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT payload FROM signals ${filter} ORDER BY status = 'firing' DESC, CASE WHEN status = 'firing' THEN priority END DESC, ends_at DESC, starts_at DESC LIMIT ?`)
      .all(...args, q.limit) as { payload: string }[];
    return { total, signals: rows.map((r) => JSON.parse(r.payload) as FrictionSignal) };
  }

  /** Time to resolve per service and kind, over signals resolved at or after `since` (ms). */
  mttr(since: number): MttrRow[] {
    const rows = this.db
      .prepare(`SELECT service, kind, ends_at - starts_at AS ms FROM signals WHERE status = 'resolved' AND ends_at >= ? ORDER BY service, kind, ms`)
      .all(since) as { service: string; kind: string; ms: number }[];
    const out: MttrRow[] = [];
    let i = 0;
    while (i < rows.length) {
      let j = i;
      while (j < rows.length && rows[j].service === rows[i].service && rows[j].kind === rows[i].kind) j++;
      const ms = rows.slice(i, j).map((r) => r.ms);
      const seconds = (x: number) => Math.round(x / 100) / 10;
      out.push({
        service: rows[i].service, kind: rows[i].kind, resolved: ms.length,
        mttr_seconds: seconds(ms.reduce((a, b) => a + b, 0) / ms.length),
        p50_seconds: seconds(ms[Math.floor((ms.length - 1) / 2)]),
        max_seconds: seconds(ms[ms.length - 1]),
      });
      i = j;
    }
    return out;
  }

  /**
   * Time to resolve per service (all kinds), aggregated in SQL: the dashboard asks for it on
   * every poll, and folding up to MAX_ROWS rows in JavaScript blocked the loop for 100s of ms.
   */
  serviceMttr(since: number): ServiceMttrRow[] {
    const rows = this.db
      .prepare(`SELECT service, COUNT(*) AS resolved, AVG(ends_at - starts_at) AS mean_ms, MAX(ends_at - starts_at) AS max_ms FROM signals WHERE status = 'resolved' AND ends_at >= ? GROUP BY service`)
      .all(since) as { service: string; resolved: number; mean_ms: number; max_ms: number }[];
    return rows.map((r) => ({ service: r.service, resolved: r.resolved, mean_seconds: Math.round(r.mean_ms / 100) / 10, max_seconds: Math.round(r.max_ms / 100) / 10 }));
  }

  /** Firing signals per service and kind. */
  firingCounts(): { service: string; kind: string; firing: number }[] {
    return this.db.prepare(`SELECT service, kind, COUNT(*) AS firing FROM signals WHERE status = 'firing' GROUP BY service, kind`).all() as { service: string; kind: string; firing: number }[];
  }

  /** Drops resolved signals past the retention, then the oldest past the row cap; returns rows removed. */
  prune(now: number): number {
    let removed = this.pruneOld.run(now - this.retentionMs).changes;
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM signals`).get() as { n: number };
    if (n > MAX_ROWS) removed += this.pruneExcess.run(n - MAX_ROWS).changes;
    return removed;
  }
}
