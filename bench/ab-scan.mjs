// Interleaved A/B of two builds of the trace scanner on the bench payload (same process).
// usage: node bench/ab-scan.mjs DIST_A DIST_B
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildPool } from './lib/payload.mjs';

const [a, b] = process.argv.slice(2).map((d) => path.resolve(d));
const load = async (dir) => {
  const { TraceScanner } = await import(pathToFileURL(`${dir}/otlp/trace-scanner.js`).href);
  const { SpanBatch } = await import(pathToFileURL(`${dir}/otlp/batch.js`).href);
  return { scanner: new TraceScanner(), batch: new SpanBatch() };
};
const pool = buildPool(16, 42).payloads.map((p) => Buffer.from(p));
const variants = { A: await load(a), B: await load(b) };
const results = { A: [], B: [] };
for (let round = 0; round < 12; round++) {
  for (const k of ['A', 'B']) {
    const { scanner, batch } = variants[k];
    for (let i = 0; i < 100; i++) scanner.scan(pool[i % 16], batch);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) scanner.scan(pool[i % 16], batch);
    results[k].push((1000 * 512) / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
}
const med = (v) => v.slice().sort((x, y) => x - y)[v.length >> 1];
console.log(`A ${(med(results.A) / 1e6).toFixed(2)} M spans/s  B ${(med(results.B) / 1e6).toFixed(2)} M spans/s  B/A ${(med(results.B) / med(results.A)).toFixed(2)}`);
