import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import type { SignalTransition } from '../../src/signals/signal.js';
import { FileSink } from '../../src/sinks/file-sink.js';
import { createSink } from '../../src/sinks/registry.js';
import { StdoutSink } from '../../src/sinks/stdout-sink.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function transition(n: number, t: SignalTransition['transition'] = 'firing'): SignalTransition {
  return {
    transition: t,
    sequence: n,
    signal: {
      id: `id-${n}`, fingerprint: 'f'.repeat(16), kind: 'traffic_drop', status: t === 'resolved' ? 'resolved' : 'firing', severity: 'critical', priority: 80,
      service: 'checkout', operation: '', slo: '', metric: '', outcomes: [], owner: '', title: 'checkout: traffic dropped', summary: 'x'.repeat(100),
      evidence: { ratio: 0 }, exemplars: [], startsAt: '2026-11-25T00:00:00.000Z', updatedAt: '2026-11-25T00:00:00.000Z', endsAt: null,
    },
  };
}

describe('sinks', () => {
  test('stdout: one JSON line per transition, transition and sequence on top', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    await new StdoutSink('stdout[0]', out).deliver([transition(1), transition(2, 'resolved')]);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ transition: 'firing', sequence: 1, id: 'id-1', kind: 'traffic_drop', service: 'checkout' });
    expect(lines[1]).toMatchObject({ transition: 'resolved', status: 'resolved' });
  });

  test('file: appends JSON lines, creates its directory, and rotates by size', async () => {
    const file = path.join(dir, 'nested', 'signals.jsonl');
    const sink = new FileSink('file[0]', file, 2000);
    for (let i = 1; i <= 10; i++) await sink.deliver([transition(i)]);
    await sink.close();
    const current = readFileSync(file, 'utf8').trim().split('\n');
    expect(existsSync(`${file}.1`)).toBe(true);
    const rotated = readFileSync(`${file}.1`, 'utf8').trim().split('\n');
    // Nothing lost across the rotation, order kept, and each file under its limit.
    const seqs = [...rotated, ...current].map((l) => (JSON.parse(l) as { sequence: number }).sequence);
    expect(seqs.slice(-current.length)).toEqual(Array.from({ length: current.length }, (_, i) => 10 - current.length + 1 + i));
    expect(Buffer.byteLength(readFileSync(file))).toBeLessThanOrEqual(2000);
  });

  test('file: concurrent deliveries are written whole and in order', async () => {
    const file = path.join(dir, 'concurrent.jsonl');
    const sink = new FileSink('file[1]', file, 1 << 20);
    await Promise.all(Array.from({ length: 50 }, (_, i) => sink.deliver([transition(i + 1)])));
    const seqs = readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { sequence: number }).sequence);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  test('file: a delivery to an unwritable place rejects; the registry builds sinks by type', async () => {
    // A regular file where a directory should be: mkdir fails with ENOTDIR.
    const blocker = path.join(dir, 'blocker');
    writeFileSync(blocker, 'x');
    const sink = createSink({ type: 'file', path: path.join(blocker, 'signals.jsonl'), max_mb: 1 }, 0);
    await expect(sink.deliver([transition(1)])).rejects.toThrow();
    expect(createSink({ type: 'stdout', path: '', max_mb: 1 }, 2).name).toBe('stdout[2]');
  });
});
