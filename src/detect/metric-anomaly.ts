/**
 * Adaptive bands (`detectors.metric_anomaly`): flags a watched number that leaves its own usual
 * range, without a configured threshold.
 *
 * Per watched series the band is mean ± sensitivity·σ̂, from two EWMAs (smoothing `alpha` per
 * window): the mean, and the mean absolute deviation from it, turned into a standard deviation
 * by ×√(π/2) (exact for normal noise, and far less swayed by outliers than a variance). Three
 * guards keep it honest:
 * - each update's residual is clipped to ±3σ̂, so one wild window moves the band by at most
 *   alpha·3σ̂ and cannot widen it much (a variance EWMA would grow by alpha·residual²);
 * - σ̂ never drops below a floor: 1% of |mean|, and for span signals the counting noise of the
 *   window (Poisson for rate, binomial for error ratio), so a flat series does not fire on a
 *   wiggle that is tiny next to its level;
 * - a window outside the band is folded in at a tenth of alpha: a step change is flagged, then
 *   adopted over many windows (the band slowly widens and follows) rather than at once, and an
 *   isolated outlier hardly registers.
 * During the first `warmup_windows` windows the band only learns (with alpha at least 1/n, a
 * plain average at first, and no clipping over the first few windows while σ̂ means little);
 * after that a finding holds while `sustain` consecutive judged windows are outside the band.
 *
 * Watched: metric series named in `metrics` (gauge: mean of the window's samples, sum: rate per
 * second, distributions: mean) and, per span series, the `span_signals` (rate = spans per
 * second, error_ratio, p99). Windows without data are skipped (neither extending nor breaking a
 * streak, and the last verdict stands until data returns or the series is evicted), except for
 * span rate, where an empty window is a rate of 0. Overflow series are not watched.
 *
 * Bands and streaks are checkpointed. The span window a restart cut through does not update the
 * rate band: its spans before the restart died with the old process, so its rate reads low.
 */
import type { ClosedMetricWindow } from '../aggregate/metric-aggregator.js';
import type { ClosedSpanWindow, SpanSeriesKey } from '../aggregate/span-window.js';
import type { MetricAnomalyConfig } from '../config/index.js';
import type { Checkpointable } from '../state/checkpoints.js';
import { ByteReader, ByteWriter, readMetricSeries, writeMetricSeries } from './checkpoint-codec.js';
import { DEFAULT_SERIES_TTL_MS, type SeriesStateBase, SeriesStates } from './series-states.js';
import type { Detector, Finding } from './detector.js';

// Bump when the checkpoint layout changes: older payloads are then ignored, not misread.
const FORMAT = 1;

/** Mean absolute deviation → standard deviation, for normal noise. */
const SIGMA_PER_MAD = Math.sqrt(Math.PI / 2);
/** Residuals are clipped to this many σ̂ before they update the band. */
const CLIP = 3;
/** Windows outside the band are folded in with alpha × this. */
const ADOPT = 0.1;
/** σ̂ is at least this share of |mean|. */
const RELATIVE_FLOOR = 0.01;
/** Windows taken in before clipping starts: σ̂ from fewer is too rough to clip against. */
const CLIP_AFTER = 5;
// Keeps σ̂ positive for a series that has been exactly 0: every sustained non-zero value fires.
const MIN_SIGMA = 1e-12;
const MAX_MAGNITUDE = 1000;

type SpanSignal = MetricAnomalyConfig['span_signals'][number];
const SPAN_SIGNALS: readonly SpanSignal[] = ['rate', 'error_ratio', 'p99'];

/** One watched number's band: constant memory. */
class Band {
  /** Windows taken in. */
  n = 0;
  mean = 0;
  /** EWMA of |residual| (clipped). */
  mad = 0;
  /** Consecutive judged windows outside the band. */
  streak = 0;
  // The latest window taken in and the band it was judged against (before it moved): evidence.
  value = Number.NaN;
  expected = Number.NaN;
  sigma = Number.NaN;

  /** Takes in one window's value; `floor` is the least σ̂ for it. */
  observe(x: number, floor: number, c: MetricAnomalyConfig): void {
    if (this.n === 0) {
      this.n = 1;
      this.mean = x;
      return;
    }
    const sigma = Math.max(SIGMA_PER_MAD * this.mad, floor, MIN_SIGMA);
    const r = x - this.mean;
    const judged = this.n >= c.warmup_windows;
    const outside = judged && Math.abs(r) > c.sensitivity * sigma;
    this.value = x;
    this.expected = this.mean;
    this.sigma = sigma;
    this.n++;
    let a = judged ? c.alpha : Math.max(c.alpha, 1 / this.n);
    if (outside) a *= ADOPT;
    const clipped = this.n > CLIP_AFTER ? Math.min(CLIP * sigma, Math.max(-CLIP * sigma, r)) : r;
    this.mean += a * clipped;
    this.mad += a * (Math.abs(clipped) - this.mad);
    this.streak = outside ? this.streak + 1 : 0;
  }

  write(w: ByteWriter): void {
    w.uint(this.n);
    w.num(this.mean);
    w.num(this.mad);
    w.uint(this.streak);
    w.num(this.value);
    w.num(this.expected);
    w.num(this.sigma);
  }

  static read(r: ByteReader): Band {
    const b = new Band();
    b.n = r.uint();
    b.mean = r.num();
    b.mad = r.num();
    b.streak = r.uint();
    b.value = r.num();
    b.expected = r.num();
    b.sigma = r.num();
    // A NaN mean or deviation would never recover: the band would judge nothing, ever again.
    if (!(Number.isFinite(b.mean) && Number.isFinite(b.mad))) throw new RangeError('checkpointed band is not finite');
    return b;
  }
}

interface MetricState {
  band: Band;
  /** The call that last saw the series (series missing from a close are gone). */
  seen: number;
  service: string;
  metric: string;
  unit: string;
  attributes: Record<string, string>;
}

interface SpanState extends SeriesStateBase {
  /** The series, for findings; set at every close (restored states start without one). */
  series: SpanSeriesKey | undefined;
  /** The call that last saw the series. */
  seen: number;
  /** Per signal, in SPAN_SIGNALS order; undefined when not watched. */
  bands: (Band | undefined)[];
  /** EWMA of spans per non-empty window: the binomial floor of error_ratio. */
  count: number;
}

/**
 * Watches metric series and span signals for departures from their own adaptive band.
 *
 * `sensitivity` is the band's half-width in robust standard deviations of the series' own
 * window-to-window noise: 6 (the default) means a window counts as anomalous only when it is
 * more than 6σ̂ from the smoothed mean. For normal noise a single window gets there about
 * once in 500 million; the margin is for what real data does instead (heavy tails, σ̂ that is
 * itself an estimate from about 2/alpha windows), and `sustain` consecutive windows are needed
 * on top. Lower values catch smaller shifts and fire more on noisy or heavy-tailed series
 * (on the tests' synthetic mix of real-world noise shapes, 4 was still quiet and 3 was not).
 */
export class MetricAnomalyDetector implements Detector, Checkpointable {
  readonly kind = 'metric_anomaly' as const;
  readonly checkpointName = 'detector.metric_anomaly';
  private readonly metrics: ReadonlySet<string>;
  private readonly watched: readonly boolean[];
  private readonly seconds: number;
  private readonly metricStates = new Map<string, MetricState>();
  private readonly spanStates: SeriesStates<SpanState>;
  private readonly attributeKeys = new WeakMap<object, string>();
  private call = 0;
  // Restored metric series that have not closed a window in this process yet, by state key.
  // The old aggregator would still be closing empty windows for them: each close stands in for one.
  private waiting = new Map<string, MetricState>();
  private savedAt = Number.NaN;
  // Span windows starting before this (the restored checkpoint's time) were cut by the restart.
  private partialBefore = Number.NEGATIVE_INFINITY;

  /** `seriesTtlMs` (`aggregation.series_ttl`) bounds how long restored state waits for its series. */
  constructor(
    private readonly config: MetricAnomalyConfig,
    windowMs: number,
    private readonly seriesTtlMs = DEFAULT_SERIES_TTL_MS,
  ) {
    this.metrics = new Set(config.metrics);
    this.watched = SPAN_SIGNALS.map((s) => config.span_signals.includes(s));
    this.seconds = windowMs / 1000;
    this.spanStates = new SeriesStates<SpanState>(
      () => ({ id: undefined, series: undefined, seen: 0, bands: this.watched.map((on) => (on ? new Band() : undefined)), count: Number.NaN }),
      windowMs,
      seriesTtlMs,
    );
  }

  /** Metric series tracked. */
  get trackedSeries(): number {
    return this.metricStates.size;
  }

  onMetricWindows(windows: readonly ClosedMetricWindow[], now: number): Finding[] {
    if (this.metrics.size === 0) return [];
    if (this.waiting.size > 0 && now - this.savedAt > this.seriesTtlMs) this.waiting.clear();
    const call = ++this.call;
    const touched: MetricState[] = [];
    for (const w of windows) {
      if (w.overflow || !this.metrics.has(w.metric)) continue;
      const s = this.metricState(w);
      if (s.seen !== call) touched.push(s);
      s.seen = call;
      const x = w.type === 'sum' ? w.rate : w.mean;
      if (w.points === 0 || !Number.isFinite(x)) continue;
      s.unit = w.unit;
      s.band.observe(x, RELATIVE_FLOOR * Math.abs(s.band.mean), this.config);
    }
    for (const [key, s] of this.metricStates) if (s.seen !== call) this.metricStates.delete(key);
    // An empty window leaves a band and its verdict as they are.
    for (const s of this.waiting.values()) touched.push(s);
    const findings: Finding[] = [];
    for (const s of touched) {
      if (s.band.streak < this.config.sustain) continue;
      findings.push(this.finding(s.band, s.metric, s.service, '', s.metric, { attributes: { ...s.attributes }, unit: s.unit }));
    }
    return findings;
  }

  onSpanWindows(windows: readonly ClosedSpanWindow[], now: number): Finding[] {
    if (!this.watched.includes(true) || windows.length === 0) return [];
    this.spanStates.begin(windows, now);
    const call = ++this.call;
    const touched: SpanState[] = [];
    const observe = (w: ClosedSpanWindow): void => {
      const s = this.spanStates.of(w);
      s.series = w.series;
      if (s.seen !== call) touched.push(s);
      s.seen = call;
      this.observeSpans(s, w);
    };
    for (const w of windows) if (!w.series.overflow) observe(w);
    // Restored series that have not shown up again: empty windows (a rate of 0).
    for (const w of this.spanStates.standIns()) observe(w);
    const findings: Finding[] = [];
    for (const { series, bands } of touched) {
      if (series === undefined) continue; // unreachable: set above
      // Series of one operation differ by span kind and dimensions: keep their signals apart.
      const scope = `${series.kind} ${JSON.stringify(series.dimensions)}`;
      bands.forEach((band, j) => {
        if (band !== undefined && band.streak >= this.config.sustain) findings.push(this.finding(band, SPAN_SIGNALS[j], series.service, series.operation, '', { scope }));
      });
    }
    return findings;
  }

  private observeSpans(s: SpanState, w: ClosedSpanWindow): void {
    const [rate, errors, p99] = s.bands;
    const W = this.seconds;
    if (rate !== undefined && w.start >= this.partialBefore) {
      // Counting noise: a rate cannot be steadier than Poisson, √(λ/W) per second.
      const m = rate.mean;
      rate.observe(w.count / W, Math.max(RELATIVE_FLOOR * m, Math.sqrt(Math.max(m, 1 / W) / W)), this.config);
    }
    if (w.count === 0) return;
    s.count = Number.isNaN(s.count) ? w.count : s.count + this.config.alpha * (w.count - s.count);
    if (errors !== undefined) {
      // Binomial noise at the usual count; at a ratio of 0, as if one span in the window failed.
      const n = Math.max(1, s.count);
      const q = Math.min(Math.max(errors.mean, 1 / n), 1 - 1 / n);
      errors.observe(w.errors / w.count, Math.max(RELATIVE_FLOOR * errors.mean, Math.sqrt((q * (1 - q)) / n)), this.config);
    }
    if (p99 !== undefined && Number.isFinite(w.p99)) p99.observe(w.p99, RELATIVE_FLOOR * Math.abs(p99.mean), this.config);
  }

  private metricState(w: ClosedMetricWindow): MetricState {
    let attrs = this.attributeKeys.get(w.attributes);
    if (attrs === undefined) {
      attrs = JSON.stringify(w.attributes);
      this.attributeKeys.set(w.attributes, attrs);
    }
    const key = `${w.service}\u0000${w.metric}\u0000${attrs}`;
    let s = this.metricStates.get(key);
    if (s === undefined) {
      s = this.waiting.size > 0 ? this.waiting.get(key) : undefined;
      if (s !== undefined) this.waiting.delete(key);
      else s = { band: new Band(), seen: 0, service: w.service, metric: w.metric, unit: w.unit, attributes: { ...w.attributes } };
      this.metricStates.set(key, s);
    }
    return s;
  }

  snapshot(): Buffer {
    const w = new ByteWriter(FORMAT);
    w.uint(this.metricStates.size + this.waiting.size);
    for (const [key, s] of [...this.metricStates, ...this.waiting]) {
      writeMetricSeries(w, key, s);
      s.band.write(w);
    }
    const spans = [...this.spanStates.entries()];
    w.uint(spans.length);
    for (const [id, s] of spans) {
      w.str(id);
      w.num(s.count);
      // Which of SPAN_SIGNALS have a band, one bit each.
      w.u8(s.bands.reduce((m, b, j) => (b !== undefined ? m | (1 << j) : m), 0));
      for (const b of s.bands) b?.write(w);
    }
    return w.done();
  }

  restore(data: Buffer, savedAt: number): void {
    const r = new ByteReader(data, FORMAT);
    const metrics = new Map<string, MetricState>();
    for (let i = r.uint(); i > 0; i--) {
      const [key, identity] = readMetricSeries(r);
      metrics.set(key, { band: Band.read(r), seen: 0, ...identity });
    }
    const spans = new Map<string, SpanState>();
    for (let i = r.uint(); i > 0; i--) {
      const id = r.str();
      const count = r.num();
      const mask = r.u8();
      const saved = SPAN_SIGNALS.map((_, j) => ((mask >> j) & 1 ? Band.read(r) : undefined));
      // Signals watched now: their saved band, or a fresh one when the config added them.
      const bands = this.watched.map((on, j) => (on ? (saved[j] ?? new Band()) : undefined));
      spans.set(id, { id, series: undefined, seen: 0, bands, count });
    }
    r.end();
    // First, as it may still throw (a malformed identity): nothing is applied before it.
    this.spanStates.load(spans, savedAt);
    this.waiting = metrics;
    this.savedAt = savedAt;
    this.partialBefore = savedAt;
  }

  private finding(band: Band, signal: string, service: string, operation: string, metric: string, extra: Record<string, unknown>): Finding {
    const half = this.config.sensitivity * band.sigma;
    const deviations = (band.value - band.expected) / band.sigma;
    return {
      kind: this.kind,
      severity: 'warning',
      service,
      operation,
      slo: '',
      metric,
      outcomes: [],
      magnitude: round(Math.min(MAX_MAGNITUDE, Math.abs(deviations)), 3),
      evidence: {
        signal,
        value: round(band.value, 6),
        expected: round(band.expected, 6),
        band: [round(band.expected - half, 6), round(band.expected + half, 6)],
        deviations: round(Math.max(-MAX_MAGNITUDE, Math.min(MAX_MAGNITUDE, deviations)), 3),
        windows: band.streak,
        ...extra,
      },
      exemplars: [],
    };
  }
}

/** `x` to `digits` significant digits: values span many orders of magnitude. */
function round(x: number, digits: number): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}
