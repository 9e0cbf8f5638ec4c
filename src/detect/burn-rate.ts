/**
 * Error-budget burn: multiwindow, multi-burn-rate alerts as in the Google SRE Workbook
 * (chapter "Alerting on SLOs"). For each SLO, each rule pairs a long and a short window; it
 * fires when the budget burns faster than `factor` over *both* (the long window gives
 * significance, the short one makes it reset quickly once the burning stops). The most severe
 * firing rule sets the finding's severity.
 *
 * The buckets are checkpointed per SLO name, with the SLI they counted: an SLO whose service,
 * operation or SLI changed starts empty, since its old counts measured something else (a changed
 * objective or period is fine: the counts are the same, only the judgement differs).
 */
import type { ClosedSpanWindow } from '../aggregate/span-window.js';
import type { BurnRateWindowConfig, SloConfig } from '../config/index.js';
import { formatDuration } from '../config/index.js';
import type { Detector, Finding, Severity } from './detector.js';
import { globToRegExp } from './glob.js';
import { fractionAbove } from './sketch-rank.js';
import { SloBuckets, type SavedBuckets } from './slo-buckets.js';
import type { Checkpointable } from '../state/checkpoints.js';
import { ByteReader, ByteWriter } from './checkpoint-codec.js';

// Bump when the checkpoint layout changes: older payloads are then ignored, not misread.
const FORMAT = 1;

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** One burn-rate rule of an SLO as it stands: both windows' burn rates (null without events). */
export interface BurnRateStatus {
  long: string;
  short: string;
  factor: number;
  severity: Severity;
  longRate: number | null;
  shortRate: number | null;
  /** Both windows burn at or above `factor`. */
  firing: boolean;
}

/** An SLO's budget and burn rates at the last window close: what the dashboard's cards show. */
export interface SloStatus {
  name: string;
  service: string;
  /** Operation glob; `*` = the whole service. */
  operation: string;
  objective: number;
  sli: string;
  period: string;
  /** Share of the period's error budget left (1 = untouched, 0 = spent; never below 0). */
  budgetRemaining: number;
  /** Share of the budget spent; above 1 when overspent. */
  budgetConsumed: number;
  periodEvents: number;
  periodBad: number;
  rules: BurnRateStatus[];
  /** When these numbers were computed (the last close), ms; 0 before the first close. */
  at: number;
}

interface SloState {
  slo: SloConfig;
  operation: RegExp;
  buckets: SloBuckets;
  /** Budget: the allowed bad ratio, 1 − objective. */
  budget: number;
}

/** Watches the configured SLOs' error budgets. */
export class BurnRateDetector implements Detector, Checkpointable {
  readonly kind = 'error_budget_burn' as const;
  readonly checkpointName = 'detector.error_budget_burn';
  private readonly states: SloState[];
  // Which SLOs a series feeds; series objects are stable while they live.
  private readonly matches = new WeakMap<object, SloState[]>();
  // The last close's time: status() reports what the detector judged, not a moment between closes.
  private lastNow = 0;

  constructor(slos: readonly SloConfig[], private readonly rules: readonly BurnRateWindowConfig[], windowMs: number) {
    const shortest = Math.min(...rules.map((r) => r.short));
    const longest = Math.max(...rules.map((r) => r.long));
    this.states = slos.map((slo) => ({
      slo,
      operation: globToRegExp(slo.operation),
      buckets: new SloBuckets(shortest, longest, slo.period, windowMs),
      budget: 1 - slo.objective,
    }));
  }

  /** Memory held by the SLOs' buckets, bytes. */
  get bytes(): number {
    return this.states.reduce((n, s) => n + s.buckets.bytes, 0);
  }

  onSpanWindows(windows: readonly ClosedSpanWindow[], now: number): Finding[] {
    if (this.states.length === 0) return [];
    this.lastNow = now;
    for (const w of windows) {
      if (w.count === 0) continue;
      for (const state of this.statesOf(w.series)) {
        const sli = state.slo.sli;
        const bad = sli.kind === 'availability' ? w.errors : Math.round(w.count * fractionAbove(w.sketch, sli.threshold_ms));
        state.buckets.add(w.start, w.count, bad);
      }
    }
    const findings: Finding[] = [];
    for (const state of this.states) {
      const f = this.evaluate(state, now);
      if (f !== undefined) findings.push(f);
    }
    return findings;
  }

  /** Every SLO's budget and burn rates as of the last close (read-only; for the dashboard). */
  status(): SloStatus[] {
    const now = this.lastNow;
    return this.states.map((state) => {
      const { slo } = state;
      const { consumed, total, bad } = this.budgetOf(state, now);
      return {
        name: slo.name,
        service: slo.service,
        operation: slo.operation,
        objective: slo.objective,
        sli: sliLabel(slo),
        period: formatDuration(slo.period),
        budgetRemaining: round(Math.max(0, 1 - consumed)),
        budgetConsumed: round(consumed),
        periodEvents: total,
        periodBad: bad,
        rules: this.rules.map((rule) => {
          const long = this.burn(state, now, rule.long);
          const short = this.burn(state, now, rule.short);
          return { long: formatDuration(rule.long), short: formatDuration(rule.short), factor: rule.factor, severity: rule.severity, longRate: finiteOrNull(long), shortRate: finiteOrNull(short), firing: long >= rule.factor && short >= rule.factor };
        }),
        at: now,
      };
    });
  }

  snapshot(): Buffer {
    const w = new ByteWriter(FORMAT);
    w.uint(this.states.length);
    for (const state of this.states) {
      w.str(state.slo.name);
      w.str(sliOf(state.slo));
      state.buckets.write(w);
    }
    return w.done();
  }

  restore(data: Buffer, savedAt: number): void {
    const r = new ByteReader(data, FORMAT);
    const saved = new Map<string, { sli: string; buckets: SavedBuckets }>();
    for (let i = r.uint(); i > 0; i--) {
      const name = r.str();
      const sli = r.str();
      saved.set(name, { sli, buckets: SloBuckets.decode(r) });
    }
    r.end();
    for (const state of this.states) {
      const s = saved.get(state.slo.name);
      if (s !== undefined && s.sli === sliOf(state.slo)) state.buckets.apply(s.buckets);
    }
    // status() reports as of the last close; until the first close after a restart, that is
    // the checkpoint's time (not 0, which would show untouched budgets).
    this.lastNow = Math.max(this.lastNow, savedAt);
  }

  private statesOf(series: ClosedSpanWindow['series']): SloState[] {
    let m = this.matches.get(series);
    if (m === undefined) {
      // Overflow series stand for unknown operations: they count toward service-wide SLOs only.
      m = this.states.filter((s) => s.slo.service === series.service && (series.overflow ? s.slo.operation === '*' : s.operation.test(series.operation)));
      this.matches.set(series, m);
    }
    return m;
  }

  /** The finding for one SLO at `now`, or undefined when no rule fires. */
  private evaluate(state: SloState, now: number): Finding | undefined {
    const { slo } = state;
    const rates: Record<string, number | null> = {};
    let fired: BurnRateWindowConfig | undefined;
    let magnitude = 0;
    for (const rule of this.rules) {
      const long = this.burn(state, now, rule.long);
      const short = this.burn(state, now, rule.short);
      rates[formatDuration(rule.long)] = finiteOrNull(long);
      rates[formatDuration(rule.short)] = finiteOrNull(short);
      if (long >= rule.factor && short >= rule.factor) {
        if (fired === undefined || SEVERITY_RANK[rule.severity] < SEVERITY_RANK[fired.severity]) fired = rule;
        magnitude = Math.max(magnitude, Math.min(long, short));
      }
    }
    if (fired === undefined) return undefined;
    const { consumed, total, bad } = this.budgetOf(state, now);
    // Projected from the firing rule's long-window burn: the budget left, spent at that pace.
    const pace = this.burn(state, now, fired.long);
    const exhaustsInMs = consumed >= 1 ? 0 : pace > 0 ? ((1 - consumed) * slo.period) / pace : Number.POSITIVE_INFINITY;
    return {
      kind: this.kind,
      severity: fired.severity,
      service: slo.service,
      operation: slo.operation === '*' ? '' : slo.operation,
      slo: slo.name,
      metric: '',
      outcomes: slo.outcomes,
      magnitude: round(magnitude),
      evidence: {
        objective: slo.objective,
        sli: sliLabel(slo),
        period: formatDuration(slo.period),
        rule: { long: formatDuration(fired.long), short: formatDuration(fired.short), factor: fired.factor },
        burnRates: rates,
        budgetConsumed: round(consumed),
        budgetRemaining: round(Math.max(0, 1 - consumed)),
        projectedExhaustion: Number.isFinite(exhaustsInMs) ? new Date(now + exhaustsInMs).toISOString() : null,
        periodEvents: total,
        periodBad: bad,
      },
      exemplars: [],
    };
  }

  /** How fast the budget burns over [now − span, now): bad ratio / budget; NaN without events. */
  private burn(state: SloState, now: number, span: number): number {
    return state.buckets.badRatio(now, span) / state.budget;
  }

  /** The period's counts and the share of the budget they spent. */
  private budgetOf(state: SloState, now: number): { consumed: number; total: number; bad: number } {
    const [total, bad] = state.buckets.periodCounts(now);
    return { consumed: total > 0 ? bad / (total * state.budget) : 0, total, bad };
  }
}

function sliLabel(slo: SloConfig): string {
  return slo.sli.kind === 'latency' ? `latency ≤ ${slo.sli.threshold_ms} ms` : 'availability';
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? round(x) : null;
}

/** What an SLO's buckets count: events of which series, and which of them are bad. */
function sliOf(slo: SloConfig): string {
  const threshold = slo.sli.kind === 'latency' ? String(slo.sli.threshold_ms) : '';
  return [slo.service, slo.operation, slo.sli.kind, threshold].join('\u0000');
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
