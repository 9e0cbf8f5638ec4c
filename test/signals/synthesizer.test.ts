import { describe, expect, test } from 'vitest';
import type { Finding } from '../../src/detect/detector.js';
import { priorityInputs, priorityOf } from '../../src/signals/priority.js';
import { Synthesizer } from '../../src/signals/synthesizer.js';

const W = 10_000;
const T0 = 1_700_000_000_000;

function synth(overrides: Partial<ConstructorParameters<typeof Synthesizer>[0]['signals']> = {}) {
  let n = 0;
  return new Synthesizer({
    signals: { resolve_after: 3, renotify_interval: 3_600_000, flap_threshold: 3, flap_windows: 60, ...overrides },
    outcomes: { revenue: { weight: 5 }, onboarding: { weight: 1 } },
    services: { checkout: { outcomes: ['revenue'], owner: 'team-payments', tier: 1 } },
    windowMs: W,
    newId: () => `id-${++n}`,
  });
}

function latency(overrides: Partial<Finding> = {}, evidence: Record<string, unknown> = {}): Finding {
  return {
    kind: 'latency_regression', severity: 'warning', service: 'checkout', operation: 'POST /cart', slo: '', metric: '', outcomes: [], magnitude: 2.4,
    evidence: { quantile: 'p99', current_ms: 432, baseline_ms: 180, ratio: 2.4, delta_ms: 252, count: 900, windows: 3, ...evidence },
    exemplars: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), durationMs: 812.5, error: false }],
    ...overrides,
  };
}

describe('Synthesizer', () => {
  test('a finding starts a signal once; repeats update it silently; it resolves after resolve_after clean closes', () => {
    const s = synth();
    const t1 = s.observe('spans', [latency()], T0, () => 0.31);
    expect(t1.map((t) => [t.transition, t.sequence])).toEqual([['firing', 1]]);
    const sig = t1[0].signal;
    expect(sig).toMatchObject({ id: 'id-1', kind: 'latency_regression', status: 'firing', service: 'checkout', operation: 'POST /cart', owner: 'team-payments', outcomes: ['revenue'], endsAt: null });
    expect(sig.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(sig.title).toBe('checkout POST /cart: p99 latency is 2.4× its usual 180 ms');
    expect(sig.summary).toContain('432 ms');
    expect(sig.summary).toContain('30 seconds');
    expect(sig.summary).toContain('31% of checkout traffic');
    expect(sig.summary).toContain('revenue');
    expect(sig.exemplars).toHaveLength(1);
    // Still firing: no duplicate transition.
    for (let k = 1; k <= 5; k++) expect(s.observe('spans', [latency()], T0 + k * W)).toEqual([]);
    expect(s.firing()).toHaveLength(1);
    expect(s.firing()[0].id).toBe('id-1');
    // Two clean closes are not enough…
    expect(s.observe('spans', [], T0 + 6 * W)).toEqual([]);
    expect(s.observe('spans', [], T0 + 7 * W)).toEqual([]);
    // …a finding in between resets the count…
    expect(s.observe('spans', [latency()], T0 + 8 * W)).toEqual([]);
    expect(s.observe('spans', [], T0 + 9 * W)).toEqual([]);
    expect(s.observe('spans', [], T0 + 10 * W)).toEqual([]);
    const end = s.observe('spans', [], T0 + 11 * W);
    expect(end.map((t) => [t.transition, t.sequence])).toEqual([['resolved', 2]]);
    expect(end[0].signal).toMatchObject({ id: 'id-1', status: 'resolved', startsAt: new Date(T0).toISOString(), endsAt: new Date(T0 + 11 * W).toISOString() });
    expect(s.firing()).toEqual([]);
  });

  test('a severity change and the renotify interval send updates', () => {
    const s = synth({ renotify_interval: 5 * W });
    s.observe('spans', [latency()], T0);
    const up = s.observe('spans', [latency({ severity: 'critical' })], T0 + W);
    expect(up.map((t) => [t.transition, t.sequence, t.signal.severity])).toEqual([['updated', 2, 'critical']]);
    expect(s.observe('spans', [latency({ severity: 'critical' })], T0 + 2 * W)).toEqual([]);
    const again = s.observe('spans', [latency({ severity: 'critical' })], T0 + 6 * W);
    expect(again.map((t) => t.transition)).toEqual(['updated']);
  });

  test('findings from one source do not resolve signals of the other', () => {
    const s = synth();
    s.observe('metrics', [latency({ kind: 'metric_threshold', metric: 'cpu', operation: '' }, { rule: 'cpu-hot', direction: 'above', threshold: 0.9, value: 0.95 })], T0);
    for (let k = 1; k < 10; k++) expect(s.observe('spans', [], T0 + k * W)).toEqual([]);
    expect(s.firing()).toHaveLength(1);
  });

  test('the fingerprint ignores which burn-rate pair fires, but not metric rules or attributes', () => {
    const s = synth();
    const burn = (long: string): Finding => ({ ...latency({ kind: 'error_budget_burn', operation: '', slo: 'checkout-availability', severity: 'critical', magnitude: 20 }), evidence: { rule: { long, short: '5m', factor: 14.4 }, budgetConsumed: 0.1, objective: 0.999, sli: 'availability', period: '30d' } });
    const a = s.observe('spans', [burn('1h')], T0)[0].signal.fingerprint;
    expect(s.observe('spans', [burn('6h')], T0 + W)).toEqual([]);
    expect(s.firing()[0].fingerprint).toBe(a);
    const m = (rule: string, cpu: string): Finding => latency({ kind: 'metric_threshold', metric: 'cpu', operation: '' }, { rule, attributes: { cpu }, direction: 'above', threshold: 0.9, value: 0.95 });
    const fps = s.observe('metrics', [m('hot', '0'), m('hot', '1'), m('warm', '0')], T0).map((t) => t.signal.fingerprint);
    expect(new Set(fps).size).toBe(3);
  });

  test('a flapping fingerprint needs three times longer to resolve', () => {
    const s = synth({ resolve_after: 2, flap_threshold: 3, flap_windows: 100 });
    let t = T0;
    const cycle = (): string[] => {
      const out = s.observe('spans', [latency()], (t += W)).map((x) => x.transition);
      for (let k = 0; k < 2; k++) out.push(...s.observe('spans', [], (t += W)).map((x) => x.transition));
      return out;
    };
    expect(cycle()).toEqual(['firing', 'resolved']);
    expect(cycle()).toEqual(['firing', 'resolved']);
    // Third start within the flap window: two clean closes no longer resolve it…
    expect(cycle()).toEqual(['firing']);
    const rest: string[] = [];
    for (let k = 0; k < 4; k++) rest.push(...s.observe('spans', [], (t += W)).map((x) => x.transition));
    // …six do (2 × 3).
    expect(rest).toEqual(['resolved']);
  });

  test('restore continues signals that were firing before a restart: same id, next sequence, no new firing', () => {
    const before = synth();
    const [fired] = before.observe('spans', [latency()], T0);
    const s = synth();
    s.restore([{ signal: fired.signal, sequence: 1 }]);
    expect(s.firing().map((x) => x.id)).toEqual(['id-1']);
    // Still found after the restart: an update in place, nothing to send.
    expect(s.observe('spans', [latency()], T0 + W)).toEqual([]);
    for (let k = 2; k < 4; k++) expect(s.observe('spans', [], T0 + k * W)).toEqual([]);
    const end = s.observe('spans', [], T0 + 4 * W);
    expect(end.map((t) => [t.transition, t.sequence, t.signal.id])).toEqual([['resolved', 2, 'id-1']]);
  });

  test('priority: severity, intensity, blast radius, business weight and tier, with its inputs in evidence', () => {
    const s = synth();
    const [crit] = s.observe('spans', [latency({ severity: 'critical', magnitude: 4 })], T0, () => 1);
    const [quiet] = s.observe('spans', [latency({ service: 'search', operation: 'GET /q', magnitude: 1.6 })], T0, () => 0.05);
    expect(crit.signal.priority).toBeGreaterThan(quiet.signal.priority);
    expect(crit.signal.evidence.priorityInputs).toEqual({ severity: 1, intensity: 0.667, blast: 1, business: 1, tierFactor: 1 });
    expect(crit.signal.priority).toBe(priorityOf({ severity: 1, intensity: 0.667, blast: 1, business: 1, tierFactor: 1 }));
    expect(s.firing().map((x) => x.service)).toEqual(['checkout', 'search']);
    expect(priorityOf(priorityInputs('critical', 1000, 1, 5, 5, 1))).toBeLessThanOrEqual(100);
    expect(priorityOf(priorityInputs('info', 1, 0, 0, 5, 5))).toBeGreaterThanOrEqual(0);
  });
});

describe('fingerprints of span series', () => {
  test('series of one operation that differ by kind or dimensions are separate signals', () => {
    const s = synth();
    const f = (series: string): Finding => latency({}, { series });
    const out = s.observe('spans', [f('server {}'), f('client {}'), f('server {"deployment.environment":"canary"}')], T0);
    expect(new Set(out.map((t) => t.signal.fingerprint)).size).toBe(3);
  });
});
