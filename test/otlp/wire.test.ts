/**
 * WireReader against protobufjs' Writer: what protobufjs writes, the reader reads back exactly,
 * and everything out of bounds is a WireError.
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { WireError, WireReader, WireType, isAllZero, readTag } from '../../src/otlp/wire.js';
import { Random } from '../support/generate.js';

// protobufjs ships long.js but types util.Long as a bare constructor.
const Long = protobuf.util.Long as unknown as { fromString(s: string, unsigned: boolean): protobuf.Long };

function written(write: (w: protobuf.Writer) => void): Buffer {
  const w = protobuf.Writer.create();
  write(w);
  return Buffer.from(w.finish());
}

const reader = (bytes: Uint8Array): WireReader => new WireReader(Buffer.from(bytes));
const halves = (v: bigint): { hi: number; lo: number } => {
  const u = BigInt.asUintN(64, v);
  return { hi: Number(u >> 32n), lo: Number(u & 0xffffffffn) };
};
/** A protobufjs Long holding the low 64 bits of `v`, signed or unsigned. */
const long = (v: bigint, unsigned: boolean): protobuf.Long =>
  Long.fromString((unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v)).toString(), unsigned);

const EDGES = [0n, 1n, 127n, 128n, 300n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -1n, -2n, -(2n ** 31n), -(2n ** 53n) - 1n, -(2n ** 63n), 2n ** 64n - 1n];

/** Random 64-bit values of every magnitude, both signs, many just beyond ±2^53 (where rounding starts). */
function randomValues(n: number): bigint[] {
  const rng = new Random(42);
  return Array.from({ length: n }, () => {
    const v = rng.chance(0.5) ? rng.u64() >> BigInt(rng.int(0, 63)) : 2n ** 53n + BigInt(rng.u32()) * BigInt(rng.int(1, 1000));
    return rng.chance(0.5) ? -v : v;
  });
}

describe('WireReader varints', () => {
  it('reads 32-bit varints, including the 10-byte form of negative int32', () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 2 ** 28, 2 ** 31, 2 ** 32 - 1]) {
      const r = reader(written((w) => w.uint32(n)));
      expect(r.readUint32()).toBe(n);
      expect(r.pos).toBe(r.end);
    }
    for (const n of [-1, -2, -(2 ** 31)]) {
      const bytes = written((w) => w.int32(n));
      expect(bytes.length).toBe(10);
      const r = reader(bytes);
      expect(r.readUint32() | 0).toBe(n);
      expect(r.pos).toBe(10);
    }
  });

  it('reads 64-bit varints into exact halves and a correctly rounded signed number', () => {
    for (const v of [...EDGES, ...randomValues(2000)]) {
      const r = reader(written((w) => w.uint64(long(v, true))));
      const n = r.readVarint64();
      expect({ hi: r.hi, lo: r.lo }, String(v)).toEqual(halves(v));
      expect(n, String(v)).toBe(Number(BigInt.asIntN(64, v)));
      expect(r.pos).toBe(r.end);
    }
    expect(written((w) => w.int64(long(-1n, false))).length).toBe(10);
  });

  it('reads uint64 varints as unsigned numbers', () => {
    for (const v of [0n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, ...randomValues(500)]) {
      const u = BigInt.asUintN(64, v);
      expect(reader(written((w) => w.uint64(long(u, true)))).readUvarint64(), String(u)).toBe(Number(u));
    }
  });

  it('reads sint32 zigzag values', () => {
    for (const n of [0, -1, 1, -2, 2, 2 ** 31 - 1, -(2 ** 31), 123456, -123456]) expect(reader(written((w) => w.sint32(n))).readSint32()).toBe(n);
  });

  it('refuses varints longer than 10 bytes and varints cut short', () => {
    const eleven = Buffer.from([...Array(10).fill(0xff), 0x01]);
    expect(() => reader(eleven).readUint32()).toThrow(/longer than 10 bytes/);
    expect(() => reader(eleven).readVarint64()).toThrow(/longer than 10 bytes/);
    expect(() => reader(eleven).skip(WireType.VARINT, 1)).toThrow(/longer than 10 bytes/);
    for (let cut = 0; cut < 10; cut++) {
      const short = eleven.subarray(0, cut);
      expect(() => reader(short).readUint32()).toThrow(WireError);
      expect(() => reader(short).readVarint64()).toThrow(WireError);
      expect(() => reader(short).skip(WireType.VARINT, 1)).toThrow(WireError);
    }
  });
});

describe('WireReader fixed-width values', () => {
  it('reads fixed64 into its halves and as an unsigned number', () => {
    for (const v of [...EDGES, ...randomValues(500)]) {
      const u = BigInt.asUintN(64, v);
      const r = reader(written((w) => w.fixed64(long(u, true))));
      expect(r.readFixed64(), String(u)).toBe(Number(u));
      expect({ hi: r.hi, lo: r.lo }).toEqual(halves(u));
    }
  });

  it('reads sfixed64 as a signed number, -1 included', () => {
    for (const v of [...EDGES, ...randomValues(500)]) {
      const s = BigInt.asIntN(64, v);
      expect(reader(written((w) => w.sfixed64(long(s, false)))).readSfixed64(), String(s)).toBe(Number(s));
    }
  });

  it('reads doubles bit for bit', () => {
    for (const d of [0, -0, 1.5, -1e300, Number.MIN_VALUE, Infinity, -Infinity, NaN]) expect(reader(written((w) => w.double(d))).readDouble()).toBe(d);
  });

  it('refuses fixed-width values cut short', () => {
    for (let n = 0; n < 8; n++) {
      expect(() => reader(Buffer.alloc(n)).readFixed64()).toThrow(/truncated fixed64/);
      expect(() => reader(Buffer.alloc(n)).readDouble()).toThrow(/truncated double/);
    }
  });
});

describe('WireReader message bounds', () => {
  it('respects the current end, not the end of the buffer', () => {
    const r = new WireReader(Buffer.alloc(32), 0, 4);
    expect(() => r.readFixed64()).toThrow(WireError);
    expect(() => r.skip(WireType.I64, 1)).toThrow(WireError);
    r.pos = 4;
    expect(() => r.readUint32()).toThrow(/truncated varint at byte 4/);
  });

  it('returns the end of a length-delimited payload and refuses one past the end', () => {
    const r = reader(written((w) => w.bytes(Buffer.from('hello'))));
    expect(r.readLengthEnd()).toBe(6);
    expect(r.pos).toBe(1);
    expect(() => reader(Buffer.from([0x06, 1, 2, 3, 4, 5])).readLengthEnd()).toThrow(/length 6 runs past the end/);
    expect(() => reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])).readLengthEnd()).toThrow(/runs past the end/);
  });

  it('refuses lengths that do not fit in 32 bits instead of truncating them', () => {
    // 2^32 + 2 would read as 2 if only the low 32 bits were kept: "ab" would be its payload.
    const bytes = Buffer.concat([written((w) => w.uint64(long(2n ** 32n + 2n, true))), Buffer.from('ab')]);
    expect(() => reader(bytes).readLengthEnd()).toThrow(/does not fit in 32 bits/);
    // A small length written with redundant continuation bytes is still a small length.
    expect(reader(Buffer.from([0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x61, 0x62])).readLengthEnd()).toBe(9);
  });

  it('checks tags: no field number 0, no end group out of place', () => {
    expect(readTag(reader(written((w) => w.uint32((5 << 3) | 2))))).toBe(42);
    expect(() => readTag(reader(Buffer.from([0x00])))).toThrow(/field number 0/);
    expect(() => readTag(reader(Buffer.from([0x02])))).toThrow(/field number 0/);
    expect(() => readTag(reader(written((w) => w.uint32((7 << 3) | 4))))).toThrow(/unexpected end group/);
  });

  it('names the field and both wire types when a known field has the wrong one', () => {
    expect(() => reader(Buffer.alloc(0)).expect(0, 2, 'Span.name')).toThrow('field Span.name has wire type 0, want 2');
    expect(() => reader(Buffer.alloc(0)).expect(2, 2, 'Span.name')).not.toThrow();
  });
});

describe('WireReader skip', () => {
  const sentinel = written((w) => w.uint32((15 << 3) | 0).uint32(99));

  /** Skips the first field of `bytes` + sentinel and checks the cursor landed on the sentinel. */
  function skipsTo(field: Buffer): void {
    const r = reader(Buffer.concat([field, sentinel]));
    const tag = r.readUint32();
    r.skip(tag & 7, tag >>> 3);
    expect(r.pos).toBe(field.length);
    expect(r.readUint32()).toBe((15 << 3) | 0);
  }

  it('skips each wire type by its exact size', () => {
    skipsTo(written((w) => w.uint32((1 << 3) | 0).uint32(5)));
    skipsTo(written((w) => w.uint32((1 << 3) | 0).int64(long(-1n, false))));
    skipsTo(written((w) => w.uint32((2 << 3) | 1).fixed64(long(7n, true))));
    skipsTo(written((w) => w.uint32((3 << 3) | 2).bytes(Buffer.alloc(300, 1))));
    skipsTo(written((w) => w.uint32((4 << 3) | 5).fixed32(7)));
    skipsTo(written((w) => w.uint32((5 << 3) | 3).uint32((1 << 3) | 0).uint32(1).uint32((5 << 3) | 4)));
  });

  it('skips nested groups holding every wire type', () => {
    const group = written((w) => {
      w.uint32((9 << 3) | 3);
      w.uint32((1 << 3) | 0).uint32(300);
      w.uint32((2 << 3) | 1).double(1.5);
      w.uint32((3 << 3) | 2).string('inside');
      w.uint32((4 << 3) | 5).float(2.5);
      w.uint32((10 << 3) | 3).uint32((11 << 3) | 3).uint32((11 << 3) | 4).uint32((10 << 3) | 4);
      w.uint32((9 << 3) | 4);
    });
    skipsTo(group);
  });

  it('refuses groups that never end, end with the wrong field number, or nest without bound', () => {
    const open = (n: number, depth: number): Buffer => Buffer.concat(Array.from({ length: depth }, () => written((w) => w.uint32((n << 3) | 3))));
    const skip = (bytes: Buffer): void => {
      const r = reader(bytes);
      const tag = r.readUint32();
      r.skip(tag & 7, tag >>> 3);
    };
    expect(() => skip(open(9, 1))).toThrow(/truncated varint/);
    expect(() => skip(Buffer.concat([open(9, 1), written((w) => w.uint32((8 << 3) | 4))]))).toThrow(/mismatched end group/);
    expect(() => skip(Buffer.concat([open(9, 1), Buffer.from([0x00])]))).toThrow(/field number 0/);
    const bomb = Buffer.alloc(1_000_000, (9 << 3) | 3); // a million group starts
    const started = performance.now();
    expect(() => skip(bomb)).toThrow(/nested too deeply/);
    expect(performance.now() - started).toBeLessThan(1000);
    // Modest nesting, properly closed, is fine.
    skipsTo(Buffer.concat([open(9, 20), Buffer.concat(Array.from({ length: 20 }, () => written((w) => w.uint32((9 << 3) | 4))))]));
  });

  it('refuses wire types 6 and 7, and an end group where a value should be', () => {
    for (const wt of [4, 6, 7]) expect(() => reader(Buffer.alloc(8)).skip(wt, 1)).toThrow(`invalid wire type ${wt}`);
  });
});

describe('isAllZero', () => {
  it('looks only at the given range', () => {
    const b = Buffer.from([1, 0, 0, 0, 2]);
    expect(isAllZero(b, 1, 3)).toBe(true);
    expect(isAllZero(b, 0, 3)).toBe(false);
    expect(isAllZero(b, 2, 3)).toBe(false);
    expect(isAllZero(b, 1, 0)).toBe(true);
  });
});
