/**
 * Static thresholds on ingested metrics (`detectors.metric_thresholds`): "fire when this value
 * has been above (or below) X for a while", as a Prometheus `for:` clause would, but judged
 * once per closed window.
 *
 * The value judged per window depends on the metric type:
 * - gauge: the mean of the window's samples. With one sample per window it is that sample;
 *   with several, one spiky scrape does not count as "above" and one dip does not reset a
 *   streak, which is what "has been above X for 5 minutes" means to the person on call. The
 *   max (for `above`) would fire on any single spike, the last sample would make the verdict
 *   depend on when in the window the exporter happened to report.
 * - sum: the rate, per second, of the window's increment. Note that for a non-monotonic sum
 *   (an UpDownCounter) that is the rate of change, not the level.
 * - histogram, exponential histogram, summary: the window's p99 (thresholds on distributions
 *   are nearly always latency objectives); the mean when no p99 is known (a summary that does
 *   not report the 0.99 quantile). Evidence says which (`statistic`).
 *
 * Comparisons are strict: a value equal to the threshold is not above or below it.
 */
import type { ClosedMetricWindow } from '../aggregate/metric-aggregator.js';
import type { MetricThresholdConfig } from '../config/index.js';
import { formatDuration } from '../config/index.js';
import type { Detector, Finding } from './detector.js';

/** Which number of the window was compared. */
type Statistic = 'mean' | 'rate' | 'p99';

// Magnitudes are ratios for ranking; a value of 0 under a `below` rule would be infinite.
const MAX_MAGNITUDE = 1000;

interface Rule {
  config: MetricThresholdConfig;
  /** Consecutive windows the condition must hold: ceil(for / window), at least 1. */
  need: number;
  attributes: readonly (readonly [string, string])[];
}

/** One rule's progress on one series. */
interface Streak {
  rule: Rule;
  /** Start (ms) of the first window of the current run above `above` / below `below`; NaN when none. */
  above: number;
  below: number;
}

// How long the last reported value stands when windows carry no point, as Prometheus treats a
// series as stale after 5 minutes: SDKs export every 60 s by default while windows close every
// 10 s, so most metric windows are empty and must not break a `for` clause.
const STALE_MS = 5 * 60_000;

interface SeriesState {
  service: string;
  metric: string;
  unit: string;
  /** Own copy: window objects and their records may be reused. */
  attributes: Record<string, string>;
  /** Rules matching the series; empty for series whose name matched but nothing else did. */
  streaks: Streak[];
  value: number;
  statistic: Statistic;
  /** End (ms) of the last window with a usable value, and of the last window seen. */
  lastData: number;
  lastEnd: number;
  /** The call that last saw the series (series missing from a close are gone). */
  seen: number;
}

/** Watches the configured metric threshold rules. */
export class MetricThresholdDetector implements Detector {
  readonly kind = 'metric_threshold' as const;
  private readonly byMetric = new Map<string, Rule[]>();
  private readonly states = new Map<string, SeriesState>();
  // Attribute records are per series (one frozen empty record shared by all): their key once.
  private readonly attributeKeys = new WeakMap<object, string>();
  private call = 0;

  constructor(rules: readonly MetricThresholdConfig[], private readonly windowMs: number) {
    for (const config of rules) {
      const rule: Rule = {
        config,
        need: Math.max(1, Math.ceil(config.for / windowMs)),
        attributes: Object.entries(config.attributes),
      };
      const list = this.byMetric.get(config.metric);
      if (list === undefined) this.byMetric.set(config.metric, [rule]);
      else list.push(rule);
    }
  }

  /** Series tracked (those whose metric name some rule names). */
  get trackedSeries(): number {
    return this.states.size;
  }

  onMetricWindows(windows: readonly ClosedMetricWindow[], _now: number): Finding[] {
    if (this.byMetric.size === 0) return [];
    const call = ++this.call;
    const touched: SeriesState[] = [];
    // Oldest first: after a stall one close carries several windows of the same series.
    for (const w of windows) {
      if (w.overflow) continue;
      const rules = this.byMetric.get(w.metric);
      if (rules === undefined) continue;
      const s = this.stateOf(w, rules);
      if (s.seen !== call && s.streaks.length > 0) touched.push(s);
      s.seen = call;
      if (s.streaks.length > 0) this.judge(s, w);
    }
    for (const [key, s] of this.states) if (s.seen !== call) this.states.delete(key);
    const findings: Finding[] = [];
    for (const s of touched) for (const st of s.streaks) {
      const f = this.finding(s, st);
      if (f !== undefined) findings.push(f);
    }
    return findings;
  }

  private stateOf(w: ClosedMetricWindow, rules: readonly Rule[]): SeriesState {
    let attrs = this.attributeKeys.get(w.attributes);
    if (attrs === undefined) {
      attrs = JSON.stringify(w.attributes);
      this.attributeKeys.set(w.attributes, attrs);
    }
    const key = `${w.service}\u0000${w.metric}\u0000${attrs}`;
    let s = this.states.get(key);
    if (s === undefined) {
      const matching = rules.filter((r) => (r.config.service === '' || r.config.service === w.service) && r.attributes.every(([k, v]) => w.attributes[k] === v));
      s = {
        service: w.service,
        metric: w.metric,
        unit: w.unit,
        attributes: { ...w.attributes },
        streaks: matching.map((rule) => ({ rule, above: Number.NaN, below: Number.NaN })),
        value: Number.NaN,
        statistic: 'mean',
        lastData: Number.NaN,
        lastEnd: Number.NaN,
        seen: 0,
      };
      this.states.set(key, s);
    }
    return s;
  }

  private judge(s: SeriesState, w: ClosedMetricWindow): void {
    s.unit = w.unit;
    s.lastEnd = w.end;
    let value: number;
    let statistic: Statistic;
    if (w.type === 'gauge') {
      value = w.mean;
      statistic = 'mean';
    } else if (w.type === 'sum') {
      value = w.rate;
      statistic = 'rate';
    } else if (Number.isNaN(w.quantiles.p99)) {
      value = w.mean;
      statistic = 'mean';
    } else {
      value = w.quantiles.p99;
      statistic = 'p99';
    }
    if (!(w.points > 0 && Number.isFinite(value))) {
      // No new evidence: the last value stands until it goes stale, then every run ends.
      if (!(w.end - s.lastData <= STALE_MS)) for (const st of s.streaks) st.above = st.below = Number.NaN;
      return;
    }
    s.value = value;
    s.statistic = statistic;
    s.lastData = w.end;
    for (const st of s.streaks) {
      const { above, below } = st.rule.config;
      st.above = above !== null && value > above ? (Number.isNaN(st.above) ? w.start : st.above) : Number.NaN;
      st.below = below !== null && value < below ? (Number.isNaN(st.below) ? w.start : st.below) : Number.NaN;
    }
  }

  /** The finding of one rule on one series, or undefined while the condition has not held long enough. */
  private finding(s: SeriesState, st: Streak): Finding | undefined {
    const { config, need } = st.rule;
    const held = need * this.windowMs;
    const up = s.lastEnd - st.above >= held && config.above !== null ? ratio(s.value, config.above) : 0;
    const down = s.lastEnd - st.below >= held && config.below !== null ? ratio(config.below, s.value) : 0;
    if (up === 0 && down === 0) return undefined;
    // Both can hold only when `below` exceeds `above`; report the further one.
    const isAbove = up >= down;
    const threshold = (isAbove ? config.above : config.below) as number;
    return {
      kind: this.kind,
      severity: config.severity,
      service: s.service,
      operation: '',
      slo: '',
      metric: s.metric,
      outcomes: config.outcomes,
      magnitude: round(isAbove ? up : down, 3),
      evidence: {
        rule: config.name,
        value: round(s.value, 6),
        statistic: s.statistic,
        threshold,
        direction: isAbove ? 'above' : 'below',
        for: formatDuration(config.for),
        windows: Math.round((s.lastEnd - (isAbove ? st.above : st.below)) / this.windowMs),
        attributes: { ...s.attributes },
        unit: s.unit,
      },
      exemplars: [],
    };
  }
}

/**
 * num / den for ranking, at least 1 so a firing rule always reports. A value of 0 under a
 * positive `below` ranks highest; thresholds at or below zero have no meaningful ratio and
 * rank as 1.
 */
function ratio(num: number, den: number): number {
  if (den === 0 && num > 0) return MAX_MAGNITUDE;
  if (!(den > 0) || !(num >= 0)) return 1;
  return Math.min(MAX_MAGNITUDE, Math.max(1, num / den));
}

/** `x` to `digits` significant digits: metric values span many orders of magnitude. */
function round(x: number, digits: number): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}
