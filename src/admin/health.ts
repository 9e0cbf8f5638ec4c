/**
 * Process phase as the probes see it: liveness is "the process answers"; readiness is
 * "the receivers are listening and not draining", so Kubernetes stops routing to a pod
 * before it stops accepting.
 */

/** Lifecycle phase of the sidecar. */
export type Phase = 'starting' | 'ready' | 'draining' | 'stopped';

/** Shared, mutable phase; written by main, read by the admin server. */
export class HealthState {
  phase: Phase = 'starting';
  readonly startedAt = Date.now();

  get ready(): boolean {
    return this.phase === 'ready';
  }
}
