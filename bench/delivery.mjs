/**
 * Durable delivery, measured next to baselines in the same run (ratios; the machine is noisy):
 *
 *   1. Outbox write cost per transition: SQLite (WAL, synchronous=FULL) with the history row and
 *      one delivery per sink, against a durable append to a JSON-lines file (write + fsync) and
 *      against JSON.stringify alone (the CPU floor).
 *   2. Delivery throughput, outbox → webhook sink → a local HTTP receiver in another process,
 *      against the same webhook sink called directly in a loop (no outbox), and the file sink
 *      through the outbox against the file sink called directly.
 *
 * The third question, whether the pipeline slows down while a sink is down, is answered by
 * `BENCH_SINKS_AB=1 node bench/run.mjs` (real process, real load, sink up vs down).
 *
 * Env: BENCH_DELIVERY_N=2000 transitions per run, BENCH_ROUNDS=3.
 */
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { systemClock } from '../dist/aggregate/clock.js';
import { DeliveryWorker } from '../dist/sinks/delivery-worker.js';
import { FileSink } from '../dist/sinks/file-sink.js';
import { idempotencyKey } from '../dist/sinks/sink.js';
import { WebhookSink } from '../dist/sinks/webhook-sink.js';
import { openStateDatabase } from '../dist/state/database.js';
import { Outbox } from '../dist/state/outbox.js';
import { SignalHistory } from '../dist/state/signal-history.js';

const N = Math.max(100, Number(process.env.BENCH_DELIVERY_N ?? 2000));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const logger = pino({ level: 'silent' });
const retry = { initial_interval: 100, max_interval: 1000, max_attempts: 100, max_age: 86_400_000 };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'friction-bench-delivery-'));

function transition(i) {
  const t = new Date(Date.UTC(2026, 10, 25) + i * 1000).toISOString();
  return {
    transition: 'firing', sequence: 1,
    signal: {
      id: `id-${i}`, fingerprint: i.toString(16).padStart(16, '0'), kind: 'error_budget_burn', status: 'firing', severity: 'critical', priority: 72,
      service: `svc-${i % 20}`, operation: 'POST /checkout', slo: 'checkout-availability', metric: '', outcomes: ['revenue'], owner: 'team-payments',
      title: 'SLO checkout-availability (checkout) is burning its error budget 14.4× too fast',
      summary: 'At this rate the 30-day error budget is gone in 2 days. 3.1% of requests failed in the last 5 minutes (objective 99.9%).',
      evidence: { burnRates: { '5m': 31, '1h': 15.2 }, errorRatio: 0.031, objective: 0.999, budgetRemaining: 0.82 },
      exemplars: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), durationMs: 812.4, error: true }],
      startsAt: t, updatedAt: t, endsAt: null,
    },
  };
}
const transitions = Array.from({ length: N }, (_, i) => transition(i));

function openOutbox(name, sinks) {
  const dir = path.join(tmp, name);
  const db = openStateDatabase(dir);
  const outbox = new Outbox(db, new SignalHistory(db, 86_400_000), { sinks, maxBytes: 1 << 30, maxDeadLetters: 1e6, clock: systemClock, logger });
  return { db, outbox };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const usPer = (ms, n) => (ms * 1000) / n;

// --- 1. write cost ---------------------------------------------------------------------------
function writeCost(round) {
  const out = {};
  {
    const { db, outbox } = openOutbox(`w1-${round}`, ['webhook']);
    const t0 = performance.now();
    for (const t of transitions) outbox.append([t]);
    out.outbox1 = usPer(performance.now() - t0, N);
    db.close();
  }
  {
    const { db, outbox } = openOutbox(`w10-${round}`, ['webhook']);
    const t0 = performance.now();
    for (let i = 0; i < N; i += 10) outbox.append(transitions.slice(i, i + 10));
    out.outbox10 = usPer(performance.now() - t0, N);
    db.close();
  }
  {
    const { db, outbox } = openOutbox(`w3s-${round}`, ['webhook', 'alertmanager', 'nats']);
    const t0 = performance.now();
    for (const t of transitions) outbox.append([t]);
    out.outbox1x3 = usPer(performance.now() - t0, N);
    db.close();
  }
  {
    const fd = openSync(path.join(tmp, `log-${round}.jsonl`), 'a');
    const t0 = performance.now();
    for (const t of transitions) {
      writeSync(fd, `${JSON.stringify({ ...t, key: idempotencyKey(t) })}\n`);
      fsyncSync(fd);
    }
    out.fileFsync = usPer(performance.now() - t0, N);
    closeSync(fd);
  }
  {
    let bytes = 0;
    const t0 = performance.now();
    for (const t of transitions) bytes += JSON.stringify({ ...t, key: idempotencyKey(t) }).length;
    out.stringify = usPer(performance.now() - t0, N);
    if (bytes === 0) throw new Error('unreachable');
  }
  return out;
}

// --- 2. delivery throughput ------------------------------------------------------------------
const RECEIVER = `
import http from 'node:http';
let n = 0;
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { n++; res.writeHead(204).end(); }); });
s.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + s.address().port + '\\n'));
`;

async function startReceiver() {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error('receiver exited')));
  });
  return { port, stop: () => child.kill('SIGKILL') };
}

const webhookConfig = (port) => ({ type: 'webhook', name: '', url: `http://127.0.0.1:${port}/hook`, format: 'cloudevents', secret: 'bench', signature_header: 'X-Friction-Signature', source: 'bench', headers: {}, timeout: 10_000, retry });
const context = (name) => ({ name, logger, firing: () => [], externalUrl: 'http://127.0.0.1:13133' });

async function throughputViaOutbox(name, sink, round) {
  const { db, outbox } = openOutbox(`d-${name}-${round}`, [sink.name]);
  for (let i = 0; i < N; i += 50) outbox.append(transitions.slice(i, i + 50));
  const worker = new DeliveryWorker(sink, outbox, retry, systemClock, logger);
  const t0 = performance.now();
  await worker.start();
  while (worker.stats.delivered < N) await new Promise((r) => setTimeout(r, 2));
  const ms = performance.now() - t0;
  await worker.shutdown(Date.now() + 5000);
  db.close();
  return (N * 1000) / ms;
}

async function throughputDirect(sink) {
  const deliveries = transitions.map((t) => ({ ...t, key: idempotencyKey(t) }));
  const t0 = performance.now();
  for (let i = 0; i < N; i += sink.maxBatch) await sink.deliver(deliveries.slice(i, i + sink.maxBatch));
  const ms = performance.now() - t0;
  await sink.close();
  return (N * 1000) / ms;
}

async function main() {
  const receiver = await startReceiver();
  const rows = { write: [], webhookOutbox: [], webhookDirect: [], fileOutbox: [], fileDirect: [] };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      rows.write.push(writeCost(r));
      rows.webhookDirect.push(await throughputDirect(new WebhookSink(webhookConfig(receiver.port), context('webhook'))));
      rows.webhookOutbox.push(await throughputViaOutbox('webhook', new WebhookSink(webhookConfig(receiver.port), context('webhook')), r));
      rows.fileDirect.push(await throughputDirect(new FileSink('file', path.join(tmp, `direct-${r}.jsonl`), 1 << 30)));
      rows.fileOutbox.push(await throughputViaOutbox('file', new FileSink('file', path.join(tmp, `outbox-${r}.jsonl`), 1 << 30), r));
    }
  } finally {
    receiver.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const w = (k) => median(rows.write.map((x) => x[k]));
  const f1 = (x) => x.toFixed(1);
  const k0 = (x) => Math.round(x).toLocaleString('en-US');
  const base = w('fileFsync');
  const lines = [
    `## Durable delivery (${new Date().toISOString().slice(0, 10)}, ${N} transitions, median of ${ROUNDS} rounds)`,
    '',
    '### Outbox write cost per transition',
    '| write | µs / transition | × file + fsync |',
    '|---|---:|---:|',
    `| outbox, 1 transition per transaction, 1 sink | ${f1(w('outbox1'))} | ${(w('outbox1') / base).toFixed(2)}× |`,
    `| outbox, 1 per transaction, 3 sinks | ${f1(w('outbox1x3'))} | ${(w('outbox1x3') / base).toFixed(2)}× |`,
    `| outbox, 10 per transaction, 1 sink | ${f1(w('outbox10'))} | ${(w('outbox10') / base).toFixed(2)}× |`,
    `| baseline: JSON line appended + fsync | ${f1(base)} | 1.00× |`,
    `| floor: JSON.stringify only | ${f1(w('stringify'))} | ${(w('stringify') / base).toFixed(2)}× |`,
    '',
    '### Delivery throughput',
    '| sink | through the outbox (signals/s) | called directly (signals/s) | outbox ÷ direct |',
    '|---|---:|---:|---:|',
    `| webhook (CloudEvents + HMAC, 1 per request) | ${k0(median(rows.webhookOutbox))} | ${k0(median(rows.webhookDirect))} | ${(median(rows.webhookOutbox) / median(rows.webhookDirect)).toFixed(2)}× |`,
    `| file (100 per batch) | ${k0(median(rows.fileOutbox))} | ${k0(median(rows.fileDirect))} | ${(median(rows.fileOutbox) / median(rows.fileDirect)).toFixed(2)}× |`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
