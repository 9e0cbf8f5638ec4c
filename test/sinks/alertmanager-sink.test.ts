/**
 * The Alertmanager sink against a real Prometheus Alertmanager (Debian's package, installed
 * when missing), checked through Alertmanager's own API; failure modes and re-send timing
 * against small local HTTP servers that answer what the test wants.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SinkConfigOf, parseConfig } from '../../src/config/index.js';
import type { FrictionSignal } from '../../src/signals/signal.js';
import { AlertmanagerSink, type PostableAlert, alertName } from '../../src/sinks/alertmanager-sink.js';
import { DeliveryError, type SinkContext } from '../../src/sinks/sink.js';
import { type ServerProcess, ensureDebianBinary, freePort, startServer } from '../support/debian.js';
import { sampleDelivery, sampleSignal } from '../support/signals.js';

let am: ServerProcess;
let amUrl = '';
const firingNow: FrictionSignal[] = [];
const EXTERNAL = 'http://friction.example:13133';
const context: SinkContext = { name: 'alertmanager[0]', logger: pino({ level: 'silent' }), firing: () => firingNow, externalUrl: EXTERNAL };

beforeAll(async () => {
  const binary = ensureDebianBinary('prometheus-alertmanager', '/usr/bin/prometheus-alertmanager');
  am = await startServer(binary, (port, dir) => {
    const config = path.join(dir, 'alertmanager.yml');
    writeFileSync(config, "route: { receiver: 'null', group_wait: 1s }\nreceivers: [{ name: 'null' }]\n");
    return [`--config.file=${config}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='];
  }, 'alertmanager');
  amUrl = `http://127.0.0.1:${am.port}`;
  // The port opens a moment before the API answers.
  const until = Date.now() + 15_000;
  while ((await fetch(`${amUrl}/-/ready`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > until) throw new Error(`alertmanager not ready:\n${am.output()}`);
    await sleep(100);
  }
}, 120_000);
afterAll(async () => am?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sinkConfig(yaml: string): SinkConfigOf<'alertmanager'> {
  return parseConfig(`sinks:\n  - type: alertmanager\n${yaml.replace(/^/gm, '    ')}\n`, { source: 't.yaml', env: {} }).sinks[0] as SinkConfigOf<'alertmanager'>;
}

interface GettableAlert extends PostableAlert {
  status: { state: string };
}

/** Alerts Alertmanager lists for one of our fingerprints. */
async function listed(fp: string): Promise<GettableAlert[]> {
  const res = await fetch(`${amUrl}/api/v2/alerts?filter=${encodeURIComponent(`fingerprint="${fp}"`)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as GettableAlert[];
}

/** A stand-in Alertmanager that records posts and answers `status`; `hold` delays answers. */
interface FakeAm {
  url: string;
  status: number;
  hold: Promise<void> | undefined;
  posts: { headers: http.IncomingHttpHeaders; alerts: PostableAlert[] }[];
  close(): Promise<void>;
}

async function fakeAm(status = 200): Promise<FakeAm> {
  const fake: FakeAm = { url: '', status, hold: undefined, posts: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fake.posts.push({ headers: req.headers, alerts: JSON.parse(Buffer.concat(chunks).toString()) as PostableAlert[] });
      const answer = fake.status;
      void (fake.hold ?? Promise.resolve()).then(() => {
        res.writeHead(answer, answer === 503 ? { 'retry-after': '7' } : {}).end(answer === 200 ? '' : '"start time must be before end time"');
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
  return fake;
}

async function failure(p: Promise<void>): Promise<DeliveryError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

describe('alertmanager sink against Alertmanager', () => {
  test('a firing transition is an active alert with our labels and annotations; the resolved one ends it', async () => {
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${amUrl}/"]\nlabels: { cluster: prod-eu }`), context);
    const fp = 'a1b2c3d4e5f60718';
    const over = { fingerprint: fp, kind: 'error_budget_burn', slo: 'checkout-availability', outcomes: ['revenue', 'signups'], startsAt: new Date(Date.now() - 60_000).toISOString() } as const;
    const firing = sampleDelivery(1, 'firing', { ...over, outcomes: [...over.outcomes] });
    await sink.deliver([firing]);
    const [active, ...more] = await listed(fp);
    expect(more).toEqual([]);
    expect(active.status.state).toBe('active');
    // metric is empty in the sample, so it is no label at all.
    expect(active.labels).toEqual({
      alertname: 'FrictionErrorBudgetBurn', service: 'checkout', operation: 'POST /cart', slo: 'checkout-availability', severity: 'critical', fingerprint: fp, cluster: 'prod-eu',
    });
    expect(active.annotations).toEqual({
      title: 'checkout: traffic dropped', summary: firing.signal.summary, priority: '80', owner: 'team-payments', outcomes: 'revenue, signups',
      evidence: `${EXTERNAL}/api/v1/signals?fingerprint=${fp}&status=all`, exemplar_trace_ids: 'a'.repeat(32),
    });
    expect(Date.parse(active.startsAt)).toBe(Date.parse(firing.signal.startsAt));
    // Four resend intervals (1m by default) ahead, so the alert expires if we die.
    expect(Date.parse(active.endsAt) - Date.now()).toBeGreaterThan(4 * 60_000 - 5000);
    expect(Date.parse(active.endsAt) - Date.now()).toBeLessThanOrEqual(4 * 60_000);
    expect(active.generatorURL).toBe(`${EXTERNAL}/?fingerprint=${fp}`);

    const endsAt = new Date(Date.now() - 1000).toISOString();
    await sink.deliver([sampleDelivery(2, 'resolved', { ...over, outcomes: [...over.outcomes], endsAt })]);
    // Alertmanager lists no resolved alerts at all (not even with active=false): it is gone.
    expect(await listed(fp)).toEqual([]);
    await sink.close();
  });

  test('a severity change ends the alert of the old severity instead of leaving two firing', async () => {
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${amUrl}"]`), context);
    const fp = 'd1b2c3d4e5f60718';
    const startsAt = new Date(Date.now() - 120_000).toISOString();
    await sink.deliver([sampleDelivery(1, 'firing', { fingerprint: fp, startsAt, severity: 'critical' })]);
    expect((await listed(fp)).map((a) => a.labels.severity)).toEqual(['critical']);
    await sink.deliver([sampleDelivery(2, 'updated', { fingerprint: fp, startsAt, severity: 'warning', updatedAt: new Date(Date.now() - 1000).toISOString() })]);
    expect((await listed(fp)).map((a) => a.labels.severity)).toEqual(['warning']);
    await sink.deliver([sampleDelivery(3, 'resolved', { fingerprint: fp, startsAt, severity: 'warning', endsAt: new Date(Date.now() - 500).toISOString() })]);
    expect(await listed(fp)).toEqual([]);
    await sink.close();
  });

  test('an HA pair with one member down still delivers; all members down is retryable', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const fp = 'b1b2c3d4e5f60718';
    const pair = new AlertmanagerSink(sinkConfig(`urls: ["${dead}", "${amUrl}"]`), context);
    await pair.deliver([sampleDelivery(1, 'firing', { fingerprint: fp })]);
    expect(await listed(fp)).toHaveLength(1);
    const none = new AlertmanagerSink(sinkConfig(`urls: ["${dead}", "http://127.0.0.1:${await freePort()}"]\ntimeout: 2s`), context);
    const err = await failure(none.deliver([sampleDelivery(1)]));
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/ECONNREFUSED.*ECONNREFUSED/);
    await pair.close();
    await none.close();
  });

  test('firing signals re-sent alone keep the alert active and push its end out', async () => {
    const fp = 'c1b2c3d4e5f60718';
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${amUrl}"]\nresend_interval: 300ms`), context);
    firingNow.push(sampleSignal({ fingerprint: fp, kind: 'latency_regression' }));
    try {
      await sink.start();
      // Never delivered as a transition: the re-send alone makes the alert active...
      await expect.poll(async () => (await listed(fp)).length, { timeout: 5000 }).toBe(1);
      const [first] = await listed(fp);
      expect(first.labels.alertname).toBe('FrictionLatencyRegression');
      expect(Date.parse(first.endsAt) - Date.now()).toBeLessThan(1200);
      // ...and each re-send moves its end further out (4 × 300 ms ahead).
      await expect.poll(async () => Date.parse((await listed(fp))[0].endsAt), { timeout: 5000 }).toBeGreaterThan(Date.parse(first.endsAt));
    } finally {
      firingNow.length = 0;
      await sink.close();
    }
  });
});

describe('alertmanager sink against a stand-in', () => {
  test('refusals (400) from every member are permanent; 503 or a mix is retryable with Retry-After', async () => {
    const a = await fakeAm(400);
    const b = await fakeAm(400);
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${a.url}", "${b.url}"]\nheaders: { authorization: "Bearer s3cret" }`), context);
    try {
      const refused = await failure(sink.deliver([sampleDelivery(1)]));
      expect(refused.permanent).toBe(true);
      expect(refused.message).toContain('start time must be before end time');
      b.status = 503;
      const mixed = await failure(sink.deliver([sampleDelivery(1)]));
      expect(mixed.permanent).toBe(false);
      expect(mixed.retryAfterMs).toBe(7000);
      a.status = 200;
      await sink.deliver([sampleDelivery(1)]);
      const { headers, alerts } = a.posts[2];
      expect(headers['content-type']).toBe('application/json');
      expect(headers.authorization).toBe('Bearer s3cret');
      expect(alerts).toHaveLength(1);
      expect(alerts[0].labels).toMatchObject({ alertname: 'FrictionTrafficDrop', fingerprint: 'f'.repeat(16) });
    } finally {
      await sink.close();
      await a.close();
      await b.close();
    }
  });

  test('firing() is re-sent every interval once started, never while nothing fires, and not after close', async () => {
    const fake = await fakeAm();
    const firing: FrictionSignal[] = [];
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${fake.url}"]\nresend_interval: 100ms`), { ...context, firing: () => firing });
    try {
      await sink.start();
      await sleep(350);
      expect(fake.posts).toEqual([]);
      firing.push(sampleSignal({ fingerprint: 'e'.repeat(16) }));
      await expect.poll(() => fake.posts.length, { timeout: 3000 }).toBeGreaterThanOrEqual(2);
      const [alert] = fake.posts[1].alerts;
      expect(alert.labels.fingerprint).toBe('e'.repeat(16));
      const ahead = Date.parse(alert.endsAt) - Date.now();
      expect(ahead).toBeGreaterThan(0);
      expect(ahead).toBeLessThanOrEqual(400);
    } finally {
      await sink.close();
    }
    await sink.close();
    const sent = fake.posts.length;
    await sleep(350);
    expect(fake.posts.length).toBe(sent);
    expect((await failure(sink.deliver([sampleDelivery(1)]))).permanent).toBe(false);
    await fake.close();
  });

  test('a signal resolved during a re-send is not re-fired after its resolve went out', async () => {
    const fake = await fakeAm();
    // More than one re-send chunk (maxBatch), the last signal in the second.
    const firing = Array.from({ length: 65 }, (_, i) => sampleSignal({ fingerprint: i.toString(16).padStart(16, '0') }));
    const last = firing[64];
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${fake.url}"]\nresend_interval: 300ms`), { ...context, firing: () => [...firing] });
    let release = () => undefined as void;
    fake.hold = new Promise<void>((r) => { release = r; });
    try {
      await sink.start();
      await expect.poll(() => fake.posts.length).toBe(1);
      fake.hold = undefined;
      firing.pop();
      const resolving = sink.deliver([sampleDelivery(2, 'resolved', { ...last, endsAt: new Date().toISOString() })]);
      await sleep(50);
      release();
      await resolving;
      // Wait for the next re-send round, so the interrupted one is surely over.
      await expect.poll(() => fake.posts.filter((p) => p.alerts.some((a) => a.labels.fingerprint === firing[0].fingerprint)).length, { timeout: 3000 }).toBeGreaterThanOrEqual(2);
      const mentions = fake.posts.flatMap((p) => p.alerts).filter((a) => a.labels.fingerprint === last.fingerprint);
      expect(mentions.length).toBeGreaterThan(0);
      expect(Date.parse(mentions.at(-1)?.endsAt ?? '')).toBeLessThanOrEqual(Date.now());
    } finally {
      release();
      await sink.close();
      await fake.close();
    }
  });

  test('a failing re-send is logged once per outage and never throws; the first deliver starts re-sending', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { level: number; msg: string }); } });
    const fake = await fakeAm();
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${fake.url}"]\nresend_interval: 50ms`), { ...context, logger, firing: () => [sampleSignal()] });
    try {
      await sink.deliver([sampleDelivery(1)]);
      fake.status = 503;
      await expect.poll(() => fake.posts.length, { timeout: 3000 }).toBeGreaterThanOrEqual(5);
      expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
      fake.status = 200;
      await expect.poll(() => lines.some((l) => l.level === 30 && /again/.test(l.msg)), { timeout: 3000 }).toBe(true);
      expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    } finally {
      await sink.close();
      await fake.close();
    }
  });

  test('alert names and config checks', () => {
    expect(alertName('metric_anomaly')).toBe('FrictionMetricAnomaly');
    expect(alertName('error_budget_burn')).toBe('FrictionErrorBudgetBurn');
    expect(() => parseConfig('sinks:\n  - type: alertmanager\n', { source: 't', env: {} })).toThrow(/sinks\[0\]\.urls/);
    expect(() => parseConfig('sinks:\n  - { type: alertmanager, urls: ["am:9093"] }\n', { source: 't', env: {} })).toThrow(/sinks\[0\]\.urls\[0\]/);
  });
});
