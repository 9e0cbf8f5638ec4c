/**
 * StringInterner: decode a byte sequence once, hand back the held string afterwards, and stay
 * bounded whatever the client sends.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StringInterner } from '../../src/otlp/interner.js';

const bytes = (s: string, pad = 0): Buffer => Buffer.concat([Buffer.alloc(pad, 0xee), Buffer.from(s, 'utf8'), Buffer.alloc(pad, 0xee)]);
const intern = (i: StringInterner, s: string, pad = 0): string => i.intern(bytes(s, pad), pad, pad + Buffer.byteLength(s));

/** Counts UTF-8 decodes done by the interner (it decodes through Buffer#toString). */
function countDecodes(): { readonly count: number } {
  const spy = vi.spyOn(Buffer.prototype, 'toString');
  return {
    get count() {
      return spy.mock.calls.filter((args) => args[0] === 'utf8').length;
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s)) h = Math.imul(h ^ b, 0x01000193);
  return h;
}

describe('StringInterner', () => {
  it('decodes a byte sequence once and returns the held string for every later occurrence', () => {
    const interner = new StringInterner();
    const decodes = countDecodes();
    const first = intern(interner, 'checkout');
    // Same bytes, other buffers, other offsets.
    for (let pad = 0; pad < 5; pad++) expect(intern(interner, 'checkout', pad)).toBe(first);
    expect(first).toBe('checkout');
    expect(decodes.count).toBe(1);
    expect(interner.size).toBe(1);
  });

  it('keeps distinct strings apart, including two with the same hash and length', () => {
    // "key-126wu" and "key-1dwfa" collide under 32-bit FNV-1a, the interner's hash.
    expect(fnv1a('key-126wu')).toBe(fnv1a('key-1dwfa'));
    const interner = new StringInterner();
    expect(intern(interner, 'key-126wu')).toBe('key-126wu');
    expect(intern(interner, 'key-1dwfa')).toBe('key-1dwfa');
    expect(intern(interner, 'key-126wu')).toBe('key-126wu');
    expect(intern(interner, 'key-1dwfa', 3)).toBe('key-1dwfa');
    expect(interner.size).toBe(2);
  });

  it('resolves slot collisions in a tiny table', () => {
    const interner = new StringInterner({ maxEntries: 4 });
    const words = ['a', 'b', 'c', 'd'];
    for (let round = 0; round < 3; round++) for (const w of words) expect(intern(interner, w)).toBe(w);
    expect(interner.size).toBe(4);
    expect(interner.resets).toBe(0);
  });

  it('stays within maxEntries by starting over, counting each reset', () => {
    const interner = new StringInterner({ maxEntries: 8 });
    for (let i = 0; i < 100; i++) {
      expect(intern(interner, `name-${i}`)).toBe(`name-${i}`);
      expect(interner.size).toBeLessThanOrEqual(8);
    }
    expect(interner.resets).toBe(12); // a reset at the 9th, 17th, ..., 97th distinct string
    expect(interner.size).toBe(4);
    // Still correct after the resets, for old and new strings alike.
    expect(intern(interner, 'name-0')).toBe('name-0');
    expect(intern(interner, 'name-99')).toBe('name-99');
  });

  it('bounds the bytes it holds, not only the number of strings', () => {
    const interner = new StringInterner({ maxEntries: 1000, maxLength: 256 });
    for (let i = 0; i < 1500; i++) {
      const s = `${i}:`.padEnd(256, 'x');
      expect(intern(interner, s)).toBe(s);
    }
    // 1500 × 256 bytes would be 384 KB; the arena tops out below maxEntries × maxLength.
    expect(interner.resets).toBeGreaterThan(1);
    expect(interner.size * 256).toBeLessThanOrEqual(1000 * 256);
  });

  it('does not intern strings longer than maxLength', () => {
    const interner = new StringInterner({ maxLength: 16 });
    const decodes = countDecodes();
    const long = 'l'.repeat(17);
    expect(intern(interner, long)).toBe(long);
    expect(intern(interner, long)).toBe(long);
    expect(decodes.count).toBe(2);
    expect(interner.size).toBe(0);
    expect(intern(interner, 's'.repeat(16))).toBe('s'.repeat(16));
    expect(interner.size).toBe(1);
  });

  it('returns "" for empty input without holding it', () => {
    const interner = new StringInterner();
    expect(interner.intern(Buffer.from('abc'), 1, 1)).toBe('');
    expect(interner.size).toBe(0);
  });

  it('handles multi-byte UTF-8 and decodes invalid UTF-8 as Buffer does', () => {
    const interner = new StringInterner();
    for (const s of ['héllo', 'héllo', '日本語', '🚀 launch', 'e\u0301', 'Ωμέγα', '😀😀', '😀😁']) expect(intern(interner, s)).toBe(s);
    expect(interner.size).toBe(7);
    const invalid = Buffer.from([0x61, 0xff, 0xc3, 0x62]);
    expect(interner.intern(invalid, 0, 4)).toBe(invalid.toString('utf8'));
    expect(interner.intern(Buffer.from(invalid), 0, 4)).toBe('a\ufffd\ufffdb');
  });
});
