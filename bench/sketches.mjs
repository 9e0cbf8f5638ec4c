#!/usr/bin/env node
/**
 * Quantile sketch bench: our merging t-digest, the DDSketch adapter and the npm `tdigest`
 * package on the same seeded latency data (1e6 lognormal, 1e6 Pareto, 1e6 bimodal values; the
 * same generators and seeds as test/aggregate/latency-data.ts). For each it measures inserts/s
 * (median over repetitions, each a fresh sketch filled with all values and asked one quantile so
 * buffered work is included), relative error at p50/p90/p99/p99.9 against the exact value at
 * rank floor(q·(n-1)), the same after merging 100 sketches of 1e4 values each, the serialized
 * size and the memory the sketch reports. Prints one markdown table.
 *
 * Needs `npm run build` first (imports dist/aggregate/*.js).
 *
 * Environment:
 *   SKETCH_BENCH_N=1000000     values per distribution
 *   SKETCH_BENCH_REPS=5        insert-throughput repetitions per cell (median reported)
 *   SKETCH_BENCH_CELL_SECONDS=4  stop repeating a cell after this long (the npm package is slow)
 *   SKETCH_BENCH_DIST=…        directory of the compiled sketches (default ../dist/aggregate/)
 */
import { pathToFileURL } from 'node:url';
import tdigestPkg from 'tdigest';

const QS = [0.5, 0.9, 0.99, 0.999];

// --- seeded data: keep in step with test/aggregate/latency-data.ts ---------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(rand) {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = Number.NaN;
      return s;
    }
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function lognormal(n, seed, median = 50, sigma = 1) {
  const z = normals(mulberry32(seed));
  const mu = Math.log(median);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(mu + sigma * z());
  return out;
}

function pareto(n, seed, xm = 10, alpha = 1.5) {
  const rand = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = xm / Math.pow(1 - rand(), 1 / alpha);
  return out;
}

function bimodal(n, seed, lowMedian = 5, highMedian = 500, sigma = 0.25, fraction = 0.5) {
  const rand = mulberry32(seed);
  const z = normals(mulberry32(seed ^ 0x9e3779b9));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() < fraction ? lowMedian : highMedian) * Math.exp(sigma * z());
  return out;
}

const exactQuantile = (sorted, q) => sorted[Math.floor(q * (sorted.length - 1))];
const relErr = (est, exact) => Math.abs(est - exact) / Math.abs(exact);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// --- the sketches under test -------------------------------------------------------------------

async function contenders(dist) {
  const base = dist instanceof URL ? dist : pathToFileURL(dist.endsWith('/') ? dist : `${dist}/`);
  let td, dd;
  try {
    td = await import(new URL('tdigest.js', base).href);
    dd = await import(new URL('ddsketch.js', base).href);
  } catch (err) {
    throw new Error(`cannot load the compiled sketches from ${base.href} (run npm run build first): ${err.message}`);
  }
  // One fill loop per sketch so every insert call site stays monomorphic (a shared loop calling
  // three classes would slow all of them down).
  return [
    {
      name: `t-digest (ours, δ=${td.DEFAULT_COMPRESSION}, k2)`,
      fill(values, from = 0, to = values.length) {
        const s = new td.MergingTDigest();
        for (let i = from; i < to; i++) s.add(values[i]);
        s.quantile(0.5);
        return s;
      },
      create: () => new td.MergingTDigest(),
      quantile: (s, q) => s.quantile(q),
      merge: (into, s) => into.merge(s),
      bytes: (s) => s.serialize().length,
      memory: (s) => s.byteSize(),
      cells: (s) => `${s.centroidCount()} centroids`,
    },
    {
      name: `DDSketch adapter (α=${dd.DEFAULT_RELATIVE_ACCURACY})`,
      fill(values, from = 0, to = values.length) {
        const s = new dd.DDSketchAdapter();
        for (let i = from; i < to; i++) s.add(values[i]);
        s.quantile(0.5);
        return s;
      },
      create: () => new dd.DDSketchAdapter(),
      quantile: (s, q) => s.quantile(q),
      merge: (into, s) => into.merge(s),
      bytes: (s) => s.serialize().length,
      memory: (s) => s.byteSize(),
      cells: (s) => `${s.binCount()} bins`,
    },
    {
      name: 'npm tdigest 0.1.3 (δ=0.01)',
      fill(values, from = 0, to = values.length) {
        const s = new tdigestPkg.TDigest();
        for (let i = from; i < to; i++) s.push(values[i]);
        s.percentile(0.5);
        return s;
      },
      quantile: (s, q) => s.percentile(q),
      cells: (s) => `${s.size()} centroids`,
    },
  ];
}

function measure(c, values, reps, cellMs) {
  const rates = [];
  const start = performance.now();
  let sketch;
  while (rates.length < reps && (rates.length === 0 || performance.now() - start < cellMs)) {
    const t = performance.now();
    sketch = c.fill(values);
    rates.push(values.length / ((performance.now() - t) / 1000));
  }
  return { sketch, rate: median(rates), reps: rates.length };
}

const pct = (x) => (x === undefined ? '—' : `${(100 * x).toFixed(x < 0.1 ? 2 : 1)}%`);

/**
 * Runs the bench and returns its rows and a markdown table.
 * @param {{ n?: number, reps?: number, cellSeconds?: number, dist?: string | URL, log?: (line: string) => void }} [options]
 */
export async function runSketchBench(options = {}) {
  const n = options.n ?? 1_000_000;
  const reps = options.reps ?? 5;
  const cellMs = 1000 * (options.cellSeconds ?? 4);
  const log = options.log ?? (() => {});
  const all = await contenders(options.dist ?? new URL('../dist/aggregate/', import.meta.url));
  const datasets = [
    ['lognormal(ln 50ms, σ=1)', lognormal(n, 42)],
    ['Pareto(10ms, α=1.5)', pareto(n, 7)],
    ['bimodal 5ms + 500ms', bimodal(n, 11)],
  ];
  const rows = [];
  for (const [data, values] of datasets) {
    const sorted = Float64Array.from(values).sort();
    const exact = QS.map((q) => exactQuantile(sorted, q));
    for (const c of all) {
      log(`${c.name} on ${data}…`);
      const { sketch, rate, reps: done } = measure(c, values, reps, cellMs);
      const row = {
        sketch: c.name,
        data,
        addsPerSec: rate,
        reps: done,
        errors: QS.map((q, i) => relErr(c.quantile(sketch, q), exact[i])),
        estimates: QS.map((q) => c.quantile(sketch, q)),
        exact,
        mergedErrors: undefined,
        bytes: c.bytes?.(sketch),
        mergedBytes: undefined,
        memory: c.memory?.(sketch),
        cells: c.cells(sketch),
      };
      if (c.merge) {
        const into = c.create();
        const step = Math.floor(n / 100);
        for (let p = 0; p < 100; p++) c.merge(into, c.fill(values, p * step, (p + 1) * step));
        row.mergedErrors = QS.map((q, i) => relErr(c.quantile(into, q), exact[i]));
        row.mergedBytes = c.bytes(into);
      }
      rows.push(row);
    }
  }
  return { rows, markdown: markdown(rows, n) };
}

function markdown(rows, n) {
  const lines = [
    `Sketches on ${n.toExponential(0)} seeded values per distribution; relative error vs the exact value at rank ⌊q·(n−1)⌋.`,
    '',
    '| sketch | data | inserts/s | p50 | p90 | p99 | p99.9 | merged ×100: p50 / p90 / p99 / p99.9 | serialized (merged) | size | memory |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const merged = r.mergedErrors ? r.mergedErrors.map(pct).join(' / ') : '—';
    const bytes = r.bytes === undefined ? '—' : `${r.bytes} B (${r.mergedBytes} B)`;
    const memory = r.memory === undefined ? '—' : `${(r.memory / 1024).toFixed(1)} KiB`;
    lines.push(`| ${r.sketch} | ${r.data} | ${(r.addsPerSec / 1e6).toFixed(1)} M/s (median of ${r.reps}) | ${r.errors.map(pct).join(' | ')} | ${merged} | ${bytes} | ${r.cells} | ${memory} |`);
  }
  const gap = rows.filter((r) => r.data.startsWith('bimodal'));
  if (gap.length > 0) {
    lines.push('', `Bimodal p50 (in the gap between the modes): exact ${gap[0].exact[0].toFixed(2)} ms; ${gap.map((r) => `${r.sketch.split(' (')[0]} ${r.estimates[0].toFixed(2)} ms`).join(', ')}.`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = process.env;
  const num = (v, d) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
  const started = performance.now();
  const { markdown: md } = await runSketchBench({
    n: num(env.SKETCH_BENCH_N, 1_000_000),
    reps: num(env.SKETCH_BENCH_REPS, 5),
    cellSeconds: num(env.SKETCH_BENCH_CELL_SECONDS, 4),
    dist: env.SKETCH_BENCH_DIST || undefined,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(md);
  process.stderr.write(`(${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
