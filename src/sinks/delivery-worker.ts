/**
 * Moves one sink's pending outbox rows to the sink, oldest first, one batch at a time. Each sink
 * has its own worker, so a sink that is down only delays itself. A failed batch waits with
 * exponential backoff and ±50% jitter (or the target's Retry-After) and keeps its place: later
 * rows never overtake it, which keeps every fingerprint's transitions in order. A permanent
 * refusal of a multi-row batch is retried one row at a time first, so only the row the target
 * refuses becomes a dead letter. Errors are classified by their `permanent` and `retryAfterMs`
 * properties ({@link DeliveryError} has both); anything else is retryable.
 */
import type { Logger } from 'pino';
import type { Clock } from '../aggregate/clock.js';
import type { RetryConfig } from '../config/index.js';
import type { Component } from '../lifecycle/component.js';
import { beforeDeadline } from '../lifecycle/component.js';
import type { Outbox, PendingDelivery } from '../state/outbox.js';
import type { DeliveryError, SignalSink } from './sink.js';

/** Running totals of one worker, for /metrics. */
export interface DeliveryStats {
  delivered: number;
  /** Attempts that failed (a batch counts once per attempt). */
  failedAttempts: number;
}

// A sink call that neither resolves nor rejects must not stall the worker forever.
const DELIVER_WATCHDOG_MS = 5 * 60_000;
// Rows read per query. Delivered marks are written once per window, not per batch: each commit
// is an fsync, and a mark lost in a crash only means one more (idempotent) delivery.
const WINDOW_ROWS = 100;

/** Delivers one sink's outbox rows. */
export class DeliveryWorker implements Component {
  readonly stats: DeliveryStats = { delivered: 0, failedAttempts: 0 };
  private loop: Promise<void> | undefined;
  private stopping = false;
  private started = false;
  private isolate = 0;
  private failing = false;
  private startFailures = 0;
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly sink: SignalSink,
    private readonly outbox: Outbox,
    private readonly retry: RetryConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  get name(): string {
    return `delivery ${this.sink.name}`;
  }

  async start(): Promise<void> {
    this.loop ??= this.run().catch((err: unknown) => {
      // Only a broken state database gets here (the sinks' errors are handled per batch).
      this.logger.error({ err, sink: this.sink.name }, 'delivery stopped: the outbox cannot be read; pending transitions are delivered after a restart');
    });
  }

  /** New rows (or retried dead letters) are waiting. */
  wake(): void {
    this.wakeUp?.();
  }

  /**
   * Stops taking new batches once nothing ready is left (a last flush before exit), or at the
   * deadline; rows still pending stay in the outbox for the next start.
   */
  async shutdown(deadline: number): Promise<boolean> {
    this.stopping = true;
    this.wake();
    const drained = this.loop === undefined || (await beforeDeadline(this.loop, deadline));
    await this.sink.close().catch((err: unknown) => this.logger.warn({ err, sink: this.sink.name }, 'sink close failed'));
    return drained;
  }

  private async run(): Promise<void> {
    while (true) {
      if (!this.started) {
        // A sink that never started has nothing of ours in flight; stop at once.
        if (this.stopping) return;
        if (!(await this.startSink())) continue;
      }
      const now = this.clock.now();
      const rows = this.outbox.pending(this.sink.name, this.isolate > 0 ? 1 : Math.max(WINDOW_ROWS, this.sink.maxBatch));
      const ready = takeReady(rows, now);
      if (ready.length === 0) {
        if (this.stopping) return;
        await this.idle(rows.length > 0 ? rows[0].nextAt - now : Number.POSITIVE_INFINITY);
        continue;
      }
      const expired = ready.filter((r) => now - r.createdAt >= this.retry.max_age);
      if (expired.length > 0) {
        this.outbox.dead(this.sink.name, expired.map((r) => r.outboxId), 'max_age', `not delivered within max_age (${Math.round(this.retry.max_age / 1000)} s)`);
        continue;
      }
      await this.attempt(ready);
    }
  }

  /** Delivers ready rows batch by batch, stopping at the first failure (later rows wait behind it). */
  private async attempt(rows: PendingDelivery[]): Promise<void> {
    const size = this.isolate > 0 ? 1 : Math.max(1, this.sink.maxBatch);
    const done: number[] = [];
    try {
      for (let i = 0; i < rows.length; i += size) {
        const batch = rows.slice(i, i + size);
        try {
          await withWatchdog(this.sink.deliver(batch.map((r) => r.delivery)));
        } catch (err) {
          this.onFailure(batch, err);
          return;
        }
        for (const r of batch) done.push(r.outboxId);
        this.stats.delivered += batch.length;
        if (this.isolate > 0) this.isolate--;
        if (this.failing) {
          this.failing = false;
          this.logger.info({ sink: this.sink.name }, 'signal sink recovered; delivering its backlog');
        }
        // While shutting down the deadline may cut the window short: keep the marks current.
        if (this.stopping) this.outbox.delivered(this.sink.name, done.splice(0));
      }
    } finally {
      if (done.length > 0) this.outbox.delivered(this.sink.name, done);
    }
  }

  private onFailure(batch: PendingDelivery[], err: unknown): void {
    const ids = batch.map((r) => r.outboxId);
    const message = (err as Error)?.message ?? String(err);
    // Duck-typed, so module sinks can classify errors without importing our classes.
    const permanent = (err as { permanent?: unknown } | null)?.permanent === true;
    this.stats.failedAttempts++;
    if (permanent && batch.length > 1) {
      // Find the row the target refuses instead of dead-lettering its neighbours with it.
      this.isolate = batch.length;
      return;
    }
    if (permanent) {
      if (this.isolate > 0) this.isolate--;
      this.outbox.dead(this.sink.name, ids, 'rejected', message);
      this.logger.error({ sink: this.sink.name, err: message, key: batch[0].delivery.key }, 'signal sink refused a transition; it is a dead letter now (GET /api/v1/deliveries?state=dead)');
      return;
    }
    const attempts = batch[0].attempts + 1;
    if (this.retry.max_attempts > 0 && attempts >= this.retry.max_attempts) {
      this.outbox.dead(this.sink.name, ids, 'max_attempts', message);
      this.logger.error({ sink: this.sink.name, attempts, err: message }, 'signal sink failed max_attempts times; the transitions are dead letters now');
      return;
    }
    const hinted = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    const retryAfter = typeof hinted === 'number' && hinted >= 0 ? hinted : undefined;
    const delay = retryAfter !== undefined ? Math.min(retryAfter, this.retry.max_age) : this.backoff(attempts);
    this.outbox.failed(this.sink.name, ids, message, this.clock.now() + delay);
    // Log once per outage, not once per attempt.
    if (!this.failing) {
      this.failing = true;
      this.logger.warn({ sink: this.sink.name, err: message, retryInMs: Math.round(delay) }, 'signal sink failed; its transitions stay in the outbox and are retried with backoff');
    }
  }

  private async startSink(): Promise<boolean> {
    try {
      await this.sink.start?.();
      this.started = true;
      this.startFailures = 0;
      return true;
    } catch (err) {
      this.startFailures++;
      if (this.startFailures === 1) this.logger.warn({ sink: this.sink.name, err: (err as Error).message }, 'signal sink could not start; retrying with backoff');
      await this.idle(this.backoff(this.startFailures));
      return false;
    }
  }

  /** `initial × 2^(attempt-1)`, capped at `max_interval`, ±50% jitter so sinks don't retry in lockstep. */
  private backoff(attempt: number): number {
    const base = Math.min(this.retry.max_interval, this.retry.initial_interval * 2 ** Math.min(30, attempt - 1));
    return base * (0.5 + this.random());
  }

  /** Waits for a wake-up or `ms`, whichever comes first. */
  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      if (this.stopping) return done();
      if (Number.isFinite(ms)) {
        this.timer = setTimeout(done, Math.max(0, ms));
        this.timer.unref();
      }
    });
  }
}

/** The leading rows whose retry time has come (a batch never skips a row that must wait). */
function takeReady(rows: PendingDelivery[], now: number): PendingDelivery[] {
  let n = 0;
  while (n < rows.length && rows[n].nextAt <= now) n++;
  return rows.slice(0, n);
}

function withWatchdog(p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`sink did not answer within ${DELIVER_WATCHDOG_MS / 1000} s`)), DELIVER_WATCHDOG_MS);
    timer.unref();
  });
  return Promise.race([p, watchdog]).finally(() => clearTimeout(timer));
}
