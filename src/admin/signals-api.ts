/** `GET /api/v1/signals?status=firing|resolved|all&service=&kind=&limit=`: signals by priority. */
import { ErrorCodes } from '../errors.js';
import type { FrictionSignal } from '../signals/signal.js';
import type { AdminRoute } from './admin-server.js';

/** Where the API reads signals from (the synthesizer). */
export interface SignalSource {
  firing(): FrictionSignal[];
  recentlyResolved(): FrictionSignal[];
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const STATUSES = ['firing', 'resolved', 'all'] as const;

/** Builds the route. Firing signals come first, by priority; resolved ones newest first. */
export function signalsApi(source: SignalSource): AdminRoute {
  return (query) => {
    const bad = (message: string) => ({ status: 400, body: { error: message, code: ErrorCodes.API_BAD_REQUEST.code } });
    const status = query.get('status') ?? 'firing';
    if (!(STATUSES as readonly string[]).includes(status)) return bad(`status: expected one of ${STATUSES.join(', ')}, got "${status}"`);
    const limitText = query.get('limit');
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return bad(`limit: expected an integer from 1 to ${MAX_LIMIT}, got "${limitText}"`);
    const service = query.get('service');
    const kind = query.get('kind');
    const pool = [...(status !== 'resolved' ? source.firing() : []), ...(status !== 'firing' ? source.recentlyResolved() : [])];
    const rows = pool.filter((s) => (service === null || s.service === service) && (kind === null || s.kind === kind));
    return { status: 200, body: { total: rows.length, returned: Math.min(limit, rows.length), signals: rows.slice(0, limit) } };
  };
}
