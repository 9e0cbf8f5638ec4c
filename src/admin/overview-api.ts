/**
 * `GET /api/v1/overview?points=&since=&limit=`: everything the dashboard page shows, in one
 * answer it polls: the friction feed (firing signals by priority, then recently resolved ones
 * with their time to resolve) and, per service, the plotted series, SLO cards and MTTR.
 *
 * - `points` (1–10000, default 360): newest windows per plot;
 * - `since` (RFC 3339 or a duration, default 24h): resolved signals that ended since then;
 * - `limit` (1–500, default 20): most resolved signals listed.
 *
 * Services are ranked like the feed: the highest priority firing on them first, then by name.
 */
import type { SloStatus } from '../detect/burn-rate.js';
import type { FrictionSignal } from '../signals/signal.js';
import type { AdminRoute } from './admin-server.js';
import { answering, limitParam, QueryError, timeParam } from './query.js';
import { type RetainedSeries, type ServiceSeries, serviceSeries } from './service-series.js';
import type { ServiceMttrRow } from '../state/signal-history.js';
import type { LiveSignals, SignalArchive } from './signals-api.js';

/** Where the plots come from (the span aggregator). */
export interface RetainedSeriesSource {
  /** Window length, ms. */
  readonly window: number;
  series(): Iterable<RetainedSeries>;
}

/** The SLOs' budgets and burn rates, read-only (the burn-rate detector). */
export interface SloStatusSource {
  status(): SloStatus[];
}

/** What the overview reads; each part is a read-only view of one stage. */
export interface OverviewSources {
  spans: RetainedSeriesSource;
  slos: SloStatusSource;
  live: LiveSignals;
  archive: SignalArchive;
  /** Time to resolve per service (the history, aggregated in SQL). */
  stats: { serviceMttr(since: number): ServiceMttrRow[] };
  /** Configured services (`services:`), for owners and services that sent nothing yet. */
  services: Readonly<Record<string, { owner: string; tier: number }>>;
  /** Link template for exemplar trace ids, `{trace_id}` replaced; empty = no links. */
  traceUrl: string;
}

/** A signal in the feed: the signal plus how long it has been firing or took to resolve. */
export type FeedItem = FrictionSignal & {
  /** Firing: seconds since it started. Resolved: seconds since it ended. */
  ageSeconds: number;
  /** Resolved: seconds from start to end; null while firing. */
  resolveSeconds: number | null;
};

/** Time to resolve one service's signals, all kinds together. */
export type ServiceMttr = Omit<ServiceMttrRow, 'service'>;

/** One service's panel. */
export interface ServiceOverview extends ServiceSeries {
  owner: string;
  /** 1 = most critical; 3 when not configured. */
  tier: number;
  firing: number;
  /** Highest priority among its firing signals; 0 when none. */
  topPriority: number;
  slos: SloStatus[];
  /** Over the last 7 days; null when nothing resolved. */
  mttr: ServiceMttr | null;
}

/** The whole answer. */
export interface Overview {
  generatedAt: string;
  windowSeconds: number;
  traceUrl: string;
  signals: { firing: FeedItem[]; resolved: FeedItem[] };
  services: ServiceOverview[];
}

const DEFAULT_POINTS = 360;
const MAX_POINTS = 10_000;
const DEFAULT_RESOLVED = 20;
const MAX_RESOLVED = 500;
const DEFAULT_RESOLVED_SINCE_MS = 86_400_000;
const MTTR_WINDOW_MS = 7 * 86_400_000;
const DEFAULT_TIER = 3;
// The database parts (resolved list, MTTR) are shared by every open page for this long: the
// history changes at transitions, and pages poll every 5 s.
const DB_TTL_MS = 2000;

/** Builds the route. */
export function overviewApi(sources: OverviewSources, now: () => number = Date.now): AdminRoute {
  const plots = new PlotCache(sources.spans);
  const archived = new Memo<FrictionSignal[]>(DB_TTL_MS, now);
  const mttr = new Memo<Map<string, ServiceMttr>>(DB_TTL_MS, now);
  return (query) =>
    answering(() => {
      const t = now();
      const points = pointsParam(query);
      const since = timeParam(query, 'since', t) ?? t - DEFAULT_RESOLVED_SINCE_MS;
      const limit = limitParam(query, DEFAULT_RESOLVED, MAX_RESOLVED);
      const firing = sources.live.firing().map((s) => feedItem(s, t));
      // Keyed by the parameters as written: the default `since` moves with the clock.
      const key = `${query.get('since') ?? ''}\u0000${limit}`;
      const resolved = archived.get(key, () => sources.archive.query({ status: 'resolved', since, limit }).signals).map((s) => feedItem(s, t));
      const mttrs = mttr.get('', () => new Map(sources.stats.serviceMttr(t - MTTR_WINDOW_MS).map(({ service, ...m }) => [service, m])));
      const body: Overview = {
        generatedAt: new Date(t).toISOString(),
        windowSeconds: sources.spans.window / 1000,
        traceUrl: sources.traceUrl,
        signals: { firing, resolved },
        services: servicePanels(sources, plots.get(points), firing, mttrs),
      };
      return { status: 200, body };
    });
}

function pointsParam(query: URLSearchParams): number {
  const text = query.get('points');
  if (text === null) return DEFAULT_POINTS;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_POINTS) throw new QueryError(`points: expected an integer from 1 to ${MAX_POINTS}, got "${text}"`);
  return n;
}

function feedItem(s: FrictionSignal, now: number): FeedItem {
  const start = Date.parse(s.startsAt);
  const end = s.endsAt === null ? Number.NaN : Date.parse(s.endsAt);
  const resolved = Number.isFinite(end);
  return {
    ...s,
    ageSeconds: Math.max(0, Math.round((now - (resolved ? end : start)) / 1000)),
    resolveSeconds: resolved ? Math.max(0, Math.round((end - start) / 1000)) : null,
  };
}

function servicePanels(sources: OverviewSources, series: readonly ServiceSeries[], firing: readonly FeedItem[], mttr: ReadonlyMap<string, ServiceMttr>): ServiceOverview[] {
  const slos = sources.slos.status();
  const names = new Set<string>([...series.map((s) => s.service), ...slos.map((s) => s.service), ...firing.map((s) => s.service), ...Object.keys(sources.services)]);
  const plotted = new Map(series.map((s) => [s.service, s]));
  const panels = [...names].map((service): ServiceOverview => {
    const own = firing.filter((s) => s.service === service);
    const configured = sources.services[service];
    const plot = plotted.get(service) ?? { service, spans: 'entry', t: [], rate: [], errorRatio: [], p50: [], p99: [] };
    return {
      ...plot,
      owner: configured?.owner || (own.find((s) => s.owner !== '')?.owner ?? ''),
      tier: configured?.tier ?? DEFAULT_TIER,
      firing: own.length,
      topPriority: Math.max(0, ...own.map((s) => s.priority)),
      slos: slos.filter((s) => s.service === service),
      mttr: mttr.get(service) ?? null,
    };
  });
  return panels.sort((a, b) => b.topPriority - a.topPriority || a.service.localeCompare(b.service));
}

/** A few answers kept for `ttlMs`, by key (a handful of distinct keys; bounded anyway). */
class Memo<T> {
  private readonly entries = new Map<string, { at: number; value: T }>();
  constructor(private readonly ttlMs: number, private readonly now: () => number) {}

  get(key: string, compute: () => T): T {
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && t - hit.at < this.ttlMs) return hit.value;
    if (this.entries.size >= 16) this.entries.clear();
    const value = compute();
    this.entries.set(key, { at: t, value });
    return value;
  }
}

/**
 * Folding every retained window of every series costs O(series × windows) — seconds at the
 * series cap — and past windows do not change. So the cache folds only the windows that closed
 * since its last fold and appends them to each service's columns (trimmed to what the series
 * retain); each request slices its newest `points` from them. A service whose plot would change
 * shape (its first server span arrives, so requests are counted from entry spans) is refolded
 * whole; a service without live series leaves the cache.
 */
class PlotCache {
  private mark = Number.NaN;
  private foldedTo = Number.NEGATIVE_INFINITY;
  private readonly plots = new Map<string, ServiceSeries>();
  private readonly probe = { start: 0, count: 0, errors: 0, sumMs: 0, minMs: 0, maxMs: 0, p50: 0, p90: 0, p99: 0, p999: 0 };

  constructor(private readonly source: RetainedSeriesSource) {}

  get(points: number): ServiceSeries[] {
    const mark = this.newestStart();
    if (mark !== this.mark) {
      this.mark = mark;
      this.update();
    }
    return [...this.plots.values()].map((s) => (s.t.length <= points ? s : newest(s, points)));
  }

  private update(): void {
    const { window } = this.source;
    let retained = 0;
    for (const s of this.source.series()) retained = Math.max(retained, s.history.length);
    const after = this.foldedTo;
    const fresh = serviceSeries(this.source.series(), window, MAX_POINTS, undefined, after);
    const live = new Set<string>();
    for (const f of fresh) {
      live.add(f.service);
      const known = this.plots.get(f.service);
      let plot: ServiceSeries;
      if (known !== undefined && known.spans === f.spans) plot = append(known, f);
      else if (after === Number.NEGATIVE_INFINITY) plot = f; // the fold was whole already
      else plot = serviceSeries(this.source.series(), window, MAX_POINTS, f.service)[0];
      this.plots.set(f.service, plot.t.length > retained ? newest(plot, retained) : plot);
      const last = plot.t.at(-1);
      if (last !== undefined) this.foldedTo = Math.max(this.foldedTo, last * 1000);
    }
    for (const name of [...this.plots.keys()]) if (!live.has(name)) this.plots.delete(name);
  }

  // Live series close together, so the first one with history tells whether a close happened
  // (an evicted or new first series changes the mark too, which only costs a look for new windows).
  private newestStart(): number {
    for (const s of this.source.series()) {
      const n = s.history.length;
      if (n > 0) return s.history.get(n - 1, this.probe).start;
    }
    return Number.NaN;
  }
}

/** `known`'s columns followed by `more`'s (windows that closed since). */
function append(known: ServiceSeries, more: ServiceSeries): ServiceSeries {
  return { ...known, t: [...known.t, ...more.t], rate: [...known.rate, ...more.rate], errorRatio: [...known.errorRatio, ...more.errorRatio], p50: [...known.p50, ...more.p50], p99: [...known.p99, ...more.p99] };
}

/** The newest `points` windows of a service's columns. */
function newest(s: ServiceSeries, points: number): ServiceSeries {
  const from = s.t.length - points;
  return { ...s, t: s.t.slice(from), rate: s.rate.slice(from), errorRatio: s.errorRatio.slice(from), p50: s.p50.slice(from), p99: s.p99.slice(from) };
}
