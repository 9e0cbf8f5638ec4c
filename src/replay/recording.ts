/**
 * The recording format: what `record:` writes and `otel-friction replay` reads besides OTLP-JSON
 * lines. A recording file (`*.otlp`) is a sequence of frames, each one accepted request exactly
 * as received (never re-encoded):
 *
 *   u8 signal (1 traces, 2 metrics, 3 logs) · u8 encoding (1 protobuf, 2 json) ·
 *   f64 receive time (ms since the epoch, big-endian) · u32 length (big-endian) · body
 */
import type { OtlpEncoding } from '../otlp/decoder.js';
import type { Signal } from '../receiver/signals.js';

/** Bytes before each body. */
export const FRAME_HEADER = 14;
const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];
const ENCODINGS: readonly OtlpEncoding[] = ['protobuf', 'json'];

/** One recorded request. */
export interface RecordedRequest {
  signal: Signal;
  encoding: OtlpEncoding;
  receivedAt: number;
  body: Buffer;
}

/** The frame header for a request. */
export function frameHeader(signal: Signal, encoding: OtlpEncoding, receivedAt: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER);
  h[0] = SIGNALS.indexOf(signal) + 1;
  h[1] = ENCODINGS.indexOf(encoding) + 1;
  h.writeDoubleBE(receivedAt, 2);
  h.writeUInt32BE(length, 10);
  return h;
}

/** Reads every frame of a recording; throws on a malformed file, naming the offset. */
export function* readFrames(file: Buffer, name: string): Generator<RecordedRequest> {
  let p = 0;
  while (p < file.length) {
    if (p + FRAME_HEADER > file.length) throw new Error(`${name}: truncated frame header at byte ${p}`);
    const signal = SIGNALS[file[p] - 1];
    const encoding = ENCODINGS[file[p + 1] - 1];
    if (signal === undefined || encoding === undefined) throw new Error(`${name}: not a recording frame at byte ${p}`);
    const receivedAt = file.readDoubleBE(p + 2);
    const len = file.readUInt32BE(p + 10);
    const start = p + FRAME_HEADER;
    if (start + len > file.length) throw new Error(`${name}: frame at byte ${p} runs past the end of the file (a write cut short)`);
    yield { signal, encoding, receivedAt, body: file.subarray(start, start + len) };
    p = start + len;
  }
}
