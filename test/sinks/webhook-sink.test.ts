import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import type { SinkConfigOf } from '../../src/config/index.js';
import { loadModuleSink } from '../../src/sinks/module-sink.js';
import { DeliveryError, type SinkContext } from '../../src/sinks/sink.js';
import { WebhookSink } from '../../src/sinks/webhook-sink.js';
import { freePort } from '../support/debian.js';
import { sampleDelivery } from '../support/signals.js';

const context: SinkContext = { name: 'webhook[0]', logger: pino({ level: 'silent' }), firing: () => [], externalUrl: 'http://127.0.0.1:13133' };

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver whose status the test sets. */
let server: http.Server;
let base = '';
let received: Received[] = [];
let answer: { status: number; headers?: Record<string, string> } = { status: 200 };
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(answer.status, answer.headers);
      res.end(answer.status >= 400 ? 'nope' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received = [];
  answer = { status: 200 };
});

/** A webhook config as `validate` would build it from YAML. */
function webhook(yaml: string): SinkConfigOf<'webhook'> {
  return parseConfig(`sinks:\n  - type: webhook\n${yaml.replace(/^/gm, '    ')}\n`, { source: 'test.yaml', env: {} }).sinks[0] as SinkConfigOf<'webhook'>;
}

describe('webhook sink', () => {
  test('plain: one POST per transition with the signal JSON and the idempotency key', async () => {
    const sink = new WebhookSink(webhook(`url: ${base}/hook\nheaders: { x-tenant: blue }`), context);
    await sink.deliver([sampleDelivery(1), sampleDelivery(2, 'resolved')]);
    expect(received).toHaveLength(2);
    const [first, second] = received.map((r) => ({ ...r, json: JSON.parse(r.body) as Record<string, unknown> }));
    expect(first.method).toBe('POST');
    expect(first.url).toBe('/hook');
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['x-tenant']).toBe('blue');
    expect(first.headers['idempotency-key']).toBe(sampleDelivery(1).key);
    expect(first.json).toMatchObject({ transition: 'firing', sequence: 1, key: sampleDelivery(1).key, service: 'checkout', kind: 'traffic_drop' });
    expect(second.json).toMatchObject({ transition: 'resolved', status: 'resolved', endsAt: '2026-11-25T00:10:00.000Z' });
    expect(first.headers['x-friction-signature']).toBeUndefined();
  });

  test('cloudevents: a structured-mode CloudEvents 1.0 event, signed with HMAC-SHA256 over the exact body', async () => {
    const sink = new WebhookSink(webhook(`url: ${base}/events\nformat: cloudevents\nsecret: s3cret\nsource: //friction/prod-eu`), context);
    const d = sampleDelivery(2, 'resolved');
    await sink.deliver([d]);
    const [r] = received;
    expect(r.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    const event = JSON.parse(r.body) as Record<string, unknown>;
    expect(event).toMatchObject({
      specversion: '1.0', id: d.key, source: '//friction/prod-eu', type: 'dev.otel-friction.signal.resolved', subject: 'checkout',
      time: '2026-11-25T00:10:00.000Z', datacontenttype: 'application/json', frictionkind: 'traffic_drop', frictionseverity: 'critical',
    });
    expect(event.data).toMatchObject({ transition: 'resolved', fingerprint: d.signal.fingerprint, key: d.key });
    // Required context attributes are non-empty strings (CloudEvents 1.0, section 3.1).
    for (const k of ['id', 'source', 'specversion', 'type']) expect(typeof event[k] === 'string' && (event[k] as string).length > 0).toBe(true);
    const expected = `sha256=${createHmac('sha256', 's3cret').update(r.body).digest('hex')}`;
    expect(r.headers['x-friction-signature']).toBe(expected);
    // A tampered body would not verify.
    expect(`sha256=${createHmac('sha256', 's3cret').update(`${r.body} `).digest('hex')}`).not.toBe(expected);
  });

  test.each([
    [500, false], [502, false], [503, false], [408, false], [429, false],
    [400, true], [401, true], [404, true], [422, true],
  ])('HTTP %i is %s permanent', async (status, permanent) => {
    answer = { status };
    const sink = new WebhookSink(webhook(`url: ${base}/hook`), context);
    const err = await sink.deliver([sampleDelivery(1)]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).permanent).toBe(permanent);
    expect((err as DeliveryError).code).toBe(permanent ? 'FRICTION_ERR_SINK_REJECTED' : 'FRICTION_ERR_SINK_UNAVAILABLE');
  });

  test('Retry-After is passed on; a dead port and a timeout are retryable', async () => {
    answer = { status: 503, headers: { 'retry-after': '7' } };
    const sink = new WebhookSink(webhook(`url: ${base}/hook`), context);
    const err = (await sink.deliver([sampleDelivery(1)]).catch((e: unknown) => e)) as DeliveryError;
    expect(err.retryAfterMs).toBe(7000);
    const dead = new WebhookSink(webhook(`url: http://127.0.0.1:${await freePort()}/hook`), context);
    const refused = (await dead.deliver([sampleDelivery(1)]).catch((e: unknown) => e)) as DeliveryError;
    expect(refused.permanent).toBe(false);
    expect(refused.message).toMatch(/ECONNREFUSED/);
    const hang = http.createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    try {
      const slow = new WebhookSink(webhook(`url: http://127.0.0.1:${(hang.address() as AddressInfo).port}/\ntimeout: 200ms`), context);
      const t0 = Date.now();
      const timedOut = (await slow.deliver([sampleDelivery(1)]).catch((e: unknown) => e)) as DeliveryError;
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(timedOut.permanent).toBe(false);
      expect(timedOut.message).toMatch(/timed out/);
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });

  test('bad webhook config fails validation with the path', () => {
    expect(() => parseConfig('sinks:\n  - type: webhook\n', { source: 't.yaml', env: {} })).toThrow(/sinks\[0\]\.url: a URL is required/);
    expect(() => parseConfig('sinks:\n  - type: webhook\n    url: ftp://x/y\n    format: xml\n', { source: 't.yaml', env: {} })).toThrow(/sinks\[0\]\.url: expected a http or https URL[\s\S]*sinks\[0\]\.format: expected one of plain, cloudevents/);
    expect(() => parseConfig('sinks:\n  - type: webhook\n    url: http://x/\n    subject: a.b\n', { source: 't.yaml', env: {} })).toThrow(/sinks\[0\]\.subject: unknown key/);
  });
});

describe('module sink', () => {
  const example = path.resolve('examples/sinks/chat-sink.mjs');

  test('the example module loads and posts chat messages, filtering by severity', async () => {
    const sink = await loadModuleSink({ type: 'module', name: 'chat', path: example, options: { webhook_url: `${base}/chat`, min_severity: 'critical' }, retry: { initial_interval: 1000, max_interval: 60_000, max_attempts: 100, max_age: 86_400_000 } }, { ...context, name: 'chat' });
    expect(sink.name).toBe('chat');
    expect(sink.maxBatch).toBe(20);
    await sink.deliver([sampleDelivery(1), sampleDelivery(1, 'firing', { severity: 'warning', id: 'w' })]);
    expect(received).toHaveLength(1);
    const { text } = JSON.parse(received[0].body) as { text: string };
    expect(text).toContain('checkout: traffic dropped');
    expect(text).toContain('http://127.0.0.1:13133/?fingerprint=ffffffffffffffff');
    expect(text.split('\n\n')).toHaveLength(1);
    answer = { status: 404 };
    await expect(sink.deliver([sampleDelivery(2, 'resolved')])).rejects.toMatchObject({ permanent: true });
    await sink.close();
  });

  test('a missing file, a module without createSink, or createSink throwing is FRICTION_ERR_SINK_MODULE', async () => {
    const cfg = (p: string, options: Record<string, unknown> = {}) => ({ type: 'module' as const, name: '', path: p, options, retry: { initial_interval: 1, max_interval: 1, max_attempts: 1, max_age: 1 } });
    await expect(loadModuleSink(cfg('/nonexistent/sink.mjs'), context)).rejects.toMatchObject({ code: 'FRICTION_ERR_SINK_MODULE', message: expect.stringContaining('cannot load') });
    await expect(loadModuleSink(cfg(path.resolve('package.json')), context)).rejects.toMatchObject({ code: 'FRICTION_ERR_SINK_MODULE' });
    await expect(loadModuleSink(cfg(example, { webhook_url: 'nope' }), context)).rejects.toMatchObject({ code: 'FRICTION_ERR_SINK_MODULE', message: expect.stringContaining('webhook_url') });
  });
});
