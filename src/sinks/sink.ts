/**
 * Where signal transitions go. A sink delivers one batch or throws; it never retries by itself:
 * the outbox owns ordering, retries with backoff and dead letters. A sink says how a failure
 * should be treated by throwing {@link DeliveryError} (retryable or not); any other error counts
 * as retryable. Sinks are built by type from config, like the Collector's exporters.
 */
import type { Logger } from 'pino';
import { FrictionError } from '../errors.js';
import type { FrictionSignal, SignalTransition } from '../signals/signal.js';

/** One transition as the outbox hands it to a sink. */
export interface Delivery extends SignalTransition {
  /**
   * Idempotency key, stable across retries and restarts: `<fingerprint>:<start>:<sequence>`.
   * The incident's start (ms, base 36) tells apart two incidents of one fingerprint, whose
   * sequences both start at 1. Sinks pass it on where the target supports one (NATS message id,
   * CloudEvents id, `Idempotency-Key`).
   */
  key: string;
}

/** A destination for signal transitions. */
export interface SignalSink {
  /** For logs, metrics labels and the deliveries API: `<type>[<index>]`, or the module's name. */
  readonly name: string;
  /** Most transitions one {@link deliver} call takes (1 = one request per transition). */
  readonly maxBatch: number;
  /** Connects or checks what it needs; a failure here is logged and retried by the outbox. */
  start?(): Promise<void>;
  /**
   * Delivers the transitions, oldest first; resolves once the target has them. Rejects with a
   * {@link DeliveryError} to say whether retrying can help.
   */
  deliver(batch: readonly Delivery[]): Promise<void>;
  /** Flushes and releases resources; idempotent. */
  close(): Promise<void>;
}

/** What a sink factory gets besides its own config. */
export interface SinkContext {
  /** `<type>[<index>]`: the name the sink should report. */
  name: string;
  logger: Logger;
  /** Signals firing right now, for sinks that must re-assert state (Alertmanager). */
  firing(): FrictionSignal[];
  /** Base URL of the admin server (dashboard and API), without a trailing slash. */
  externalUrl: string;
}

/** Thrown by sinks: whether retrying can help, and optionally when to try again. */
export class DeliveryError extends FrictionError {
  constructor(
    readonly permanent: boolean,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(permanent ? 'SINK_REJECTED' : 'SINK_UNAVAILABLE', message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Server-requested delay (Retry-After, RetryInfo), honoured up to the retry policy's max interval. */
  readonly retryAfterMs: number | undefined;
}

/** A transient failure: the outbox retries with backoff. */
export function unavailable(message: string, options?: { cause?: unknown; retryAfterMs?: number }): DeliveryError {
  return new DeliveryError(false, message, options);
}

/** A permanent failure: the delivery goes to the dead letters. */
export function rejected(message: string, options?: { cause?: unknown }): DeliveryError {
  return new DeliveryError(true, message, options);
}

/**
 * How an HTTP status maps to delivery: 2xx delivered, 408/429/5xx retry, any other status is
 * permanent. Retry-After (seconds or an HTTP date) is passed on.
 */
export function httpOutcome(target: string, status: number, retryAfter: string | null, detail = ''): DeliveryError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const message = `${target} answered HTTP ${status}${detail ? `: ${detail.slice(0, 200)}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) return unavailable(message, { retryAfterMs: parseRetryAfter(retryAfter) });
  return rejected(message);
}

/** Retry-After as milliseconds from now, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A network-level failure (refused, reset, timeout) as a retryable error. */
export function networkFailure(target: string, err: unknown): DeliveryError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timed out' : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
  return unavailable(`${target}: ${why}`, { cause: err });
}

/** The idempotency key of a transition; see {@link Delivery.key}. */
export function idempotencyKey(t: SignalTransition): string {
  return `${t.signal.fingerprint}:${Date.parse(t.signal.startsAt).toString(36)}:${t.sequence}`;
}

/** One JSON line per transition: the signal with its transition, sequence and key on top. */
export function toJsonLine(t: Delivery): string {
  return `${JSON.stringify(toPlainJson(t))}\n`;
}

/** The plain JSON form every text sink uses: `{transition, sequence, key, ...signal}`. */
export function toPlainJson(t: Delivery): Record<string, unknown> {
  return { transition: t.transition, sequence: t.sequence, key: t.key, ...t.signal };
}
