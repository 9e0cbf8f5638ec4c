/**
 * Unsigned LEB128 varints for the sketches' binary forms. Values go up to 2^53, so these use
 * arithmetic, not bit operations (which truncate to 32 bits).
 */

/** Bytes {@link writeVarint} takes for `v`. */
export function varintSize(v: number): number {
  let size = 1;
  for (; v >= 128; size++) v = Math.floor(v / 128);
  return size;
}

/** Writes `v` at `p`; returns the position after it. */
export function writeVarint(bytes: Uint8Array, p: number, v: number): number {
  for (; v >= 128; v = Math.floor(v / 128)) bytes[p++] = (v % 128) + 128;
  bytes[p++] = v;
  return p;
}

/** Where {@link readVarint} leaves the value it read (avoids allocating a result per call). */
export const VARINT = { value: 0 };

/** Reads a varint at p into {@link VARINT}.value; returns the next position, or -1 if truncated or too long. */
export function readVarint(bytes: Uint8Array, p: number): number {
  let v = 0;
  for (let i = 0, scale = 1; i < 8 && p < bytes.length; i++, scale *= 128) {
    const b = bytes[p++];
    v += (b & 127) * scale;
    if (b < 128) {
      VARINT.value = v;
      return p;
    }
  }
  return -1;
}
