/**
 * The binary form detectors (and the synthesizer) checkpoint their state in.
 *
 * Binary rather than JSON because the state is dominated by baseline rings of numbers (a few
 * hundred bytes per series and detector, ~10k series): JSON would double it and spend more
 * time in the encoder. Every payload starts with "OF" and a format version.
 */
import os from 'node:os';
import { CheckpointVersionError } from '../state/checkpoints.js';
import { copyBytes } from '../receiver/buffer-pool.js';

// Float64Arrays are in the platform's byte order; payloads are little-endian.
const NATIVE_LE = os.endianness() === 'LE';

const MAGIC_0 = 0x4f; // 'O'
const MAGIC_1 = 0x46; // 'F'
const TAG_UINT = 0;
const TAG_F64 = 1;
// 2^53 fits in eight varint bytes: anything longer is damage, not a count.
const MAX_VARINT_BYTES = 8;

/** Appends a checkpoint payload; {@link done} returns it. */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  /** Starts a payload of format version `format` (0–255). */
  constructor(format: number, initialBytes = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
    this.u8(MAGIC_0);
    this.u8(MAGIC_1);
    this.u8(format);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  /** A non-negative integer up to 2^53, as a LEB128 varint (1 byte below 128). */
  uint(v: number): void {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`not a count: ${v}`);
    this.room(MAX_VARINT_BYTES);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** `n` numbers of `a` from `from`, as little-endian doubles (one copy on little-endian hosts). */
  f64s(a: Float64Array, from: number, n: number): void {
    this.room(8 * n);
    if (NATIVE_LE) {
      this.buf.set(new Uint8Array(a.buffer, a.byteOffset + 8 * from, 8 * n), this.pos);
      this.pos += 8 * n;
    } else {
      for (let i = from; i < from + n; i++) this.f64(a[i]);
    }
  }

  /** Any number; counts (the usual case) take 1–4 bytes instead of 8. NaN and ±∞ survive. */
  num(v: number): void {
    if (Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0)) {
      this.u8(TAG_UINT);
      this.uint(v);
    } else {
      this.u8(TAG_F64);
      this.f64(v);
    }
  }

  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.uint(n);
    this.room(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
  }

  /** The payload, copied to its exact length. */
  done(): Buffer {
    return copyBytes(this.buf.subarray(0, this.pos));
  }
}

/** Reads a payload a {@link ByteWriter} wrote; every read is bounds-checked and throws on damage. */
export class ByteReader {
  private pos = 0;

  /** Throws {@link CheckpointVersionError} unless the payload is of format version `format`. */
  constructor(private readonly buf: Buffer, format: number) {
    if (buf.length < 3 || buf[0] !== MAGIC_0 || buf[1] !== MAGIC_1) throw new Error('not a checkpoint payload');
    if (buf[2] !== format) throw new CheckpointVersionError(buf[2], format);
    this.pos = 3;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError(`checkpoint payload truncated at byte ${this.pos}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  uint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw new RangeError(`checkpoint payload has an overlong number at byte ${this.pos}`);
  }

  /** A count no larger than `max`: guards allocations sized from the payload. */
  count(max: number): number {
    const n = this.uint();
    if (n > max) throw new RangeError(`checkpoint payload claims ${n} entries, at most ${max} expected`);
    return n;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads `n` doubles {@link ByteWriter.f64s} wrote into `out` from index 0. */
  f64s(out: Float64Array, n: number): void {
    this.need(8 * n);
    if (NATIVE_LE) {
      new Uint8Array(out.buffer, out.byteOffset, 8 * n).set(this.buf.subarray(this.pos, this.pos + 8 * n));
      this.pos += 8 * n;
    } else {
      for (let i = 0; i < n; i++) out[i] = this.f64();
    }
  }

  num(): number {
    const tag = this.u8();
    if (tag === TAG_UINT) return this.uint();
    if (tag === TAG_F64) return this.f64();
    throw new RangeError(`checkpoint payload has an unknown number tag ${tag} at byte ${this.pos - 1}`);
  }

  str(): string {
    const n = this.uint();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** Throws unless every byte was read: trailing bytes mean the layout is not what we think. */
  end(): void {
    if (this.pos !== this.buf.length) throw new RangeError(`checkpoint payload has ${this.buf.length - this.pos} unexpected trailing bytes`);
  }
}

/** `v` as a record of strings (attributes, dimensions); throws unless it is one. */
export function stringRecord(v: unknown): Record<string, string> {
  if (!(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'))) throw new RangeError('checkpointed record is malformed');
  return v as Record<string, string>;
}

/** Who a metric series is, as the metric detectors checkpoint it. */
export interface MetricSeriesIdentity {
  service: string;
  metric: string;
  unit: string;
  attributes: Record<string, string>;
}

/** Writes a metric series' key and identity (read back by {@link readMetricSeries}). */
export function writeMetricSeries(w: ByteWriter, key: string, s: MetricSeriesIdentity): void {
  w.str(key);
  w.str(s.service);
  w.str(s.metric);
  w.str(s.unit);
  w.str(JSON.stringify(s.attributes));
}

/** Reads what {@link writeMetricSeries} wrote. */
export function readMetricSeries(r: ByteReader): [key: string, identity: MetricSeriesIdentity] {
  const key = r.str();
  const service = r.str();
  const metric = r.str();
  const unit = r.str();
  return [key, { service, metric, unit, attributes: stringRecord(JSON.parse(r.str())) }];
}
