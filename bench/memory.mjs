#!/usr/bin/env node
/**
 * Memory at 10,000 and 50,000 live span series with full retained rings: the real
 * SpanAggregator (from dist/) driven in-process by a hand-moved clock through
 * `retain_windows` windows, one span per series per window, so every ring is full — the
 * steady state after an hour at the defaults, reached in seconds. Each series gets
 * BENCH_MEMORY_SPANS spans per window, so its sketch holds a realistic buffer and centroids.
 * Each size runs in a fresh process with the sidecar's node flags; RSS is read after a full GC.
 *
 *   BENCH_MEMORY_SERIES=10000,50000   sizes to measure
 *   BENCH_MEMORY_WINDOWS=360          windows to run (default: retain_windows, full rings)
 *   BENCH_MEMORY_SPANS=10             spans per series per window
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const dist = (p) => path.join(ROOT, 'dist', p);

async function child(n, windows) {
  const { defaultConfig } = await import(dist('config/index.js'));
  const { SpanAggregator } = await import(dist('aggregate/span-aggregator.js'));
  const { createSketchFactory } = await import(dist('aggregate/sketches.js'));
  const { ManualClock } = await import(dist('aggregate/clock.js'));
  const { SpanBatch } = await import(dist('otlp/batch.js'));
  const config = defaultConfig().aggregation;
  globalThis.gc?.();
  const base = process.memoryUsage();
  const W = config.window;
  const clock = new ManualClock(1_700_000_000_000);
  const agg = new SpanAggregator({ config: { ...config, max_series: Math.max(config.max_series, n) }, clock, sketches: createSketchFactory(config.sketch.type, { compression: config.sketch.compression, relativeAccuracy: config.sketch.relative_accuracy }) });
  const services = ['frontend', 'checkout', 'payments', 'orders', 'inventory'];
  const perWindow = Number(process.env.BENCH_MEMORY_SPANS) || 10;
  const ids = Buffer.alloc(24 * n, 7);
  const batch = new SpanBatch();
  batch.reset(ids);
  for (let i = 0; i < n; i++) {
    const s = batch.next(0);
    s.serviceName = services[i % services.length];
    s.name = `GET /api/v1/items/${Math.floor(i / services.length)}`;
    s.kind = 2;
    s.traceIdOffset = i * 24;
    s.spanIdOffset = i * 24 + 16;
    // Interner-style ids, as the wire scanner gives them, so the id fast path is exercised.
    s.nameId = Math.floor(i / services.length);
    s.serviceId = 1_000_000 + (i % services.length);
  }
  batch.idsValid = true;
  let x = 1;
  const t0 = process.hrtime.bigint();
  for (let w = 0; w < windows; w++) {
    for (let k = 0; k < perWindow; k++) {
      for (let i = 0; i < n; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const s = batch.spans[i];
        s.durationNs = (1 + (x % 500)) * 1e6;
        s.statusCode = x % 50 === 0 ? 2 : 0;
      }
      agg.consume(batch);
    }
    clock.advance(W);
    agg.closeDue(clock.now());
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  globalThis.gc?.();
  const m = process.memoryUsage();
  const series = agg.keyspace.size;
  const first = agg.series().next().value;
  process.stdout.write(`${JSON.stringify({
    n, series, windows, retained: first.history.length,
    rssMiB: m.rss / 2 ** 20,
    baseRssMiB: base.rss / 2 ** 20,
    heapMiB: m.heapUsed / 2 ** 20,
    arrayBuffersMiB: m.arrayBuffers / 2 ** 20,
    bytesPerSeries: (m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers) / series,
    spansPerSec: (n * windows * perWindow) / seconds,
    perWindow,
  })}\n`);
}

function main() {
  const sizes = (process.env.BENCH_MEMORY_SERIES ?? '10000,50000').split(',').map(Number).filter((v) => v > 0);
  const windowsEnv = Number(process.env.BENCH_MEMORY_WINDOWS);
  const rows = [];
  for (const n of sizes) {
    const args = ['--max-semi-space-size=1', '--expose-gc', fileURLToPath(import.meta.url), '--child', String(n)];
    if (windowsEnv > 0) args.push(String(windowsEnv));
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 10 * 60_000 });
    if (r.status !== 0) throw new Error(`memory child ${n} failed: ${r.stderr || r.stdout || r.signal}`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)));
  }
  const mib = (v) => `${v.toFixed(0)} MiB`;
  const lines = [
    '| live series | windows retained per series | RSS | JS heap | typed arrays | bytes per series | spans/s while filling |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.series.toLocaleString('en-US')} | ${r.retained} | ${mib(r.rssMiB)} | ${mib(r.heapMiB)} | ${mib(r.arrayBuffersMiB)} | ${Math.round(r.bytesPerSeries).toLocaleString('en-US')} | ${Math.round(r.spansPerSec / 1e3).toLocaleString('en-US')} k |`),
  ];
  process.stdout.write(`\nmemory with full rings (default aggregation config, t-digest, ${rows[0]?.perWindow} spans per series per window; target RSS ≤ 150 MB at 10k series):\n${lines.join('\n')}\n`);
}

if (process.argv[2] === '--child') {
  const windows = Number(process.argv[4]) || (await import(dist('config/index.js'))).defaultConfig().aggregation.retain_windows;
  await child(Number(process.argv[3]), windows);
} else {
  main();
}
