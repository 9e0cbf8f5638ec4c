/** Tables for the bench: plain text for the terminal, Markdown for bench/results/latest.md. */

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const k = (x) => (Number.isFinite(x) ? `${Math.round(x / 1e3).toLocaleString('en-US')} k` : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

const find = (summary, key) => summary.find((s) => s.run.key === key);

/**
 * a/b of `field`, paired by round: the median over rounds of a_r / b_r. Runs of one round are
 * seconds apart, so this cancels most of the machine's slow drift (the ratio of two medians
 * would not). Falls back to the ratio of medians when no round has both.
 */
export function pairedRatio(a, b, field = 'perCore') {
  if (!a || !b) return NaN;
  const byRound = new Map(b.samples.map((s) => [s.round, s[field]]));
  const ratios = [];
  for (const s of a.samples) {
    const d = byRound.get(s.round);
    if (Number.isFinite(s[field]) && Number.isFinite(d) && d > 0) ratios.push(s[field] / d);
  }
  if (ratios.length) return median(ratios);
  return Number.isFinite(a[field]) && Number.isFinite(b[field]) && b[field] > 0 ? a[field] / b[field] : NaN;
}
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '—');

// The sidecar rows are the whole pipeline (receive → decode → aggregate). Issue 2 set targets
// for receive + decode alone; issue 3 for the pipeline. Both are checked against the same runs.
const TARGETS = [
  { text: 'pipeline ≥ 0.5× no-op per core, gRPC (issue 3)', a: 'sidecar-grpc', b: 'noop-h2', min: 0.5 },
  { text: 'pipeline ≥ 0.25× no-op per core, HTTP (issue 3)', a: 'sidecar-http', b: 'noop-http', min: 0.25 },
  { text: 'sidecar ≥ 0.6× no-op per core, gRPC (issue 2, decode only — now measured with aggregation)', a: 'sidecar-grpc', b: 'noop-h2', min: 0.6 },
  { text: 'sidecar ≥ 0.3× no-op per core, HTTP (issue 2, idem)', a: 'sidecar-http', b: 'noop-http', min: 0.3 },
  { text: 'sidecar ≥ 5× naive per core, gRPC', a: 'sidecar-grpc', b: 'naive-grpc', min: 5 },
  { text: 'sidecar ≥ 5× naive per core, HTTP', a: 'sidecar-http', b: 'naive-http', min: 5 },
];

/** PASS / MISS (or n/a) per target. Informational only. */
export function checks(summary) {
  return TARGETS.map((t) => {
    const value = pairedRatio(find(summary, t.a), find(summary, t.b));
    return { ...t, value, verdict: Number.isFinite(value) ? (value >= t.min ? 'PASS' : 'MISS') : 'n/a' };
  });
}

function mainRows(summary) {
  const rows = [];
  for (const s of summary.filter((x) => x.run.section === 'main')) {
    const noop = find(summary, s.run.protocol === 'grpc' ? 'noop-h2' : 'noop-http');
    const naive = find(summary, s.run.protocol === 'grpc' ? 'naive-grpc' : 'naive-http');
    rows.push([
      s.run.protocol === 'grpc' ? 'gRPC' : 'HTTP',
      `${s.run.label}${s.verified ? '' : s.n ? ' (!)' : ' (failed)'}`,
      k(s.spansPerSec),
      f2(s.serverCores),
      k(s.perCore),
      x(pairedRatio(s, noop)),
      x(pairedRatio(s, naive)),
      f2(s.clientCores),
      Number.isFinite(s.rssMiB) ? `${s.rssMiB.toFixed(0)} MiB` : 'n/a',
      Number.isFinite(s.liveSeries) ? s.liveSeries.toLocaleString('en-US') : '—',
      s.n ? `${k(s.perCoreRange[0])}–${k(s.perCoreRange[1])}` : '',
    ]);
  }
  return rows;
}
const MAIN_HEAD = ['protocol', 'server', 'spans/s (median)', 'server cores', 'spans/s per core', '× no-op (per core)', '× naive (per core)', 'client cores', 'server RSS', 'live series', 'per-core range'];

function windowRows(summary) {
  const w16 = find(summary, 'sidecar-grpc');
  const w64 = find(summary, 'sidecar-grpc-w64k');
  if (!w64) return [];
  return [
    ['64 KiB (HTTP/2 default)', k(w64.spansPerSec), f2(w64.serverCores), k(w64.perCore), x(pairedRatio(w64, w16, 'spansPerSec')), x(pairedRatio(w64, w16))],
    ['16 MiB (sidecar default)', k(w16?.spansPerSec), f2(w16?.serverCores), k(w16?.perCore), '1.00×', '1.00×'],
  ];
}
const WINDOW_HEAD = ['sidecar gRPC window', 'spans/s (median)', 'server cores', 'spans/s per core', '× 16 MiB (spans/s)', '× 16 MiB (per core)'];

function abRows(summary, section) {
  const rows = [];
  const inSection = summary.filter((s) => s.run.section === section);
  for (const s of inSection) {
    const base = inSection.find((t) => t.run.base === s.run.base);
    rows.push([
      s.run.protocol === 'grpc' ? 'gRPC' : 'HTTP',
      s.run.kind === 'sidecar' ? 'sidecar' : 'no-op',
      s.run.variant.name,
      k(s.spansPerSec),
      f2(s.serverCores),
      k(s.perCore),
      x(pairedRatio(s, base, 'spansPerSec')),
      x(pairedRatio(s, base)),
      Number.isFinite(s.faultsPerSec) ? `${(s.faultsPerSec / 1e3).toFixed(1)} k` : 'n/a',
      Number.isFinite(s.rssMiB) ? `${s.rssMiB.toFixed(0)} MiB` : 'n/a',
      s.n ? `${k(s.perCoreRange[0])}–${k(s.perCoreRange[1])}` : '',
    ]);
  }
  return rows;
}
const AB_HEAD = ['protocol', 'server', 'variant', 'spans/s (median)', 'server cores', 'spans/s per core', '× first (spans/s)', '× first (per core)', 'page faults/s', 'server RSS', 'per-core range'];

function textTable(head, rows, textCols = 2) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < textCols ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)].join('\n');
}

function mdTable(head, rows, textCols = 2) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < textCols ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function header(env) {
  const p = env.pool;
  return [
    `date ${env.date} · node ${env.node} · CPU ${env.cpu} · ${env.cores} cores · ${env.pin}`,
    `load: ${p.requests} pre-encoded ExportTraceServiceRequest, ${p.spansPerRequest} spans each, ${p.series.toLocaleString('en-US')} distinct series, ${p.bytesPerSpan.toFixed(0)} bytes/span, ` +
      `${(p.bytesPerRequest / 1024).toFixed(0)} KiB/request, ${p.attributesPerSpan.toFixed(1)} attributes/span, ${(p.errorRate * 100).toFixed(1)}% errors; ` +
      `${env.inflight} requests in flight (gRPC: over ${env.connections} HTTP/2 connection${env.connections > 1 ? 's' : ''}; HTTP: keep-alive pool)`,
    `runs: ${env.rounds} interleaved rounds × (${env.warmup} s warm-up + ${env.seconds} s measured), medians; ` +
      `server node flags: ${env.nodeFlags}; GLIBC_TUNABLES: ${env.glibc}`,
    `runs repeated because other processes used > ${Math.round(env.maxOtherLoad * 100)}% of a pinned CPU: ${env.retried ?? 0} (at most ${env.retries} per run, ${env.retryBudget} in all)`,
  ];
}

function footnotes(summary) {
  const out = [];
  for (const s of summary) {
    if (s.errors.length) out.push(`${s.run.key}: ${s.errors.length} run(s) failed: ${s.errors[0]}`);
    for (const n of s.notes) out.push(`${s.run.key}: ${n}`);
  }
  const loaded = summary.filter((s) => Number.isFinite(s.otherLoad) && s.otherLoad > 0.15);
  if (loaded.length) {
    out.push(`other processes used > 15% of a pinned CPU (median) during: ${loaded.map((s) => s.run.key).join(', ')} — treat those rows with care.`);
  }
  const clientBound = summary.filter((s) => s.run.section === 'main' && s.clientCores >= 0.9 && s.serverCores < 0.9);
  if (clientBound.length) {
    out.push(
      `client-bound (generator ≥ 0.9 core while the server had headroom): ${clientBound.map((s) => s.run.key).join(', ')} — ` +
        'their spans/s is a floor; compare per core.',
    );
  }
  return out;
}

export function textReport(env, summary, c, sections = []) {
  const parts = ['', ...header(env), '', textTable(MAIN_HEAD, mainRows(summary)), ''];
  parts.push('targets (per server core, informational):');
  for (const t of c) parts.push(`  ${t.verdict.padEnd(4)} ${t.text}: ${Number.isFinite(t.value) ? `${t.value.toFixed(2)}×` : 'n/a'}`);
  const w = windowRows(summary);
  if (w.length) parts.push('', 'flow-control window (sidecar, gRPC):', textTable(WINDOW_HEAD, w, 1));
  for (const sec of sections) {
    const t = abRows(summary, sec.id);
    if (t.length) parts.push('', `${sec.title} (ratios: per-round paired medians vs the first variant):`, textTable(AB_HEAD, t, 3));
  }
  const notes = footnotes(summary);
  if (notes.length) parts.push('', 'notes:', ...notes.map((n) => `  - ${n}`));
  return `${parts.join('\n')}\n`;
}

export function markdownReport(env, summary, c, sections = []) {
  const parts = ['# otel-friction bench — latest run', '', ...header(env).map((l) => `${l}  `), '', mdTable(MAIN_HEAD, mainRows(summary)), ''];
  parts.push('Targets (per server core, informational):', '');
  for (const t of c) parts.push(`- **${t.verdict}** ${t.text}: ${Number.isFinite(t.value) ? `${t.value.toFixed(2)}×` : 'n/a'}`);
  const w = windowRows(summary);
  if (w.length) parts.push('', '## Flow-control window (sidecar, gRPC)', '', mdTable(WINDOW_HEAD, w, 1));
  for (const sec of sections) {
    const t = abRows(summary, sec.id);
    if (t.length) parts.push('', `## ${sec.title}`, '', 'Ratios are per-round paired medians against the first variant of the same server.', '', mdTable(AB_HEAD, t, 3));
  }
  const notes = footnotes(summary);
  if (notes.length) parts.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  return `${parts.join('\n')}\n`;
}
