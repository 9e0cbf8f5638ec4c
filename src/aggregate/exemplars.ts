/**
 * Exemplar trace ids for a window: a handful of spans a person can open in a trace viewer.
 * Failed spans are kept before successful ones, slower before faster, because those are the
 * traces that explain a regression or a burning budget.
 */

/** One exemplar span, rendered when a window closes. */
export interface Exemplar {
  traceId: string;
  spanId: string;
  durationMs: number;
  error: boolean;
}

const ID_BYTES = 24; // 16-byte trace id + 8-byte span id

/**
 * A closed window's exemplars, kept as raw bytes and rendered on demand: most windows are
 * never looked at, so hex strings are made only when someone reads them.
 */
export interface ExemplarSet {
  readonly size: number;
  /** The exemplars, failed first, then slowest first (allocates). */
  render(): Exemplar[];
}

/** The exemplars of a window in which nothing arrived. */
export const NO_EXEMPLARS: ExemplarSet = Object.freeze({ size: 0, render: (): Exemplar[] => [] });

/** Keeps the k "worst" spans offered, in fixed typed arrays: offering allocates nothing. */
export class ExemplarReservoir implements ExemplarSet {
  private readonly ids: Uint8Array;
  private readonly durations: Float64Array;
  private readonly errors: Uint8Array;
  private n = 0;
  // The weakest kept entry, cached so most offers are rejected with two comparisons.
  private weakest = -1;

  constructor(readonly capacity: number) {
    this.ids = new Uint8Array(capacity * ID_BYTES);
    this.durations = new Float64Array(capacity);
    this.errors = new Uint8Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** Offers a span whose ids sit at `traceIdOffset`/`spanIdOffset` in `buf`. */
  offer(durationMs: number, error: boolean, buf: Uint8Array, traceIdOffset: number, spanIdOffset: number): void {
    if (this.capacity === 0) return;
    let slot: number;
    if (this.n < this.capacity) {
      slot = this.n++;
    } else {
      const w = this.weakest;
      const werr = this.errors[w] === 1;
      if (werr && !error) return;
      if (werr === error && durationMs <= this.durations[w]) return;
      slot = w;
    }
    const at = slot * ID_BYTES;
    this.ids.set(buf.subarray(traceIdOffset, traceIdOffset + 16), at);
    this.ids.set(buf.subarray(spanIdOffset, spanIdOffset + 8), at + 16);
    this.durations[slot] = durationMs;
    this.errors[slot] = error ? 1 : 0;
    if (this.n === this.capacity) this.weakest = this.findWeakest();
  }

  private findWeakest(): number {
    let w = 0;
    for (let i = 1; i < this.n; i++) {
      const e = this.errors[i];
      const we = this.errors[w];
      if (e < we || (e === we && this.durations[i] < this.durations[w])) w = i;
    }
    return w;
  }

  /** The kept spans, worst first (allocates; called once per window close). */
  render(): Exemplar[] {
    const out: Exemplar[] = [];
    const hex = Buffer.from(this.ids.buffer, this.ids.byteOffset, this.ids.byteLength);
    for (let i = 0; i < this.n; i++) {
      const at = i * ID_BYTES;
      out.push({
        traceId: hex.toString('hex', at, at + 16),
        spanId: hex.toString('hex', at + 16, at + 24),
        durationMs: this.durations[i],
        error: this.errors[i] === 1,
      });
    }
    return out.sort((a, b) => Number(b.error) - Number(a.error) || b.durationMs - a.durationMs);
  }

  reset(): void {
    this.n = 0;
    this.weakest = -1;
  }
}
