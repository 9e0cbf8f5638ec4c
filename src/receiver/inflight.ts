/**
 * Bytes accepted but not yet processed, across both receivers. Receivers reserve a request's
 * bytes before buffering them and release them once the pipeline is done, so memory held by
 * requests stays under `limits.max_inflight_bytes_mib` and the excess is refused with a
 * retryable answer that pushes back on the clients' exporters.
 */
export class InflightBudget {
  private used = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes currently reserved. */
  get bytes(): number {
    return this.used;
  }

  /** Reserves `n` bytes; false (and nothing reserved) when that would pass the limit. */
  tryAcquire(n: number): boolean {
    // A single request larger than the whole budget could never be served: let it through
    // when nothing else is in flight, so a small limit cannot starve everyone forever.
    if (this.used + n > this.limitBytes && this.used > 0) return false;
    this.used += n;
    return true;
  }

  /** Adds `n` bytes unconditionally (memory already committed, e.g. an inflated copy). */
  hold(n: number): void {
    this.used += n;
  }

  release(n: number): void {
    this.used -= n;
    if (this.used < 0) this.used = 0;
  }
}
