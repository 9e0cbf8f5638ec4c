/**
 * The traffic model: turns the fleet, the incident schedule and a seeded PRNG into traces, as
 * plans (a tree of spans with offsets and durations) that telemetry.ts replays through the
 * OpenTelemetry SDK. Pure and clock-free: the caller says which slice of scenario time to fill,
 * so the same seed gives the same traces whatever the event loop's timing.
 *
 * - Arrivals are Poisson per entry point, at the entry's rate × the diurnal curve × incidents.
 * - Each operation's own work is lognormal; a call's client span wraps the callee's server span
 *   plus a little network time; calls run one after the other, between two halves of own work.
 * - A failed downstream call fails its caller's client span; the caller itself carries on (the
 *   demo's services degrade gracefully), so an error burst stays with the service that has it.
 */
import { type Incident, effectOn } from './incidents.js';
import type { SeededRandom } from './random.js';
import { type Fleet, type OperationSpec, type ServiceName, operationKey } from './topology.js';

/** Span kinds the demo emits (the OTel SpanKind names). */
export type PlanKind = 'server' | 'client';

/** One span of a planned trace. */
export interface SpanPlan {
  /** Service whose SDK records the span. */
  readonly service: ServiceName;
  readonly name: string;
  readonly kind: PlanKind;
  /** Offset from the start of the trace, ms. */
  readonly startMs: number;
  readonly durationMs: number;
  readonly error: boolean;
  readonly attributes: Readonly<Record<string, string | number>>;
  readonly children: readonly SpanPlan[];
}

/** A trace to emit: its root span (always a server span) and when in scenario time it arrived. */
export interface TracePlan {
  readonly atMs: number;
  readonly root: SpanPlan;
}

/** Diurnal swing of the outside traffic: ±35% around the entry rates. */
const DIURNAL_AMPLITUDE = 0.35;
/** Network time a client span adds around the server span it wraps, ms (median). */
const NETWORK_MS = 0.4;

/**
 * Traffic level at scenario time `t` (1 = the entry rates): one compressed day over the
 * run, a sine, so the demo shows the sidecar's baselines riding a real daily swing.
 */
export function diurnalFactor(t: number, dayMs: number): number {
  // Starts at the mean and rising: morning traffic climbing to the midday peak, then the night.
  return 1 + DIURNAL_AMPLITUDE * Math.sin((2 * Math.PI * t) / dayMs);
}

// CPU a service idles at, and what a unit of traffic level adds to it.
const CPU_IDLE = 0.18;
const CPU_PER_LEVEL = 0.2;

/**
 * A service's CPU utilization (0–1) at scenario time `t`: idle plus load that follows the
 * diurnal curve, a little jitter, or the level an incident pins it at. The jitter is a hash of
 * the service and the second, not a PRNG draw, so reading the gauge (whenever the SDK's
 * exporter asks) never shifts the traffic's random stream.
 */
export function cpuUtilization(service: string, t: number, dayMs: number, incidents: readonly Incident[]): number {
  const pinned = effectOn(incidents, t, service).cpu;
  const jitter = (hash(`${service}:${Math.floor(t / 1000)}`) - 0.5) * 0.06;
  const level = pinned ?? CPU_IDLE + CPU_PER_LEVEL * diurnalFactor(t, dayMs);
  return Math.min(1, Math.max(0, level + jitter));
}

/** FNV-1a of a string, as a float in [0, 1). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 4294967296;
}

/** Generates the demo's traces. */
export class TrafficModel {
  constructor(
    private readonly fleet: Fleet,
    private readonly incidents: readonly Incident[],
    private readonly random: SeededRandom,
    /** Length of the compressed day, scenario ms (the whole run by default). */
    private readonly dayMs: number,
  ) {}

  /** The traces arriving in [fromMs, fromMs + stepMs) of scenario time, in arrival order. */
  step(fromMs: number, stepMs: number): TracePlan[] {
    const out: TracePlan[] = [];
    const level = diurnalFactor(fromMs + stepMs / 2, this.dayMs);
    for (const entry of this.fleet.entries) {
      const effect = effectOn(this.incidents, fromMs, entry.service, entry.operation);
      const n = this.random.poisson((entry.rate * level * (effect.rateFactor ?? 1) * stepMs) / 1000);
      const op = this.operation(entry.service, entry.operation);
      for (let i = 0; i < n; i++) {
        const atMs = fromMs + this.random.next() * stepMs;
        out.push({ atMs, root: this.serve(op, 0, atMs, { 'http.request.method': methodOf(op.name), 'http.route': routeOf(op.name) }) });
      }
    }
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  private operation(service: string, name: string): OperationSpec {
    const op = this.fleet.operations.get(operationKey(service, name));
    if (op === undefined) throw new Error(`demo traffic: unknown operation ${service} ${name}`);
    return op;
  }

  /** The server span of `op` starting at offset `startMs`, with its calls laid out inside it. */
  private serve(op: OperationSpec, startMs: number, atMs: number, attributes: Record<string, string | number>): SpanPlan {
    const effect = effectOn(this.incidents, atMs, op.service, op.name);
    const slow = effect.latencyFactor ?? 1;
    const own = this.random.lognormal(op.medianMs, op.sigma) * slow;
    const children: SpanPlan[] = [];
    // Half the own work before the calls (parsing, auth checks), half after (rendering).
    let cursor = startMs + own / 2;
    for (const call of op.calls) {
      if (call.probability !== undefined && !this.random.chance(call.probability)) continue;
      if ('service' in call) {
        const callee = this.operation(call.service, call.operation);
        const net = this.random.lognormal(NETWORK_MS, 0.3);
        const server = this.serve(callee, cursor + net / 2, atMs, { 'http.request.method': methodOf(callee.name), 'http.route': routeOf(callee.name) });
        const duration = server.durationMs + net;
        children.push({
          service: op.service, name: callee.name, kind: 'client', startMs: cursor, durationMs: duration, error: server.error,
          attributes: { 'peer.service': call.service, 'http.request.method': methodOf(callee.name), 'server.address': call.service },
          children: [server],
        });
        cursor += duration;
      } else {
        // A degraded operation is slow in its dependencies too (the card processor, the index).
        const duration = this.random.lognormal(call.medianMs, call.sigma) * slow;
        children.push({ service: op.service, name: call.name, kind: 'client', startMs: cursor, durationMs: duration, error: false, attributes: dependencyAttributes(call.dependency), children: [] });
        cursor += duration;
      }
    }
    const error = this.random.chance(effect.errorRate ?? op.errorRate);
    const durationMs = cursor + own / 2 - startMs;
    return { service: op.service, name: op.name, kind: 'server', startMs, durationMs, error, attributes: { ...attributes, 'http.response.status_code': error ? 500 : 200 }, children };
  }
}

/** Semantic-convention attributes of a dependency call. */
function dependencyAttributes(dependency: string): Record<string, string> {
  if (dependency === 'postgresql' || dependency === 'redis' || dependency === 'elasticsearch') return { 'db.system': dependency };
  return { 'peer.service': dependency };
}

function methodOf(name: string): string {
  return name.split(' ')[0];
}

function routeOf(name: string): string {
  return name.slice(name.indexOf(' ') + 1);
}

/** Spans in a plan, root included. */
export function countSpans(plan: SpanPlan): number {
  let n = 1;
  for (const c of plan.children) n += countSpans(c);
  return n;
}
