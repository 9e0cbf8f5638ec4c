import { describe, expect, test } from 'vitest';
import { type SignalSummary, SignalTracker } from '../../src/demo/signal-feed.js';

function signal(id: string, over: Partial<SignalSummary> = {}): SignalSummary {
  return { id, fingerprint: `fp-${id}`, kind: 'traffic_drop', status: 'firing', severity: 'warning', service: 'search', operation: '', title: `t ${id}`, startsAt: `2026-12-02T00:00:0${id}Z`, endsAt: null, ...over };
}

describe('SignalTracker', () => {
  test('reports each signal once when it fires, when it reaches a new worst severity, and when it resolves', () => {
    const t = new SignalTracker();
    expect(t.update([])).toEqual([]);
    expect(t.update([signal('1')]).map((e) => e.type)).toEqual(['fired']);
    expect(t.update([signal('1')])).toEqual([]);
    expect(t.update([signal('1', { severity: 'critical' })]).map((e) => e.type)).toEqual(['escalated']);
    // Back down and up again (a ratio hovering at a boundary): no news.
    expect(t.update([signal('1', { severity: 'warning' })])).toEqual([]);
    expect(t.update([signal('1', { severity: 'critical' })])).toEqual([]);
    expect(t.update([signal('1', { status: 'resolved', endsAt: '2026-12-02T00:01:00Z' })]).map((e) => e.type)).toEqual(['resolved']);
    expect(t.update([signal('1', { status: 'resolved' })])).toEqual([]);
    expect(t.signals).toHaveLength(1);
    expect(t.signals[0].status).toBe('resolved');
  });

  test('a signal that fired and resolved between two polls is reported twice; events come oldest first', () => {
    const t = new SignalTracker();
    const events = t.update([signal('3'), signal('2', { status: 'resolved' })]);
    expect(events.map((e) => `${e.type} ${e.signal.id}`)).toEqual(['fired 2', 'resolved 2', 'fired 3']);
  });
});
