/**
 * `GET /api/v1/stats?since=7d`: per service and kind, how many signals are firing and how long
 * resolved ones took to resolve (mean, median, max), over signals resolved since `since`
 * (default 7 days; RFC 3339 or a duration).
 */
import type { MttrRow } from '../state/signal-history.js';
import type { AdminRoute } from './admin-server.js';
import { answering, timeParam } from './query.js';

/** What the route needs from the history. */
export interface SignalStatsSource {
  mttr(since: number): MttrRow[];
  firingCounts(): { service: string; kind: string; firing: number }[];
}

const DEFAULT_WINDOW_MS = 7 * 86_400_000;

/** A row of the answer: firing now, and time to resolve. */
export interface ServiceKindStats {
  service: string;
  kind: string;
  firing: number;
  resolved: number;
  mttr_seconds: number | null;
  p50_seconds: number | null;
  max_seconds: number | null;
}

/** Builds the route. */
export function statsApi(source: SignalStatsSource, now: () => number = Date.now): AdminRoute {
  return (query) =>
    answering(() => {
      const since = timeParam(query, 'since', now()) ?? now() - DEFAULT_WINDOW_MS;
      const rows = new Map<string, ServiceKindStats>();
      const row = (service: string, kind: string) => {
        const k = `${service}\u0000${kind}`;
        let r = rows.get(k);
        if (r === undefined) {
          r = { service, kind, firing: 0, resolved: 0, mttr_seconds: null, p50_seconds: null, max_seconds: null };
          rows.set(k, r);
        }
        return r;
      };
      for (const f of source.firingCounts()) row(f.service, f.kind).firing = f.firing;
      for (const m of source.mttr(since)) Object.assign(row(m.service, m.kind), { resolved: m.resolved, mttr_seconds: m.mttr_seconds, p50_seconds: m.p50_seconds, max_seconds: m.max_seconds });
      const list = [...rows.values()].sort((a, b) => a.service.localeCompare(b.service) || a.kind.localeCompare(b.kind));
      return { status: 200, body: { since: new Date(since).toISOString(), services: list } };
    });
}
