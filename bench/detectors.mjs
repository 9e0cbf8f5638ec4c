#!/usr/bin/env node
/**
 * Detector cost: windows closed per second with 10,000 live span series, with every detector
 * on (two SLOs per service, one of them a latency SLI; anomaly bands on rate, error ratio and
 * p99) next to all of them off. In-process, the real aggregator and detection stage on a
 * hand-moved clock, 1 s windows, 20 spans per series per window; each variant in a fresh
 * process. (`BENCH_DETECTORS_AB=1 node bench/run.mjs` measures the same switch end to end.)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { detectionPipeline } from './lib/detection.mjs';

const N = Number(process.env.BENCH_DETECTOR_SERIES) || 10_000;
const WINDOWS = 60;
const MEASURED = 30;

async function child(on) {
  const { detectors, close } = await detectionPipeline(N, on);
  let closeNs = 0n;
  for (let w = 0; w < WINDOWS; w++) {
    const ns = close();
    if (w >= WINDOWS - MEASURED) closeNs += ns;
  }
  const ms = Number(closeNs) / MEASURED / 1e6;
  process.stdout.write(`${JSON.stringify({ on, detectors: detectors.map((d) => d.kind), msPerClose: ms, windowsPerSec: N / (ms / 1000) })}\n`);
}

function main() {
  const rows = [];
  for (const on of [false, true]) {
    const r = spawnSync(process.execPath, ['--max-semi-space-size=1', fileURLToPath(import.meta.url), '--child', on ? 'on' : 'off'], { encoding: 'utf8', timeout: 5 * 60_000 });
    if (r.status !== 0) throw new Error(`detector bench child failed: ${r.stderr || r.signal}`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)));
  }
  const [off, on] = rows;
  process.stdout.write(
    [
      '',
      `window closes with ${N.toLocaleString('en-US')} live span series (in-process, mean of ${MEASURED} closes):`,
      '| detectors | per close | windows closed/s | CPU at 10 s windows |',
      '|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.on ? `on (${r.detectors.join(', ')})` : 'off'} | ${r.msPerClose.toFixed(1)} ms | ${Math.round(r.windowsPerSec).toLocaleString('en-US')} | ${((r.msPerClose / 10_000) * 100).toFixed(2)}% of a core |`),
      `detectors add ${(on.msPerClose - off.msPerClose).toFixed(1)} ms per close, ${(((on.msPerClose - off.msPerClose) * 1000) / N).toFixed(2)} µs per series window`,
      '',
    ].join('\n'),
  );
}

if (process.argv[2] === '--child') await child(process.argv[3] === 'on');
else main();
