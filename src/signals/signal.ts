/**
 * The friction signal: what the sidecar tells people and systems. One per incident, stable
 * fingerprint over its life, a lifecycle of transitions. The shape is the contract in
 * DESIGN.md ("What a friction signal is").
 */
import { createHash } from 'node:crypto';
import type { Exemplar } from '../aggregate/exemplars.js';
import type { Severity, SignalKind } from '../detect/detector.js';

/** A friction signal as delivered and listed. Times are RFC 3339. */
export interface FrictionSignal {
  id: string;
  fingerprint: string;
  kind: SignalKind;
  status: 'firing' | 'resolved';
  severity: Severity;
  /** 0–100; the formula is in README ("Priority"). */
  priority: number;
  service: string;
  operation: string;
  slo: string;
  metric: string;
  outcomes: string[];
  owner: string;
  title: string;
  summary: string;
  evidence: Record<string, unknown>;
  exemplars: Exemplar[];
  startsAt: string;
  updatedAt: string;
  endsAt: string | null;
}

/** What changed: a new signal, a material update (severity, re-notification), or the end. */
export type TransitionKind = 'firing' | 'updated' | 'resolved';

/** One lifecycle step of a signal, as sinks receive it. */
export interface SignalTransition {
  transition: TransitionKind;
  /** Per-signal sequence number, starting at 1: with the fingerprint, an idempotency key. */
  sequence: number;
  signal: FrictionSignal;
}

/** Stable identity of an incident: the same problem keeps its fingerprint across windows. */
export function fingerprintOf(f: { kind: string; service: string; operation: string; slo: string; metric: string; scope?: string }): string {
  return createHash('sha256')
    .update([f.kind, f.service, f.operation, f.slo, f.metric, f.scope ?? ''].join('\u0000'))
    .digest('hex')
    .slice(0, 16);
}
