import { describe, expect, test } from 'vitest';
import { buildSchedule } from '../../src/demo/incidents.js';
import type { SignalSummary } from '../../src/demo/signal-feed.js';
import { LiveView, PlainView, clock, summaryLines, truncate } from '../../src/demo/view.js';

const signal = (over: Partial<SignalSummary>): SignalSummary => ({
  id: 'a', fingerprint: 'f', kind: 'latency_regression', status: 'firing', severity: 'critical', service: 'payments', operation: 'POST /payments/charge',
  title: 'payments POST /payments/charge: p99 latency is 4.1× its usual 156 ms', startsAt: '2026-12-02T00:00:00Z', endsAt: null, ...over,
});
const header = { seed: 1, speed: 1, durationMs: 90_000, services: ['checkout', 'payments'], otlpEndpoint: '127.0.0.1:4317', adminUrl: 'http://127.0.0.1:13133', sidecarPid: 42, notes: [] };
const incident = buildSchedule({ scenarioMs: 300_000, warmupMs: 36_000, minIncidentMs: 20_000 })[0];

describe('terminal view', () => {
  test('clock', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(65_400)).toBe('1:05');
    expect(clock(600_000)).toBe('10:00');
  });

  test('plain view: one line per event, progress every 10 s, no escape codes', () => {
    let out = '';
    const v = new PlainView((t) => (out += t));
    v.header(header);
    v.status({ elapsedMs: 0, durationMs: 90_000, phase: 'warm-up', active: [], next: incident, spansPerSecond: 0, spansSent: 0 });
    v.status({ elapsedMs: 5_000, durationMs: 90_000, phase: 'warm-up', active: [], next: incident, spansPerSecond: 600, spansSent: 3000 });
    v.status({ elapsedMs: 10_000, durationMs: 90_000, phase: 'warm-up', active: [], next: incident, spansPerSecond: 612.4, spansSent: 6000 });
    v.incident('started', incident, 36_000, 1);
    v.signal({ type: 'fired', signal: signal({}) }, 41_000);
    v.signal({ type: 'resolved', signal: signal({ status: 'resolved' }) }, 63_000);
    v.close(['summary: 1 signal(s)']);
    const lines = out.trim().split('\n');
    expect(lines[1]).toBe('sidecar pid 42, admin http://127.0.0.1:13133/ (signals: http://127.0.0.1:13133/api/v1/signals)');
    expect(lines.filter((l) => l.includes('progress'))).toEqual(['[0:00] progress 0:00/1:30 warm-up, 0 spans/s, 0 spans sent', '[0:10] progress 0:10/1:30 warm-up, 612 spans/s, 6000 spans sent']);
    expect(lines).toContain('[0:36] incident started: latency_regression payments (payments POST /payments/charge 4× slower (card processor degraded), 0:36–2:08)');
    expect(lines).toContain('[0:41] FIRING    critical latency_regression payments  payments POST /payments/charge: p99 latency is 4.1× its usual 156 ms');
    expect(lines.some((l) => l.startsWith('[1:03] RESOLVED  critical latency_regression payments'))).toBe(true);
    expect(out).not.toContain('\x1b');
  });

  test('live view: redraws in place, lines cut to the terminal width', () => {
    const writes: string[] = [];
    const v = new LiveView((t) => void writes.push(t), () => 60);
    v.header(header);
    v.status({ elapsedMs: 45_000, durationMs: 90_000, phase: 'incident', active: [incident], next: undefined, spansPerSecond: 500, spansSent: 20_000 });
    v.signal({ type: 'fired', signal: signal({}) }, 41_000);
    const last = writes.at(-1) ?? '';
    // Moves up over the previous frame, clears, draws.
    expect(last).toMatch(/^\x1b\[\d+A\r\x1b\[J/);
    const frame = last.replace(/^\x1b\[\d+A\r\x1b\[J/, '');
    for (const line of frame.split('\n')) expect(line.replace(/\x1b\[[0-9;]*m/g, '').length).toBeLessThanOrEqual(59);
    expect(frame).toContain('FIRING');
    expect(frame).toContain('signals: 1 firing, 0 resolved');
    v.close(['summary']);
    expect(writes.at(-1)).toMatch(/summary\n\x1b\[\?25h$/);
  });

  test('truncate keeps escape sequences and counts only visible characters', () => {
    expect(truncate('abcdef', 4)).toBe('abcd\x1b[0m');
    expect(truncate('\x1b[31mab\x1b[0mcd', 3)).toBe('\x1b[31mab\x1b[0mc\x1b[0m');
    expect(truncate('abc', 10)).toBe('abc');
  });

  test('summary: signals per kind and service', () => {
    const lines = summaryLines(
      [signal({ id: '1' }), signal({ id: '2', service: 'checkout', status: 'resolved' }), signal({ id: '3', kind: 'traffic_drop', service: 'search', status: 'resolved' }), signal({ id: '4', service: 'checkout' })],
      44_175,
      75_000,
    );
    expect(lines).toEqual([
      'summary: 4 signal(s) fired, 2 resolved, 2 still firing; 44,175 spans sent in 1:15',
      '  latency_regression payments ×1, checkout ×2',
      '  traffic_drop       search ×1',
    ]);
    expect(summaryLines([], 0, 1000)[1]).toBe('  (no signals)');
  });
});
