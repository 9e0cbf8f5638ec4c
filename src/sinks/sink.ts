/**
 * Where signal transitions go. A sink delivers a batch or throws; it never retries by itself
 * (the durable outbox of the sinks issue will own retries). Sinks are built by type from config,
 * like the Collector's exporters.
 */
import type { SignalTransition } from '../signals/signal.js';

/** A destination for signal transitions. */
export interface SignalSink {
  /** For logs and metrics labels. */
  readonly name: string;
  /** Delivers the transitions in order; rejects when they could not be delivered. */
  deliver(transitions: readonly SignalTransition[]): Promise<void>;
  /** Flushes and releases resources; idempotent. */
  close(): Promise<void>;
}

/** One JSON line per transition: the signal with its transition and sequence on top. */
export function toJsonLine(t: SignalTransition): string {
  return `${JSON.stringify({ transition: t.transition, sequence: t.sequence, ...t.signal })}\n`;
}
