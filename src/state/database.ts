/**
 * The state database: one SQLite file under `state.path` holding the signal history and the
 * outbox. WAL with `synchronous=FULL`, because the outbox promises that an accepted transition
 * survives a crash: a transaction is on disk before `append` returns, and a transition is
 * written once per incident step, not per span, so the fsync is cheap where it is paid.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FrictionError } from '../errors.js';

/** The open database handle (better-sqlite3's). */
export type StateDatabase = Database.Database;

/** The file name inside `state.path`. */
export const STATE_FILE = 'otel-friction.db';

// Bump with a migration below; a database from a newer version is refused, not guessed at.
const SCHEMA_VERSION = 4;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE signals (
      id TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      kind TEXT NOT NULL,
      service TEXT NOT NULL,
      status TEXT NOT NULL,
      priority REAL NOT NULL,
      sequence INTEGER NOT NULL,
      starts_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      ends_at INTEGER,
      payload TEXT NOT NULL
    );
    CREATE INDEX signals_status ON signals (status, priority);
    CREATE INDEX signals_ends ON signals (ends_at);
    CREATE INDEX signals_fingerprint ON signals (fingerprint);
    CREATE TABLE outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      key TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      sequence INTEGER NOT NULL,
      transition TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      payload TEXT
    );
    CREATE TABLE deliveries (
      sink TEXT NOT NULL,
      outbox_id INTEGER NOT NULL,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      dead_at INTEGER,
      dead_reason TEXT,
      PRIMARY KEY (sink, outbox_id)
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_outbox ON deliveries (outbox_id);
    CREATE INDEX deliveries_dead ON deliveries (state, dead_at);
  `,
  // Detector and synthesizer state saved every state.checkpoint_interval (one row per part).
  2: `
    CREATE TABLE checkpoints (
      name TEXT PRIMARY KEY,
      saved_at INTEGER NOT NULL,
      payload BLOB NOT NULL
    );
  `,
  // Requests waiting to be forwarded upstream when forward.queue.spill is on.
  3: `
    CREATE TABLE forward_queue (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      signal TEXT NOT NULL,
      encoding TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      headers TEXT NOT NULL,
      body BLOB NOT NULL
    );
  `,
  // Spilled bodies that are the client's gzip bytes, relayed without compressing them again.
  4: `
    ALTER TABLE forward_queue ADD COLUMN gzipped INTEGER NOT NULL DEFAULT 0;
  `,
};

/** Opens (creating when missing) and migrates the state database in `dir`. */
export function openStateDatabase(dir: string): StateDatabase {
  let db: StateDatabase | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    db = new Database(path.join(dir, STATE_FILE));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = OFF');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof FrictionError) throw err;
    throw new FrictionError('STATE_OPEN', `cannot open the state database in ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

function migrate(db: StateDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new FrictionError('STATE_OPEN', `the state database has schema ${current}, newer than this version understands (${SCHEMA_VERSION}); use a newer otel-friction or another state.path`);
  }
  for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v}`);
    })();
  }
}
