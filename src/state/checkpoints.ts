/**
 * Checkpoints: the in-memory state that detection builds up over hours (SLO buckets, detector
 * baselines and streaks, the synthesizer's hysteresis counters) saved to the state database
 * every `state.checkpoint_interval` and at shutdown, and handed back at start, so a restart
 * neither forgets a burning budget nor sends every baseline back into warm-up.
 *
 * A checkpoint is a cache, never a source of truth: a part whose payload is missing, damaged
 * or from another format version simply starts empty, as it did before checkpoints existed.
 * Signals themselves are restored from the signal history, which is written at every
 * transition; checkpoints only refine them.
 */
import type { Logger } from 'pino';
import type { Clock } from '../aggregate/clock.js';
import type { Component } from '../lifecycle/component.js';
import type { StateDatabase } from './database.js';

/**
 * Something whose state is checkpointed: one row of the `checkpoints` table.
 *
 * Payloads are opaque to the store. Each part writes its own format version into its payload
 * and refuses other versions by throwing {@link CheckpointVersionError} from {@link restore};
 * any other exception means the payload is damaged. Either way the part must be left as it
 * was before the call (decode fully, then apply).
 */
export interface Checkpointable {
  /** Row key, stable across versions and restarts (e.g. `detector.latency_regression`). */
  readonly checkpointName: string;
  /**
   * The part's state now, self-contained. Called between window closes (from a timer and at
   * shutdown), never during one; must be bounded by the part's own memory bounds.
   */
  snapshot(): Buffer;
  /**
   * Takes back a payload {@link snapshot} produced, in an earlier process, at `savedAt` (ms
   * since the epoch). Called once, at start, before the first window closes. State that belongs
   * to series may be re-attached lazily, when the series shows up again.
   */
  restore(data: Buffer, savedAt: number): void;
}

/** Thrown by {@link Checkpointable.restore} for a payload of a format version it does not read. */
export class CheckpointVersionError extends Error {
  constructor(readonly found: number, readonly expected: number) {
    super(`checkpoint format version ${found}, this version reads ${expected}`);
    this.name = 'CheckpointVersionError';
  }
}

/** Whether `x` implements {@link Checkpointable}: picks the stateful detectors out of a list. */
export function isCheckpointable<T>(x: T): x is T & Checkpointable {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Partial<Checkpointable>;
  return typeof c.checkpointName === 'string' && typeof c.snapshot === 'function' && typeof c.restore === 'function';
}

/** Counters for /metrics. */
export interface CheckpointStats {
  /** Completed saves (all parts in one transaction). */
  saves: number;
  /** Saves that failed (database errors), plus parts whose snapshot threw. */
  failures: number;
  /** Parts restored at start. */
  restored: number;
  /** Parts whose checkpoint was ignored at start (damaged, or another format version). */
  skipped: number;
  /** Payload bytes written by the last save, all parts. */
  bytes: number;
  /** Payload bytes of the last save, per part. */
  partBytes: Record<string, number>;
  /** How long the last save took (snapshots and the transaction), ms. */
  lastSaveMs: number;
}

interface Row {
  saved_at: number;
  payload: Buffer;
}

/** Saves and restores the {@link Checkpointable} parts in the `checkpoints` table. */
export class CheckpointStore implements Component {
  readonly name = 'checkpoints';
  readonly stats: CheckpointStats = { saves: 0, failures: 0, restored: 0, skipped: 0, bytes: 0, partBytes: {}, lastSaveMs: 0 };
  private readonly upsert;
  private readonly select;
  private readonly saveRows: (rows: readonly [string, number, Buffer][]) => void;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;

  /**
   * @param db the state database (migration 2 made the table); the caller opens and closes it
   * @param parts what to checkpoint; names must be unique
   * @param intervalMs how often {@link start} saves (`state.checkpoint_interval`)
   */
  constructor(
    db: StateDatabase,
    private readonly parts: readonly Checkpointable[],
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    const names = new Set<string>();
    for (const p of parts) {
      if (names.has(p.checkpointName)) throw new Error(`two checkpoint parts are named ${p.checkpointName}`);
      names.add(p.checkpointName);
    }
    this.upsert = db.prepare(`INSERT INTO checkpoints (name, saved_at, payload) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET saved_at = excluded.saved_at, payload = excluded.payload`);
    this.select = db.prepare(`SELECT saved_at, payload FROM checkpoints WHERE name = ?`);
    this.saveRows = db.transaction((rows: readonly [string, number, Buffer][]) => {
      for (const [name, at, payload] of rows) this.upsert.run(name, at, payload);
    });
  }

  /**
   * Hands every part its saved state; call once at start, before any window closes. Never
   * throws for a part: a payload that cannot be read is logged and that part starts empty.
   * Returns how many parts were restored.
   */
  restoreAll(): number {
    let restored = 0;
    for (const part of this.parts) {
      const name = part.checkpointName;
      let row: Row | undefined;
      try {
        row = this.select.get(name) as Row | undefined;
      } catch (err) {
        this.stats.skipped++;
        this.logger.warn({ err, part: name }, 'cannot read the checkpoint; this part starts empty');
        continue;
      }
      if (row === undefined) continue;
      try {
        part.restore(row.payload, row.saved_at);
        restored++;
        this.logger.debug({ part: name, savedAt: new Date(row.saved_at).toISOString(), bytes: row.payload.length }, 'checkpoint restored');
      } catch (err) {
        this.stats.skipped++;
        if (err instanceof CheckpointVersionError) {
          this.logger.info({ part: name, found: err.found, expected: err.expected }, 'checkpoint written by another version ignored; this part starts empty');
        } else {
          this.logger.warn({ err, part: name }, 'damaged checkpoint ignored; this part starts empty');
        }
      }
    }
    this.stats.restored += restored;
    if (restored > 0) this.logger.info({ parts: restored }, 'detection state restored from the last checkpoint');
    return restored;
  }

  /**
   * Snapshots every part and writes them in one transaction. A part whose snapshot throws
   * keeps its previous row. Returns false when the write failed (logged once per outage).
   */
  saveAll(): boolean {
    const began = performance.now();
    const at = this.clock.now();
    const rows: [string, number, Buffer][] = [];
    const partBytes: Record<string, number> = {};
    let bytes = 0;
    for (const part of this.parts) {
      try {
        const payload = part.snapshot();
        rows.push([part.checkpointName, at, payload]);
        partBytes[part.checkpointName] = payload.length;
        bytes += payload.length;
      } catch (err) {
        this.stats.failures++;
        this.logger.error({ err, part: part.checkpointName }, 'cannot snapshot this part; its previous checkpoint stays');
      }
    }
    try {
      this.saveRows(rows);
    } catch (err) {
      this.stats.failures++;
      // Once per outage: a full disk would otherwise log at every interval.
      if (!this.failing) this.logger.warn({ err }, 'cannot write checkpoints; a restart now would start from an older checkpoint');
      this.failing = true;
      return false;
    }
    if (this.failing) this.logger.info('checkpoints are written again');
    this.failing = false;
    this.stats.saves++;
    this.stats.bytes = bytes;
    this.stats.partBytes = partBytes;
    this.stats.lastSaveMs = performance.now() - began;
    return true;
  }

  async start(): Promise<void> {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setInterval(() => this.saveAll(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and saves one last time (once, however often called). */
  async shutdown(_deadline?: number): Promise<boolean> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.stopped) return true;
    this.stopped = true;
    return this.saveAll();
  }
}
