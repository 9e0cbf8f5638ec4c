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
import type { LiveSignals, SignalArchive } from './signals-api.js';
import type { SignalStatsSource } from './stats-api.js';

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
  stats: Pick<SignalStatsSource, 'mttr'>;
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
export interface ServiceMttr {
  resolved: number;
  /** Mean over the resolved signals, seconds. */
  mean_seconds: number;
  max_seconds: number;
}

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

/** Builds the route. */
export function overviewApi(sources: OverviewSources, now: () => number = Date.now): AdminRoute {
  const plots = new PlotCache(sources.spans);
  return (query) =>
    answering(() => {
      const t = now();
      const points = pointsParam(query);
      const since = timeParam(query, 'since', t) ?? t - DEFAULT_RESOLVED_SINCE_MS;
      const limit = limitParam(query, DEFAULT_RESOLVED, MAX_RESOLVED);
      const firing = sources.live.firing().map((s) => feedItem(s, t));
      const resolved = sources.archive.query({ status: 'resolved', since, limit }).signals.map((s) => feedItem(s, t));
      const body: Overview = {
        generatedAt: new Date(t).toISOString(),
        windowSeconds: sources.spans.window / 1000,
        traceUrl: sources.traceUrl,
        signals: { firing, resolved },
        services: servicePanels(sources, plots.get(points), firing, t),
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

function servicePanels(sources: OverviewSources, series: readonly ServiceSeries[], firing: readonly FeedItem[], now: number): ServiceOverview[] {
  const slos = sources.slos.status();
  const mttr = mttrByService(sources.stats.mttr(now - MTTR_WINDOW_MS));
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

/** Per-kind MTTR rows folded per service: a mean weighted by each kind's resolved count. */
function mttrByService(rows: ReturnType<SignalStatsSource['mttr']>): Map<string, ServiceMttr> {
  const out = new Map<string, ServiceMttr & { total: number }>();
  for (const r of rows) {
    const m = out.get(r.service) ?? { resolved: 0, mean_seconds: 0, max_seconds: 0, total: 0 };
    m.resolved += r.resolved;
    m.total += r.mttr_seconds * r.resolved;
    m.max_seconds = Math.max(m.max_seconds, r.max_seconds);
    m.mean_seconds = Math.round((m.total / m.resolved) * 10) / 10;
    out.set(r.service, m);
  }
  return new Map([...out].map(([k, { resolved, mean_seconds, max_seconds }]) => [k, { resolved, mean_seconds, max_seconds }]));
}

/**
 * Folding every retained window of every series costs O(series × points) (a second at the
 * series cap), and the answer only changes when windows close. So folds are kept until the
 * newest retained window changes, however many pages poll.
 */
class PlotCache {
  private mark = Number.NaN;
  private readonly byPoints = new Map<number, ServiceSeries[]>();
  private readonly probe = { start: 0, count: 0, errors: 0, sumMs: 0, minMs: 0, maxMs: 0, p50: 0, p90: 0, p99: 0, p999: 0 };

  constructor(private readonly source: RetainedSeriesSource) {}

  get(points: number): ServiceSeries[] {
    const mark = this.newestStart();
    if (mark !== this.mark) {
      this.mark = mark;
      this.byPoints.clear();
    }
    let folded = this.byPoints.get(points);
    if (folded === undefined) {
      // A handful of distinct `points` values at most in practice; bound it anyway.
      if (this.byPoints.size >= 8) this.byPoints.clear();
      folded = serviceSeries(this.source.series(), this.source.window, points);
      this.byPoints.set(points, folded);
    }
    return folded;
  }

  // Live series close together, so the first one with history tells whether a close happened
  // (an evicted or new first series changes the mark too, which only costs a recompute).
  private newestStart(): number {
    for (const s of this.source.series()) {
      const n = s.history.length;
      if (n > 0) return s.history.get(n - 1, this.probe).start;
    }
    return Number.NaN;
  }
}
