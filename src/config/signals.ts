/**
 * How findings become signals and where they go: lifecycle settings (`signals`), business
 * weights (`outcomes`, `services`). Sinks are in sinks.ts.
 */
import * as s from './spec.js';

/** `signals:` lifecycle settings. */
export interface SignalsConfig {
  /** Clean windows (no finding) before a firing signal resolves. */
  resolve_after: number;
  /** A firing signal is re-sent this often (ms) even when nothing changed. */
  renotify_interval: number;
  /** Firing starts of one fingerprint within `flap_windows` windows that mark it flapping. */
  flap_threshold: number;
  flap_windows: number;
}

/** One business outcome. */
export interface OutcomeConfig {
  weight: number;
}

/** What is known about a service. */
export interface ServiceConfig {
  outcomes: string[];
  owner: string;
  /** 1 = most critical. */
  tier: number;
}

/** Schema of {@link SignalsConfig}. */
export const signalsSpec = s.object({
  resolve_after: s.integer({ default: 3, min: 1, max: 10_000 }),
  renotify_interval: s.duration({ default: '4h', greaterThan: 0 }),
  flap_threshold: s.integer({ default: 3, min: 2, max: 1000 }),
  flap_windows: s.integer({ default: 60, min: 1, max: 100_000 }),
});

/** Schema of the `outcomes` map. */
export const outcomesSpec = s.map(s.object({ weight: s.number({ default: 1, min: 0, max: 100 }) }));

/** Schema of the `services` map. */
export const servicesSpec = s.map(
  s.object({
    outcomes: s.list(s.string({ default: '', nonEmpty: true })),
    owner: s.string({ default: '' }),
    tier: s.integer({ default: 3, min: 1, max: 5 }),
  }),
);

/** `record:` — keep accepted requests for `otel-friction replay`. Off while `path` is empty. */
export interface RecordConfig {
  path: string;
  max_mb: number;
}

/** Schema of {@link RecordConfig}. */
export const recordSpec = s.object({
  path: s.string({ default: '' }),
  max_mb: s.number({ default: 256, min: 8 }),
});
