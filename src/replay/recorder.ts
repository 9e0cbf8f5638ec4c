/**
 * Records accepted requests for `otel-friction replay` (`record: { path, max_mb }`). Bodies are
 * appended as frames (recording.ts) to files under `path`, a new file per `max_mb / 8`; the
 * oldest files are deleted to keep the directory under `max_mb`. Recording never slows or fails
 * a request: past a bounded write backlog, requests are not recorded and are counted.
 */
import { createWriteStream, mkdirSync, openSync, readdirSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { OtlpEncoding } from '../otlp/decoder.js';
import type { Signal } from '../receiver/signals.js';
import { FRAME_HEADER, frameHeader } from './recording.js';
import { copyBytes } from '../receiver/buffer-pool.js';

const FILES_PER_BUDGET = 8;
// Bytes waiting in the write stream past which requests are skipped (counted), not queued.
const MAX_BACKLOG = 32 * 1024 * 1024;

/** Appends accepted requests to rotating recording files. */
export class RequestRecorder {
  private stream: WriteStream | undefined;
  private fileBytes = 0;
  private sequence = 0;
  private readonly fileLimit: number;
  /** Requests recorded / skipped because the disk could not keep up. */
  recorded = 0;
  skipped = 0;
  private failed = false;
  // Recordings in the directory, oldest first, with their sizes as written (the disk lags the
  // stream, so sizes are counted here rather than read back).
  private readonly files: { name: string; size: number }[];

  constructor(private readonly dir: string, private readonly maxBytes: number, private readonly logger: Logger, private readonly now: () => number = Date.now) {
    this.fileLimit = Math.max(1024 * 1024, Math.floor(maxBytes / FILES_PER_BUDGET));
    mkdirSync(dir, { recursive: true });
    this.files = readdirSync(dir)
      .filter((f) => f.startsWith('record-') && f.endsWith('.otlp'))
      .sort()
      .map((name) => ({ name, size: statSync(path.join(dir, name)).size }));
  }

  record(signal: Signal, encoding: OtlpEncoding, body: Buffer): void {
    if (this.failed) return;
    if (this.stream !== undefined && this.stream.writableLength > MAX_BACKLOG) {
      this.skipped++;
      return;
    }
    if (this.stream === undefined || this.fileBytes >= this.fileLimit) {
      try {
        this.rotate();
      } catch (err) {
        // Recording is a side channel: a full or read-only disk stops it, never a request.
        this.failed = true;
        this.logger.error({ err, dir: this.dir }, 'recording stopped: cannot open a recording file');
        return;
      }
    }
    const s = this.stream as WriteStream;
    s.write(frameHeader(signal, encoding, this.now(), body.length));
    // The receiver reuses its buffers once the request is answered: write a copy.
    s.write(copyBytes(body));
    this.fileBytes += FRAME_HEADER + body.length;
    (this.files.at(-1) as { size: number }).size += FRAME_HEADER + body.length;
    this.recorded++;
  }

  private rotate(): void {
    this.stream?.end();
    const name = `record-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}-${String(this.sequence++).padStart(4, '0')}.otlp`;
    // Opened synchronously so the file exists at once: pruning may unlink it before a lazily
    // opened stream would have created it (and the stream would then bring it back).
    this.stream = createWriteStream('', { fd: openSync(path.join(this.dir, name), 'a') });
    this.files.push({ name, size: 0 });
    this.stream.on('error', (err) => {
      this.failed = true;
      this.logger.error({ err, dir: this.dir }, 'recording stopped: cannot write the recording file');
    });
    this.fileBytes = 0;
    this.prune();
  }

  // Keeps the directory's recordings under maxBytes (counting the new file as full), oldest first out.
  private prune(): void {
    let total = this.files.reduce((n, f) => n + f.size, 0) + this.fileLimit;
    while (this.files.length > 1 && total > this.maxBytes) {
      const old = this.files.shift() as { name: string; size: number };
      try {
        unlinkSync(path.join(this.dir, old.name));
      } catch {
        // Already gone: nothing to free.
      }
      total -= old.size;
    }
  }

  /** Flushes and closes the current file. */
  close(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    return new Promise((resolve) => (s ? s.end(resolve) : resolve()));
  }
}
