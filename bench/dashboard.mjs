#!/usr/bin/env node
/**
 * Dashboard cost on the sidecar's event loop: `GET /api/v1/overview` with 1,000 and 10,000 live
 * span series whose rings hold all 360 retained windows (the real WindowHistory slab), five
 * services. The first poll folds every retained window; later polls fold only the windows that
 * closed since. Baseline in the same run: folding every retained window again (what each poll
 * after a close cost before the fold became incremental). Medians of 5; each size in a fresh
 * process.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => path.join(HERE, '..', 'dist', p);
const COUNTS = (process.env.BENCH_DASHBOARD_SERIES ?? '1000,10000').split(',').map(Number);
const P = 360;
const W = 10_000;
const REPEATS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function child(n) {
  const { overviewApi } = await import(dist('admin/overview-api.js'));
  const { serviceSeries } = await import(dist('admin/service-series.js'));
  const { WindowHistory, WindowRingSlab } = await import(dist('aggregate/window-history.js'));
  const slab = new WindowRingSlab(P);
  const series = Array.from({ length: n }, (_, i) => ({ service: `svc${i % 5}`, kind: 'server', overflow: false, history: new WindowHistory(slab, W) }));
  let x = 7;
  const push = (k) => {
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const count = 5 + (x % 200);
      const p50 = 5 + (x % 40);
      series[i].history.push({ start: k * W, count, errors: x % 13 === 0 ? 1 : 0, sumMs: count * p50, minMs: 1, maxMs: p50 * 8, p50, p90: p50 * 2, p99: p50 * 4, p999: p50 * 6 });
    }
  };
  let k = 0;
  for (; k < P; k++) push(k);
  const route = overviewApi({ spans: { window: W, series: () => series }, slos: { status: () => [] }, live: { firing: () => [] }, archive: { query: () => ({ total: 0, signals: [] }) }, stats: { serviceMttr: () => [] }, services: {}, traceUrl: '' });
  let t0 = process.hrtime.bigint();
  route(new URLSearchParams());
  const first = ms(t0);
  const polls = [];
  const refolds = [];
  for (let r = 0; r < REPEATS; r++) {
    push(k++);
    t0 = process.hrtime.bigint();
    const res = route(new URLSearchParams());
    polls.push(ms(t0));
    if (res.body.services[0].t.length !== P) throw new Error('the overview lost windows');
    t0 = process.hrtime.bigint();
    serviceSeries(series, W, P);
    refolds.push(ms(t0));
  }
  process.stdout.write(`${JSON.stringify({ n, first, poll: median(polls), refold: median(refolds) })}\n`);
}

function main() {
  const rows = COUNTS.map((n) => {
    const r = spawnSync(process.execPath, ['--max-semi-space-size=1', fileURLToPath(import.meta.url), '--child', String(n)], { encoding: 'utf8', timeout: 10 * 60_000 });
    if (r.status !== 0) throw new Error(`dashboard bench child failed: ${r.stderr || r.signal}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1));
  });
  process.stdout.write(
    [
      '',
      `GET /api/v1/overview, ${P} retained windows per series, 5 services (${new Date().toISOString().slice(0, 10)}, medians of ${REPEATS}):`,
      '| live series | first poll (folds everything) | poll after a close | refold of every window (baseline) | × baseline |',
      '|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.n.toLocaleString('en-US')} | ${r.first.toFixed(0)} ms | ${r.poll.toFixed(1)} ms | ${r.refold.toFixed(0)} ms | ${(r.poll / r.refold).toFixed(3)}× |`),
      '',
    ].join('\n'),
  );
}

if (process.argv[2] === '--child') await child(Number(process.argv[3]));
else main();
