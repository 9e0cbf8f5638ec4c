#!/usr/bin/env node
/**
 * Checkpoint cost: how long one save of the detection state takes (and blocks the event loop),
 * how big it is, and how long a restore takes, with 1,000 and 10,000 live span series and every
 * detector on (two SLOs per service, anomaly bands on rate, error ratio and p99), after 60
 * closed 1 s windows. Baseline in the same run: writing the same number of bytes as one blob in
 * one transaction to the same database (the floor any encoding could reach). Each series count
 * runs in a fresh process; medians of 7 saves.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectionPipeline } from './lib/detection.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => path.join(HERE, '..', 'dist', p);
const COUNTS = (process.env.BENCH_CHECKPOINT_SERIES ?? '1000,10000').split(',').map(Number);
const WINDOWS = 60;
const REPEATS = 7;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function pipeline(n) {
  const { isCheckpointable } = await import(dist('state/checkpoints.js'));
  const p = await detectionPipeline(n, true);
  for (let w = 0; w < WINDOWS; w++) p.close();
  const partsOf = ({ detectors, synthesizer }) => [...detectors.filter(isCheckpointable), synthesizer.checkpoint];
  return { live: { parts: partsOf(p) }, build: () => ({ parts: partsOf(p.build()) }), clock: p.clock, logger: p.logger };
}

async function child(n) {
  const { CheckpointStore } = await import(dist('state/checkpoints.js'));
  const { openStateDatabase } = await import(dist('state/database.js'));
  const { live, build, clock, logger } = await pipeline(n);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-checkpoints-'));
  try {
    const db = openStateDatabase(dir);
    db.pragma('synchronous = NORMAL'); // as main.ts opens the checkpoint connection
    const store = new CheckpointStore(db, live.parts, 30_000, clock, logger);
    const parts = {};
    for (const p of live.parts) {
      const times = [];
      let bytes = 0;
      for (let i = 0; i < REPEATS; i++) {
        const t0 = process.hrtime.bigint();
        bytes = p.snapshot().length;
        times.push(ms(t0));
      }
      parts[p.checkpointName] = { ms: median(times), bytes };
    }
    const saves = [];
    for (let i = 0; i < REPEATS; i++) {
      const t0 = process.hrtime.bigint();
      if (!store.saveAll()) throw new Error('checkpoint save failed');
      saves.push(ms(t0));
    }
    const total = store.stats.bytes;
    const blob = Buffer.alloc(total, 7);
    const write = db.prepare('INSERT INTO checkpoints (name, saved_at, payload) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET saved_at = excluded.saved_at, payload = excluded.payload');
    const writeAll = db.transaction(() => write.run('bench.baseline', 0, blob));
    const raw = [];
    for (let i = 0; i < REPEATS; i++) {
      const t0 = process.hrtime.bigint();
      writeAll();
      raw.push(ms(t0));
    }
    db.prepare("DELETE FROM checkpoints WHERE name = 'bench.baseline'").run();
    const restores = [];
    for (let i = 0; i < 3; i++) {
      const fresh = build();
      const again = new CheckpointStore(db, fresh.parts, 30_000, clock, logger);
      const t0 = process.hrtime.bigint();
      if (again.restoreAll() !== fresh.parts.length) throw new Error('not every part restored');
      restores.push(ms(t0));
    }
    db.close();
    process.stdout.write(`${JSON.stringify({ n, saveMs: median(saves), rawMs: median(raw), restoreMs: median(restores), bytes: total, parts })}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const rows = COUNTS.map((n) => {
    const r = spawnSync(process.execPath, ['--max-semi-space-size=1', fileURLToPath(import.meta.url), '--child', String(n)], { encoding: 'utf8', timeout: 5 * 60_000 });
    if (r.status !== 0) throw new Error(`checkpoint bench child failed: ${r.stderr || r.signal}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1));
  });
  const mb = (b) => `${(b / 1024 / 1024).toFixed(2)} MB`;
  const lines = [
    '',
    `checkpoint save and restore, every detector on, after ${WINDOWS} closes (${new Date().toISOString().slice(0, 10)}, medians of ${REPEATS}):`,
    '| live series | size | save (blocks the loop) | same bytes as one blob (floor) | × floor | restore at start |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.n.toLocaleString('en-US')} | ${mb(r.bytes)} | ${r.saveMs.toFixed(1)} ms | ${r.rawMs.toFixed(1)} ms | ${(r.saveMs / r.rawMs).toFixed(1)}× | ${r.restoreMs.toFixed(1)} ms |`),
    '',
    `parts at ${rows.at(-1).n.toLocaleString('en-US')} series (snapshot time, size):`,
    ...Object.entries(rows.at(-1).parts).sort((a, b) => b[1].ms - a[1].ms).map(([name, p]) => `  ${name.padEnd(30)} ${p.ms.toFixed(1).padStart(7)} ms ${mb(p.bytes).padStart(10)}`),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

if (process.argv[2] === '--child') await child(Number(process.argv[3]));
else main();
