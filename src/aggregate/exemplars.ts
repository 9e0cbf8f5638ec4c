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
// Exemplar scores rank failed spans above any duration (durations are far below this, in ms).
const ERROR_SCORE = 1e15;

/** Score of a span for exemplar selection: failed first, then slower first. */
export function exemplarScore(durationMs: number, error: boolean): number {
  return error ? ERROR_SCORE + durationMs : durationMs;
}

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
  // The weakest kept entry and its values, cached so most offers are rejected with two
  // comparisons on this object.
  private weakest = -1;
  private floorDuration = 0;
  private floorError = false;

  constructor(readonly capacity: number) {
    this.ids = new Uint8Array(capacity * ID_BYTES);
    this.durations = new Float64Array(capacity);
    this.errors = new Uint8Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** The {@link exemplarScore} a span must beat to be kept; -1 while there is room. */
  get floor(): number {
    return this.n < this.capacity ? -1 : exemplarScore(this.floorDuration, this.floorError);
  }

  /**
   * Offers a span whose ids sit at `traceIdOffset`/`spanIdOffset` in `buf`. The rejection test
   * reads only this object's own fields, so the common case (not slower than what is kept)
   * touches no typed array: on the hot path each extra cache line costs more than the work.
   */
  offer(durationMs: number, error: boolean, buf: Uint8Array, traceIdOffset: number, spanIdOffset: number): void {
    let slot: number;
    if (this.n < this.capacity) {
      slot = this.n++;
    } else {
      if (this.capacity === 0) return;
      if (this.floorError && !error) return;
      if (this.floorError === error && durationMs <= this.floorDuration) return;
      slot = this.weakest;
    }
    const ids = this.ids;
    const at = slot * ID_BYTES;
    for (let i = 0; i < 16; i++) ids[at + i] = buf[traceIdOffset + i];
    for (let i = 0; i < 8; i++) ids[at + 16 + i] = buf[spanIdOffset + i];
    this.durations[slot] = durationMs;
    this.errors[slot] = error ? 1 : 0;
    if (this.n === this.capacity) {
      const w = this.findWeakest();
      this.weakest = w;
      this.floorDuration = this.durations[w];
      this.floorError = this.errors[w] === 1;
    }
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
    this.floorDuration = 0;
    this.floorError = false;
  }
}
