import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { RequestRecorder } from '../../src/replay/recorder.js';
import { FRAME_HEADER, frameHeader, readFrames } from '../../src/replay/recording.js';
import { replay } from '../../src/replay/replay.js';
import { createLogger } from '../../src/telemetry/logger.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recording frames', () => {
  test('round trip, and a cut-short file is reported with its offset', () => {
    const a = Buffer.from('abc');
    const b = Buffer.from('{"resourceMetrics":[]}');
    const file = Buffer.concat([frameHeader('traces', 'protobuf', 1000.5, a.length), a, frameHeader('metrics', 'json', 2000, b.length), b]);
    const frames = [...readFrames(file, 'x.otlp')];
    expect(frames.map((f) => [f.signal, f.encoding, f.receivedAt, f.body.toString()])).toEqual([
      ['traces', 'protobuf', 1000.5, 'abc'],
      ['metrics', 'json', 2000, '{"resourceMetrics":[]}'],
    ]);
    expect(() => [...readFrames(file.subarray(0, file.length - 1), 'x.otlp')]).toThrow(/x.otlp: frame at byte 17 runs past the end/);
    expect(() => [...readFrames(Buffer.alloc(FRAME_HEADER + 1, 9), 'y.otlp')]).toThrow(/not a recording frame at byte 0/);
  });

  test('the recorder copies bodies, rotates files and keeps the directory under its budget', async () => {
    const rec = path.join(dir, 'rec');
    let now = 1_700_000_000_000;
    const r = new RequestRecorder(rec, 8 * 1024 * 1024, createLogger('silent'), () => now++);
    const body = Buffer.alloc(256 * 1024, 7);
    for (let i = 0; i < 80; i++) {
      body[0] = i;
      r.record('traces', 'protobuf', body);
    }
    body[0] = 255; // the receiver reuses its buffer: what was recorded must not change
    await r.close();
    const files = readdirSync(rec).filter((f) => f.endsWith('.otlp')).sort();
    const total = files.reduce((n, f) => n + readFileSync(path.join(rec, f)).length, 0);
    expect(files.length).toBeGreaterThan(1);
    expect(total).toBeLessThanOrEqual(8 * 1024 * 1024 + 1024 * 1024);
    const last = [...readFrames(readFileSync(path.join(rec, files.at(-1) as string)), 'last')];
    expect(last.at(-1)?.body[0]).toBe(79);
    expect(r.recorded).toBe(80);
  });
});

describe('replay', () => {
  test('OTLP-JSON lines replay on their own clock; undecodable lines are skipped and reported', async () => {
    const config = defaultConfig();
    config.aggregation.window = 1000;
    config.slos = [{ name: 'api', service: 'api', operation: '*', objective: 0.99, period: 3_600_000, sli: { kind: 'availability', threshold_ms: 0 }, outcomes: [] }];
    config.alerting.burn_rate_windows = [{ long: 10_000, short: 2_000, factor: 10, severity: 'critical' }];
    config.signals.resolve_after = 2;
    const t0 = Date.UTC(2026, 0, 1);
    const lines: string[] = [];
    // 60 seconds, 20 spans a second; seconds 20–29 fail entirely.
    for (let sec = 0; sec < 60; sec++) {
      const spans = Array.from({ length: 20 }, (_, i) => ({
        traceId: (sec * 100 + i + 1).toString(16).padStart(32, '0'),
        spanId: (i + 1).toString(16).padStart(16, '0'),
        name: 'GET /x',
        kind: 2,
        startTimeUnixNano: String(BigInt(t0 + sec * 1000 + i * 10) * 1_000_000n),
        endTimeUnixNano: String(BigInt(t0 + sec * 1000 + i * 10 + 5) * 1_000_000n),
        status: { code: sec >= 20 && sec < 30 ? 2 : 0 },
      }));
      lines.push(JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }, scopeSpans: [{ spans }] }] }));
      if (sec === 40) lines.push('{"resourceSpans": [ not json');
    }
    const input = path.join(dir, 'traffic.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const seen: string[] = [];
    const result = await replay(config, [input], (t) => seen.push(`${t.transition}:${t.signal.kind}`));
    expect(result).toMatchObject({ files: 1, requests: 61, spans: 1200 });
    expect(result.skipped).toHaveLength(1);
    expect(seen).toEqual(['firing:error_budget_burn', 'resolved:error_budget_burn']);
    const fired = result.transitions[0].signal;
    // The simulated clock comes from the spans: the signal starts in the failing seconds.
    expect(Date.parse(fired.startsAt)).toBeGreaterThanOrEqual(t0 + 20_000);
    expect(Date.parse(fired.startsAt)).toBeLessThanOrEqual(t0 + 30_000);
  });
});
