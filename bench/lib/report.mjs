/** Tables for the bench: plain text for the terminal, Markdown for bench/results/latest.md. */

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const k = (x) => (Number.isFinite(x) ? `${Math.round(x / 1e3).toLocaleString('en-US')} k` : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

const find = (summary, key) => summary.find((s) => s.run.key === key);

const TARGETS = [
  { text: 'sidecar ≥ 0.6× no-op per core, gRPC', a: 'sidecar-grpc', b: 'noop-h2', min: 0.6 },
  { text: 'sidecar ≥ 0.3× no-op per core, HTTP', a: 'sidecar-http', b: 'noop-http', min: 0.3 },
  { text: 'sidecar ≥ 5× naive per core, gRPC', a: 'sidecar-grpc', b: 'naive-grpc', min: 5 },
  { text: 'sidecar ≥ 5× naive per core, HTTP', a: 'sidecar-http', b: 'naive-http', min: 5 },
];

/** PASS / MISS (or n/a) per target. Informational only. */
export function checks(summary) {
  return TARGETS.map((t) => {
    const a = find(summary, t.a)?.perCore;
    const b = find(summary, t.b)?.perCore;
    const value = Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
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
      ratio(s.perCore, noop?.perCore),
      ratio(s.perCore, naive?.perCore),
      f2(s.clientCores),
      s.n ? `${k(s.perCoreRange[0])}–${k(s.perCoreRange[1])}` : '',
    ]);
  }
  return rows;
}
const MAIN_HEAD = ['protocol', 'server', 'spans/s (median)', 'server cores', 'spans/s per core', '× no-op (per core)', '× naive (per core)', 'client cores', 'per-core range'];

function windowRows(summary) {
  const w16 = find(summary, 'sidecar-grpc');
  const w64 = find(summary, 'sidecar-grpc-w64k');
  if (!w64) return [];
  return [
    ['64 KiB (HTTP/2 default)', k(w64.spansPerSec), f2(w64.serverCores), k(w64.perCore), ratio(w64.spansPerSec, w16?.spansPerSec), ratio(w64.perCore, w16?.perCore)],
    ['16 MiB (sidecar default)', k(w16?.spansPerSec), f2(w16?.serverCores), k(w16?.perCore), '1.00×', '1.00×'],
  ];
}
const WINDOW_HEAD = ['sidecar gRPC window', 'spans/s (median)', 'server cores', 'spans/s per core', '× 16 MiB (spans/s)', '× 16 MiB (per core)'];

function tuningRows(summary) {
  const rows = [];
  const tuning = summary.filter((s) => s.run.section === 'tuning');
  for (const s of tuning) {
    const base = tuning.find((t) => t.run.key === `${s.run.key.split('@')[0]}@none`);
    rows.push([
      s.run.protocol === 'grpc' ? 'gRPC' : 'HTTP',
      s.run.kind === 'sidecar' ? 'sidecar' : 'no-op',
      s.run.variant.name,
      k(s.spansPerSec),
      f2(s.serverCores),
      k(s.perCore),
      ratio(s.spansPerSec, base?.spansPerSec),
      ratio(s.perCore, base?.perCore),
      Number.isFinite(s.faultsPerSec) ? `${(s.faultsPerSec / 1e3).toFixed(1)} k` : 'n/a',
      Number.isFinite(s.rssMiB) ? `${s.rssMiB.toFixed(0)} MiB` : 'n/a',
      s.n ? `${k(s.perCoreRange[0])}–${k(s.perCoreRange[1])}` : '',
    ]);
  }
  rows.sort((a, b) => (a[0] + a[1]).localeCompare(b[0] + b[1]));
  return rows;
}
const TUNING_HEAD = ['protocol', 'server', 'variant', 'spans/s (median)', 'server cores', 'spans/s per core', '× none (spans/s)', '× none (per core)', 'page faults/s', 'server RSS', 'per-core range'];

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
    `load: ${p.requests} pre-encoded ExportTraceServiceRequest, ${p.spansPerRequest} spans each, ${p.bytesPerSpan.toFixed(0)} bytes/span, ` +
      `${(p.bytesPerRequest / 1024).toFixed(0)} KiB/request, ${p.attributesPerSpan.toFixed(1)} attributes/span, ${(p.errorRate * 100).toFixed(1)}% errors; ` +
      `${env.inflight} requests in flight`,
    `runs: ${env.rounds} interleaved rounds × (${env.warmup} s warm-up + ${env.seconds} s measured), medians; ` +
      `server node flags: ${env.nodeFlags}; GLIBC_TUNABLES: ${env.glibc}`,
  ];
}

function footnotes(summary) {
  const out = [];
  for (const s of summary) {
    if (s.errors.length) out.push(`${s.run.key}: ${s.errors.length} run(s) failed: ${s.errors[0]}`);
    for (const n of s.notes) out.push(`${s.run.key}: ${n}`);
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

export function textReport(env, summary, c) {
  const parts = ['', ...header(env), '', textTable(MAIN_HEAD, mainRows(summary)), ''];
  parts.push('targets (per server core, informational):');
  for (const t of c) parts.push(`  ${t.verdict.padEnd(4)} ${t.text}: ${Number.isFinite(t.value) ? `${t.value.toFixed(2)}×` : 'n/a'}`);
  const w = windowRows(summary);
  if (w.length) parts.push('', 'flow-control window (sidecar, gRPC):', textTable(WINDOW_HEAD, w, 1));
  const t = tuningRows(summary);
  if (t.length) parts.push('', 'GLIBC_TUNABLES / --max-semi-space-size A/B:', textTable(TUNING_HEAD, t, 3));
  const notes = footnotes(summary);
  if (notes.length) parts.push('', 'notes:', ...notes.map((n) => `  - ${n}`));
  return `${parts.join('\n')}\n`;
}

export function markdownReport(env, summary, c) {
  const parts = ['# otel-friction bench — latest run', '', ...header(env).map((l) => `${l}  `), '', mdTable(MAIN_HEAD, mainRows(summary)), ''];
  parts.push('Targets (per server core, informational):', '');
  for (const t of c) parts.push(`- **${t.verdict}** ${t.text}: ${Number.isFinite(t.value) ? `${t.value.toFixed(2)}×` : 'n/a'}`);
  const w = windowRows(summary);
  if (w.length) parts.push('', '## Flow-control window (sidecar, gRPC)', '', mdTable(WINDOW_HEAD, w, 1));
  const t = tuningRows(summary);
  if (t.length) parts.push('', '## GLIBC_TUNABLES / --max-semi-space-size A/B', '', mdTable(TUNING_HEAD, t, 3));
  const notes = footnotes(summary);
  if (notes.length) parts.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  return `${parts.join('\n')}\n`;
}
