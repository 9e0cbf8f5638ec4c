/**
 * The Alertmanager sink against a real Prometheus Alertmanager (Debian's package, installed
 * when missing), checked through Alertmanager's own API.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SinkConfigOf, parseConfig } from '../../src/config/index.js';
import type { FrictionSignal } from '../../src/signals/signal.js';
import { AlertmanagerSink, alertName } from '../../src/sinks/alertmanager-sink.js';
import { DeliveryError, type SinkContext } from '../../src/sinks/sink.js';
import { type ServerProcess, ensureDebianBinary, freePort, startServer } from '../support/debian.js';
import { sampleDelivery } from '../support/signals.js';

let am: ServerProcess;
let amUrl = '';
const firingNow: FrictionSignal[] = [];
const context: SinkContext = { name: 'alertmanager[0]', logger: pino({ level: 'silent' }), firing: () => firingNow, externalUrl: 'http://friction.example:13133' };

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
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);
afterAll(async () => am?.stop());

function sinkConfig(yaml: string): SinkConfigOf<'alertmanager'> {
  return parseConfig(`sinks:\n  - type: alertmanager\n${yaml.replace(/^/gm, '    ')}\n`, { source: 't.yaml', env: {} }).sinks[0] as SinkConfigOf<'alertmanager'>;
}

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

async function alerts(filter = ''): Promise<GettableAlert[]> {
  const res = await fetch(`${amUrl}/api/v2/alerts${filter}`);
  expect(res.status).toBe(200);
  return (await res.json()) as GettableAlert[];
}

describe('alertmanager sink', () => {
  test('a firing transition is an active alert with our labels and annotations; the resolved one ends it', async () => {
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${amUrl}"]\nlabels: { cluster: prod-eu }`), context);
    const fp = 'a1b2c3d4e5f60718';
    const firing = sampleDelivery(1, 'firing', { fingerprint: fp, kind: 'error_budget_burn', slo: 'checkout-availability', startsAt: new Date(Date.now() - 60_000).toISOString() });
    await sink.deliver([firing]);
    const [active] = await alerts(`?filter=fingerprint="${fp}"`);
    expect(active.status.state).not.toBe('resolved');
    expect(active.labels).toEqual({
      alertname: 'FrictionErrorBudgetBurn', service: 'checkout', operation: 'POST /cart', slo: 'checkout-availability', severity: 'critical', fingerprint: fp, cluster: 'prod-eu',
    });
    expect(active.annotations).toMatchObject({
      title: 'checkout: traffic dropped', summary: firing.signal.summary, priority: '80', owner: 'team-payments', outcomes: 'revenue',
      evidence: `http://friction.example:13133/api/v1/signals?status=all&fingerprint=${fp}`, exemplar_trace_ids: 'a'.repeat(32),
    });
    expect(Date.parse(active.startsAt)).toBe(Date.parse(firing.signal.startsAt));
    // endsAt four resend intervals (1m default) ahead, so the alert expires if we die.
    expect(Date.parse(active.endsAt) - Date.now()).toBeGreaterThan(3.5 * 60_000);
    expect(active.generatorURL).toBe(`http://friction.example:13133/?fingerprint=${fp}`);

    const endsAt = new Date(Date.now() - 1000).toISOString();
    await sink.deliver([sampleDelivery(2, 'resolved', { fingerprint: fp, kind: 'error_budget_burn', slo: 'checkout-availability', startsAt: firing.signal.startsAt, endsAt })]);
    // Alertmanager's v2 listing leaves out resolved alerts.
    expect(await alerts(`?filter=fingerprint="${fp}"`)).toEqual([]);
    await sink.close();
  });

  test('an HA pair with one member down still delivers; all members down is retryable', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const fp = 'b1b2c3d4e5f60718';
    const pair = new AlertmanagerSink(sinkConfig(`urls: ["${dead}", "${amUrl}"]`), context);
    await pair.deliver([sampleDelivery(1, 'firing', { fingerprint: fp })]);
    expect(await alerts(`?filter=fingerprint="${fp}"`)).toHaveLength(1);
    const none = new AlertmanagerSink(sinkConfig(`urls: ["${dead}"]\ntimeout: 2s`), context);
    const err = (await none.deliver([sampleDelivery(1)]).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/ECONNREFUSED/);
    await pair.close();
    await none.close();
  });

  test('Alertmanager refusing the alerts (HTTP 400) is permanent, 503 retryable', async () => {
    let status = 400;
    const fake = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end('{"message":"bad"}'));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["http://127.0.0.1:${(fake.address() as AddressInfo).port}"]`), context);
    try {
      expect(((await sink.deliver([sampleDelivery(1)]).catch((e: unknown) => e)) as DeliveryError).permanent).toBe(true);
      status = 503;
      expect(((await sink.deliver([sampleDelivery(1)]).catch((e: unknown) => e)) as DeliveryError).permanent).toBe(false);
    } finally {
      await sink.close();
      fake.close();
    }
  });

  test('firing signals are re-sent every resend_interval with a fresh endsAt', async () => {
    const fp = 'c1b2c3d4e5f60718';
    const signal = sampleDelivery(1, 'firing', { fingerprint: fp, kind: 'latency_regression' }).signal;
    const sink = new AlertmanagerSink(sinkConfig(`urls: ["${amUrl}"]\nresend_interval: 300ms`), context);
    firingNow.push(signal);
    try {
      await sink.start();
      // Never delivered as a transition here: the re-send alone makes the alert active...
      await expect.poll(async () => (await alerts(`?filter=fingerprint="${fp}"`)).length, { timeout: 5000 }).toBe(1);
      const first = Date.parse((await alerts(`?filter=fingerprint="${fp}"`))[0].endsAt);
      // ...and each re-send pushes its end further out (4 × 300 ms ahead).
      await expect.poll(async () => Date.parse((await alerts(`?filter=fingerprint="${fp}"`))[0].endsAt), { timeout: 5000 }).toBeGreaterThan(first);
      expect(first - Date.now()).toBeLessThan(1500);
    } finally {
      firingNow.length = 0;
      await sink.close();
    }
    expect(alertName('metric_anomaly')).toBe('FrictionMetricAnomaly');
  });

  test('config: urls are required and must be http(s); label names must be valid', () => {
    expect(() => parseConfig('sinks:\n  - type: alertmanager\n', { source: 't', env: {} })).toThrow(/sinks\[0\]\.urls: at least one Alertmanager URL is required/);
    expect(() => parseConfig('sinks:\n  - { type: alertmanager, urls: ["am:9093"] }\n', { source: 't', env: {} })).toThrow(/sinks\[0\]\.urls\[0\]/);
  });
});
