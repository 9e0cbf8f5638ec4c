/**
 * Signals as JSON lines appended to a file, rotated by size: past `maxBytes` the file becomes
 * `<path>.1` (replacing the previous one) and a new file starts, so disk use stays under about
 * twice the limit.
 */
import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Delivery, type SignalSink, toJsonLine } from './sink.js';

/** Appends transitions to a JSON-lines file with size-based rotation. */
export class FileSink implements SignalSink {
  readonly maxBatch = 100;
  private size = -1;
  // Deliveries are serialized so rotation never races an append.
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly name: string, private readonly file: string, private readonly maxBytes: number) {}

  deliver(batch: readonly Delivery[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    const text = batch.map(toJsonLine).join('');
    const run = this.chain.then(() => this.append(text));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async append(text: string): Promise<void> {
    if (this.size < 0) {
      await mkdir(path.dirname(this.file), { recursive: true });
      this.size = await stat(this.file).then((s) => s.size, () => 0);
    }
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.maxBytes) {
      await rename(this.file, `${this.file}.1`);
      this.size = 0;
    }
    await appendFile(this.file, text);
    this.size += bytes;
  }

  async close(): Promise<void> {
    await this.chain;
  }
}
