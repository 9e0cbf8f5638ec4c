/**
 * Request-body decompression shared by both receivers, bounded so a small compressed body
 * cannot inflate past the size limit (a gzip bomb stops at the limit, it is not inflated
 * in full and then measured).
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

/** Compressions the receivers accept. */
export type BodyCompression = 'identity' | 'gzip' | 'deflate';

/** Parses a Content-Encoding / grpc-encoding value; undefined when unsupported. */
export function parseCompression(header: string | undefined): BodyCompression | undefined {
  const v = (header ?? '').trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'deflate') return 'deflate';
  return undefined;
}

/** Decompression refused because the output would pass `maxBytes`. */
export class InflatedTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`decompressed body exceeds ${maxBytes} bytes`);
    this.name = 'InflatedTooLargeError';
  }
}

/** Decompressed body, or an error: InflatedTooLargeError, or zlib's for corrupt data. */
export async function decompress(body: Buffer, compression: BodyCompression, maxBytes: number): Promise<Buffer> {
  if (compression === 'identity' || body.length === 0) return body;
  try {
    // zlib runs in the thread pool, so a large body does not stall the event loop.
    return compression === 'gzip' ? await gunzip(body, { maxOutputLength: maxBytes }) : await inflate(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new InflatedTooLargeError(maxBytes);
    throw err;
  }
}
