import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import type { SignalTransition } from '../../src/signals/signal.js';
import { FileSink } from '../../src/sinks/file-sink.js';
import { createSink } from '../../src/sinks/registry.js';
import { type Delivery, idempotencyKey } from '../../src/sinks/sink.js';
import pino from 'pino';
import { parseConfig } from '../../src/config/index.js';
import { StdoutSink } from '../../src/sinks/stdout-sink.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function transition(n: number, t: SignalTransition['transition'] = 'firing'): Delivery {
  const d: SignalTransition = {
    transition: t,
    sequence: n,
    signal: {
      id: `id-${n}`, fingerprint: 'f'.repeat(16), kind: 'traffic_drop', status: t === 'resolved' ? 'resolved' : 'firing', severity: 'critical', priority: 80,
      service: 'checkout', operation: '', slo: '', metric: '', outcomes: [], owner: '', title: 'checkout: traffic dropped', summary: 'x'.repeat(100),
      evidence: { ratio: 0 }, exemplars: [], startsAt: '2026-11-25T00:00:00.000Z', updatedAt: '2026-11-25T00:00:00.000Z', endsAt: null,
    },
  };
  return { ...d, key: idempotencyKey(d) };
}

describe('sinks', () => {
  test('stdout: one JSON line per transition, transition and sequence on top', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    await new StdoutSink('stdout[0]', out).deliver([transition(1), transition(2, 'resolved')]);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ transition: 'firing', sequence: 1, key: `${'f'.repeat(16)}:${Date.parse('2026-11-25T00:00:00.000Z').toString(36)}:1`, id: 'id-1', kind: 'traffic_drop', service: 'checkout' });
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
    const context = { name: 'file[0]', logger: pino({ level: 'silent' }), firing: () => [], externalUrl: 'http://127.0.0.1:13133' };
    const [config] = parseConfig(`sinks:\n  - { type: file, path: "${path.join(blocker, 'signals.jsonl')}" }\n`, { source: 't.yaml', env: {} }).sinks;
    const sink = await createSink(config, context);
    expect(sink).toBeInstanceOf(FileSink);
    await expect(sink.deliver([transition(1)])).rejects.toThrow();
    expect((await createSink({ type: 'stdout', name: '', retry: config.retry }, { ...context, name: 'stdout[2]' })).name).toBe('stdout[2]');
  });
});
