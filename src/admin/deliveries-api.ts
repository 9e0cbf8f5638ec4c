/**
 * `GET /api/v1/deliveries?state=pending|dead&sink=&limit=`: the outbox's rows per sink, oldest
 * first. `POST /api/v1/deliveries/retry` with `{"sink": "...", "ids": [..]}` (both optional)
 * puts dead letters back in line; it needs the admin token when one is configured.
 */
import type { DeliveryRecord, RetryResult } from '../state/outbox.js';
import type { AdminAction, AdminRoute } from './admin-server.js';
import { answering, badRequest, enumParam, limitParam } from './query.js';

/** What the routes need from the outbox. */
export interface DeliveryLedger {
  list(state: 'pending' | 'dead', sink: string | undefined, limit: number): { total: number; deliveries: DeliveryRecord[] };
  retry(filter: { sink?: string; ids?: readonly number[] }): RetryResult;
}

const MAX_LIMIT = 10_000;

/** `GET /api/v1/deliveries`. */
export function deliveriesApi(ledger: DeliveryLedger, sinks: readonly string[]): AdminRoute {
  return (query) =>
    answering(() => {
      const state = enumParam(query, 'state', ['pending', 'dead'] as const, 'dead') as 'pending' | 'dead';
      const limit = limitParam(query, 100, MAX_LIMIT);
      const sink = query.get('sink') ?? undefined;
      if (sink !== undefined && !sinks.includes(sink)) return badRequest(`sink: expected one of ${sinks.join(', ')}, got "${sink}"`);
      const { total, deliveries } = ledger.list(state, sink, limit);
      return { status: 200, body: { state, total, returned: deliveries.length, deliveries } };
    });
}

/** `POST /api/v1/deliveries/retry`. */
export function retryDeliveriesAction(ledger: DeliveryLedger, sinks: readonly string[]): AdminAction {
  return (body) => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return badRequest('body: expected a JSON object such as {"sink": "webhook[0]"} or {"ids": [12, 13]}');
    const { sink, ids, ...rest } = body as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) return badRequest(`body: unknown field(s) ${unknown.join(', ')}; expected sink, ids`);
    if (sink !== undefined && (typeof sink !== 'string' || !sinks.includes(sink))) return badRequest(`sink: expected one of ${sinks.join(', ')}, got ${JSON.stringify(sink)}`);
    if (ids !== undefined && (!Array.isArray(ids) || !ids.every((x) => Number.isSafeInteger(x) && (x as number) > 0) || ids.length > MAX_LIMIT)) {
      return badRequest(`ids: expected a list of up to ${MAX_LIMIT} delivery ids (positive integers)`);
    }
    const result = ledger.retry({ sink: sink as string | undefined, ids: ids as number[] | undefined });
    return { status: 200, body: result };
  };
}
