/**
 * Watches the sidecar's signals through its admin API (`GET /api/v1/signals?status=all`) and
 * turns successive answers into events: fired, escalated (more severe than ever before), resolved.
 * Polling the public API rather than reading a sink file keeps the demo a plain client of the
 * sidecar, as a dashboard or a script would be. The diffing is pure ({@link SignalTracker}).
 */
import { SEVERITIES } from '../config/slos.js';
import type { Severity } from '../detect/detector.js';
import type { FrictionSignal } from '../signals/signal.js';

/** The fields of a friction signal the demo shows. */
export type SignalSummary = Readonly<Pick<FrictionSignal, 'id' | 'fingerprint' | 'kind' | 'status' | 'severity' | 'service' | 'operation' | 'title' | 'startsAt' | 'endsAt'>>;

/** One change the terminal reports. */
export interface SignalEvent {
  /** `escalated`: still firing, and more severe than it has been so far. */
  readonly type: 'fired' | 'escalated' | 'resolved';
  readonly signal: SignalSummary;
}

/** Remembers every signal seen and reports what changed since the last answer. */
export class SignalTracker {
  private readonly seen = new Map<string, SignalSummary>();
  // Most severe rank each signal has had. A ratio hovering at a severity boundary flips the
  // severity back and forth; only a new high is news to someone watching the terminal.
  private readonly worst = new Map<string, number>();

  /** Every signal seen so far, in the order they first appeared, with their latest state. */
  get signals(): SignalSummary[] {
    return [...this.seen.values()];
  }

  /**
   * Takes a full answer in. A signal seen for the first time already resolved (it fired and
   * ended between two polls) yields both events, so no incident goes unreported.
   */
  update(signals: readonly SignalSummary[]): SignalEvent[] {
    const events: SignalEvent[] = [];
    // Oldest first, so events come out in the order the incidents began.
    const ordered = [...signals].sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    for (const s of ordered) {
      const before = this.seen.get(s.id);
      this.seen.set(s.id, s);
      const worst = this.worst.get(s.id) ?? Number.POSITIVE_INFINITY;
      this.worst.set(s.id, Math.min(worst, rank(s.severity)));
      if (before === undefined) {
        events.push({ type: 'fired', signal: s });
        if (s.status === 'resolved') events.push({ type: 'resolved', signal: s });
      } else if (before.status === 'firing' && s.status === 'resolved') {
        events.push({ type: 'resolved', signal: s });
      } else if (s.status === 'firing' && rank(s.severity) < worst) {
        events.push({ type: 'escalated', signal: s });
      }
    }
    return events;
  }
}

// SEVERITIES lists the most severe first; unknown severities (a newer sidecar) sort last.
function rank(severity: Severity): number {
  const i = SEVERITIES.indexOf(severity);
  return i < 0 ? SEVERITIES.length : i;
}

/** Signals that were firing at or after `since` (RFC 3339), firing and resolved. */
export async function fetchSignals(adminUrl: string, since: string, timeoutMs = 2000): Promise<SignalSummary[]> {
  const url = `${adminUrl}/api/v1/signals?status=all&limit=1000&since=${encodeURIComponent(since)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`GET ${url} answered ${res.status}`);
  }
  const body = (await res.json()) as { signals: SignalSummary[] };
  return body.signals;
}
