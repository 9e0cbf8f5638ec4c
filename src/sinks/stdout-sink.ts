/** Signals as JSON lines on standard output (next to the logs, which carry `level`; signals carry `transition`). */
import { type Delivery, type SignalSink, toJsonLine } from './sink.js';

/** Writes each transition as one JSON line to stdout. */
export class StdoutSink implements SignalSink {
  readonly maxBatch = 100;

  constructor(readonly name: string, private readonly out: NodeJS.WritableStream = process.stdout) {}

  deliver(batch: readonly Delivery[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    const text = batch.map(toJsonLine).join('');
    return new Promise((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    // stdout is the process's; nothing to release.
  }
}
