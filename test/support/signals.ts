/** Signal transitions for sink and outbox tests. */
import type { FrictionSignal, SignalTransition } from '../../src/signals/signal.js';
import { type Delivery, idempotencyKey } from '../../src/sinks/sink.js';

/** A signal with every field filled; `over` replaces fields. */
export function sampleSignal(over: Partial<FrictionSignal> = {}): FrictionSignal {
  return {
    id: 'id-1', fingerprint: 'f'.repeat(16), kind: 'traffic_drop', status: 'firing', severity: 'critical', priority: 80,
    service: 'checkout', operation: 'POST /cart', slo: '', metric: '', outcomes: ['revenue'], owner: 'team-payments',
    title: 'checkout: traffic dropped', summary: 'checkout receives 2% of its usual requests.',
    evidence: { ratio: 0.02 }, exemplars: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), durationMs: 12.5, error: false }],
    startsAt: '2026-11-25T00:00:00.000Z', updatedAt: '2026-11-25T00:00:00.000Z', endsAt: null,
    ...over,
  } as FrictionSignal;
}

/** Transition `sequence` of a signal, as the outbox hands it to sinks. */
export function sampleDelivery(sequence: number, transition: SignalTransition['transition'] = 'firing', over: Partial<FrictionSignal> = {}): Delivery {
  const resolved = transition === 'resolved';
  const signal = sampleSignal({ status: resolved ? 'resolved' : 'firing', endsAt: resolved ? '2026-11-25T00:10:00.000Z' : null, ...over });
  const t: SignalTransition = { transition, sequence, signal };
  return { ...t, key: idempotencyKey(t) };
}
