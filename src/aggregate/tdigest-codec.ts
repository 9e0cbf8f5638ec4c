/**
 * The t-digest's binary form: a 48-byte header (magic 'T', version, flags, compression, total
 * weight, min, max, rejected count, centroid count), the centroid means as float64, then the
 * weights as varints when all are integers (the usual case) or as float64. Decoding checks
 * everything a corrupt or foreign buffer could get wrong and names the problem.
 */
import { VARINT, readVarint, varintSize, writeVarint } from './varint.js';

const MAGIC = 0x54; // 'T'
const VERSION = 1;
const FLAG_VARINT_WEIGHTS = 1;
// magic, version, flags, 0, compression, total, min, max, rejected (f64 each), centroid count (u32)
const HEADER_BYTES = 48;

/** Everything a digest's binary form holds (centroids already merged). */
export interface TDigestState {
  compression: number;
  total: number;
  lo: number;
  hi: number;
  refused: number;
  n: number;
  means: Float64Array;
  weights: Float64Array;
}

/** Bounds a decoded digest must respect. */
export interface TDigestLimits {
  minCompression: number;
  maxCompression: number;
  maxWeight: number;
}

/** The binary form of a digest's state. */
export function encodeTDigest(d: TDigestState): Uint8Array {
  const n = d.n;
  let integral = true;
  for (let i = 0; i < n && integral; i++) integral = Number.isInteger(d.weights[i]);
  let size = HEADER_BYTES + 8 * n;
  if (integral) for (let i = 0; i < n; i++) size += varintSize(d.weights[i]);
  else size += 8 * n;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes[0] = MAGIC;
  bytes[1] = VERSION;
  bytes[2] = integral ? FLAG_VARINT_WEIGHTS : 0;
  view.setFloat64(4, d.compression, true);
  view.setFloat64(12, d.total, true);
  view.setFloat64(20, n > 0 ? d.lo : Number.NaN, true);
  view.setFloat64(28, n > 0 ? d.hi : Number.NaN, true);
  view.setFloat64(36, d.refused, true);
  view.setUint32(44, n, true);
  let p = HEADER_BYTES;
  for (let i = 0; i < n; i++, p += 8) view.setFloat64(p, d.means[i], true);
  if (integral) for (let i = 0; i < n; i++) p = writeVarint(bytes, p, d.weights[i]);
  else for (let i = 0; i < n; i++, p += 8) view.setFloat64(p, d.weights[i], true);
  return bytes;
}

/** The state {@link encodeTDigest} wrote; throws an Error naming the problem on anything else. */
export function decodeTDigest(bytes: Uint8Array, limits: TDigestLimits): TDigestState {
  const fail = (why: string): never => {
    throw new Error(`not a serialized t-digest: ${why}`);
  };
  if (bytes.length < HEADER_BYTES) fail(`${bytes.length} bytes is shorter than the header`);
  if (bytes[0] !== MAGIC) fail('bad magic byte');
  if (bytes[1] !== VERSION) fail(`unsupported version ${bytes[1]}`);
  const flags = bytes[2];
  if ((flags & ~FLAG_VARINT_WEIGHTS) !== 0 || bytes[3] !== 0) fail('unknown flags');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const compression = view.getFloat64(4, true);
  const total = view.getFloat64(12, true);
  const lo = view.getFloat64(20, true);
  const hi = view.getFloat64(28, true);
  const refused = view.getFloat64(36, true);
  const n = view.getUint32(44, true);
  if (!(compression >= limits.minCompression && compression <= limits.maxCompression)) fail(`compression ${compression} out of range`);
  if (!(refused >= 0 && Number.isInteger(refused))) fail('bad rejected count');
  if (!(total >= 0 && total < Number.POSITIVE_INFINITY)) fail('bad total weight');
  if ((n === 0) !== (total === 0)) fail('centroid count and total weight disagree');
  if (n > 0 && !(lo <= hi && lo - lo === 0 && hi - hi === 0)) fail('bad min/max');
  const varint = (flags & FLAG_VARINT_WEIGHTS) !== 0;
  if (bytes.length < HEADER_BYTES + n * (varint ? 9 : 16)) fail('truncated');
  const means = new Float64Array(n);
  const weights = new Float64Array(n);
  let p = HEADER_BYTES;
  for (let i = 0; i < n; i++, p += 8) {
    const m = view.getFloat64(p, true);
    if (!(m >= lo && m <= hi) || (i > 0 && m < means[i - 1])) fail(`centroid ${i} mean out of order or range`);
    means[i] = m;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let w: number;
    if (varint) {
      const r = readVarint(bytes, p);
      if (r < 0) fail('truncated weights');
      w = VARINT.value;
      p = r;
    } else {
      if (p + 8 > bytes.length) fail('truncated weights');
      w = view.getFloat64(p, true);
      p += 8;
    }
    if (!(w > 0 && w <= limits.maxWeight)) fail(`centroid ${i} weight ${w} invalid`);
    weights[i] = w;
    sum += w;
  }
  if (p !== bytes.length) fail(`${bytes.length - p} trailing bytes`);
  if (Math.abs(sum - total) > 1e-9 * total) fail('weights do not add up to the total');
  return { compression, total, lo, hi, refused, n, means, weights };
}
