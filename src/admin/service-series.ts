/**
 * Per-service time series for the dashboard, folded from the retained windows of every span
 * series of a service: request rate, error ratio, p50 and p99 per window.
 *
 * Requests are a service's entry spans (`server` and `consumer`); a service that reports none
 * (only internal spans, say) is counted from all its series instead, so it still has a plot.
 * Quantiles of several operations cannot be added; they are estimated from each series'
 * retained quantiles as a count-weighted mixture ({@link mixtureQuantile}). With one series per
 * window that is the series' own quantile.
 *
 * Overflow series (keys past `aggregation.max_series`) hold spans of every kind under one key,
 * so in `entry` mode they are left out rather than counting client and internal spans as
 * requests; a capped service's plot then undercounts, which `/metrics` makes visible.
 *
 * Only series alive now are folded: a caller that refolds everything loses the past windows of
 * evicted series (series_ttl); the overview keeps what it folded instead.
 *
 * Reading every retained window of every series is O(series × points): callers fold once and
 * then only what closed since (`after`; see overview-api.ts).
 */
import { emptySummary, type WindowSummary } from '../aggregate/window-history.js';

/** The retained windows of one span series, as this module reads them. */
export interface RetainedSeries {
  readonly service: string;
  readonly kind: string;
  readonly overflow: boolean;
  readonly history: {
    readonly length: number;
    get(i: number, out: WindowSummary): WindowSummary;
  };
}

/** One service's plots, column by column (index i of each array is one window). */
export interface ServiceSeries {
  service: string;
  /** Which span kinds were counted: `entry` (server, consumer) or `all`. */
  spans: 'entry' | 'all';
  /** Window starts, seconds since the epoch (uPlot's native x unit). */
  t: number[];
  /** Spans per second. */
  rate: number[];
  /** Errors / spans; null for a window without spans. */
  errorRatio: (number | null)[];
  /** Milliseconds; null for a window without spans. */
  p50: (number | null)[];
  p99: (number | null)[];
}

const ENTRY_KINDS = new Set(['server', 'consumer']);

/**
 * Most series one window's quantiles are mixed from: the mixture's bisection costs O(parts) per
 * step, and a service with thousands of operations made one fold take seconds. The heaviest
 * operations by count carry the quantiles; the rate and error ratio still count every series.
 */
export const MAX_MIXTURE_PARTS = 64;

/** One series' contribution to one window. */
export interface LatencyPart {
  count: number;
  errors: number;
  /** Known points of the series' latency CDF: [ms, rank] pairs, ascending. */
  cdf: number[];
}

/**
 * Folds the newest `points` windows of each service (only those starting after `after`, for
 * callers that keep what they folded before); services sorted by name.
 */
export function serviceSeries(series: Iterable<RetainedSeries>, windowMs: number, points: number, service?: string, after = Number.NEGATIVE_INFINITY): ServiceSeries[] {
  if (!(points >= 1)) throw new RangeError(`points must be at least 1, got ${points}`);
  const byService = new Map<string, RetainedSeries[]>();
  for (const s of series) {
    if (service !== undefined && s.service !== service) continue;
    let list = byService.get(s.service);
    if (list === undefined) byService.set(s.service, (list = []));
    list.push(s);
  }
  const out: ServiceSeries[] = [];
  for (const [name, list] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
    const entry = list.filter((s) => !s.overflow && ENTRY_KINDS.has(s.kind));
    out.push(fold(name, entry.length > 0 ? entry : list, entry.length > 0 ? 'entry' : 'all', windowMs, points, after));
  }
  return out;
}

/** One window of a service while it is folded: totals, and its heaviest series' latencies. */
interface WindowFold {
  count: number;
  errors: number;
  /** A min-heap by count of at most {@link MAX_MIXTURE_PARTS} parts. */
  heaviest: LatencyPart[];
}

function fold(service: string, list: readonly RetainedSeries[], spans: 'entry' | 'all', windowMs: number, points: number, after: number): ServiceSeries {
  const windows = new Map<number, WindowFold>();
  const w = emptySummary();
  for (const s of list) {
    const n = s.history.length;
    // Newest first, so a caller that folded up to `after` before reads only the new windows.
    for (let i = n - 1; i >= Math.max(0, n - points); i--) {
      s.history.get(i, w);
      if (w.start <= after) break;
      let f = windows.get(w.start);
      if (f === undefined) windows.set(w.start, (f = { count: 0, errors: 0, heaviest: [] }));
      if (w.count > 0) {
        f.count += w.count;
        f.errors += w.errors;
        // Only the heaviest series get a part: most are dropped here without allocating one.
        offer(f.heaviest, w);
      }
    }
  }
  // Series are retained up to the same newest close, so the newest `points` starts are the
  // window the plot spans; older starts only exist for series that have lived longer.
  const starts = [...windows.keys()].sort((a, b) => a - b).slice(-points);
  const result: ServiceSeries = { service, spans, t: [], rate: [], errorRatio: [], p50: [], p99: [] };
  for (const start of starts) {
    const { count, errors, heaviest } = windows.get(start) as WindowFold;
    result.t.push(start / 1000);
    result.rate.push(round(count / (windowMs / 1000)));
    result.errorRatio.push(count > 0 ? round(errors / count) : null);
    result.p50.push(count > 0 ? round(mixtureQuantile(heaviest, 0.5)) : null);
    result.p99.push(count > 0 ? round(mixtureQuantile(heaviest, 0.99)) : null);
  }
  return result;
}

/** Adds `w` to a min-heap (by count) of at most MAX_MIXTURE_PARTS parts, if it is heavy enough. */
function offer(heap: LatencyPart[], w: WindowSummary): void {
  if (heap.length === MAX_MIXTURE_PARTS) {
    if (w.count <= heap[0].count) return;
    heap[0] = { count: w.count, errors: w.errors, cdf: cdfPoints(w) };
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && heap[l].count < heap[m].count) m = l;
      if (r < heap.length && heap[r].count < heap[m].count) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
  heap.push({ count: w.count, errors: w.errors, cdf: cdfPoints(w) });
  for (let i = heap.length - 1; i > 0; ) {
    const parent = (i - 1) >> 1;
    if (heap[parent].count <= heap[i].count) return;
    [heap[i], heap[parent]] = [heap[parent], heap[i]];
    i = parent;
  }
}

/** The CDF points a retained window knows: 0 at 0 ms, its quantiles, 1 at its max. */
function cdfPoints(w: WindowSummary): number[] {
  const pts = [0, 0];
  const add = (ms: number, rank: number) => {
    if (!Number.isFinite(ms)) return;
    // Coded latencies can come back a hair out of order; keep the CDF monotone.
    pts.push(Math.max(ms, pts[pts.length - 2]), rank);
  };
  add(w.p50, 0.5);
  add(w.p90, 0.9);
  add(w.p99, 0.99);
  add(w.p999, 0.999);
  add(w.maxMs, 1);
  return pts;
}

/** The piecewise-linear CDF through `pts` at `x`. */
function cdfAt(pts: readonly number[], x: number): number {
  if (x <= 0) return 0;
  for (let i = 2; i < pts.length; i += 2) {
    const x1 = pts[i];
    if (x <= x1) {
      const x0 = pts[i - 2];
      const r0 = pts[i - 1];
      return x1 === x0 ? pts[i + 1] : r0 + ((pts[i + 1] - r0) * (x - x0)) / (x1 - x0);
    }
  }
  return 1;
}

/**
 * The q-quantile of the count-weighted mixture of the parts' distributions, each a
 * piecewise-linear CDF through its retained quantiles (found by bisection on the mixture CDF).
 */
export function mixtureQuantile(parts: readonly LatencyPart[], q: number): number {
  if (parts.length === 1) return quantileOf(parts[0].cdf, q);
  const total = parts.reduce((a, p) => a + p.count, 0);
  let lo = 0;
  let hi = Math.max(...parts.map((p) => p.cdf[p.cdf.length - 2]));
  for (let i = 0; i < 50 && hi - lo > hi * 1e-5; i++) {
    const mid = (lo + hi) / 2;
    let rank = 0;
    for (const p of parts) rank += p.count * cdfAt(p.cdf, mid);
    if (rank / total < q) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The inverse of one part's CDF at q: exact at the retained quantiles. */
function quantileOf(pts: readonly number[], q: number): number {
  for (let i = 2; i < pts.length; i += 2) {
    const r1 = pts[i + 1];
    if (q <= r1) {
      const r0 = pts[i - 1];
      const x0 = pts[i - 2];
      return r1 === r0 ? pts[i] : x0 + ((pts[i] - x0) * (q - r0)) / (r1 - r0);
    }
  }
  return pts[pts.length - 2];
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
