import { describe, expect, test } from 'vitest';
import { activeAt, buildSchedule, effectOn, phaseAt } from '../../src/demo/incidents.js';
import { MIN_INCIDENT_MS, SCENARIO_WARMUP_MS } from '../../src/demo/sidecar-config.js';

const schedule = (scenarioMs: number) => buildSchedule({ scenarioMs, warmupMs: SCENARIO_WARMUP_MS, minIncidentMs: MIN_INCIDENT_MS });

describe('incident schedule', () => {
  test('the four incidents, after the warm-up, staggered, ending before the run does', () => {
    const s = schedule(300_000);
    expect(s.map((i) => `${i.kind} ${i.service}`)).toEqual(['latency_regression payments', 'error_burst checkout', 'traffic_drop search', 'cpu_saturation shipping']);
    expect(s[0].startMs).toBe(SCENARIO_WARMUP_MS);
    for (let k = 1; k < s.length; k++) expect(s[k].startMs).toBeGreaterThan(s[k - 1].startMs);
    for (const i of s) {
      expect(i.endMs - i.startMs).toBeGreaterThanOrEqual(MIN_INCIDENT_MS);
      expect(i.endMs).toBeLessThanOrEqual(300_000);
    }
    // The first signal can appear within about a minute: the first incident starts well before.
    expect(s[0].startMs).toBeLessThanOrEqual(45_000);
    // Time for the last one's signals to resolve before the end.
    expect(300_000 - Math.max(...s.map((i) => i.endMs))).toBeGreaterThan(30_000);
  });

  test('a short run still gets every incident at least the minimum length; a too short one gets fewer', () => {
    const s = schedule(90_000);
    expect(s).toHaveLength(4);
    for (const i of s) expect(i.endMs - i.startMs).toBe(MIN_INCIDENT_MS);
    expect(schedule(SCENARIO_WARMUP_MS + MIN_INCIDENT_MS)).toHaveLength(1);
    expect(schedule(30_000)).toEqual([]);
  });

  test('effects apply to their service (and operation) only while the incident lasts', () => {
    const s = schedule(300_000);
    const [slow, errors, drop, cpu] = s;
    const mid = (i: (typeof s)[number]) => (i.startMs + i.endMs) / 2;
    expect(effectOn(s, mid(slow), 'payments', 'POST /payments/charge').latencyFactor).toBe(4);
    expect(effectOn(s, mid(slow), 'checkout', 'POST /checkout').latencyFactor).toBe(1);
    expect(effectOn(s, slow.endMs, 'payments', 'POST /payments/charge').latencyFactor).toBe(1);
    expect(effectOn(s, mid(errors), 'checkout', 'POST /checkout').errorRate).toBe(0.4);
    expect(effectOn(s, mid(errors), 'checkout', 'GET /other').errorRate).toBeUndefined();
    expect(effectOn(s, mid(drop), 'search', 'GET /search').rateFactor).toBe(0.03);
    expect(effectOn(s, mid(drop), 'catalog', 'GET /products').rateFactor).toBe(1);
    expect(effectOn(s, mid(cpu), 'shipping').cpu).toBe(0.96);
    expect(effectOn(s, cpu.startMs - 1, 'shipping').cpu).toBeUndefined();
  });

  test('phases and active incidents over time', () => {
    const s = schedule(300_000);
    expect(phaseAt(s, SCENARIO_WARMUP_MS, 1000)).toBe('warm-up');
    expect(phaseAt(s, SCENARIO_WARMUP_MS, s[0].startMs)).toBe('incident');
    expect(activeAt(s, s[1].startMs).map((i) => i.service)).toEqual(['payments', 'checkout']);
    expect(phaseAt(s, SCENARIO_WARMUP_MS, 299_000)).toBe('recovery');
    expect(activeAt(s, 299_000)).toEqual([]);
  });
});
