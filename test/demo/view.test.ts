import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { buildSchedule } from '../../src/demo/incidents.js';
import type { SignalSummary } from '../../src/demo/signal-feed.js';
import { LiveView, PlainView, type Terminal, clock, summaryLines, truncate } from '../../src/demo/view.js';

const signal = (over: Partial<SignalSummary>): SignalSummary => ({
  id: 'a', fingerprint: 'f', kind: 'latency_regression', status: 'firing', severity: 'critical', service: 'payments', operation: 'POST /payments/charge',
  title: 'payments POST /payments/charge: p99 latency is 4.1× its usual 156 ms', startsAt: '2026-12-02T00:00:00Z', endsAt: null, ...over,
});
const header = { seed: 1, speed: 1, durationMs: 90_000, services: ['checkout', 'payments'], otlpEndpoint: '127.0.0.1:4317', adminUrl: 'http://127.0.0.1:13133', sidecarPid: 42, notes: [] };
const incident = buildSchedule({ scenarioMs: 300_000, warmupMs: 36_000, minIncidentMs: 20_000 })[0];
const status = { elapsedMs: 45_000, durationMs: 90_000, phase: 'incident', active: [incident], next: undefined, spansPerSecond: 500, spansSent: 20_000 };

/** A terminal of a given size that records what is written. */
class FakeTerminal extends EventEmitter implements Terminal {
  readonly writes: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
  /** The lines of the last frame, escape codes removed. */
  lastFrame(): string[] {
    const last = (this.writes.at(-1) ?? '').replace(/^(\x1b\[\d+A\r)?\x1b\[J/, '');
    return last.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\n').slice(0, -1);
  }
}

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
    const term = new FakeTerminal(60, 40);
    const writes = term.writes;
    const v = new LiveView(term);
    v.header(header);
    v.status(status);
    v.signal({ type: 'fired', signal: signal({}) }, 41_000);
    const last = writes.at(-1) ?? '';
    // Moves up over the previous frame, clears, draws.
    expect(last).toMatch(/^\x1b\[\d+A\r\x1b\[J/);
    const frame = last.replace(/^\x1b\[\d+A\r\x1b\[J/, '');
    for (const line of frame.split('\n')) expect(line.replace(/\x1b\[[0-9;]*m/g, '').length).toBeLessThanOrEqual(59);
    expect(frame).toContain('FIRING');
    expect(frame).toContain('signals: 1 firing, 0 resolved');
    v.close(['summary']);
    expect(writes.at(-2)).toBe('summary\n');
    expect(writes.at(-1)).toBe('\x1b[?25h');
    expect(term.listenerCount('resize')).toBe(0);
  });

  test('live view: a frame never taller than the screen less one line; signal rows and log lines go first', () => {
    const term = new FakeTerminal(120, 40);
    const v = new LiveView(term);
    v.header({ ...header, notes: ['note: default grpc port 4317 is busy, using a free port instead'] });
    v.status(status);
    for (let i = 0; i < 12; i++) v.signal({ type: 'fired', signal: signal({ id: String(i), title: `signal ${i}` }) }, 41_000 + i);
    for (let i = 0; i < 4; i++) v.note(`log ${i}`);
    // Tall enough: 10 rows, "… 2 more", the four log lines.
    const full = term.lastFrame();
    expect(full.filter((l) => l.includes('FIRING'))).toHaveLength(10);
    expect(full).toContain('  … 2 more');
    expect(full.filter((l) => l.startsWith('  log '))).toHaveLength(4);
    for (const rows of [24, 12, 8, 5, 3, 2, 1]) {
      term.rows = rows;
      v.status(status);
      const lines = term.lastFrame();
      expect(lines.length, `rows ${rows}`).toBeLessThanOrEqual(Math.max(1, rows - 1));
      // The progress line stays whatever is dropped.
      expect(lines.some((l) => l.includes('0:45 / 1:30')), `rows ${rows}`).toBe(true);
    }
    term.rows = 12;
    v.status(status);
    const short = term.lastFrame();
    // 3 header lines, progress, incidents, counts and the footer leave 4 lines: 3 rows and "… 9 more", no log.
    expect(short.slice(0, 3).map((l) => l.slice(0, 18))).toEqual(['otel-friction demo', 'sidecar pid 42, ad', 'note: default grpc']);
    expect(short.filter((l) => l.includes('FIRING'))).toHaveLength(3);
    expect(short).toContain('  … 9 more');
    expect(short.some((l) => l.startsWith('  log '))).toBe(false);
    expect(short.at(-1)).toBe('Ctrl-C to stop');
    term.rows = 21;
    v.status(status);
    // The full table (10 rows and "… 2 more"), then the newest log lines that fit.
    const some = term.lastFrame();
    expect(some.filter((l) => l.includes('FIRING'))).toHaveLength(10);
    expect(some.filter((l) => l.startsWith('  log '))).toEqual(['  log 2', '  log 3']);
    term.rows = 0; // a pty without a size: 24 rows assumed
    v.status(status);
    expect(term.lastFrame().length).toBeLessThanOrEqual(23);
  });

  test('live view: a resize clears the screen and draws the frame afresh', () => {
    const term = new FakeTerminal(100, 30);
    const v = new LiveView(term);
    v.header(header);
    v.status(status);
    term.columns = 50;
    term.emit('resize');
    // No move up over the old frame: it was rewrapped to the new width, its line count is unknown.
    expect(term.writes.at(-2)).toBe('\x1b[H\x1b[2J');
    expect(term.writes.at(-1)).toMatch(/^\x1b\[J/);
    for (const line of term.lastFrame()) expect(line.length).toBeLessThanOrEqual(49);
    v.status(status);
    expect(term.writes.at(-1)).toMatch(new RegExp(`^\\x1b\\[${term.lastFrame().length}A\\r`));
  });

  test('live view: dispose shows the cursor once, for exit and error paths', () => {
    const term = new FakeTerminal(80, 24);
    const v = new LiveView(term);
    v.dispose(); // nothing hidden yet
    expect(term.writes).toEqual([]);
    v.header(header);
    expect(term.writes[0]).toBe('\x1b[?25l');
    v.dispose();
    v.dispose();
    expect(term.writes.filter((w) => w === '\x1b[?25h')).toHaveLength(1);
    expect(term.listenerCount('resize')).toBe(0);
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
