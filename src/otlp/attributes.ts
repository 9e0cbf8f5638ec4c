/**
 * Attribute reading shared by the scanners: match wanted keys against raw key bytes and
 * render an AnyValue as a string, without decoding attributes nobody asked for.
 */
import type { StringInterner } from './interner.js';
import { WireError, WireReader, WireType, readTag } from './wire.js';

/** A fixed list of attribute keys, matched against key bytes without decoding them. */
export class KeySet {
  readonly keys: readonly string[];
  private readonly bytes: Buffer[];

  constructor(keys: readonly string[]) {
    this.keys = keys;
    this.bytes = keys.map((k) => Buffer.from(k, 'utf8'));
  }

  get size(): number {
    return this.keys.length;
  }

  /** Index of the key stored at `buf[start, end)`, or -1. */
  indexOf(buf: Buffer, start: number, end: number): number {
    const len = end - start;
    const bytes = this.bytes;
    outer: for (let k = 0; k < bytes.length; k++) {
      const key = bytes[k];
      if (key.length !== len) continue;
      for (let i = 0; i < len; i++) if (key[i] !== buf[start + i]) continue outer;
      return k;
    }
    return -1;
  }
}

const TRUE = 'true';
const FALSE = 'false';

/**
 * Reads an AnyValue message spanning `[r.pos, end)` and renders it as a string:
 * strings as they are (interned), booleans as true/false, integers in decimal, doubles as
 * JavaScript prints them, bytes as base64. Arrays and key-value lists render as "" — they
 * make poor series dimensions and rendering them would mean walking attacker-sized trees.
 */
export function readAnyValueString(r: WireReader, end: number, interner: StringInterner): string {
  const outerEnd = r.end;
  r.end = end;
  let out = '';
  while (r.pos < end) {
    const tag = readTag(r);
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1: {
        r.expect(wt, WireType.LEN, 'AnyValue.string_value');
        const e = r.readLengthEnd();
        out = interner.intern(r.buf, r.pos, e);
        r.pos = e;
        break;
      }
      case 2:
        r.expect(wt, WireType.VARINT, 'AnyValue.bool_value');
        out = r.readUint32() !== 0 ? TRUE : FALSE;
        break;
      case 3:
        r.expect(wt, WireType.VARINT, 'AnyValue.int_value');
        out = int64String(r.readVarint64(), r.hi, r.lo);
        break;
      case 4:
        r.expect(wt, WireType.I64, 'AnyValue.double_value');
        out = String(r.readDouble());
        break;
      case 7: {
        r.expect(wt, WireType.LEN, 'AnyValue.bytes_value');
        const e = r.readLengthEnd();
        out = r.buf.toString('base64', r.pos, e);
        r.pos = e;
        break;
      }
      case 5:
      case 6:
        r.expect(wt, WireType.LEN, field === 5 ? 'AnyValue.array_value' : 'AnyValue.kvlist_value');
        r.skip(wt, field);
        out = '';
        break;
      default:
        r.skip(wt, field);
    }
  }
  if (r.pos !== end) throw new WireError('AnyValue overruns its length', r.pos);
  r.end = outerEnd;
  return out;
}

/** Decimal text of a signed 64-bit integer, exact even beyond 2^53. */
export function int64String(n: number, hi: number, lo: number): string {
  if (Number.isSafeInteger(n)) return String(n);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/**
 * Scans a KeyValue message spanning `[r.pos, end)`. Returns the index in `keys` of its key
 * (or -1, in which case the value was skipped); the rendered value is left in `out.value`.
 * A KeyValue without a key has the empty key.
 * With `keys` null every key matches and `out.key` holds it (interned).
 */
export function readKeyValue(
  r: WireReader,
  end: number,
  keys: KeySet | null,
  interner: StringInterner,
  out: { key: string; value: string },
): number {
  const outerEnd = r.end;
  r.end = end;
  // An absent key is the empty key, as in any protobuf decode (and in the JSON path).
  let keyStart = 0;
  let keyEnd = 0;
  let valueStart = -1;
  let valueEnd = -1;
  while (r.pos < end) {
    const tag = readTag(r);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      r.expect(wt, WireType.LEN, 'KeyValue.key');
      keyEnd = r.readLengthEnd();
      keyStart = r.pos;
      r.pos = keyEnd;
    } else if (field === 2) {
      r.expect(wt, WireType.LEN, 'KeyValue.value');
      valueEnd = r.readLengthEnd();
      valueStart = r.pos;
      r.pos = valueEnd;
    } else {
      r.skip(wt, field);
    }
  }
  r.end = outerEnd;
  let idx = 0;
  if (keys !== null) {
    idx = keys.indexOf(r.buf, keyStart, keyEnd);
    if (idx < 0) return -1;
  } else {
    out.key = interner.intern(r.buf, keyStart, keyEnd);
  }
  if (valueStart < 0) {
    out.value = '';
  } else {
    const resume = r.pos;
    r.pos = valueStart;
    out.value = readAnyValueString(r, valueEnd, interner);
    r.pos = resume;
  }
  return idx;
}
