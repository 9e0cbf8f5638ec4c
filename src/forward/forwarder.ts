/**
 * Transparent forwarding: every accepted request is relayed upstream as the bytes it arrived
 * with (never re-encoded), per signal type, through one bounded queue. A gzip request bound for
 * a gzip upstream keeps the client's compressed bytes (no second compression, a smaller queue);
 * otherwise the decompressed body is sent with the target's `compression`.
 *
 * - Bounded in bytes (`forward.queue.max_mb`, all signals together). At the bound the receivers
 *   refuse new requests with the retryable OTLP answer (`when_full: backpressure`, so the
 *   application's exporter retries and nothing is lost) or accept them and drop the forward copy,
 *   counted (`when_full: drop`). The overshoot past the bound is at most what is in flight in
 *   the receivers, which the in-flight budget bounds.
 * - Retries follow the OTLP rules: exponential backoff with jitter, Retry-After / RetryInfo
 *   honoured, a request older than `max_elapsed_time` is dropped and counted, a permanent refusal
 *   is dropped and counted (logged once per cause).
 * - `spill: true` also writes each queued request to the state database (WAL, without an fsync
 *   per request: it survives the process dying, like the queue of a Collector's file storage) and
 *   deletes it once forwarded; at start, spilled requests are sent first.
 */
import type { Logger } from 'pino';
import type { Clock } from '../aggregate/clock.js';
import type { ForwardConfig, ForwardTargetConfig } from '../config/index.js';
import type { Component } from '../lifecycle/component.js';
import type { OtlpEncoding } from '../otlp/decoder.js';
import type { WireBody } from '../receiver/export-handler.js';
import type { Signal } from '../receiver/signals.js';
import type { StateDatabase } from '../state/database.js';
import { GrpcUpstream } from './grpc-upstream.js';
import { type ForwardRequest, HttpUpstream, type Upstream, UpstreamError } from './upstream.js';
import { BufferPool } from '../receiver/buffer-pool.js';

/** Builds the upstream a target describes (reads its TLS files now, so a bad path fails at start). */
function createUpstream(signal: Signal, config: ForwardTargetConfig): Upstream {
  return config.protocol === 'grpc' ? new GrpcUpstream(signal, config) : new HttpUpstream(signal, config);
}

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];
// Requests in flight per signal: one HTTP/2 connection carries them concurrently.
const CONCURRENCY = 4;

interface Entry extends ForwardRequest {
  id: number;
  receivedAt: number;
  attempts: number;
}

/** Why a request was not forwarded. */
export type ForwardDropReason = 'queue_full' | 'rejected' | 'expired' | 'json_over_grpc' | 'shutdown';

/** Running totals for /metrics. */
export interface ForwardStats {
  forwarded: Record<Signal, number>;
  dropped: Record<ForwardDropReason, number>;
  retries: number;
  refused: number;
}

/** Headers as the receivers see them (node's lower-cased map). */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Relays accepted requests upstream. */
export class Forwarder implements Component {
  readonly name = 'forwarder';
  readonly stats: ForwardStats = {
    forwarded: { traces: 0, metrics: 0, logs: 0 },
    dropped: { queue_full: 0, rejected: 0, expired: 0, json_over_grpc: 0, shutdown: 0 },
    retries: 0,
    refused: 0,
  };
  private readonly upstreams = new Map<Signal, Upstream>();
  private readonly queues = new Map<Signal, Entry[]>();
  private readonly maxBytes: number;
  private queuedBytes = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly warned = new Set<string>();
  private stopping = false;
  // After a retryable failure the whole signal waits (all its workers): an upstream that is down
  // or asked for a pause is not hammered by the other in-flight slots.
  private readonly holdUntil = new Map<Signal, number>();
  private readonly buffers = new BufferPool();
  private readonly spillInsert;
  private readonly spillDelete;

  constructor(private readonly config: ForwardConfig, private readonly clock: Clock, private readonly logger: Logger, private readonly spill?: StateDatabase) {
    for (const s of SIGNALS) {
      if (config[s].endpoint !== '') this.upstreams.set(s, createUpstream(s, config[s]));
      this.queues.set(s, []);
    }
    this.maxBytes = config.queue.max_mb * 1024 * 1024;
    this.spillInsert = spill?.prepare('INSERT INTO forward_queue (signal, encoding, received_at, headers, body, gzipped) VALUES (?, ?, ?, ?, ?, ?)');
    this.spillDelete = spill?.prepare('DELETE FROM forward_queue WHERE id = ?');
  }

  /** True when some signal is forwarded. */
  get enabled(): boolean {
    return this.upstreams.size > 0;
  }

  /** Bytes waiting upstream. */
  get bytes(): number {
    return this.queuedBytes;
  }

  /** Whether a new request of `signal` must be refused (queue at its bound, `when_full: backpressure`). */
  refuses(signal: Signal): boolean {
    if (!this.upstreams.has(signal) || this.config.queue.when_full !== 'backpressure' || this.queuedBytes < this.maxBytes) return false;
    this.stats.refused++;
    this.warnOnce('full', { maxBytes: this.maxBytes }, 'forward queue full: refusing new requests with the retryable OTLP answer until the upstream catches up');
    return true;
  }

  /** Queues a copy of an accepted request (the body buffer is the receiver's and will be reused). */
  offer(signal: Signal, encoding: OtlpEncoding, decompressed: Buffer, incoming?: IncomingHeaders, wire?: WireBody): void {
    const upstream = this.upstreams.get(signal);
    if (upstream === undefined || this.stopping) return;
    if (!upstream.accepts(encoding)) {
      this.stats.dropped.json_over_grpc++;
      this.warnOnce('json', { signal }, 'OTLP/JSON requests cannot be relayed over gRPC without re-encoding them; set forward.<signal>.protocol: http/protobuf (counted in otel_friction_forward_dropped_total{reason="json_over_grpc"})');
      return;
    }
    const gzipped = wire?.compression === 'gzip' && this.config[signal].compression === 'gzip';
    const body = gzipped ? wire.body : decompressed;
    if (this.queuedBytes + body.length > this.maxBytes && this.config.queue.when_full === 'drop') {
      this.stats.dropped.queue_full++;
      this.warnOnce('drop', { maxBytes: this.maxBytes }, 'forward queue full: dropping forward copies (when_full: drop; counted in otel_friction_forward_dropped_total{reason="queue_full"})');
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of this.config.passthrough_headers) {
      const v = incoming?.[name.toLowerCase()];
      if (v !== undefined) headers[name.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    }
    // From our own pool: fresh 200 KiB buffers cost page faults and external-memory GCs, and
    // the forward queue would otherwise allocate one per accepted request.
    const copy = this.buffers.acquire(body.length);
    body.copy(copy);
    const receivedAt = this.clock.now();
    const id = this.spillInsert ? Number(this.spillInsert.run(signal, encoding, receivedAt, JSON.stringify(headers), copy, gzipped ? 1 : 0).lastInsertRowid) : 0;
    this.push({ id, signal, encoding, body: copy, gzipped, headers, receivedAt, attempts: 0 });
  }

  async start(): Promise<void> {
    if (this.spill) this.restoreSpilled();
    for (const [signal] of this.upstreams) {
      for (let i = 0; i < CONCURRENCY; i++) this.loops.push(this.run(signal));
    }
  }

  /** Flushes until the queue is empty or the deadline; what is left stays spilled or is dropped and counted. */
  async shutdown(deadline: number): Promise<boolean> {
    const flushing = async () => {
      while (this.queuedBytes > 0 && Date.now() < deadline && [...this.queues.values()].some((q) => q.some((e) => e.attempts === 0))) await sleep(20);
    };
    await flushing();
    this.stopping = true;
    this.wakeAll();
    const left = [...this.queues.values()].reduce((n, q) => n + q.length, 0);
    if (left > 0) {
      if (this.spill) this.logger.warn({ requests: left }, 'upstream did not take everything before shutdown; the rest is spilled and sent after the next start');
      else {
        this.stats.dropped.shutdown += left;
        this.logger.error({ requests: left }, 'upstream did not take everything before shutdown; those requests are not forwarded (forward.queue.spill keeps them)');
      }
    }
    await Promise.race([Promise.all(this.loops), sleep(Math.max(0, deadline - Date.now()))]);
    for (const u of this.upstreams.values()) u.close();
    // Spilled requests are safe on disk: that is a clean stop, not abandoned work.
    return left === 0 || this.spill !== undefined;
  }

  private push(e: Entry, front = false): void {
    const q = this.queues.get(e.signal) as Entry[];
    if (front) q.unshift(e);
    else q.push(e);
    if (!front) this.queuedBytes += e.body.length;
    this.wakeAll();
  }

  private done(e: Entry): void {
    this.queuedBytes -= e.body.length;
    this.buffers.release(e.body);
    if (e.id > 0) this.spillDelete?.run(e.id);
  }

  private async run(signal: Signal): Promise<void> {
    const upstream = this.upstreams.get(signal) as Upstream;
    const q = this.queues.get(signal) as Entry[];
    while (!this.stopping) {
      const hold = (this.holdUntil.get(signal) ?? 0) - this.clock.now();
      if (hold > 0) {
        await sleep(hold);
        continue;
      }
      const e = q.shift();
      if (e === undefined) {
        await new Promise<void>((r) => this.waiters.push(r));
        continue;
      }
      if (this.clock.now() - e.receivedAt > this.config.retry.max_elapsed_time) {
        this.stats.dropped.expired++;
        this.warnOnce('expired', { signal }, 'requests older than forward.retry.max_elapsed_time were dropped (otel_friction_forward_dropped_total{reason="expired"})');
        this.done(e);
        continue;
      }
      try {
        await upstream.send(e);
        this.stats.forwarded[signal]++;
        this.done(e);
        if (this.warned.delete(`down:${signal}`)) this.logger.info({ signal }, 'upstream accepts requests again');
      } catch (err) {
        const u = err instanceof UpstreamError ? err : new UpstreamError(String(err), true);
        if (!u.retryable) {
          this.stats.dropped.rejected++;
          this.warnOnce(`rejected:${signal}`, { signal, err: u.message }, 'upstream refused a request permanently; it is dropped (otel_friction_forward_dropped_total{reason="rejected"})');
          this.done(e);
          continue;
        }
        e.attempts++;
        this.stats.retries++;
        this.warnOnce(`down:${signal}`, { signal, err: u.message }, 'upstream unavailable; requests wait in the forward queue and are retried');
        this.push(e, true);
        this.holdUntil.set(signal, this.clock.now() + (u.retryAfterMs ?? this.backoff(e.attempts)));
      }
    }
  }

  private backoff(attempt: number): number {
    const r = this.config.retry;
    return Math.min(r.max_interval, r.initial_interval * 2 ** Math.min(30, attempt - 1)) * (0.5 + Math.random());
  }

  private restoreSpilled(): void {
    const db = this.spill as StateDatabase;
    const rows = db.prepare('SELECT id, signal, encoding, received_at, headers, body, gzipped FROM forward_queue ORDER BY id').all() as { id: number; signal: Signal; encoding: OtlpEncoding; received_at: number; headers: string; body: Buffer; gzipped: number }[];
    let restored = 0;
    for (const r of rows) {
      if (!this.upstreams.has(r.signal) || this.queuedBytes + r.body.length > this.maxBytes) {
        this.stats.dropped.queue_full++;
        this.spillDelete?.run(r.id);
        continue;
      }
      this.push({ id: r.id, signal: r.signal, encoding: r.encoding, body: r.body, gzipped: r.gzipped === 1, headers: JSON.parse(r.headers) as Record<string, string>, receivedAt: r.received_at, attempts: 0 });
      restored++;
    }
    if (rows.length > 0) this.logger.info({ restored, dropped: rows.length - restored }, 'forwarding requests spilled before the last stop');
  }

  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(fields, message);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
