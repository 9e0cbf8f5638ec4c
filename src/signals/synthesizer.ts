/**
 * Findings → signals. Detectors say what is wrong at each window close; the synthesizer turns
 * that level-triggered stream into a small number of signals with a lifecycle:
 *
 * - a new fingerprint starts a signal (`firing`);
 * - while it keeps being found it is updated in place; a severity change or `renotify_interval`
 *   without news sends an `updated` transition, nothing else does (no duplicates while firing);
 * - it resolves only after `resolve_after` consecutive closes without the finding (hysteresis);
 * - a fingerprint that starts `flap_threshold` times within `flap_windows` windows is flapping:
 *   it must stay clean three times longer before it resolves, which turns a flapping alert into
 *   one long signal.
 *
 * Pure: time comes with each call; ids come from an injected generator.
 */
import { randomUUID } from 'node:crypto';
import type { ServiceConfig, SignalsConfig } from '../config/index.js';
import type { Finding } from '../detect/detector.js';
import { narrate } from './narrative.js';
import { priorityInputs, priorityOf } from './priority.js';
import { type FrictionSignal, type SignalTransition, fingerprintOf } from './signal.js';

/** Where findings come from: span windows and metric windows close separately. */
export type FindingSource = 'spans' | 'metrics';

/** What the synthesizer is built from. */
export interface SynthesizerOptions {
  signals: SignalsConfig;
  outcomes: Readonly<Record<string, { weight: number }>>;
  services: Readonly<Record<string, ServiceConfig>>;
  windowMs: number;
  newId?: () => string;
}

interface Active {
  signal: FrictionSignal;
  source: FindingSource;
  sequence: number;
  clean: number;
  lastSent: number;
}

// Flapping signals need this many times `resolve_after` clean closes to resolve.
const FLAP_HOLD_FACTOR = 3;

/** Keeps the signals' lifecycle. */
export class Synthesizer {
  private readonly active = new Map<string, Active>();
  private readonly starts = new Map<string, number[]>();
  private readonly maxWeight: number;
  private readonly newId: () => string;

  constructor(private readonly options: SynthesizerOptions) {
    this.maxWeight = Math.max(0, ...Object.values(options.outcomes).map((o) => o.weight));
    this.newId = options.newId ?? randomUUID;
  }

  /**
   * Takes one close's findings from `source` at `now`; `share(service, operation)` gives the
   * traffic share used for blast radius. Returns the transitions to deliver, in order.
   */
  observe(source: FindingSource, findings: readonly Finding[], now: number, share: (service: string, operation: string) => number = () => Number.NaN): SignalTransition[] {
    const out: SignalTransition[] = [];
    const seen = new Set<string>();
    // One signal per fingerprint: if several findings share one, keep the most severe.
    const byFingerprint = new Map<string, Finding>();
    for (const f of findings) {
      const fp = fingerprintOf({ ...f, scope: scopeOf(f) });
      const prev = byFingerprint.get(fp);
      if (prev === undefined || rank(f) < rank(prev) || (rank(f) === rank(prev) && f.magnitude > prev.magnitude)) byFingerprint.set(fp, f);
    }
    for (const [fp, f] of byFingerprint) {
      seen.add(fp);
      const signal = this.build(fp, f, now, share(f.service, f.operation));
      const a = this.active.get(fp);
      if (a === undefined) {
        this.noteStart(fp, now);
        this.active.set(fp, { signal, source, sequence: 1, clean: 0, lastSent: now });
        out.push({ transition: 'firing', sequence: 1, signal });
        continue;
      }
      const prevSeverity = a.signal.severity;
      signal.id = a.signal.id;
      signal.startsAt = a.signal.startsAt;
      a.signal = signal;
      a.clean = 0;
      if (prevSeverity !== signal.severity || now - a.lastSent >= this.options.signals.renotify_interval) {
        a.sequence++;
        a.lastSent = now;
        out.push({ transition: 'updated', sequence: a.sequence, signal });
      }
    }
    for (const [fp, a] of this.active) {
      if (a.source !== source || seen.has(fp)) continue;
      a.clean++;
      const needed = this.options.signals.resolve_after * (this.isFlapping(fp, now) ? FLAP_HOLD_FACTOR : 1);
      if (a.clean < needed) continue;
      this.active.delete(fp);
      const ended: FrictionSignal = { ...a.signal, status: 'resolved', updatedAt: iso(now), endsAt: iso(now) };
      a.sequence++;
      out.push({ transition: 'resolved', sequence: a.sequence, signal: ended });
    }
    return out;
  }

  /**
   * Continues signals that were firing when the process last stopped (from the history), so a
   * restart does not announce them again: the next transition of each continues its sequence,
   * and it resolves after `resolve_after` clean closes like any other.
   */
  restore(open: readonly { signal: FrictionSignal; sequence: number }[]): void {
    for (const { signal, sequence } of open) {
      if (this.active.has(signal.fingerprint)) continue;
      const source: FindingSource = signal.kind === 'metric_threshold' || signal.kind === 'metric_anomaly' ? 'metrics' : 'spans';
      this.active.set(signal.fingerprint, { signal, source, sequence, clean: 0, lastSent: Date.parse(signal.updatedAt) });
    }
  }

  /** Firing signals, highest priority first. */
  firing(): FrictionSignal[] {
    return [...this.active.values()].map((a) => a.signal).sort((x, y) => y.priority - x.priority);
  }

  private build(fingerprint: string, f: Finding, now: number, share: number): FrictionSignal {
    const svc = this.options.services[f.service];
    const outcomes = [...new Set([...f.outcomes, ...(svc?.outcomes ?? [])])];
    const weight = Math.max(0, ...outcomes.map((o) => this.options.outcomes[o]?.weight ?? 0));
    const inputs = priorityInputs(f.severity, f.magnitude, f.operation === '' ? 1 : share, weight, this.maxWeight, svc?.tier ?? 3);
    const text = narrate(f, { share, windowMs: this.options.windowMs, outcomes });
    return {
      id: this.newId(),
      fingerprint,
      kind: f.kind,
      status: 'firing',
      severity: f.severity,
      priority: priorityOf(inputs),
      service: f.service,
      operation: f.operation,
      slo: f.slo,
      metric: f.metric,
      outcomes,
      owner: svc?.owner ?? '',
      title: text.title,
      summary: text.summary,
      evidence: { ...f.evidence, magnitude: f.magnitude, share: Number.isFinite(share) ? Math.round(share * 1000) / 1000 : null, priorityInputs: inputs },
      exemplars: [...f.exemplars],
      startsAt: iso(now),
      updatedAt: iso(now),
      endsAt: null,
    };
  }

  private noteStart(fp: string, now: number): void {
    const horizon = now - this.options.signals.flap_windows * this.options.windowMs;
    const list = (this.starts.get(fp) ?? []).filter((t) => t > horizon);
    list.push(now);
    this.starts.set(fp, list);
    // Bounded: fingerprints whose last start left the horizon are forgotten.
    if (this.starts.size > 10_000) for (const [k, v] of this.starts) if ((v.at(-1) ?? 0) <= horizon) this.starts.delete(k);
  }

  private isFlapping(fp: string, now: number): boolean {
    const horizon = now - this.options.signals.flap_windows * this.options.windowMs;
    return (this.starts.get(fp) ?? []).filter((t) => t > horizon).length >= this.options.signals.flap_threshold;
  }
}

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;
const rank = (f: Finding): number => SEVERITY_RANK[f.severity];
const iso = (t: number): string => new Date(t).toISOString();

/**
 * What distinguishes findings of one kind on one series: a threshold rule's name, metric
 * attributes, an anomaly's signal name, a traffic drop's scope, a span series' kind and
 * dimension values. Only stable identities count:
 * a burn-rate finding's `rule` (which window pair fires) changes during an incident and must
 * not start a new signal.
 */
function scopeOf(f: Finding): string {
  const e = f.evidence;
  const rule = typeof e.rule === 'string' ? e.rule : '';
  const attrs = e.attributes !== undefined ? JSON.stringify(e.attributes) : '';
  const signal = typeof e.signal === 'string' ? e.signal : '';
  const scope = typeof e.scope === 'string' ? e.scope : '';
  const series = typeof e.series === 'string' ? e.series : '';
  return [rule, attrs, signal, scope, series].join('|');
}
