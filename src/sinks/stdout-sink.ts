/** Signals as JSON lines on standard output (next to the logs, which carry `level`; signals carry `transition`). */
import type { SignalTransition } from '../signals/signal.js';
import { type SignalSink, toJsonLine } from './sink.js';

/** Writes each transition as one JSON line to stdout. */
export class StdoutSink implements SignalSink {
  constructor(readonly name: string, private readonly out: NodeJS.WritableStream = process.stdout) {}

  deliver(transitions: readonly SignalTransition[]): Promise<void> {
    if (transitions.length === 0) return Promise.resolve();
    const text = transitions.map(toJsonLine).join('');
    return new Promise((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    // stdout is the process's; nothing to release.
  }
}
