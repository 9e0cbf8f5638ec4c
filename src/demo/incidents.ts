/**
 * The incident schedule: what goes wrong, where and when, in scenario time. Pure: the demo
 * asks "what is in effect at t?" and the traffic model applies it.
 *
 * The layout follows the detectors' needs, not the calendar: nothing happens until the
 * sidecar's baselines are warm (see sidecar-config.ts), then the four incidents start a little
 * apart, overlap, and end early enough that their signals resolve before the run is over.
 */
import type { ServiceName } from './topology.js';

/** What kind of trouble an incident injects. */
export type IncidentKind = 'latency_regression' | 'error_burst' | 'traffic_drop' | 'cpu_saturation';

/** What an incident changes while it lasts. */
export interface IncidentEffect {
  /** Multiplies the own work of the operation (or of every operation of the service). */
  readonly latencyFactor?: number;
  /** Replaces the error rate of the operation. */
  readonly errorRate?: number;
  /** Multiplies the outside traffic reaching the service. */
  readonly rateFactor?: number;
  /** The service's CPU utilization (0–1) while it lasts. */
  readonly cpu?: number;
}

/** One scheduled incident. */
export interface Incident {
  readonly kind: IncidentKind;
  readonly service: ServiceName;
  /** Operation affected; undefined = the whole service. */
  readonly operation?: string;
  /** Scenario time, ms from the start, inclusive. */
  readonly startMs: number;
  /** Scenario time, ms from the start, exclusive. */
  readonly endMs: number;
  readonly effect: IncidentEffect;
  /** Short text for the terminal, e.g. `payments POST /payments/charge 4× slower`. */
  readonly label: string;
}

/** How the schedule is laid out. */
export interface ScheduleOptions {
  /** Length of the scenario, ms of scenario time. */
  readonly scenarioMs: number;
  /** Quiet time at the start, while the sidecar learns the baselines, ms. */
  readonly warmupMs: number;
  /** Shortest incident worth injecting: long enough for the slowest detector to fire, ms. */
  readonly minIncidentMs: number;
}

// Start offsets of the four incidents as shares of the time after the warm-up, and how long
// each lasts as a share of it: staggered so they appear one by one, overlapping in the middle.
const STAGGER = 0.1;
const LENGTH = 0.35;

const TEMPLATES: readonly Omit<Incident, 'startMs' | 'endMs'>[] = [
  { kind: 'latency_regression', service: 'payments', operation: 'POST /payments/charge', effect: { latencyFactor: 4 }, label: 'payments POST /payments/charge 4× slower (card processor degraded)' },
  { kind: 'error_burst', service: 'checkout', operation: 'POST /checkout', effect: { errorRate: 0.4 }, label: 'checkout POST /checkout failing 40% (order writes rejected)' },
  { kind: 'traffic_drop', service: 'search', effect: { rateFactor: 0.03 }, label: 'search traffic down 97% (bad DNS record)' },
  { kind: 'cpu_saturation', service: 'shipping', effect: { cpu: 0.96 }, label: 'shipping CPU at 96% (runaway batch job)' },
];

/** How many incidents a run long enough for all of them gets. */
export const INCIDENT_COUNT = TEMPLATES.length;

/**
 * The incidents of a run. Too short a scenario for any incident after the warm-up gives an
 * empty schedule; incidents that would not fit are left out rather than cut short.
 */
export function buildSchedule(options: ScheduleOptions): Incident[] {
  const { scenarioMs, warmupMs, minIncidentMs } = options;
  const rest = scenarioMs - warmupMs;
  const length = Math.max(minIncidentMs, rest * LENGTH);
  const out: Incident[] = [];
  TEMPLATES.forEach((t, i) => {
    const startMs = Math.round(warmupMs + i * rest * STAGGER);
    const endMs = Math.round(startMs + length);
    if (endMs <= scenarioMs) out.push({ ...t, startMs, endMs });
  });
  return out;
}

/** The incidents in effect at scenario time `t`. */
export function activeAt(incidents: readonly Incident[], t: number): Incident[] {
  return incidents.filter((i) => i.startMs <= t && t < i.endMs);
}

/** Whether an incident touches `service` (and `operation`, when it names one). */
function touches(i: Incident, service: string, operation?: string): boolean {
  return i.service === service && (i.operation === undefined || operation === undefined || i.operation === operation);
}

/** The combined effect on one operation of one service at `t` (factors multiply, levels: the latest wins). */
export function effectOn(incidents: readonly Incident[], t: number, service: string, operation?: string): IncidentEffect {
  let latencyFactor = 1;
  let rateFactor = 1;
  let errorRate: number | undefined;
  let cpu: number | undefined;
  for (const i of incidents) {
    if (!(i.startMs <= t && t < i.endMs) || !touches(i, service, operation)) continue;
    latencyFactor *= i.effect.latencyFactor ?? 1;
    rateFactor *= i.effect.rateFactor ?? 1;
    errorRate = i.effect.errorRate ?? errorRate;
    cpu = i.effect.cpu ?? cpu;
  }
  return { latencyFactor, rateFactor, errorRate, cpu };
}

/** The phase of the run at `t`, for the terminal: warm-up, incidents, or recovery. */
export function phaseAt(incidents: readonly Incident[], warmupMs: number, t: number): 'warm-up' | 'incident' | 'steady' | 'recovery' {
  if (t < warmupMs) return 'warm-up';
  if (activeAt(incidents, t).length > 0) return 'incident';
  return incidents.some((i) => i.endMs <= t) ? 'recovery' : 'steady';
}
