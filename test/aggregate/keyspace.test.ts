import { describe, expect, test } from 'vitest';
import { type KeyedSeries, OVERFLOW_OPERATION, OVERFLOW_SERVICE, SeriesKeyspace } from '../../src/aggregate/keyspace.js';

interface TestSeries extends KeyedSeries {
  id: number;
}

function keyspace(maxSeries: number, ttlMs = 1000, capHits: number[] = []) {
  let id = 0;
  return new SeriesKeyspace<TestSeries>({
    parts: 2,
    maxSeries,
    ttlMs,
    create: (service, keyParts, overflow, now) => ({ service, keyParts, overflow, lastSeen: now, id: id++ }),
    onCapReached: (n) => capHits.push(n),
  });
}

describe('SeriesKeyspace', () => {
  test('the same key finds the same series; different keys different ones', () => {
    const ks = keyspace(10);
    const a = ks.lookup('svc', ['GET /a', 'server'], 0);
    expect(ks.lookup('svc', ['GET /a', 'server'], 1)).toBe(a);
    expect(ks.lookup('svc', ['GET /a', 'client'], 1)).not.toBe(a);
    expect(ks.lookup('other', ['GET /a', 'server'], 1)).not.toBe(a);
    expect(ks.size).toBe(3);
    expect(a.keyParts).toEqual(['GET /a', 'server']);
  });

  test('does not keep the caller’s parts array', () => {
    const ks = keyspace(10);
    const parts = ['op', 'server'];
    const a = ks.lookup('svc', parts, 0);
    parts[0] = 'changed';
    expect(a.keyParts).toEqual(['op', 'server']);
    expect(ks.lookup('svc', ['op', 'server'], 0)).toBe(a);
  });

  test('past the cap, new keys fold into one overflow series per service, and the cap is reported once', () => {
    const hits: number[] = [];
    const ks = keyspace(3, 1000, hits);
    for (let i = 0; i < 3; i++) ks.lookup('svc', [`op${i}`, 'server'], 0);
    const o1 = ks.lookup('svc', ['op3', 'server'], 0);
    const o2 = ks.lookup('svc', ['op4', 'server'], 0);
    const other = ks.lookup('other', ['op0', 'server'], 0);
    expect(o1.overflow).toBe(true);
    expect(o1).toBe(o2);
    expect(o1.keyParts).toEqual([OVERFLOW_OPERATION, '']);
    expect(other.overflow).toBe(true);
    expect(other).not.toBe(o1);
    expect(other.service).toBe('other');
    expect(hits).toEqual([3]);
    expect(ks.overflowed).toBe(3);
    expect(ks.overflowSeries).toBe(2);
    // Existing keys are still found, not folded.
    expect(ks.lookup('svc', ['op1', 'server'], 0).overflow).toBe(false);
  });

  test('overflow series are bounded too: past the service share, one last-resort series', () => {
    const ks = keyspace(1);
    ks.lookup('s', ['a', 'b'], 0);
    const seen = new Set<TestSeries>();
    for (let i = 0; i < 100; i++) seen.add(ks.lookup(`svc${i}`, ['x', 'y'], 0));
    expect(seen.size).toBe(17); // 16 per-service overflow series, then the shared one
    expect([...seen].some((s) => s.service === OVERFLOW_SERVICE)).toBe(true);
    expect(ks.size).toBe(18);
  });

  test('idle series are evicted after the TTL, empty trie branches pruned, and keys can come back', () => {
    const ks = keyspace(2, 1000);
    const a = ks.lookup('svc', ['a', 'server'], 0);
    const b = ks.lookup('svc', ['b', 'server'], 0);
    b.lastSeen = 900;
    const evicted: TestSeries[] = [];
    expect(ks.evictIdle(1000, (s) => evicted.push(s))).toBe(1);
    expect(evicted).toEqual([a]);
    expect(ks.size).toBe(1);
    expect(ks.evicted).toBe(1);
    const a2 = ks.lookup('svc', ['a', 'server'], 1000);
    expect(a2).not.toBe(a);
    expect(a2.overflow).toBe(false);
    expect(ks.evictIdle(1900)).toBe(1); // b (last seen 900)
    expect(ks.evictIdle(2000)).toBe(1); // a2
    expect(ks.size).toBe(0);
  });

  test('eviction makes room under the cap and re-arms the cap warning', () => {
    const hits: number[] = [];
    const ks = keyspace(2, 100, hits);
    ks.lookup('svc', ['a', 'k'], 0);
    ks.lookup('svc', ['b', 'k'], 0);
    expect(ks.lookup('svc', ['c', 'k'], 0).overflow).toBe(true);
    expect(ks.evictIdle(100)).toBe(3); // both regular series and the overflow series
    expect(ks.lookup('svc', ['c', 'k'], 200).overflow).toBe(false);
    ks.lookup('svc', ['d', 'k'], 200);
    expect(ks.lookup('svc', ['e', 'k'], 200).overflow).toBe(true);
    expect(hits).toEqual([2, 2]);
  });

  test('a single-part keyspace works', () => {
    const ks = new SeriesKeyspace<TestSeries>({
      parts: 1, maxSeries: 5, ttlMs: 10,
      create: (service, keyParts, overflow, now) => ({ service, keyParts, overflow, lastSeen: now, id: 0 }),
    });
    const a = ks.lookup('s', ['x'], 0);
    expect(ks.lookup('s', ['x'], 0)).toBe(a);
    expect(ks.evictIdle(10)).toBe(1);
    expect(ks.size).toBe(0);
  });
});
