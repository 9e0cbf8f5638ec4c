/**
 * Publishes each transition to a NATS JetStream stream: subject `friction.signals.<service>` by
 * default, body the plain JSON of the transition, `Nats-Msg-Id` the idempotency key so JetStream
 * drops a redelivered transition within the stream's duplicate window. The connection is opened
 * lazily and kept; the client reconnects by itself, and every call is bounded by `timeout`.
 */
import { type JetStreamClient, type NatsConnection, ErrorCode, Events, NatsError, StorageType, connect, headers, nanos } from 'nats';
import type { SinkConfigOf } from '../config/index.js';
import { type Delivery, DeliveryError, type SignalSink, type SinkContext, rejected, toPlainJson, unavailable } from './sink.js';

/** How long JetStream remembers message ids (its default): a retried batch within it is deduplicated. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
// JetStream API `err_code`s (nats-server errors.json).
const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
const SUBJECTS_OVERLAP = 10065;

/** A service name as one subject token: `.`, whitespace, `*`, `>` (and control characters) become `_`. */
export function serviceToken(service: string): string {
  return service === '' ? '_' : service.replace(/[\s.*>\u0000-\u001f\u007f]/g, '_');
}

/** The subject a service's transitions are published to. */
export function natsSubject(template: string, service: string): string {
  return template.replaceAll('{service}', serviceToken(service));
}

/**
 * The subject filter of a created stream: a token holding `{service}` becomes `>` when it is the
 * last token (the documented form, `friction.signals.>`), `*` elsewhere (`>` is only valid last).
 * Without the placeholder the subject itself.
 */
export function streamSubject(template: string): string {
  const tokens = template.split('.');
  return tokens.map((t, i) => (t.includes('{service}') ? (i === tokens.length - 1 ? '>' : '*') : t)).join('.');
}

/** Delivers transitions to NATS JetStream. */
export class NatsSink implements SignalSink {
  readonly name: string;
  readonly maxBatch = 100;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connecting: Promise<NatsConnection> | undefined;
  private online = false;
  private streamReady = false;
  private closed = false;
  private readonly target: string;
  private readonly encoder = new TextEncoder();

  /** Keeps the config; nothing connects before {@link start} or the first {@link deliver}. */
  constructor(private readonly config: SinkConfigOf<'nats'>, private readonly context: SinkContext) {
    this.name = context.name;
    // Hosts only: server URLs may carry credentials.
    this.target = `nats ${config.servers.map((s) => new URL(s).host).join(',')}`;
  }

  /** Connects and checks (or creates) the stream; a failure is retried by the outbox. */
  async start(): Promise<void> {
    await this.ready(Date.now() + this.config.timeout);
  }

  /**
   * Publishes the batch in order, waiting for each ack: a pipelined batch that failed in the
   * middle could store 1, 2, 4 and, on retry, 3 after 4. A batch that fails part way is retried
   * whole by the outbox; the transitions already stored come back with the same `Nats-Msg-Id`
   * and JetStream drops them as duplicates, so a retry never stores one twice.
   */
  async deliver(batch: readonly Delivery[]): Promise<void> {
    const deadline = Date.now() + this.config.timeout;
    const js = await this.ready(deadline);
    for (const d of batch) await this.publish(js, d, deadline);
  }

  /** Drains the connection (bounded by `timeout`) and closes it; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const nc = this.nc;
    this.nc = undefined;
    if (nc === undefined || nc.isClosed()) return;
    await before(nc.drain(), Date.now() + this.config.timeout, 'drain').catch(() => nc.close());
  }

  private async ready(deadline: number): Promise<JetStreamClient> {
    if (this.closed) throw unavailable(`${this.target}: the sink is closed`);
    if (this.nc?.isClosed()) this.nc = undefined;
    if (this.nc === undefined) {
      this.connecting ??= this.open().finally(() => { this.connecting = undefined; });
      // On timeout the connect goes on and keeps its result for the next call.
      await before(this.connecting, deadline, `${this.target}: connect`).catch((err: unknown) => { throw classify(this.target, 'connect', err); });
    }
    const nc = this.nc;
    if (nc === undefined || this.js === undefined) throw unavailable(`${this.target}: not connected`);
    // Fail fast while the client reconnects, instead of buffering publishes until the deadline.
    if (!this.online) throw unavailable(`${this.target}: connection lost; the client is reconnecting`);
    if (this.config.create_stream && !this.streamReady) await this.ensureStream(nc, deadline);
    return this.js;
  }

  private async open(): Promise<NatsConnection> {
    const c = this.config;
    const nc = await connect({
      servers: c.servers,
      name: `otel-friction ${this.name}`,
      timeout: c.timeout,
      // Never give up: the outbox keeps transitions while the server is away; calls stay bounded.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      pingInterval: 20_000,
      ...(c.token !== '' ? { token: c.token } : {}),
      ...(c.user !== '' ? { user: c.user, pass: c.password } : {}),
    });
    this.nc = nc;
    this.js = nc.jetstream({ timeout: c.timeout });
    this.online = true;
    void this.watch(nc);
    return nc;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    // Only the current connection's events count: a closed one may report after its successor opened.
    for await (const s of nc.status()) {
      if (nc !== this.nc) break;
      if (s.type === Events.Disconnect) this.online = false;
      else if (s.type === Events.Reconnect) this.online = true;
    }
    if (nc === this.nc) this.online = false;
  }

  /** Creates the stream when it is missing; an existing stream is left as it is. */
  private async ensureStream(nc: NatsConnection, deadline: number): Promise<void> {
    const c = this.config;
    try {
      const jsm = await before(nc.jetstreamManager({ timeout: remaining(deadline) }), deadline, 'JetStream');
      const exists = await before(jsm.streams.info(c.stream), deadline, 'stream info').then(() => true, (err: unknown) => {
        if (apiCode(err) === STREAM_NOT_FOUND) return false;
        throw err;
      });
      if (!exists) {
        const subjects = [streamSubject(c.subject)];
        await before(jsm.streams.add({ name: c.stream, subjects, storage: StorageType.File, duplicate_window: nanos(DUPLICATE_WINDOW_MS) }), deadline, 'stream create')
          .then(() => this.context.logger.info({ sink: this.name, stream: c.stream, subjects }, 'created JetStream stream'), (err: unknown) => {
            // Another replica won the race: fine. Overlapping subjects: another stream captures them, publishes decide.
            if (apiCode(err) === STREAM_NAME_IN_USE) return;
            if (apiCode(err) !== SUBJECTS_OVERLAP) throw err;
            this.context.logger.warn({ sink: this.name, stream: c.stream, subjects, err: describe(err) }, 'JetStream stream not created: its subjects overlap another stream');
          });
      }
      this.streamReady = true;
    } catch (err) {
      // The stream is about the sink, not about one transition: keep the transitions and retry.
      throw unavailable(`${this.target}: cannot check or create stream ${c.stream}: ${describe(err)}`, { cause: err });
    }
  }

  private async publish(js: JetStreamClient, d: Delivery, deadline: number): Promise<void> {
    const subject = natsSubject(this.config.subject, d.signal.service);
    const h = headers();
    h.set('Content-Type', 'application/json');
    h.set('Friction-Transition', d.transition);
    h.set('Friction-Fingerprint', d.signal.fingerprint);
    h.set('Friction-Sequence', String(d.sequence));
    h.set('Friction-Kind', d.signal.kind);
    h.set('Friction-Severity', d.signal.severity);
    try {
      const body = this.encoder.encode(JSON.stringify(toPlainJson(d)));
      // A publish permission violation (an async -ERR) fails this request at once, as PERMISSIONS_VIOLATION.
      await before(js.publish(subject, body, { msgID: d.key, headers: h, timeout: remaining(deadline) }), deadline, `${this.target}: publish to "${subject}"`);
    } catch (err) {
      if (err instanceof NatsError && err.code === ErrorCode.NoResponders) throw await this.noResponders(subject, err, deadline);
      throw classify(this.target, `publish to "${subject}"`, err);
    }
  }

  /**
   * NATS answers 503 "no responders" both when JetStream is down or electing a leader and when
   * no stream captures the subject. Both are retryable: the second is a setup problem of the
   * whole sink (fixed by creating the stream, without touching any transition), so the
   * transitions wait in the outbox instead of all becoming dead letters. The message says which.
   */
  private async noResponders(subject: string, err: NatsError, deadline: number): Promise<DeliveryError> {
    this.streamReady = false; // the stream may have been deleted: check (and create) it again
    const why = await before((async () => {
      const jsm = await this.nc?.jetstreamManager({ timeout: remaining(deadline) });
      await jsm?.streams.find(subject);
      return 'JetStream did not answer';
    })(), deadline, 'diagnosis').catch((e: unknown) => (/no stream matches/.test(describe(e))
      ? `no JetStream stream captures "${subject}"${this.config.create_stream ? '' : ` (create_stream is false: create stream ${this.config.stream} or enable it)`}`
      : 'JetStream is not available'));
    return unavailable(`${this.target}: ${why}`, { cause: err });
  }
}

/**
 * Permanent only where retrying cannot help: bad credentials or a publish permission (like HTTP
 * 401/403 in the webhook sink), a message over the server's max_payload, and a 4xx JetStream
 * answer about the message (over the stream's max_msg_size, ...). Everything else (refused,
 * timeouts, disconnects, JetStream 5xx) is retryable.
 */
function classify(target: string, what: string, err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const message = `${target}: ${what}: ${describe(err)}`;
  const api = err instanceof NatsError ? err.api_error : undefined;
  if (api !== undefined) return api.code >= 500 ? unavailable(message, { cause: err }) : rejected(message, { cause: err });
  const code = err instanceof NatsError ? err.code : '';
  const permanent: string[] = [ErrorCode.AuthorizationViolation, ErrorCode.BadAuthentication, ErrorCode.BadCreds, ErrorCode.PermissionsViolation, ErrorCode.MaxPayloadExceeded];
  return permanent.includes(code) ? rejected(message, { cause: err }) : unavailable(message, { cause: err });
}

function describe(err: unknown): string {
  if (err instanceof NatsError) return err.api_error?.description ?? (err.code === ErrorCode.Timeout ? 'timed out' : err.message);
  return err instanceof Error ? err.message : String(err);
}

function apiCode(err: unknown): number | undefined {
  return err instanceof NatsError ? err.api_error?.err_code : undefined;
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}

/** `p`, or a retryable "timed out" at the deadline. */
async function before<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`${what} timed out`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
