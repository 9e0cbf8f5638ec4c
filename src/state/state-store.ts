/**
 * The state database as a component: opens it, builds the signal history and the outbox on it,
 * runs their housekeeping (retention, rows that only recorded a loss) every hour, and closes the
 * file last on shutdown, after the delivery workers stopped using it.
 */
import type { Logger } from 'pino';
import type { Clock } from '../aggregate/clock.js';
import type { StateConfig } from '../config/index.js';
import type { Component } from '../lifecycle/component.js';
import { type StateDatabase, openStateDatabase } from './database.js';
import { Outbox } from './outbox.js';
import { SignalHistory } from './signal-history.js';

const HOUSEKEEPING_MS = 60 * 60_000;
const MIB = 1024 * 1024;

/** The opened state: history and outbox on one database. */
export class StateStore implements Component {
  readonly name = 'state';
  readonly history: SignalHistory;
  readonly outbox: Outbox;
  private readonly db: StateDatabase;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(config: StateConfig, sinks: readonly string[], private readonly clock: Clock, private readonly logger: Logger) {
    this.db = openStateDatabase(config.path);
    this.history = new SignalHistory(this.db, config.history_retention);
    this.outbox = new Outbox(this.db, this.history, { sinks, maxBytes: config.max_outbox_mb * MIB, maxDeadLetters: config.max_dead_letters, clock, logger });
  }

  async start(): Promise<void> {
    this.housekeep();
    this.timer = setInterval(() => this.housekeep(), HOUSEKEEPING_MS);
    this.timer.unref();
  }

  private housekeep(): void {
    try {
      const signals = this.history.prune(this.clock.now());
      const rows = this.outbox.housekeep();
      if (signals + rows > 0) this.logger.debug({ signals, outboxRows: rows }, 'state housekeeping');
    } catch (err) {
      this.logger.warn({ err }, 'state housekeeping failed; will try again in an hour');
    }
  }

  async shutdown(): Promise<boolean> {
    clearInterval(this.timer);
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return true;
  }
}
