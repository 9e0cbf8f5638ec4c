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
 *
 * Runs are checkpointed (their start times are wall-clock times, so they carry over a restart
 * as they are); a series whose last value went stale while the process was down starts over.
 */
import type { ClosedMetricWindow } from '../aggregate/metric-aggregator.js';
import type { MetricThresholdConfig } from '../config/index.js';
import { formatDuration } from '../config/index.js';
import type { Checkpointable } from '../state/checkpoints.js';
import { ByteReader, ByteWriter, readMetricSeries, writeMetricSeries } from './checkpoint-codec.js';
import { DEFAULT_SERIES_TTL_MS } from './series-states.js';
import type { Detector, Finding } from './detector.js';

// Bump when the checkpoint layout changes: older payloads are then ignored, not misread.
const FORMAT = 1;
const STATISTICS: readonly Statistic[] = ['mean', 'rate', 'p99'];

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
export class MetricThresholdDetector implements Detector, Checkpointable {
  readonly kind = 'metric_threshold' as const;
  readonly checkpointName = 'detector.metric_threshold';
  private readonly byMetric = new Map<string, Rule[]>();
  private readonly states = new Map<string, SeriesState>();
  // Attribute records are per series (one frozen empty record shared by all): their key once.
  private readonly attributeKeys = new WeakMap<object, string>();
  private call = 0;
  // Restored series that have not closed a window in this process yet, by state key. The old
  // aggregator would still be closing empty windows for them, so each close stands in for one.
  private waiting = new Map<string, SeriesState>();
  private savedAt = Number.NaN;

  /** `seriesTtlMs` (`aggregation.series_ttl`) bounds how long restored state waits for its series. */
  constructor(
    rules: readonly MetricThresholdConfig[],
    private readonly windowMs: number,
    private readonly seriesTtlMs = DEFAULT_SERIES_TTL_MS,
  ) {
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

  onMetricWindows(windows: readonly ClosedMetricWindow[], now: number): Finding[] {
    if (this.byMetric.size === 0) return [];
    if (this.waiting.size > 0 && now - this.savedAt > this.seriesTtlMs) this.waiting.clear();
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
    for (const s of this.waiting.values()) {
      // An empty window ending now: the last value stands until it goes stale.
      s.lastEnd = now;
      if (!(now - s.lastData <= STALE_MS)) for (const st of s.streaks) st.above = st.below = Number.NaN;
      touched.push(s);
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
      s = this.waiting.size > 0 ? this.waiting.get(key) : undefined;
      if (s !== undefined) {
        this.waiting.delete(key);
        // Empty windows through the downtime would have ended every run once the value went stale.
        if (!(w.start - s.lastData <= STALE_MS)) for (const st of s.streaks) st.above = st.below = Number.NaN;
      } else {
        s = this.newState(w.service, w.metric, w.unit, { ...w.attributes }, rules);
      }
      this.states.set(key, s);
    }
    return s;
  }

  private newState(service: string, metric: string, unit: string, attributes: Record<string, string>, rules: readonly Rule[]): SeriesState {
    const matching = rules.filter((r) => (r.config.service === '' || r.config.service === service) && r.attributes.every(([k, v]) => attributes[k] === v));
    return {
      service,
      metric,
      unit,
      attributes,
      streaks: matching.map((rule) => ({ rule, above: Number.NaN, below: Number.NaN })),
      value: Number.NaN,
      statistic: 'mean',
      lastData: Number.NaN,
      lastEnd: Number.NaN,
      seen: 0,
    };
  }

  snapshot(): Buffer {
    const w = new ByteWriter(FORMAT);
    const all = [...this.states, ...this.waiting].filter(([, s]) => s.streaks.length > 0);
    w.uint(all.length);
    for (const [key, s] of all) {
      writeMetricSeries(w, key, s);
      w.num(s.value);
      w.u8(STATISTICS.indexOf(s.statistic));
      w.num(s.lastData);
      w.num(s.lastEnd);
      w.uint(s.streaks.length);
      for (const st of s.streaks) {
        w.str(st.rule.config.name);
        w.num(st.above);
        w.num(st.below);
      }
    }
    return w.done();
  }

  /**
   * Restores series against the rules configured now: runs carry over by rule name, a rule that
   * is new starts with no run, a removed one is forgotten.
   */
  restore(data: Buffer, savedAt: number): void {
    const r = new ByteReader(data, FORMAT);
    const waiting = new Map<string, SeriesState>();
    for (let i = r.uint(); i > 0; i--) {
      const [key, { service, metric, unit, attributes }] = readMetricSeries(r);
      const s = this.newState(service, metric, unit, attributes, this.byMetric.get(metric) ?? []);
      s.value = r.num();
      const statistic = STATISTICS[r.u8()];
      if (statistic === undefined) throw new RangeError('checkpointed statistic is unknown');
      s.statistic = statistic;
      s.lastData = r.num();
      s.lastEnd = r.num();
      const runs = new Map<string, [number, number]>();
      for (let j = r.uint(); j > 0; j--) {
        const name = r.str();
        const above = r.num();
        runs.set(name, [above, r.num()]);
      }
      for (const st of s.streaks) [st.above, st.below] = runs.get(st.rule.config.name) ?? [Number.NaN, Number.NaN];
      if (s.streaks.length > 0) waiting.set(key, s);
    }
    r.end();
    this.waiting = waiting;
    this.savedAt = savedAt;
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
