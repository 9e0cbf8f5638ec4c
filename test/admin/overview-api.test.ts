import { describe, expect, test } from 'vitest';
import { type Overview, type OverviewSources, overviewApi } from '../../src/admin/overview-api.js';
import type { RetainedSeries } from '../../src/admin/service-series.js';
import { WindowHistory, WindowRingSlab } from '../../src/aggregate/window-history.js';
import type { SloStatus } from '../../src/detect/burn-rate.js';
import type { HistoryQuery, ServiceMttrRow } from '../../src/state/signal-history.js';
import { sampleSignal } from '../support/signals.js';

const W = 10_000;
const NOW = Date.parse('2026-11-25T12:00:00Z');
const T0 = NOW - 10 * W;
const slab = new WindowRingSlab(32);

function series(service: string, counts: number[]): RetainedSeries & { history: WindowHistory } {
  const history = new WindowHistory(slab, W);
  counts.forEach((count, i) => history.push({ start: T0 + i * W, count, errors: 0, sumMs: count, minMs: 1, maxMs: 1, p50: 1, p90: 1, p99: 1, p999: 1 }));
  return { service, kind: 'server', overflow: false, history };
}

const slo: SloStatus = {
  name: 'checkout-availability', service: 'checkout', operation: '*', objective: 0.999, sli: 'availability', period: '30d',
  budgetRemaining: 0.4, budgetConsumed: 0.6, periodEvents: 1000, periodBad: 6, at: NOW,
  rules: [{ long: '1h', short: '5m', factor: 14.4, severity: 'critical', longRate: 20, shortRate: 30, firing: true }],
};

const firing = [
  sampleSignal({ id: 'p', fingerprint: 'fp-pay', service: 'payments', priority: 90, owner: 'team-billing', title: 'payments: error spike', startsAt: '2026-11-25T11:55:00.000Z' }),
  sampleSignal({ id: 'c', fingerprint: 'fp-co', service: 'checkout', priority: 40, startsAt: '2026-11-25T11:59:00.000Z' }),
];
const resolved = [sampleSignal({ id: 'r', status: 'resolved', service: 'cart', startsAt: '2026-11-25T10:00:00.000Z', endsAt: '2026-11-25T10:04:30.000Z' })];
const mttrRows: ServiceMttrRow[] = [{ service: 'cart', resolved: 4, mean_seconds: 90, max_seconds: 270 }];

function sources(over: Partial<OverviewSources> = {}): OverviewSources & { queries: HistoryQuery[]; mttrSince: number[] } {
  const queries: HistoryQuery[] = [];
  const mttrSince: number[] = [];
  const spans = [series('checkout', [10, 20, 30]), series('cart', [5, 5, 5])];
  return {
    queries, mttrSince,
    spans: { window: W, series: () => spans },
    slos: { status: () => [slo] },
    live: { firing: () => firing },
    archive: { query: (q) => (queries.push(q), { total: resolved.length, signals: resolved }) },
    stats: { serviceMttr: (since) => (mttrSince.push(since), mttrRows) },
    services: { checkout: { owner: 'team-payments', tier: 1 }, email: { owner: 'team-growth', tier: 3 } },
    traceUrl: 'http://jaeger:16686/trace/{trace_id}',
    ...over,
  };
}

/** The overview over one checkout series whose window reads are counted. */
function countingRoute() {
  const checkout = series('checkout', [1, 2, 3]);
  let reads = 0;
  const counted: RetainedSeries = {
    service: 'checkout', kind: 'server', overflow: false,
    history: { get length() { return checkout.history.length; }, get: (i, out) => (reads++, checkout.history.get(i, out)) },
  };
  const route = overviewApi(sources({ spans: { window: W, series: () => [counted] } }), () => NOW);
  return { checkout, route, reads: () => reads };
}

const get = (s: OverviewSources, query = '') => overviewApi(s, () => NOW)(new URLSearchParams(query));

describe('GET /api/v1/overview', () => {
  test('the feed: firing by priority with their age, then resolved ones with their time to resolve', () => {
    const s = sources();
    const { status, body } = get(s);
    expect(status).toBe(200);
    const o = body as Overview;
    expect(o.generatedAt).toBe('2026-11-25T12:00:00.000Z');
    expect(o.windowSeconds).toBe(10);
    expect(o.traceUrl).toBe('http://jaeger:16686/trace/{trace_id}');
    expect(o.signals.firing.map((f) => [f.id, f.ageSeconds, f.resolveSeconds])).toEqual([['p', 300, null], ['c', 60, null]]);
    expect(o.signals.firing[0]).toMatchObject({ title: 'payments: error spike', exemplars: firing[0].exemplars, outcomes: ['revenue'] });
    expect(o.signals.resolved.map((f) => [f.id, f.resolveSeconds, f.ageSeconds])).toEqual([['r', 270, 6930]]);
    // Resolved: the last 24 hours, 20 at most, unless asked otherwise.
    expect(s.queries).toEqual([{ status: 'resolved', since: NOW - 86_400_000, limit: 20 }]);
    get(s, 'since=1h&limit=5');
    expect(s.queries[1]).toEqual({ status: 'resolved', since: NOW - 3_600_000, limit: 5 });
  });

  test('services: plotted, configured, with SLOs or signals; ranked by their top firing priority, then by name', () => {
    const s = sources();
    const o = get(s).body as Overview;
    expect(o.services.map((x) => [x.service, x.firing, x.topPriority])).toEqual([
      ['payments', 1, 90], ['checkout', 1, 40], ['cart', 0, 0], ['email', 0, 0],
    ]);
    const checkout = o.services[1];
    expect(checkout).toMatchObject({ owner: 'team-payments', tier: 1, spans: 'entry', rate: [1, 2, 3], slos: [slo], mttr: null });
    expect(checkout.t).toEqual([0, 1, 2].map((i) => (T0 + i * W) / 1000));
    // No spans yet: empty columns, still a panel. The owner comes from the signal when not configured.
    expect(o.services[0]).toMatchObject({ service: 'payments', owner: 'team-billing', tier: 3, t: [], rate: [] });
    expect(o.services[3]).toMatchObject({ service: 'email', owner: 'team-growth', t: [] });
  });

  test('MTTR per service over 7 days, from the history', () => {
    const s = sources();
    const cart = (get(s).body as Overview).services.find((x) => x.service === 'cart');
    expect(cart?.mttr).toEqual({ resolved: 4, mean_seconds: 90, max_seconds: 270 });
    expect(s.mttrSince).toEqual([NOW - 7 * 86_400_000]);
  });

  test('points picks the newest windows; bad parameters are 400 with the parameter named', () => {
    const o = get(sources(), 'points=2').body as Overview;
    expect(o.services.find((x) => x.service === 'checkout')?.rate).toEqual([2, 3]);
    for (const q of ['points=0', 'points=abc', 'points=10001', 'limit=0', 'since=yesterday']) {
      const { status, body } = get(sources(), q);
      expect(status, q).toBe(400);
      expect(body, q).toMatchObject({ code: 'FRICTION_ERR_API_BAD_REQUEST', error: expect.stringContaining(q.split('=')[0]) });
    }
  });

  test('plots are folded once per window close, however often the page polls', () => {
    const { checkout, route, reads } = countingRoute();
    route(new URLSearchParams());
    const first = reads();
    expect(first).toBeGreaterThan(3);
    route(new URLSearchParams());
    route(new URLSearchParams());
    expect(reads() - first).toBe(2); // one probe of the newest window per poll
    checkout.history.push({ start: T0 + 3 * W, count: 4, errors: 0, sumMs: 4, minMs: 1, maxMs: 1, p50: 1, p90: 1, p99: 1, p999: 1 });
    const before = reads();
    const o = route(new URLSearchParams()).body as Overview;
    expect(o.services.find((x) => x.service === 'checkout')?.rate).toEqual([0.1, 0.2, 0.3, 0.4]);
    // Only the new window is folded: a probe, the new window, and the one before it (where the
    // newest-first read stops).
    expect(reads() - before).toBe(3);
  });

  test('any points value is sliced from the one fold: cycling it never refolds', () => {
    const { route, reads } = countingRoute();
    route(new URLSearchParams('points=1'));
    const first = reads();
    for (let p = 1; p <= 12; p++) {
      const o = route(new URLSearchParams(`points=${p}`)).body as Overview;
      expect(o.services.find((x) => x.service === 'checkout')?.rate).toEqual([0.1, 0.2, 0.3].slice(-p));
    }
    expect(reads() - first).toBe(12); // one probe of the newest window per request, no fold
  });

  test('new windows are appended; a service whose plot changes shape is refolded; a service without series leaves', () => {
    const internal = { ...series('worker', [10, 10]), kind: 'internal' };
    const cart = series('cart', [1, 1]);
    const live: RetainedSeries[] = [internal, cart];
    const route = overviewApi(sources({ spans: { window: W, series: () => live } }), () => NOW);
    const plot = (name: string) => (route(new URLSearchParams()).body as Overview).services.find((x) => x.service === name);
    expect(plot('worker')).toMatchObject({ spans: 'all', rate: [1, 1] });
    // Its first server spans arrive: requests are counted from entry spans, for every window.
    const server = series('worker', [2, 2, 2]);
    for (const s of [internal, cart]) s.history.push({ start: T0 + 2 * W, count: 10, errors: 0, sumMs: 10, minMs: 1, maxMs: 1, p50: 1, p90: 1, p99: 1, p999: 1 });
    live.push(server);
    expect(plot('worker')).toMatchObject({ spans: 'entry', rate: [0.2, 0.2, 0.2] });
    expect(plot('cart')?.rate).toEqual([0.1, 0.1, 1]);
    live.splice(live.indexOf(cart), 1);
    for (const s of [internal, server]) s.history.push({ start: T0 + 3 * W, count: 0, errors: 0, sumMs: 0, minMs: 0, maxMs: 0, p50: 0, p90: 0, p99: 0, p999: 0 });
    expect(plot('cart')).toBeUndefined();
    expect(plot('worker')?.rate).toEqual([0.2, 0.2, 0.2, 0]);
  });

  test('the resolved list and MTTR are read from the history at most once per 2 s, for every page', () => {
    const s = sources();
    let t = NOW;
    const route = overviewApi(s, () => t);
    route(new URLSearchParams());
    route(new URLSearchParams());
    t += 1999;
    route(new URLSearchParams());
    expect([s.queries.length, s.mttrSince.length]).toEqual([1, 1]);
    route(new URLSearchParams('since=1h'));
    expect(s.queries.length).toBe(2); // other parameters, another entry
    t += 1;
    route(new URLSearchParams());
    expect([s.queries.length, s.mttrSince.length]).toEqual([3, 2]);
  });

  test('without SLOs, spans or signals the answer is empty lists, not an error', () => {
    const o = get(sources({ spans: { window: W, series: () => [] }, slos: { status: () => [] }, live: { firing: () => [] }, archive: { query: () => ({ total: 0, signals: [] }) }, stats: { serviceMttr: () => [] }, services: {} })).body as Overview;
    expect(o.signals).toEqual({ firing: [], resolved: [] });
    expect(o.services).toEqual([]);
  });
});
