/**
 * `GET /api/v1/metric-series`: live metric series (metric × attributes × service) with their
 * last closed window, filterable by `service` and `metric`.
 */
import { ErrorCodes } from '../errors.js';
import type { MetricSeries } from '../aggregate/metric-aggregator.js';
import type { AdminRoute } from './admin-server.js';

/** Where the API reads metric series from (the metric aggregator). */
export interface MetricSeriesSource {
  series(): Iterable<MetricSeries>;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const num = (n: number): number | null => (Number.isFinite(n) ? Math.round(n * 1e6) / 1e6 : null);

/** Builds the route. Query: `service`, `metric`, `limit`. Sorted by service, metric. */
export function metricSeriesApi(source: MetricSeriesSource): AdminRoute {
  return (query) => {
    const limitText = query.get('limit');
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return { status: 400, body: { error: `limit: expected an integer from 1 to ${MAX_LIMIT}, got "${limitText}"`, code: ErrorCodes.API_BAD_REQUEST.code } };
    }
    const service = query.get('service');
    const metric = query.get('metric');
    const rows = [];
    for (const s of source.series()) {
      if (service !== null && s.service !== service) continue;
      if (metric !== null && s.metric !== metric) continue;
      const w = s.last;
      rows.push({
        service: s.service, metric: s.metric, unit: s.unit, type: s.type, attributes: s.attributes, overflow: s.overflow,
        lastSeen: new Date(s.lastSeen).toISOString(),
        window: w === undefined ? null : {
          start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString(), points: w.points,
          value: num(w.value), min: num(w.min), max: num(w.max), mean: num(w.mean), rate: num(w.rate), count: num(w.count), sum: num(w.sum),
          p50: num(w.quantiles.p50), p90: num(w.quantiles.p90), p99: num(w.quantiles.p99), p999: num(w.quantiles.p999),
        },
      });
    }
    rows.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
    return { status: 200, body: { total: rows.length, returned: Math.min(limit, rows.length), series: rows.slice(0, limit) } };
  };
}
