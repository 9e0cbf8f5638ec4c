/**
 * The sidecar's own Prometheus metrics. Names follow the Collector's receiver metrics
 * (accepted/refused items by protocol) under the `otel_friction_` prefix, plus the standard
 * process and Node.js runtime metrics. Counters are bumped per request, never per span.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Signal } from '../receiver/signals.js';

/** Transport a request arrived on. */
export type Protocol = 'grpc' | 'http';

/** How a request ended, the `outcome` label of requests_total. */
export type RequestOutcome =
  | 'success'
  | 'partial_success'
  | 'invalid'
  | 'too_large'
  | 'backpressure'
  | 'unsupported_media_type'
  | 'unsupported_encoding'
  | 'method_not_allowed'
  | 'not_found'
  | 'shutting_down'
  | 'canceled'
  | 'timeout'
  | 'internal_error'
  /** No valid bearer token (receivers with auth.bearer_tokens_file). */
  | 'unauthenticated';

const ITEM_METRIC: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' };

/** Registry and receiver instruments. One per process (tests create their own). */
export class SelfMetrics {
  readonly registry = new Registry();
  private readonly accepted: Record<Signal, Counter<'protocol'>>;
  private readonly refused: Record<Signal, Counter<'protocol' | 'reason'>>;
  private readonly requests: Counter<'protocol' | 'signal' | 'outcome'>;
  private readonly receivedBytes: Counter<'protocol' | 'signal'>;
  private readonly decodeErrors: Counter<'protocol' | 'signal'>;
  private readonly inflightLimit: Gauge;

  constructor(options: { version?: string } = {}) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    const mk = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
      new Counter({ name: `otel_friction_${name}`, help, labelNames, registers: [r] });
    this.accepted = {} as Record<Signal, Counter<'protocol'>>;
    this.refused = {} as Record<Signal, Counter<'protocol' | 'reason'>>;
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const item = ITEM_METRIC[signal];
      this.accepted[signal] = mk(`receiver_accepted_${item}_total`, `${item} accepted by the receivers`, ['protocol']);
      this.refused[signal] = mk(`receiver_refused_${item}_total`, `${item} rejected as unusable (partial success)`, ['protocol', 'reason']);
    }
    this.requests = mk('receiver_requests_total', 'Export requests by how they ended', ['protocol', 'signal', 'outcome']);
    this.receivedBytes = mk('receiver_received_bytes_total', 'Request body bytes received, as sent (before decompression)', ['protocol', 'signal']);
    this.decodeErrors = mk('decoder_errors_total', 'Requests whose body could not be decoded', ['protocol', 'signal']);
    this.inflightLimit = new Gauge({ name: 'otel_friction_receiver_inflight_limit_bytes', help: 'limits.max_inflight_bytes_mib in bytes', registers: [r] });
    new Gauge({ name: 'otel_friction_build_info', help: 'Build information', labelNames: ['version'], registers: [r] })
      .set({ version: options.version ?? 'dev' }, 1);
  }

  /** Adds a gauge read at scrape time (state owned elsewhere: pools, tables, queues). */
  observe(name: string, help: string, read: () => number): void {
    new Gauge({
      name: `otel_friction_${name}`,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /**
   * Adds a counter whose running total lives elsewhere (a stage's plain-number stats, kept off
   * prom-client on the hot path) and is read at scrape time. `read` must never decrease.
   */
  observeCounter(name: string, help: string, read: () => number): void {
    new Counter({
      name: `otel_friction_${name}`,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  /**
   * Like {@link observe} / {@link observeCounter} for a family with labels (per sink, per
   * reason): `read` returns every series with its current value.
   */
  observeFamily<L extends string>(kind: 'gauge' | 'counter', name: string, help: string, labelNames: readonly L[], read: () => [Record<L, string>, number][]): void {
    const common = { name: `otel_friction_${name}`, help, labelNames: [...labelNames], registers: [this.registry] };
    if (kind === 'gauge') {
      new Gauge<L>({
        ...common,
        collect() {
          this.reset();
          for (const [labels, v] of read()) this.set(labels as Partial<Record<L, string>>, v);
        },
      });
    } else {
      new Counter<L>({
        ...common,
        collect() {
          this.reset();
          for (const [labels, v] of read()) this.inc(labels as Partial<Record<L, string>>, v);
        },
      });
    }
  }

  setInflightLimit(bytes: number): void {
    this.inflightLimit.set(bytes);
  }

  /** Records one finished request. */
  request(protocol: Protocol, signal: Signal, outcome: RequestOutcome): void {
    this.requests.inc({ protocol, signal, outcome });
    if (outcome === 'invalid') this.decodeErrors.inc({ protocol, signal });
  }

  received(protocol: Protocol, signal: Signal, bytes: number): void {
    this.receivedBytes.inc({ protocol, signal }, bytes);
  }

  items(protocol: Protocol, signal: Signal, accepted: number, rejected: number): void {
    if (accepted > 0) this.accepted[signal].inc({ protocol }, accepted);
    if (rejected > 0) this.refused[signal].inc({ protocol, reason: 'invalid' }, rejected);
  }

  /** Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
