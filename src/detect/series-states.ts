/**
 * Per-series detector state that survives a restart. While the process runs, state is keyed by
 * the aggregator's series objects; across a restart, by the series' identity (service,
 * operation, span kind, dimension values), since the new aggregator builds new objects.
 */
import { NO_EXEMPLARS } from '../aggregate/exemplars.js';
import type { QuantileSketch } from '../aggregate/sketch.js';
import { type ClosedSpanWindow, type SpanSeriesKey, newClosedWindow } from '../aggregate/span-window.js';
import { stringRecord } from './checkpoint-codec.js';

/**
 * A span series' identity across processes, dimension keys included (so a changed
 * `aggregation.dimensions` does not mis-attach). Built once per series and cached: never on
 * the per-window path.
 */
export function seriesIdentity(s: SpanSeriesKey): string {
  return JSON.stringify([s.service, s.operation, s.kind, s.dimensions]);
}

/** The series key an identity names; throws when it names none (a damaged checkpoint). */
export function seriesOfIdentity(id: string): SpanSeriesKey {
  const v: unknown = JSON.parse(id);
  const isString = (x: unknown): x is string => typeof x === 'string';
  if (!(Array.isArray(v) && v.length === 4 && isString(v[0]) && isString(v[1]) && isString(v[2]))) throw new RangeError('checkpointed series identity is malformed');
  const dimensions = Object.freeze(stringRecord(v[3]));
  return Object.freeze({ service: v[0], operation: v[1], kind: v[2], dimensions, overflow: false });
}

/** The `aggregation.series_ttl` default, for detectors built without one. */
export const DEFAULT_SERIES_TTL_MS = 15 * 60_000;

// The sketch of a window nothing arrived in.
const EMPTY_SKETCH: QuantileSketch = Object.freeze({
  add: () => {},
  merge: () => {},
  quantile: () => Number.NaN,
  count: () => 0,
  min: () => Number.NaN,
  max: () => Number.NaN,
  rejected: () => 0,
  reset: () => {},
  serialize: () => new Uint8Array(0),
  byteSize: () => 0,
});

/** What {@link SeriesStates} needs of a per-series state. */
export interface SeriesStateBase {
  /** The series' {@link seriesIdentity}, once known. */
  id: string | undefined;
}

interface Waiting<S> {
  state: S;
  /** The empty window that stands in for the series at each close until it shows up. */
  window: ClosedSpanWindow;
}

/**
 * The per-series states of one detector.
 *
 * States live in a `WeakMap`, so they go with their series when the aggregator evicts it. A
 * snapshot needs to list them, which a `WeakMap` cannot: rather than a second, strong index to
 * keep in step with evictions, the table keeps the latest close's window array, which names
 * every live series (the aggregator hands every live series' window to every close).
 *
 * Restored states wait, by identity, until their series closes a window in the new process,
 * then move in. Until then, at each close, an empty window stands in for their series
 * ({@link standIns}): the old aggregator would have kept closing empty windows for it, and an
 * operation that went silent is exactly what a traffic drop is about. A series that has not
 * come back within the series TTL of the checkpoint is dropped, as the aggregator would have
 * evicted it for being idle that long.
 */
export class SeriesStates<S extends SeriesStateBase> {
  private readonly states = new WeakMap<object, S>();
  private live: readonly ClosedSpanWindow[] = [];
  private restored = new Map<string, Waiting<S>>();
  private readonly stand: ClosedSpanWindow[] = [];
  private savedAt = Number.NaN;
  private now = Number.NaN;

  /** `create` makes a fresh state; `ttlMs` is `aggregation.series_ttl`. */
  constructor(
    private readonly create: () => S,
    private readonly windowMs: number,
    private readonly ttlMs: number,
  ) {}

  /** Call at the start of every close, with all of its windows and the close time. */
  begin(windows: readonly ClosedSpanWindow[], now: number): void {
    this.live = windows;
    this.now = now;
    if (this.restored.size > 0 && now - this.savedAt > this.ttlMs) this.restored.clear();
  }

  /** The state of `w`'s series, created (or taken over from a checkpoint) on first sight. */
  of(w: ClosedSpanWindow): S {
    let s = this.states.get(w.series);
    if (s === undefined) {
      s = this.restored.size > 0 ? this.adopt(w) : this.create();
      this.states.set(w.series, s);
    }
    return s;
  }

  private adopt(w: ClosedSpanWindow): S {
    const id = seriesIdentity(w.series);
    const waiting = this.restored.get(id);
    if (waiting !== undefined) {
      this.restored.delete(id);
      return waiting.state;
    }
    const s = this.create();
    s.id = id;
    return s;
  }

  /**
   * Empty windows, ending at the close time, for the restored series that have not shown up
   * yet; call after the close's own windows went through {@link of}. The array is reused.
   */
  standIns(): readonly ClosedSpanWindow[] {
    const out = this.stand;
    out.length = 0;
    for (const { window } of this.restored.values()) {
      window.end = this.now;
      window.start = this.now - this.windowMs;
      out.push(window);
    }
    return out;
  }

  /** Restored states whose series has not shown up yet. */
  get waiting(): number {
    return this.restored.size;
  }

  /**
   * Every state with its identity: live ones, then those still waiting for their series (so a
   * second restart soon after the first loses nothing).
   */
  *entries(): Generator<[id: string, state: S]> {
    const live = new Map<string, S>();
    for (const w of this.live) {
      const s = this.states.get(w.series);
      if (s === undefined) continue;
      s.id ??= seriesIdentity(w.series);
      // A catch-up close carries several windows of one series.
      live.set(s.id, s);
    }
    yield* live;
    for (const [id, { state }] of this.restored) if (!live.has(id)) yield [id, state];
  }

  /**
   * Replaces the waiting states with those of a checkpoint taken at `savedAt`; throws, leaving
   * the table as it was, when an identity is malformed.
   */
  load(states: ReadonlyMap<string, S>, savedAt: number): void {
    const restored = new Map<string, Waiting<S>>();
    for (const [id, state] of states) {
      const window = newClosedWindow(seriesOfIdentity(id), EMPTY_SKETCH, NO_EXEMPLARS);
      state.id = id;
      this.states.set(window.series, state);
      restored.set(id, { state, window });
    }
    this.restored = restored;
    this.savedAt = savedAt;
  }
}
