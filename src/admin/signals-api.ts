/**
 * `GET /api/v1/signals?status=firing|resolved|all&service=&kind=&fingerprint=&since=&limit=`:
 * firing signals first by priority (live, as the synthesizer sees them at this close), then
 * resolved ones newest first from the history. `since` (RFC 3339 or a duration like `24h`)
 * keeps signals that were still firing at or after that time.
 */
import type { FrictionSignal } from '../signals/signal.js';
import type { HistoryQuery } from '../state/signal-history.js';
import type { AdminRoute } from './admin-server.js';
import { answering, enumParam, limitParam, timeParam } from './query.js';

/** Firing signals as they are now (the synthesizer). */
export interface LiveSignals {
  firing(): FrictionSignal[];
}

/** Where resolved signals are kept (the history table). */
export interface SignalArchive {
  query(q: HistoryQuery): { total: number; signals: FrictionSignal[] };
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const STATUSES = ['firing', 'resolved', 'all'] as const;

/** Builds the route. */
export function signalsApi(live: LiveSignals, archive: SignalArchive, now: () => number = Date.now): AdminRoute {
  return (query) =>
    answering(() => {
      const status = enumParam(query, 'status', STATUSES, 'firing');
      const limit = limitParam(query, DEFAULT_LIMIT, MAX_LIMIT);
      const since = timeParam(query, 'since', now());
      const service = query.get('service') ?? undefined;
      const kind = query.get('kind') ?? undefined;
      const fingerprint = query.get('fingerprint') ?? undefined;
      const firing = status === 'resolved' ? [] : live.firing().filter((s) => (service === undefined || s.service === service) && (kind === undefined || s.kind === kind) && (fingerprint === undefined || s.fingerprint === fingerprint));
      const resolved = status === 'firing' ? { total: 0, signals: [] } : archive.query({ status: 'resolved', service, kind, fingerprint, since, limit: limit - Math.min(limit, firing.length) });
      const rows = [...firing, ...resolved.signals].slice(0, limit);
      const total = firing.length + resolved.total;
      return { status: 200, body: { total, returned: rows.length, signals: rows } };
    });
}
