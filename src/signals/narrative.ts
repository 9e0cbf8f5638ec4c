/**
 * Titles and summaries in plain sentences a product manager understands: what is affected, how
 * far from normal, for how long, how much of the service's traffic, which business outcome.
 * Built only from a finding's evidence, so every number in the text is in the evidence too.
 */
import type { Finding } from '../detect/detector.js';

/** Inputs the text needs beyond the finding. */
export interface NarrativeContext {
  /** Share (0–1) of the service's traffic the affected series carries; NaN when unknown. */
  share: number;
  /** Window length, ms (to turn "windows" into minutes). */
  windowMs: number;
  outcomes: readonly string[];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

function ms(v: number): string {
  if (!Number.isFinite(v)) return '?';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return `${Math.round(v)} ms`;
  return `${v.toFixed(v >= 10 ? 0 : 1)} ms`;
}

function duration(windows: number, windowMs: number): string {
  const s = Math.round((windows * windowMs) / 1000);
  if (!(s > 0)) return 'one window';
  if (s < 120) return `${s} seconds`;
  if (s < 7200) return `${Math.round(s / 60)} minutes`;
  return `${(s / 3600).toFixed(1)} hours`;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;
const times = (x: number): string => `${x >= 10 ? Math.round(x) : x.toFixed(1)}×`;

function what(f: Finding): string {
  const svc = f.service || 'unknown service';
  return f.operation ? `${svc} ${f.operation}` : svc;
}

function tail(f: Finding, c: NarrativeContext): string {
  const parts: string[] = [];
  if (Number.isFinite(c.share) && c.share < 0.995 && f.operation) parts.push(`It carries ${pct(c.share)} of ${f.service} traffic.`);
  if (c.outcomes.length > 0) parts.push(`Outcomes at stake: ${c.outcomes.join(', ')}.`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/** The one-line title and the two-or-three-sentence summary of a finding. */
export function narrate(f: Finding, c: NarrativeContext): { title: string; summary: string } {
  const e = f.evidence;
  const windows = num(e.windows);
  switch (f.kind) {
    case 'latency_regression': {
      const q = String(e.quantile ?? 'p99');
      const title = `${what(f)}: ${q} latency is ${times(num(e.ratio))} its usual ${ms(num(e.baseline_ms))}`;
      const summary = `${q} latency of ${what(f)} is ${ms(num(e.current_ms))}, ${times(num(e.ratio))} its usual ${ms(num(e.baseline_ms))}, for ${duration(windows, c.windowMs)}.${tail(f, c)}`;
      return { title, summary };
    }
    case 'error_budget_burn': {
      const rule = (e.rule ?? {}) as { long?: string; short?: string };
      const exhaust = typeof e.projectedExhaustion === 'string' ? ` At this pace the ${String(e.period)} budget runs out by ${e.projectedExhaustion}.` : '';
      const title = `SLO ${f.slo} (${f.service}) is burning its error budget ${times(f.magnitude)} too fast`;
      const summary = `The ${String(e.sli)} objective ${String(e.objective)} of ${f.service} burned its error budget ${times(f.magnitude)} faster than sustainable over both the last ${rule.long ?? '?'} and ${rule.short ?? '?'}; ${pct(num(e.budgetConsumed))} of the budget is used.${exhaust}${tail(f, c)}`;
      return { title, summary };
    }
    case 'error_spike': {
      const title = `${what(f)}: errors jumped to ${pct(num(e.current_ratio))} of requests`;
      const summary = `${what(f)} failed ${num(e.errors)} of ${num(e.count)} requests (${pct(num(e.current_ratio))}) against a usual ${(num(e.baseline_ratio) * 100).toFixed(2)}%, for ${duration(windows, c.windowMs)}.${tail(f, c)}`;
      return { title, summary };
    }
    case 'traffic_drop': {
      const title = `${what(f)}: traffic dropped to ${pct(num(e.ratio))} of normal`;
      const summary = `${what(f)} is receiving ${num(e.current_rate).toFixed(1)} requests/s against a usual ${num(e.baseline_rate).toFixed(1)}/s, for ${duration(windows, c.windowMs)}. A service that stops receiving calls shows no errors and no latency: check what sends it traffic.${tail(f, c)}`;
      return { title, summary };
    }
    case 'metric_threshold': {
      const dir = e.direction === 'below' ? 'below' : 'above';
      const title = `${f.metric}${f.service ? ` (${f.service})` : ''} is ${dir} ${String(e.threshold)}`;
      const summary = `${f.metric}${f.service ? ` on ${f.service}` : ''} has been ${dir} ${String(e.threshold)} (now ${String(e.value)}) for ${duration(windows, c.windowMs)} (rule ${String(e.rule)}).${tail(f, c)}`;
      return { title, summary };
    }
    case 'metric_anomaly': {
      const signal = String(e.signal ?? f.metric);
      const title = `${f.operation ? `${what(f)} ` : f.service ? `${f.service} ` : ''}${signal} left its usual range`;
      const summary = `${signal}${f.service ? ` of ${what(f)}` : ''} is ${String(e.value)}, outside its usual range around ${String(e.expected)}, for ${duration(windows, c.windowMs)}.${tail(f, c)}`;
      return { title, summary };
    }
  }
}
