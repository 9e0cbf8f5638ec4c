import { describe, expect, test } from 'vitest';
import { buildSchedule } from '../../src/demo/incidents.js';
import { SeededRandom } from '../../src/demo/random.js';
import { MIN_INCIDENT_MS, SCENARIO_WARMUP_MS } from '../../src/demo/sidecar-config.js';
import { SERVICES, demoFleet } from '../../src/demo/topology.js';
import { type SpanPlan, type TracePlan, TrafficModel, countSpans, cpuUtilization, diurnalFactor } from '../../src/demo/traffic.js';

const DAY = 300_000;
const schedule = buildSchedule({ scenarioMs: DAY, warmupMs: SCENARIO_WARMUP_MS, minIncidentMs: MIN_INCIDENT_MS });

/** Traces of [from, to) in 100 ms steps, as the demo generates them. */
function traces(model: TrafficModel, from: number, to: number): TracePlan[] {
  const out: TracePlan[] = [];
  for (let t = from; t < to; t += 100) out.push(...model.step(t, 100));
  return out;
}

function walk(span: SpanPlan, visit: (s: SpanPlan, parent: SpanPlan | undefined) => void, parent?: SpanPlan): void {
  visit(span, parent);
  for (const c of span.children) walk(c, visit, span);
}

/** Server spans of one operation in the traces. */
function servers(ts: readonly TracePlan[], service: string, name: string): SpanPlan[] {
  const out: SpanPlan[] = [];
  for (const t of ts) walk(t.root, (s) => void (s.kind === 'server' && s.service === service && s.name === name && out.push(s)));
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('traffic model', () => {
  test('the same seed gives the same traces', () => {
    const a = traces(new TrafficModel(demoFleet(), schedule, new SeededRandom(5), DAY), 0, 5000);
    const b = traces(new TrafficModel(demoFleet(), schedule, new SeededRandom(5), DAY), 0, 5000);
    const c = traces(new TrafficModel(demoFleet(), schedule, new SeededRandom(6), DAY), 0, 5000);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  test('call graphs: checkout → auth, cart (→ catalog), payments, shipping, email; client spans wrap the callee server span', () => {
    const model = new TrafficModel(demoFleet(), [], new SeededRandom(1), DAY);
    const checkout = traces(model, 0, 10_000).find((t) => t.root.service === 'checkout');
    expect(checkout).toBeDefined();
    const root = checkout!.root;
    expect(root).toMatchObject({ kind: 'server', name: 'POST /checkout', startMs: 0 });
    const hops = root.children.filter((c) => c.attributes['peer.service'] !== undefined && c.children.length > 0);
    expect(hops.map((c) => c.children[0].service)).toEqual(['auth', 'cart', 'payments', 'shipping', 'email']);
    walk(root, (s, parent) => {
      if (parent === undefined) return;
      // Inside the parent, on time.
      expect(s.startMs).toBeGreaterThanOrEqual(parent.startMs);
      expect(s.startMs + s.durationMs).toBeLessThanOrEqual(parent.startMs + parent.durationMs + 1e-9);
      if (s.kind === 'server') {
        // A server span's parent is the caller's client span, recorded by the caller.
        expect(parent.kind).toBe('client');
        expect(parent.service).not.toBe(s.service);
        expect(parent.name).toBe(s.name);
      }
    });
    const cart = hops[1].children[0];
    expect(cart.children.some((c) => c.children[0]?.service === 'catalog')).toBe(true);
    expect(countSpans(root)).toBeGreaterThan(15);
  });

  test('rates follow the entry points and the diurnal curve', () => {
    const model = new TrafficModel(demoFleet(), [], new SeededRandom(2), DAY);
    // The first quarter day rises to the peak, the third falls to the trough.
    const peak = traces(model, 60_000, 90_000).length;
    const trough = traces(model, 210_000, 240_000).length;
    const total = demoFleet().entries.reduce((n, e) => n + e.rate, 0);
    expect(peak / 30).toBeGreaterThan(total * 1.2);
    expect(trough / 30).toBeLessThan(total * 0.8);
    expect(diurnalFactor(DAY / 4, DAY)).toBeCloseTo(1.35);
    expect(diurnalFactor((3 * DAY) / 4, DAY)).toBeCloseTo(0.65);
  });

  test('incidents: payments slows 4×, checkout fails 40%, search traffic collapses; others unchanged', () => {
    const [slow, errors, drop] = schedule;
    const healthy = new TrafficModel(demoFleet(), [], new SeededRandom(9), DAY);
    const sick = new TrafficModel(demoFleet(), schedule, new SeededRandom(9), DAY);
    const during = (i: (typeof schedule)[number], m: TrafficModel) => traces(m, i.startMs, i.endMs);
    const charge = (m: TrafficModel) => median(servers(during(slow, m), 'payments', 'POST /payments/charge').map((s) => s.durationMs));
    expect(charge(sick) / charge(healthy)).toBeGreaterThan(3.5);

    const checkouts = servers(during(errors, sick), 'checkout', 'POST /checkout');
    const failed = checkouts.filter((s) => s.error).length / checkouts.length;
    expect(failed).toBeGreaterThan(0.3);
    expect(failed).toBeLessThan(0.5);
    // The failure is checkout's own: its callees are as healthy as ever.
    const emails = servers(during(errors, sick), 'email', 'POST /email/confirmation');
    expect(emails.filter((s) => s.error).length / emails.length).toBeLessThan(0.02);

    const searches = (m: TrafficModel) => servers(during(drop, m), 'search', 'GET /search').length;
    expect(searches(sick) / searches(healthy)).toBeLessThan(0.1);
    // Catalog's list endpoint also serves browsers: it thins, but stays above a drop (20%).
    const lists = (m: TrafficModel) => servers(during(drop, m), 'catalog', 'GET /products').length;
    expect(lists(sick) / lists(healthy)).toBeGreaterThan(0.3);
  });

  test('CPU: follows the load, pinned by the saturation incident, only on its service', () => {
    const cpu = schedule[3];
    const mid = (cpu.startMs + cpu.endMs) / 2;
    expect(cpuUtilization('shipping', mid, DAY, schedule)).toBeGreaterThan(0.9);
    for (const service of SERVICES.filter((s) => s !== 'shipping')) {
      for (let t = 0; t < DAY; t += 1000) expect(cpuUtilization(service, t, DAY, schedule)).toBeLessThan(0.6);
    }
    expect(cpuUtilization('shipping', cpu.endMs + 1000, DAY, schedule)).toBeLessThan(0.6);
    expect(cpuUtilization('auth', 1234, DAY, schedule)).toBe(cpuUtilization('auth', 1234, DAY, schedule));
  });
});
