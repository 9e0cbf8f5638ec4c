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
 *
 * Across a restart, firing signals come back from the signal history ({@link restore}); the
 * checkpoint ({@link checkpoint}) adds what the history does not record: how many clean closes
 * a signal has had towards resolving, its latest evidence, and the starts that make a
 * fingerprint flap. So a restart neither postpones nor hastens a resolution.
 */
import { randomUUID } from 'node:crypto';
import type { ServiceConfig, SignalsConfig } from '../config/index.js';
import { ByteReader, ByteWriter } from '../detect/checkpoint-codec.js';
import type { Checkpointable } from '../state/checkpoints.js';
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
// Bump when the checkpoint layout changes: older payloads are then ignored, not misread.
const FORMAT = 1;

/** A firing signal's state as checkpointed. */
interface SavedActive {
  signal: FrictionSignal;
  source: FindingSource;
  sequence: number;
  clean: number;
  lastSent: number;
}

/** Keeps the signals' lifecycle. */
export class Synthesizer {
  private readonly active = new Map<string, Active>();
  private readonly starts = new Map<string, number[]>();
  private readonly maxWeight: number;
  private readonly newId: () => string;
  // Checkpointed signals waiting for the history's restore (whichever comes first), by fingerprint.
  private resumed = new Map<string, SavedActive>();
  private lastNow = Number.NEGATIVE_INFINITY;

  /**
   * The synthesizer's part of the checkpoints (a separate object: {@link restore} already
   * names the history's restore).
   */
  readonly checkpoint: Checkpointable = {
    checkpointName: 'synthesizer',
    snapshot: () => this.snapshot(),
    restore: (data) => this.resume(data),
  };

  constructor(private readonly options: SynthesizerOptions) {
    this.maxWeight = Math.max(0, ...Object.values(options.outcomes).map((o) => o.weight));
    this.newId = options.newId ?? randomUUID;
  }

  /**
   * Takes one close's findings from `source` at `now`; `share(service, operation)` gives the
   * traffic share used for blast radius. Returns the transitions to deliver, in order.
   */
  observe(source: FindingSource, findings: readonly Finding[], now: number, share: (service: string, operation: string) => number = () => Number.NaN): SignalTransition[] {
    // From the first close on, the state here is newer than any checkpoint.
    this.resumed.clear();
    this.lastNow = now;
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
      // Findings on metric series name their metric; span findings (metric_anomaly's span
      // signals included) do not. The kind alone would leave a span anomaly waiting for metric
      // closes to resolve it, forever when no metrics come in.
      const source: FindingSource = signal.metric !== '' ? 'metrics' : 'spans';
      const a: Active = { signal, source, sequence, clean: 0, lastSent: Date.parse(signal.updatedAt) };
      this.active.set(signal.fingerprint, a);
      this.applyResumed(a);
    }
  }

  private snapshot(): Buffer {
    const horizon = this.lastNow - this.options.signals.flap_windows * this.options.windowMs;
    const active: SavedActive[] = [...this.active.values()].map(({ signal, source, sequence, clean, lastSent }) => ({ signal, source, sequence, clean, lastSent }));
    const starts: [string, number[]][] = [];
    for (const [fp, times] of this.starts) {
      const recent = times.filter((t) => t > horizon);
      if (recent.length > 0) starts.push([fp, recent]);
    }
    const w = new ByteWriter(FORMAT);
    w.str(JSON.stringify({ active, starts }));
    return w.done();
  }

  /**
   * Takes a checkpoint back. Signals count only if the history says they are still firing, at
   * the same step (same id and sequence): the history is written at every transition and wins
   * over a checkpoint that may be older.
   */
  private resume(data: Buffer): void {
    const r = new ByteReader(data, FORMAT);
    const saved = parseSaved(r.str());
    r.end();
    for (const [fp, times] of saved.starts) this.starts.set(fp, [...new Set([...(this.starts.get(fp) ?? []), ...times])].sort((x, y) => x - y));
    for (const s of saved.active) this.resumed.set(s.signal.fingerprint, s);
    for (const a of this.active.values()) this.applyResumed(a);
  }

  private applyResumed(a: Active): void {
    const s = this.resumed.get(a.signal.fingerprint);
    if (s === undefined || s.signal.id !== a.signal.id || s.sequence !== a.sequence) return;
    this.resumed.delete(a.signal.fingerprint);
    a.signal = s.signal;
    a.source = s.source;
    a.clean = s.clean;
    a.lastSent = s.lastSent;
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

/** The checkpoint's JSON, checked for shape: a damaged one must throw, not half-apply. */
function parseSaved(json: string): { active: SavedActive[]; starts: [string, number[]][] } {
  const v = JSON.parse(json) as { active?: unknown; starts?: unknown };
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  const active = v.active;
  const starts = v.starts;
  if (!Array.isArray(active) || !Array.isArray(starts)) throw new Error('synthesizer checkpoint has the wrong shape');
  for (const a of active as Partial<SavedActive>[]) {
    const sig = a?.signal;
    if (!((a?.source === 'spans' || a?.source === 'metrics') && num(a?.sequence) && num(a?.clean) && num(a?.lastSent) && typeof sig === 'object' && sig !== null && typeof sig.id === 'string' && typeof sig.fingerprint === 'string')) {
      throw new Error('synthesizer checkpoint has a malformed signal');
    }
  }
  for (const e of starts as unknown[]) {
    if (!(Array.isArray(e) && typeof e[0] === 'string' && Array.isArray(e[1]) && (e[1] as unknown[]).every(num))) throw new Error('synthesizer checkpoint has malformed starts');
  }
  return { active: active as SavedActive[], starts: starts as [string, number[]][] };
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
