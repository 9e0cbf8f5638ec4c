import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AdminServer } from '../../src/admin/admin-server.js';
import { deliveriesApi, retryDeliveriesAction } from '../../src/admin/deliveries-api.js';
import { HealthState } from '../../src/admin/health.js';
import { signalsApi } from '../../src/admin/signals-api.js';
import { statsApi } from '../../src/admin/stats-api.js';
import { ManualClock } from '../../src/aggregate/clock.js';
import type { FrictionSignal, SignalTransition } from '../../src/signals/signal.js';
import { openStateDatabase } from '../../src/state/database.js';
import { Outbox } from '../../src/state/outbox.js';
import { SignalHistory } from '../../src/state/signal-history.js';
import { SelfMetrics } from '../../src/telemetry/metrics.js';
import { sampleSignal } from '../support/signals.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-admin-'));
const db = openStateDatabase(dir);
const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));
const history = new SignalHistory(db, 30 * 86_400_000);
const outbox = new Outbox(db, history, { sinks: ['hook', 'am'], maxBytes: 1 << 20, maxDeadLetters: 100, clock, logger: pino({ level: 'silent' }) });
const live: FrictionSignal[] = [];
const TOKEN = 'adm1n-t0ken';
let admin: AdminServer;
let base = '';

function step(id: string, service: string, seq: number, startsAt: string, endsAt: string | null): SignalTransition {
  return {
    transition: endsAt ? 'resolved' : 'firing', sequence: seq,
    signal: sampleSignal({ id, fingerprint: `fp-${id}`, service, status: endsAt ? 'resolved' : 'firing', startsAt, updatedAt: endsAt ?? startsAt, endsAt }),
  };
}

beforeAll(async () => {
  outbox.append([step('a', 'checkout', 1, '2026-11-25T10:00:00Z', null), step('b', 'cart', 1, '2026-11-25T11:00:00Z', null)]);
  outbox.append([step('a', 'checkout', 2, '2026-11-25T10:00:00Z', '2026-11-25T10:05:00Z')]);
  live.push(step('b', 'cart', 1, '2026-11-25T11:00:00Z', null).signal);
  const [first] = outbox.pending('hook', 1);
  outbox.dead('hook', [first.outboxId], 'rejected', 'HTTP 400: bad');
  admin = new AdminServer({
    endpoint: { host: '127.0.0.1', port: 0 }, health: new HealthState(), metrics: new SelfMetrics(), logger: pino({ level: 'silent' }), token: TOKEN,
    routes: {
      '/api/v1/signals': signalsApi({ firing: () => live }, history, () => clock.now()),
      '/api/v1/stats': statsApi(history, () => clock.now()),
      '/api/v1/deliveries': deliveriesApi(outbox, ['hook', 'am']),
    },
    actions: { '/api/v1/deliveries/retry': retryDeliveriesAction(outbox, ['hook', 'am']) },
  });
  await admin.start();
  base = `http://127.0.0.1:${admin.address?.port}`;
});
afterAll(async () => {
  await admin.shutdown(Date.now() + 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (p: string) => {
  const res = await fetch(base + p);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const post = async (p: string, body: string, token?: string) => {
  const res = await fetch(base + p, { method: 'POST', body, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
};

describe('admin API: signals, stats, deliveries', () => {
  test('signals: live firing first, then the history; filters and since', async () => {
    const all = await get('/api/v1/signals?status=all');
    expect(all.status).toBe(200);
    expect((all.body.signals as FrictionSignal[]).map((s) => [s.id, s.status])).toEqual([['b', 'firing'], ['a', 'resolved']]);
    expect(all.body.total).toBe(2);
    expect(((await get('/api/v1/signals?status=resolved&service=checkout')).body.signals as FrictionSignal[]).map((s) => s.id)).toEqual(['a']);
    expect(((await get('/api/v1/signals?status=resolved&since=1h')).body.signals as FrictionSignal[])).toEqual([]);
    expect(((await get('/api/v1/signals?status=resolved&since=2026-11-25T10:04:00Z')).body.signals as FrictionSignal[])).toHaveLength(1);
    expect(((await get('/api/v1/signals?status=all&fingerprint=fp-b')).body.signals as FrictionSignal[]).map((s) => s.id)).toEqual(['b']);
    const bad = await get('/api/v1/signals?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'FRICTION_ERR_API_BAD_REQUEST', error: expect.stringContaining('since:') });
  });

  test('stats: firing counts and time to resolve per service and kind', async () => {
    const { status, body } = await get('/api/v1/stats?since=7d');
    expect(status).toBe(200);
    expect(body.services).toEqual([
      { service: 'cart', kind: 'traffic_drop', firing: 1, resolved: 0, mttr_seconds: null, p50_seconds: null, max_seconds: null },
      { service: 'checkout', kind: 'traffic_drop', firing: 0, resolved: 1, mttr_seconds: 300, p50_seconds: 300, max_seconds: 300 },
    ]);
  });

  test('deliveries: dead and pending rows per sink; bad parameters are 400', async () => {
    const dead = await get('/api/v1/deliveries?state=dead');
    expect(dead.body).toMatchObject({ state: 'dead', total: 1 });
    expect((dead.body.deliveries as Record<string, unknown>[])[0]).toMatchObject({ sink: 'hook', dead_reason: 'rejected', last_error: 'HTTP 400: bad', transition: 'firing', retryable: true });
    expect((await get('/api/v1/deliveries?state=pending&sink=am')).body.total).toBe(3);
    expect((await get('/api/v1/deliveries?sink=nope')).status).toBe(400);
    expect((await get('/api/v1/deliveries?state=lost')).status).toBe(400);
  });

  test('retry needs the admin token, checks its body, and puts dead letters back in line', async () => {
    const anonymous = await post('/api/v1/deliveries/retry', '{}');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anonymous.body.code).toBe('FRICTION_ERR_API_UNAUTHORIZED');
    expect((await post('/api/v1/deliveries/retry', '{}', 'wrong-token')).status).toBe(401);
    expect((await post('/api/v1/deliveries/retry', '{not json', TOKEN)).status).toBe(400);
    expect((await post('/api/v1/deliveries/retry', '{"sink":"nope"}', TOKEN)).status).toBe(400);
    expect((await post('/api/v1/deliveries/retry', '{"ids":["x"]}', TOKEN)).status).toBe(400);
    expect((await post('/api/v1/deliveries/retry', '{"sinks":"hook"}', TOKEN)).body.error).toMatch(/unknown field/);
    const ok = await post('/api/v1/deliveries/retry', '{"sink":"hook"}', TOKEN);
    expect(ok).toMatchObject({ status: 200, body: { retried: 1, unrecoverable: 0, superseded: 0 } });
    expect((await get('/api/v1/deliveries?state=dead')).body.total).toBe(0);
    expect((await get('/api/v1/deliveries?state=pending&sink=hook')).body.total).toBe(3);
  });

  test('methods: GET on an action and POST on a route are 405', async () => {
    expect((await fetch(`${base}/api/v1/deliveries/retry`)).status).toBe(405);
    expect((await fetch(`${base}/api/v1/signals`, { method: 'POST' })).status).toBe(405);
  });
});

test('without admin.token, mutations are taken from loopback peers only', async () => {
  const { isLoopback } = await import('../../src/admin/admin-server.js');
  expect(['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true, true]);
  expect(['10.0.0.7', '::ffff:10.0.0.7', '2001:db8::1', undefined].map(isLoopback)).toEqual([false, false, false, false]);
});
