/**
 * A forward-only protobuf wire-format cursor over one request buffer.
 *
 * The scanners walk OTLP messages with it field by field and skip what they do not need by
 * length, so nothing is materialised that aggregation does not read. Every read is bounds
 * checked against the end of the enclosing message: malformed input raises a {@link WireError}
 * (never a RangeError from deep inside Buffer, never a hang, never an allocation sized by
 * the attacker).
 */

/** Protobuf wire types. */
export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  SGROUP: 3,
  EGROUP: 4,
  I32: 5,
} as const;

/** Raised for bytes that are not a well-formed protobuf message of the expected shape. */
export class WireError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'WireError';
  }
}

const TWO_32 = 4294967296;
// Groups are obsolete and never used by OTLP; we still skip them like any unknown field,
// but a deeply nested run of group starts is an attack, not data.
const MAX_GROUP_DEPTH = 32;

/**
 * Cursor state. `pos` is the next byte to read; `end` the end of the current message.
 * Scanners save and restore `end` when they enter and leave sub-messages.
 */
export class WireReader {
  buf: Buffer;
  pos: number;
  end: number;
  /** Set by {@link readFixed64}: the high and low 32-bit halves of the last value read. */
  hi = 0;
  lo = 0;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    this.hi = 0;
    this.lo = 0;
  }

  /** Reads an unsigned varint that must fit in 32 bits (tags, lengths, enums, small ints). */
  readUint32(): number {
    // One-byte varints are nearly every tag, length and enum: keep this path tiny so V8
    // inlines it into the scanners' loops.
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos];
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.readUint32Slow();
  }

  private readUint32Slow(): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    if (pos >= end) throw new WireError('truncated varint', pos);
    let b = buf[pos++];
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    // Bytes 2..4 fit in 28 bits, so plain shifts are exact (2-byte lengths are the common case).
    let value = b & 0x7f;
    for (let shift = 7; shift < 28; shift += 7) {
      if (pos >= end) throw new WireError('truncated varint', pos);
      b = buf[pos++];
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
    }
    if (pos >= end) throw new WireError('truncated varint', pos);
    b = buf[pos++];
    // Byte 5 brings bits 28..31 (and more for 64-bit values, which a uint32 field truncates).
    value = (value | (b << 28)) >>> 0;
    if (b < 0x80) {
      this.pos = pos;
      // Negative int32 enums arrive as 10-byte varints; keep the low 32 bits as protobuf does.
      return value;
    }
    // Bytes 6..10 of a 64-bit varint: only the low 32 bits matter for a uint32/int32 field.
    for (let i = 0; i < 5; i++) {
      if (pos >= end) throw new WireError('truncated varint', pos);
      b = buf[pos++];
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
    }
    throw new WireError('varint longer than 10 bytes', pos);
  }

  /**
   * Reads a 64-bit varint into `hi`/`lo` (two's complement halves) and returns it as a
   * number (exact below 2^53, rounded above; negative int64 values come out negative).
   */
  readVarint64(): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let b = 0;
    // Low 28 bits.
    for (; shift < 28; shift += 7) {
      if (pos >= end) throw new WireError('truncated varint', pos);
      b = buf[pos++];
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return this.finish64(pos, lo, hi);
    }
    // Byte 5 straddles the halves: 4 bits to lo, 3 bits to hi.
    if (pos >= end) throw new WireError('truncated varint', pos);
    b = buf[pos++];
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x70) >> 4;
    if (b < 0x80) return this.finish64(pos, lo, hi);
    for (shift = 3; shift < 32; shift += 7) {
      if (pos >= end) throw new WireError('truncated varint', pos);
      b = buf[pos++];
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) return this.finish64(pos, lo, hi);
    }
    throw new WireError('varint longer than 10 bytes', pos);
  }

  /** Reads a uint64 varint as an unsigned number (exact below 2^53); halves in `hi`/`lo`. */
  readUvarint64(): number {
    this.readVarint64();
    return this.hi * TWO_32 + this.lo;
  }

  private finish64(pos: number, lo: number, hi: number): number {
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    // Signed high half times 2^32 is exact, so the sum rounds once (negating ~x + 1 rounded twice).
    return (hi | 0) * TWO_32 + (lo >>> 0);
  }

  /** Reads a fixed64 into `hi`/`lo` and returns it as an unsigned number (exact below 2^53). */
  readFixed64(): number {
    this.readFixed64Halves();
    return this.hi * TWO_32 + this.lo;
  }

  /**
   * Reads a fixed64 into `hi`/`lo` only. Returns nothing so that a call V8 does not inline
   * does not box a double per span (timestamps are read twice per span).
   */
  readFixed64Halves(): void {
    const pos = this.pos;
    if (pos + 8 > this.end) throw new WireError('truncated fixed64', pos);
    const b = this.buf;
    // Byte arithmetic instead of Buffer#readUInt32LE: no call, no second bounds check.
    this.lo = b[pos] + b[pos + 1] * 0x100 + b[pos + 2] * 0x10000 + b[pos + 3] * 0x1000000;
    this.hi = b[pos + 4] + b[pos + 5] * 0x100 + b[pos + 6] * 0x10000 + b[pos + 7] * 0x1000000;
    this.pos = pos + 8;
  }

  /** Reads an sfixed64 as a signed number (exact below 2^53 in magnitude, else correctly rounded). */
  readSfixed64(): number {
    this.readFixed64();
    // Signed high half times 2^32 is exact; adding the low half rounds once. (Subtracting 2^64
    // from the unsigned value would round twice and turn -1 into 0.)
    return (this.hi | 0) * TWO_32 + this.lo;
  }

  readDouble(): number {
    const pos = this.pos;
    if (pos + 8 > this.end) throw new WireError('truncated double', pos);
    this.pos = pos + 8;
    return this.buf.readDoubleLE(pos);
  }

  readSint32(): number {
    const n = this.readUint32();
    return (n >>> 1) ^ -(n & 1);
  }

  /**
   * Reads a length prefix and returns the end offset of the delimited bytes, checking it
   * stays inside the current message. The cursor is left at the first byte of the payload.
   */
  readLengthEnd(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const len = this.buf[pos];
      if (len < 0x80 && pos + 1 + len <= this.end) {
        this.pos = pos + 1;
        return pos + 1 + len;
      }
    }
    return this.readLengthEndSlow();
  }

  private readLengthEndSlow(): number {
    const start = this.pos;
    const len = this.readUint32();
    // readUint32 keeps the low 32 bits: 2^32 + 5 would read as 5 and parse garbage. A length
    // needing more than 32 bits is always past the end; only 5+ byte varints can carry one.
    if (this.pos - start > 4 && this.exceeds32Bits(start)) throw new WireError('length does not fit in 32 bits', start);
    const end = this.pos + len;
    if (end > this.end) throw new WireError(`length ${len} runs past the end of the message`, this.pos);
    return end;
  }

  /** True when the varint at `[start, this.pos)` has bits set above bit 31. */
  private exceeds32Bits(start: number): boolean {
    const buf = this.buf;
    if ((buf[start + 4] & 0x70) !== 0) return true;
    for (let i = start + 5; i < this.pos; i++) if ((buf[i] & 0x7f) !== 0) return true;
    return false;
  }

  /** Skips the value of a field with the given wire type (tag already read). */
  skip(wireType: number, fieldNumber: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.skipVarint();
        return;
      case WireType.I64:
        if (this.pos + 8 > this.end) throw new WireError('truncated fixed64', this.pos);
        this.pos += 8;
        return;
      case WireType.LEN:
        this.pos = this.readLengthEnd();
        return;
      case WireType.I32:
        if (this.pos + 4 > this.end) throw new WireError('truncated fixed32', this.pos);
        this.pos += 4;
        return;
      case WireType.SGROUP:
        this.skipGroup(fieldNumber);
        return;
      default:
        throw new WireError(`invalid wire type ${wireType}`, this.pos);
    }
  }

  private skipVarint(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new WireError('truncated varint', pos);
      if (buf[pos++] < 0x80) {
        this.pos = pos;
        return;
      }
    }
    throw new WireError('varint longer than 10 bytes', pos);
  }

  // Iterative, so nested groups cannot grow the stack.
  private skipGroup(fieldNumber: number): void {
    const open = [fieldNumber];
    while (open.length > 0) {
      if (open.length > MAX_GROUP_DEPTH) throw new WireError('groups nested too deeply', this.pos);
      const tag = this.readUint32();
      const wt = tag & 7;
      const fn = tag >>> 3;
      if (fn === 0) throw new WireError('field number 0', this.pos);
      if (wt === WireType.EGROUP) {
        if (fn !== open[open.length - 1]) throw new WireError('mismatched end group', this.pos);
        open.pop();
      } else if (wt === WireType.SGROUP) {
        open.push(fn);
      } else {
        this.skip(wt, fn);
      }
    }
  }

  /** Throws unless `wireType` is the one a known field requires. */
  expect(wireType: number, want: number, field: string): void {
    if (wireType !== want) throw new WireError(`field ${field} has wire type ${wireType}, want ${want}`, this.pos);
  }
}

/** Reads the next tag, rejecting field number 0 and the end-group marker out of place. */
export function readTag(r: WireReader): number {
  const tag = r.readUint32();
  if (tag >>> 3 === 0) throw new WireError('field number 0', r.pos);
  if ((tag & 7) === WireType.EGROUP) throw new WireError('unexpected end group', r.pos);
  return tag;
}

/** True when the `len` bytes at `start` are all zero (an invalid trace or span id). */
export function isAllZero(buf: Buffer, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if (buf[i] !== 0) return false;
  return true;
}
