/**
 * The `nats` sink against a real nats-server with JetStream: what it stores is read back by
 * consuming the stream with an ordered pull consumer, as a downstream consumer would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection, StorageType, connect, nanos } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SinkConfigOf, parseConfig } from '../../src/config/index.js';
import { NatsSink, natsSubject, serviceToken, streamSubject } from '../../src/sinks/nats-sink.js';
import { type Delivery, DeliveryError, type SinkContext, toPlainJson } from '../../src/sinks/sink.js';
import { type ServerProcess, ensureDebianBinary, freePort, startServer, waitForPort } from '../support/debian.js';
import { sampleDelivery } from '../support/signals.js';

const context: SinkContext = { name: 'nats[0]', logger: pino({ level: 'silent' }), firing: () => [], externalUrl: 'http://127.0.0.1:13133' };

// From the schema (YAML → defaults), so the test follows fields added to the sink config.
const baseConfig = parseConfig('sinks:\n  - type: nats\n').sinks[0] as SinkConfigOf<'nats'>;

let bin: string;
let server: ServerProcess;
let admin: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;
const sinks: NatsSink[] = [];

function url(port: number): string {
  return `nats://127.0.0.1:${port}`;
}

/** A sink on the shared server (or `over.servers`), closed after the file. */
function sink(over: Partial<SinkConfigOf<'nats'>> = {}): NatsSink {
  const s = new NatsSink({ ...baseConfig, servers: [url(server.port)], timeout: 3000, ...over }, context);
  sinks.push(s);
  return s;
}

/** Everything stored under `subject`, oldest first, read with an ordered pull consumer. */
async function consume(stream: string, subject: string): Promise<JsMsg[]> {
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const expected = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  const out: JsMsg[] = [];
  if (expected === 0) return out;
  const consumer = await js.consumers.get(stream, { filterSubjects: subject });
  const msgs = await consumer.fetch({ max_messages: expected, expires: 5000 });
  for await (const m of msgs) out.push(m);
  return out;
}

const json = (m: JsMsg): unknown => JSON.parse(new TextDecoder().decode(m.data));

/** The rejection of `p` as a DeliveryError (fails the test if it resolves or throws something else). */
async function failure(p: Promise<unknown>): Promise<DeliveryError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

/** Retries `fn` until it resolves or the deadline passes (then its last error is thrown). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function natsArgs(port: number, storeDir: string): string[] {
  return ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  bin = ensureDebianBinary('nats-server', '/usr/sbin/nats-server');
  server = await startServer(bin, natsArgs, 'nats-server');
  admin = await connect({ servers: url(server.port) });
  jsm = await admin.jetstreamManager();
  js = admin.jetstream();
});

afterAll(async () => {
  for (const s of sinks) await s.close();
  await admin?.close();
  await server?.stop();
});

describe('subjects', () => {
  test('a service name becomes one valid token', () => {
    expect(serviceToken('checkout')).toBe('checkout');
    expect(serviceToken('web.front end*>\t')).toBe('web_front_end___');
    expect(serviceToken('')).toBe('_');
    expect(natsSubject('friction.signals.{service}', 'a.b')).toBe('friction.signals.a_b');
  });

  test('the stream captures every service', () => {
    expect(streamSubject('friction.signals.{service}')).toBe('friction.signals.>');
    expect(streamSubject('friction.{service}.signals')).toBe('friction.*.signals');
    expect(streamSubject('friction.all')).toBe('friction.all');
  });
});

describe('NatsSink against nats-server', () => {
  test('creates the stream and publishes the batch in order, with JSON and headers', async () => {
    const batch = [sampleDelivery(1, 'firing'), sampleDelivery(2, 'updated'), sampleDelivery(3, 'resolved')];
    const s = sink();
    await s.start();
    await s.deliver(batch);

    const info = await jsm.streams.info('FRICTION_SIGNALS');
    expect(info.config.subjects).toEqual(['friction.signals.>']);
    expect(info.config.storage).toBe(StorageType.File);
    expect(info.config.duplicate_window).toBe(nanos(120_000));

    const msgs = await consume('FRICTION_SIGNALS', 'friction.signals.checkout');
    expect(msgs.map((m) => m.subject)).toEqual(Array(3).fill('friction.signals.checkout'));
    expect(msgs.map(json)).toEqual(batch.map((d) => JSON.parse(JSON.stringify(toPlainJson(d)))));
    expect(msgs.map((m) => m.headers?.get('Nats-Msg-Id'))).toEqual(batch.map((d) => d.key));
    expect(msgs.map((m) => m.headers?.get('Friction-Transition'))).toEqual(['firing', 'updated', 'resolved']);
    expect(msgs.map((m) => m.headers?.get('Friction-Sequence'))).toEqual(['1', '2', '3']);
    expect(msgs[0].headers?.get('Friction-Fingerprint')).toBe(batch[0].signal.fingerprint);
    expect(msgs[0].headers?.get('Content-Type')).toBe('application/json');
  });

  test('a batch retried after a partial failure stores each key once, in order', async () => {
    const fp = { fingerprint: 'd'.repeat(16), service: 'dedupe' };
    const batch: Delivery[] = [1, 2, 3].map((n) => sampleDelivery(n, n === 1 ? 'firing' : 'updated', fp));
    const s = sink();
    await s.deliver(batch.slice(0, 2)); // the first attempt got two acks, then "failed"
    await s.deliver(batch); // the outbox retries the whole batch
    await s.deliver(batch); // and once more
    const msgs = await consume('FRICTION_SIGNALS', 'friction.signals.dedupe');
    expect(msgs.map((m) => m.headers?.get('Nats-Msg-Id'))).toEqual(batch.map((d) => d.key));
  });

  test('a service name with dots and spaces is published under one sanitised token', async () => {
    const d = sampleDelivery(1, 'firing', { service: 'shop.eu west', fingerprint: 'e'.repeat(16) });
    await sink().deliver([d]);
    const msgs = await consume('FRICTION_SIGNALS', 'friction.signals.shop_eu_west');
    expect(msgs).toHaveLength(1);
    expect((json(msgs[0]) as { service: string }).service).toBe('shop.eu west');
  });

  test('an existing stream is used as it is', async () => {
    await jsm.streams.add({ name: 'EXISTING', subjects: ['existing.>'], storage: StorageType.Memory, duplicate_window: nanos(10_000) });
    await sink({ stream: 'EXISTING', subject: 'existing.{service}' }).deliver([sampleDelivery(1)]);
    const info = await jsm.streams.info('EXISTING');
    expect(info.config.storage).toBe(StorageType.Memory);
    expect(info.config.duplicate_window).toBe(nanos(10_000));
    expect(await consume('EXISTING', 'existing.checkout')).toHaveLength(1);
  });

  test('without create_stream and no stream: retryable, and delivered once the stream exists', async () => {
    const s = sink({ stream: 'LATER', subject: 'later.{service}', create_stream: false });
    const err = await failure(s.deliver([sampleDelivery(1)]));
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/no JetStream stream captures "later\.checkout" \(create_stream is false/);
    await expect(jsm.streams.info('LATER')).rejects.toThrow(/stream not found/);

    await jsm.streams.add({ name: 'LATER', subjects: ['later.>'] });
    await s.deliver([sampleDelivery(1)]);
    expect(await consume('LATER', 'later.checkout')).toHaveLength(1);
  });

  test("a message over the stream's max_msg_size is refused for good", async () => {
    await jsm.streams.add({ name: 'TINY', subjects: ['tiny.>'], max_msg_size: 256 });
    const err = await failure(sink({ stream: 'TINY', subject: 'tiny.{service}' }).deliver([sampleDelivery(1)]));
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(/message size exceeds maximum/);
  });

  test('close is idempotent and a closed sink refuses to deliver (retryably)', async () => {
    const s = sink();
    await s.deliver([sampleDelivery(1)]);
    await s.close();
    await s.close();
    expect((await failure(s.deliver([sampleDelivery(2)]))).permanent).toBe(false);
  });
});

describe('NatsSink when the server is away', () => {
  test('connection refused is retryable and quick', async () => {
    const s = sink({ servers: [url(await freePort())], timeout: 1000 });
    const started = Date.now();
    const err = await failure(s.deliver([sampleDelivery(1)]));
    expect(err.permanent).toBe(false);
    expect(Date.now() - started).toBeLessThan(1500);
    await expect(s.start()).rejects.toMatchObject({ permanent: false });
  });

  test('a server that accepts but never answers: the deliver gives up at the timeout', async () => {
    const sockets: net.Socket[] = [];
    const mute = net.createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const s = sink({ servers: [url((mute.address() as net.AddressInfo).port)], timeout: 800 });
      const started = Date.now();
      const err = await failure(s.deliver([sampleDelivery(1)]));
      const took = Date.now() - started;
      expect(err.permanent).toBe(false);
      expect(took).toBeGreaterThanOrEqual(700);
      expect(took).toBeLessThan(800 + 700);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => mute.close(r));
    }
  });

  test('a server that stops fails retryably within the timeout; after it restarts the sink delivers again', async () => {
    // Stopped and restarted by hand on the same port and store dir (startServer's stop removes the dir).
    const first = await startServer(bin, natsArgs, 'nats-restart');
    let again: ChildProcess | undefined;
    try {
      const s = sink({ servers: [url(first.port)], timeout: 1500 });
      const d = (n: number) => sampleDelivery(n, n === 1 ? 'firing' : 'updated', { service: 'restart' });
      await s.deliver([d(1)]);

      await kill(first.child);
      const started = Date.now();
      const err = await failure(s.deliver([d(2)]));
      expect(err.permanent).toBe(false);
      expect(Date.now() - started).toBeLessThan(1500 + 700);
      // Once the client knows the connection is gone it fails at once instead of buffering until the timeout.
      const fast = Date.now();
      expect((await failure(s.deliver([d(2)]))).message).toMatch(/connection lost; the client is reconnecting/);
      expect(Date.now() - fast).toBeLessThan(300);

      again = spawn(bin, natsArgs(first.port, first.dir), { stdio: 'ignore' });
      await waitForPort(first.port);
      await eventually(() => s.deliver([d(2), d(3)]));

      const nc = await connect({ servers: url(first.port) });
      try {
        const c = await nc.jetstream().consumers.get('FRICTION_SIGNALS', { filterSubjects: 'friction.signals.restart' });
        const keys: string[] = [];
        for await (const m of await c.fetch({ max_messages: 3, expires: 5000 })) keys.push(m.headers?.get('Nats-Msg-Id') ?? '');
        // The first message survived the restart (file storage), the others came after it, once each.
        expect(keys).toEqual([d(1).key, d(2).key, d(3).key]);
      } finally {
        await nc.close();
      }
    } finally {
      if (again) await kill(again);
      await first.stop();
    }
  });
});

describe('NatsSink with authentication and permissions', () => {
  let secured: ServerProcess;

  beforeAll(async () => {
    secured = await startServer(bin, (port, dir) => {
      const file = join(dir, 'nats.conf');
      writeFileSync(file, `
listen: "127.0.0.1:${port}"
jetstream { store_dir: "${join(dir, 'js')}" }
authorization {
  users: [
    { user: "sink", password: "s3cret", permissions: {
      publish: { allow: ["friction.signals.>", "$JS.API.>"], deny: ["friction.signals.forbidden"] },
      subscribe: { allow: ["_INBOX.>"] } } }
  ]
}
`);
      return ['-c', file];
    }, 'nats-auth');
  });

  afterAll(async () => {
    await secured?.stop();
  });

  test('with the right credentials it delivers', async () => {
    await sink({ servers: [url(secured.port)], user: 'sink', password: 's3cret' }).deliver([sampleDelivery(1)]);
  });

  test('bad credentials are permanent', async () => {
    const err = await failure(sink({ servers: [url(secured.port)], user: 'sink', password: 'wrong' }).deliver([sampleDelivery(1)]));
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(/authorization violation/i);
  });

  test('a subject the user may not publish to is permanent, and does not wait for the timeout', async () => {
    const s = sink({ servers: [url(secured.port)], user: 'sink', password: 's3cret', timeout: 5000 });
    const started = Date.now();
    const err = await failure(s.deliver([sampleDelivery(1, 'firing', { service: 'forbidden' })]));
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(/Permissions Violation for Publish to "friction\.signals\.forbidden"/);
    expect(Date.now() - started).toBeLessThan(4000);
    // The connection stays usable for the services that are allowed.
    await s.deliver([sampleDelivery(1)]);
  });
});
