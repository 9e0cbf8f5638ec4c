/**
 * `GET /api/v1/series`: live span series with their last closed window, for people and for
 * scripts (`curl …/api/v1/series?service=checkout&sort=p99&limit=10`).
 */
import { ErrorCodes } from '../errors.js';
import type { Exemplar } from '../aggregate/exemplars.js';
import type { LastWindow, SpanSeriesKey } from '../aggregate/span-window.js';
import type { AdminResponse, AdminRoute } from './admin-server.js';

/** A span series as this API reads it (the span aggregator's series are these). */
export interface SeriesView extends SpanSeriesKey {
  readonly lastSeen: number;
  readonly late: number;
  readonly last: LastWindow | undefined;
}

/** Where the API reads series from (the span aggregator). */
export interface SeriesSource {
  /** Window length, ms. */
  readonly window: number;
  series(): Iterable<SeriesView>;
}

/** Sort keys accepted by `?sort=`. */
export const SERIES_SORT_KEYS = ['count', 'rate', 'error_ratio', 'errors', 'p50', 'p90', 'p99', 'p999', 'max', 'service', 'operation'] as const;
type SortKey = (typeof SERIES_SORT_KEYS)[number];

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

interface Row {
  service: string;
  operation: string;
  kind: string;
  dimensions: Readonly<Record<string, string>>;
  overflow: boolean;
  lastSeen: string;
  lateSpans: number;
  window: {
    start: string;
    end: string;
    count: number;
    rate: number;
    errors: number;
    error_ratio: number | null;
    mean: number | null;
    min: number | null;
    p50: number | null;
    p90: number | null;
    p99: number | null;
    p999: number | null;
    max: number | null;
    exemplars: Exemplar[];
  } | null;
}

const finite = (n: number): number | null => (Number.isFinite(n) ? round(n) : null);
const round = (n: number): number => Math.round(n * 1000) / 1000;

function badRequest(message: string): AdminResponse {
  return { status: 400, body: { error: message, code: ErrorCodes.API_BAD_REQUEST.code } };
}

function toRow(s: SeriesView, windowSeconds: number): Row {
  const w = s.last;
  return {
    service: s.service,
    operation: s.operation,
    kind: s.kind,
    dimensions: s.dimensions,
    overflow: s.overflow,
    lastSeen: new Date(s.lastSeen).toISOString(),
    lateSpans: s.late,
    window: w === undefined ? null : {
      start: new Date(w.start).toISOString(),
      end: new Date(w.end).toISOString(),
      count: w.count,
      rate: round(w.count / windowSeconds),
      errors: w.errors,
      error_ratio: w.count > 0 ? round(w.errors / w.count) : null,
      mean: w.count > 0 ? finite(w.sumMs / w.count) : null,
      min: finite(w.minMs),
      p50: finite(w.p50),
      p90: finite(w.p90),
      p99: finite(w.p99),
      p999: finite(w.p999),
      max: finite(w.maxMs),
      exemplars: w.exemplars.render(),
    },
  };
}

function sortValue(r: Row, key: SortKey): number | string {
  if (key === 'service' || key === 'operation') return r[key];
  const w = r.window;
  if (w === null) return Number.NEGATIVE_INFINITY;
  const v = w[key];
  return v ?? Number.NEGATIVE_INFINITY;
}

/** Builds the route. Query: `service`, `operation`, `sort` (default count), `order` (desc|asc), `limit`. */
export function seriesApi(source: SeriesSource): AdminRoute {
  return (query) => {
    const sort = (query.get('sort') ?? 'count') as SortKey;
    if (!SERIES_SORT_KEYS.includes(sort)) return badRequest(`sort: expected one of ${SERIES_SORT_KEYS.join(', ')}, got "${sort}"`);
    const order = query.get('order') ?? (sort === 'service' || sort === 'operation' ? 'asc' : 'desc');
    if (order !== 'asc' && order !== 'desc') return badRequest(`order: expected asc or desc, got "${order}"`);
    const limitText = query.get('limit');
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return badRequest(`limit: expected an integer from 1 to ${MAX_LIMIT}, got "${limitText}"`);
    const service = query.get('service');
    const operation = query.get('operation');
    const windowSeconds = source.window / 1000;
    const rows: Row[] = [];
    for (const s of source.series()) {
      if (service !== null && s.service !== service) continue;
      if (operation !== null && s.operation !== operation) continue;
      rows.push(toRow(s, windowSeconds));
    }
    const sign = order === 'asc' ? 1 : -1;
    rows.sort((a, b) => {
      const x = sortValue(a, sort);
      const y = sortValue(b, sort);
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    });
    return { status: 200, body: { windowSeconds, total: rows.length, returned: Math.min(limit, rows.length), sort, order, series: rows.slice(0, limit) } };
  };
}
