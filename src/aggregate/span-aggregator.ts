/**
 * Spans → per-series tumbling windows. The hot path: one call per request batch; per span an
 * id-cache probe and a staged insert in typed tables (span-slots.ts), no allocation and almost
 * no object touched; staged inserts are applied per series in batches. Windows close when their
 * time is up (checked on every batch and by the aggregator's timer), and every closed window,
 * empty ones included, goes to the listener in one array.
 */
import type { AggregationConfig } from '../config/index.js';
import type { SpanBatch } from '../otlp/batch.js';
import type { Clock } from './clock.js';
import { type KeyedSeries, SeriesKeyspace } from './keyspace.js';
import { OperationRules } from './operation-rules.js';
import type { QuantileSketch, SketchFactory } from './sketch.js';
import { ExemplarReservoir, NO_EXEMPLARS, exemplarScore } from './exemplars.js';
import { STAGE_SIZE, SpanSlots } from './span-slots.js';
import { type ClosedSpanWindow, type SpanSeriesKey, SpanWindowAccumulator, closeEmptyInto, newClosedWindow } from './span-window.js';
import { WindowHistory, WindowRingSlab } from './window-history.js';

/** Span kind names by OTLP enum value; anything else is `unspecified`. */
export const SPAN_KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

/** Attribute keys read when `aggregation.errors.http_5xx` is on (current and older conventions). */
export const HTTP_STATUS_KEYS = ['http.response.status_code', 'http.status_code'] as const;
/** Attribute key read when `aggregation.errors.grpc_codes` is set. */
export const GRPC_STATUS_KEY = 'rpc.grpc.status_code';

const STATUS_ERROR = 2;

/** A live span series: its key, its open windows and its retained history. */
export class SpanSeries implements KeyedSeries, SpanSeriesKey {
  readonly operation: string;
  readonly kind: string;
  readonly dimensions: Readonly<Record<string, string>>;
  lastSeen: number;
  /** Open windows, indexed by window index modulo their number (one unless span_end with lateness). */
  readonly lanes: SpanWindowAccumulator[];
  readonly history: WindowHistory;
  /** Index of the first window not closed yet. */
  nextToClose: number;
  /** Spans that arrived after their window had closed (span_end time only). */
  late = 0;
  /** Index into the aggregator's slot tables. */
  slot = -1;
  /** The newest closed window, refilled in place at every close (undefined before the first). */
  last: ClosedSpanWindow | undefined;
  /** The object {@link last} points to once a window has closed. */
  readonly closed: ClosedSpanWindow;
  /** Exemplars of the newest closed window; swapped with a lane's reservoir at close. */
  lastExemplars: ExemplarReservoir;

  constructor(
    readonly service: string,
    readonly keyParts: readonly string[],
    readonly overflow: boolean,
    dimensionKeys: readonly string[],
    lanes: SpanWindowAccumulator[],
    history: WindowHistory,
    now: number,
    firstWindow: number,
  ) {
    this.operation = keyParts[0];
    this.kind = keyParts[1];
    this.dimensions = Object.fromEntries(dimensionKeys.map((k, i) => [k, keyParts[2 + i]]));
    this.lanes = lanes;
    this.history = history;
    this.lastSeen = now;
    this.nextToClose = firstWindow;
    this.lastExemplars = new ExemplarReservoir(lanes[0].exemplars.capacity);
    this.closed = newClosedWindow(this, lanes[0].sketch, this.lastExemplars);
  }
}

/**
 * The attribute keys the decoder must extract for a span aggregator with this config: the
 * configured dimensions, then the status-code attributes error classification reads.
 */
export function decoderDimensionsFor(c: AggregationConfig): string[] {
  const keys = [...c.dimensions];
  if (c.errors.http_5xx) keys.push(...HTTP_STATUS_KEYS);
  if (c.errors.grpc_codes.length > 0) keys.push(GRPC_STATUS_KEY);
  return keys;
}

/** What the span aggregator is built from. */
export interface SpanAggregatorOptions {
  config: AggregationConfig;
  sketches: SketchFactory;
  clock: Clock;
  /** Receives every closed window, once per close; see {@link ClosedSpanWindow} for the sketch's lifetime. */
  onWindows?(windows: readonly ClosedSpanWindow[]): void;
  onCapReached?(maxSeries: number): void;
}

/** Counters for /metrics. */
export interface SpanAggregatorStats {
  spans: number;
  lateSpans: number;
  overflowSpans: number;
  negativeDurations: number;
}

// A process that stalled (suspended VM, debugger) closes at most this many windows per series
// on wake-up instead of replaying every missed window.
const MAX_CATCH_UP_WINDOWS_FACTOR = 1;

/** Aggregates span batches into windowed series. */
export class SpanAggregator {
  readonly keyspace: SeriesKeyspace<SpanSeries>;
  readonly stats: SpanAggregatorStats = { spans: 0, lateSpans: 0, overflowSpans: 0, negativeDurations: 0 };
  private readonly windowMs: number;
  private readonly lateness: number;
  private readonly laneCount: number;
  private readonly spanEndTime: boolean;
  private readonly rules: OperationRules;
  private readonly userDims: number;
  private readonly httpDims: number[] = [];
  private readonly grpcDim: number = -1;
  private readonly grpcCodes: Set<string>;
  private readonly parts: string[];
  private readonly emptySketch: QuantileSketch;
  private nextCloseAt: number;
  private closedBefore: number;
  // One-entry cache: spans of a request mostly come in runs of one series.
  private cached: SpanSeries | undefined;
  private cachedService = '';
  private cachedName = '';
  private cachedKind = -1;
  private readonly cachedDims: string[];

  /** Where the series' retained rings live. */
  readonly ringSlab: WindowRingSlab;
  private readonly slots: SpanSlots;
  private readonly bySlot: (SpanSeries | undefined)[] = [];
  private readonly applyStaged: (key: number, values: Float64Array, errors: Uint8Array, from: number, to: number) => void;

  /** Attribute keys the decoder must extract for this aggregator, in order. */
  readonly decoderDimensions: readonly string[];

  constructor(private readonly options: SpanAggregatorOptions) {
    const c = options.config;
    this.windowMs = c.window;
    this.spanEndTime = c.time === 'span_end';
    this.lateness = this.spanEndTime ? c.allowed_lateness : 0;
    this.laneCount = 1 + Math.ceil(this.lateness / this.windowMs);
    this.rules = new OperationRules(c.operation_rules);
    this.userDims = c.dimensions.length;
    const keys = decoderDimensionsFor(c);
    if (c.errors.http_5xx) for (const k of HTTP_STATUS_KEYS) this.httpDims.push(keys.indexOf(k));
    if (c.errors.grpc_codes.length > 0) this.grpcDim = keys.indexOf(GRPC_STATUS_KEY);
    this.grpcCodes = new Set(c.errors.grpc_codes.map(String));
    this.decoderDimensions = keys;
    this.parts = new Array<string>(2 + this.userDims).fill('');
    this.cachedDims = new Array<string>(this.userDims).fill('');
    this.emptySketch = options.sketches.create();
    const now = options.clock.now();
    this.closedBefore = this.firstOpenWindow(now);
    this.nextCloseAt = (this.closedBefore + 1) * this.windowMs + this.lateness;
    const dimensionKeys = c.dimensions;
    this.slots = new SpanSlots(this.laneCount);
    this.applyStaged = (key, values, errors, from, to) => this.laneOf(key).addMany(values, errors, from, to);
    const slab = new WindowRingSlab(c.retain_windows);
    this.ringSlab = slab;
    this.keyspace = new SeriesKeyspace<SpanSeries>({
      parts: 2 + this.userDims,
      maxSeries: c.max_series,
      ttlMs: c.series_ttl,
      onCapReached: options.onCapReached,
      create: (service, parts, overflow, t) => this.adopt(
        new SpanSeries(
          service, parts, overflow, dimensionKeys,
          Array.from({ length: this.laneCount }, () => new SpanWindowAccumulator(options.sketches.create(), c.exemplars)),
          new WindowHistory(slab, this.windowMs),
          t,
          this.firstOpenWindow(t),
        ),
        overflow,
        t,
      ),
    });
  }

  /** Window length, ms. */
  get window(): number {
    return this.windowMs;
  }

  /** Live series, for readers such as the JSON API. */
  series(): IterableIterator<SpanSeries> {
    this.syncLastSeen();
    return this.keyspace.series();
  }

  /** Gives a new series its slot. */
  private adopt(series: SpanSeries, overflow: boolean, now: number): SpanSeries {
    series.slot = this.slots.acquire(now, overflow);
    this.bySlot[series.slot] = series;
    return series;
  }

  // The hot loop records receive times in the slot table; series objects learn them here.
  private syncLastSeen(): void {
    const seen = this.slots.lastSeen;
    for (const s of this.keyspace.series()) s.lastSeen = seen[s.slot];
  }

  private laneOf(key: number): SpanWindowAccumulator {
    const L = this.laneCount;
    return L === 1 ? (this.bySlot[key] as SpanSeries).lanes[0] : (this.bySlot[Math.floor(key / L)] as SpanSeries).lanes[key % L];
  }

  /** Applies the staged inserts to their windows. */
  private flushStage(): void {
    this.slots.flush(this.applyStaged);
  }

  /** The time at which the next window closes, ms since the epoch. */
  get nextClose(): number {
    return this.nextCloseAt;
  }

  private firstOpenWindow(now: number): number {
    return Math.floor((now - this.lateness) / this.windowMs);
  }

  /** Adds every span of `batch`. The batch's strings and ids are read now, not kept. */
  consume(batch: SpanBatch): void {
    const now = this.options.clock.now();
    if (now >= this.nextCloseAt) this.closeDue(now);
    const W = this.windowMs;
    const receiveIndex = Math.floor(now / W);
    const firstOpen = this.closedBefore;
    const L = this.laneCount;
    const spans = batch.spans;
    const buf = batch.buffer;
    const stats = this.stats;
    const slots = this.slots;
    const stageKeys = slots.stageKeys;
    const stageValues = slots.stageValues;
    const stageErrors = slots.stageErrors;
    const exemplars = this.options.config.exemplars > 0;
    // Interner ids identify a series only when no dimension values take part in the key.
    const useIds = batch.idsValid && this.userDims === 0;
    const generation = batch.idGeneration;
    for (let i = 0; i < batch.length; i++) {
      const s = spans[i];
      let slot = -1;
      const byId = useIds && s.nameId >= 0 && s.serviceId >= 0;
      if (byId) slot = slots.cached(s.nameId, s.serviceId, s.kind, generation);
      if (slot < 0) {
        slot = this.seriesOf(s.serviceName, s.name, s.kind, s.dims, now).slot;
        if (byId) slots.remember(s.nameId, s.serviceId, s.kind, slot);
      }
      // Tables may have grown inside seriesOf: read them through `slots`, not locals.
      slots.lastSeen[slot] = now;
      let index = receiveIndex;
      if (this.spanEndTime) {
        index = Math.floor((s.endHi * 4294967296 + s.endLo) / 1e6 / W);
        // A clock ahead of ours lands in the current window rather than in one that never closes.
        if (index > receiveIndex) index = receiveIndex;
        if (index < firstOpen) {
          (this.bySlot[slot] as SpanSeries).late++;
          stats.lateSpans++;
          continue;
        }
      }
      const key = L === 1 ? slot : slot * L + (index % L);
      slots.laneWindow[key] = index;
      let ms = s.durationNs / 1e6;
      if (!(ms >= 0)) {
        ms = 0;
        stats.negativeDurations++;
      }
      const error = s.statusCode === STATUS_ERROR || this.errorByAttributes(s.dims);
      if (exemplars && exemplarScore(ms, error) > slots.exemplarFloor[key]) {
        const reservoir = this.laneOf(key).exemplars;
        reservoir.offer(ms, error, buf, s.traceIdOffset, s.spanIdOffset);
        slots.exemplarFloor[key] = reservoir.floor;
      }
      const n = slots.staged;
      stageKeys[n] = key;
      stageValues[n] = ms;
      stageErrors[n] = error ? 1 : 0;
      slots.staged = n + 1;
      if (n + 1 === STAGE_SIZE) this.flushStage();
      if (slots.overflow[slot] === 1) stats.overflowSpans++;
    }
    stats.spans += batch.length;
  }

  private errorByAttributes(dims: readonly string[]): boolean {
    for (const d of this.httpDims) {
      const v = dims[d];
      if (v.length === 3 && v.charCodeAt(0) === 53 /* '5' */) return true;
    }
    return this.grpcDim >= 0 && this.grpcCodes.has(dims[this.grpcDim]);
  }

  private seriesOf(service: string, name: string, kind: number, dims: readonly string[], now: number): SpanSeries {
    const n = this.userDims;
    if (this.cached !== undefined && service === this.cachedService && name === this.cachedName && kind === this.cachedKind) {
      let same = true;
      for (let j = 0; j < n; j++) if (dims[j] !== this.cachedDims[j]) same = false;
      if (same) return this.cached;
    }
    const parts = this.parts;
    parts[0] = this.rules.apply(name);
    parts[1] = SPAN_KIND_NAMES[kind] ?? 'unspecified';
    for (let j = 0; j < n; j++) parts[2 + j] = dims[j];
    const series = this.keyspace.lookup(service, parts, now);
    for (let j = 0; j < n; j++) this.cachedDims[j] = dims[j];
    this.cached = series;
    this.cachedService = service;
    this.cachedName = name;
    this.cachedKind = kind;
    return series;
  }

  /**
   * Closes every window that ended (plus `allowed_lateness`) at or before `now`, hands them to
   * the listener, then evicts idle series. Cheap when nothing is due.
   */
  closeDue(now: number): void {
    const firstOpen = this.firstOpenWindow(now);
    if (firstOpen <= this.closedBefore) return;
    this.closedBefore = firstOpen;
    this.nextCloseAt = (firstOpen + 1) * this.windowMs + this.lateness;
    const W = this.windowMs;
    this.flushStage();
    this.syncLastSeen();
    const closed: ClosedSpanWindow[] = [];
    const used: number[] = [];
    const maxCatchUp = Math.max(1, this.options.config.retain_windows * MAX_CATCH_UP_WINDOWS_FACTOR);
    for (const series of this.keyspace.series()) {
      if (firstOpen - series.nextToClose > maxCatchUp) series.nextToClose = firstOpen - maxCatchUp;
      while (series.nextToClose < firstOpen) {
        const index = series.nextToClose++;
        const lane = series.lanes[index % this.laneCount];
        const key = series.slot * this.laneCount + (index % this.laneCount);
        // The series' own window object carries its newest close; a catch-up over several
        // windows gives the older ones fresh objects so listeners see each.
        const w = series.nextToClose === firstOpen ? series.closed : newClosedWindow(series, this.emptySketch, series.lastExemplars);
        if (this.slots.laneWindow[key] === index) {
          series.lastExemplars = lane.closeInto(w, index, W, series.lastExemplars);
          used.push(key);
        } else {
          closeEmptyInto(w, index, W, this.emptySketch, NO_EXEMPLARS);
        }
        series.history.push(w);
        series.last = series.closed;
        closed.push(w);
      }
    }
    try {
      if (closed.length > 0) this.options.onWindows?.(closed);
    } finally {
      const slots = this.slots;
      for (const key of used) {
        this.laneOf(key).reset();
        slots.laneWindow[key] = -1;
        slots.exemplarFloor[key] = -1;
      }
      this.cached = undefined;
      this.keyspace.evictIdle(now, (series) => {
        series.history.release();
        slots.release(series.slot);
        this.bySlot[series.slot] = undefined;
      });
    }
  }
}
