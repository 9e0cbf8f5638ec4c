/**
 * The set of live series and the cardinality cap. Keys are looked up through a trie of Maps
 * (service → part → … → series), so finding a span's series costs a few Map lookups on
 * interned strings and builds no key string: nothing is allocated per span.
 */

/** What the keyspace needs to know about a series it holds. */
export interface KeyedSeries {
  /** `service.name` of the series (for overflow series, the service it folds). */
  readonly service: string;
  /** The rest of the key, in keyspace order (for spans: operation, kind, dimension values). */
  readonly keyParts: readonly string[];
  /** True for an overflow series that collects keys past the cap. */
  readonly overflow: boolean;
  /** Last time (ms) data arrived; the caller updates it, eviction reads it. */
  lastSeen: number;
}

/** The operation name of overflow series, as the issue and the docs promise. */
export const OVERFLOW_OPERATION = '__overflow__';
/** Service of the single last-resort overflow series used when services themselves explode. */
export const OVERFLOW_SERVICE = '__overflow__';

/** Options of a {@link SeriesKeyspace}. */
export interface KeyspaceOptions<S extends KeyedSeries> {
  /** Number of key parts after the service (fixed for a keyspace). */
  parts: number;
  /** Most regular series alive at once. */
  maxSeries: number;
  /** Series idle for this long (ms) are evicted by {@link SeriesKeyspace.evictIdle}. */
  ttlMs: number;
  /**
   * Builds a series. `parts` is a fresh copy the series may keep. For an overflow series,
   * `parts` is the overflow key (`__overflow__` then empty strings).
   */
  create(service: string, parts: string[], overflow: boolean, now: number): S;
  /** Called once when the cap is first hit, and again after the keyspace recovered and hits it anew. */
  onCapReached?(maxSeries: number): void;
}

type Node<S> = Map<string, Node<S> | S>;

// Overflow series are one per service, but services can explode too: past this many, keys
// fold into one series whose service is `__overflow__`.
const MAX_OVERFLOW_SERVICES_SHARE = 0.1;
const MIN_OVERFLOW_SERVICES = 16;
// The cap warning re-arms when the keyspace has shrunk back below this share of the cap.
const REARM_SHARE = 0.9;

/** Live series by key, with a cardinality cap (overflow series) and idle eviction. */
export class SeriesKeyspace<S extends KeyedSeries> {
  private readonly root: Node<S> = new Map();
  private readonly all = new Set<S>();
  private readonly overflowByService = new Map<string, S>();
  private readonly maxOverflowServices: number;
  private regular = 0;
  private capArmed = true;
  /** Series created since start (regular and overflow). */
  created = 0;
  /** Series removed for being idle. */
  evicted = 0;
  /** Lookups of a new key that were folded into an overflow series. */
  overflowed = 0;

  constructor(private readonly options: KeyspaceOptions<S>) {
    this.maxOverflowServices = Math.max(MIN_OVERFLOW_SERVICES, Math.ceil(options.maxSeries * MAX_OVERFLOW_SERVICES_SHARE));
  }

  /** Series alive now, overflow series included. */
  get size(): number {
    return this.all.size;
  }

  /** Overflow series alive now. */
  get overflowSeries(): number {
    return this.all.size - this.regular;
  }

  /** Every live series; do not add or evict while iterating. */
  series(): IterableIterator<S> {
    return this.all.values();
  }

  /**
   * The series for `service` + `parts[0..options.parts)`, created if new and under the cap,
   * else the service's overflow series. `parts` is read, not kept: callers reuse one array.
   */
  lookup(service: string, parts: readonly string[], now: number): S {
    const n = this.options.parts;
    let node = this.root.get(service) as Node<S> | undefined;
    if (node !== undefined) {
      for (let i = 0; i < n - 1 && node !== undefined; i++) node = node.get(parts[i]) as Node<S> | undefined;
      const leaf = node?.get(parts[n - 1]) as S | undefined;
      if (leaf !== undefined) return leaf;
    }
    return this.insert(service, parts, now);
  }

  private insert(service: string, parts: readonly string[], now: number): S {
    if (this.regular >= this.options.maxSeries) return this.overflowFor(service, now);
    const n = this.options.parts;
    const key = Array.from({ length: n }, (_, i) => parts[i]);
    const s = this.options.create(service, key, false, now);
    let node = this.root.get(service) as Node<S> | undefined;
    if (node === undefined) {
      node = new Map();
      this.root.set(service, node);
    }
    for (let i = 0; i < n - 1; i++) {
      let next = node.get(key[i]) as Node<S> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(key[i], next);
      }
      node = next;
    }
    node.set(key[n - 1], s);
    this.all.add(s);
    this.regular++;
    this.created++;
    return s;
  }

  private overflowFor(service: string, now: number): S {
    this.overflowed++;
    if (this.capArmed) {
      this.capArmed = false;
      this.options.onCapReached?.(this.options.maxSeries);
    }
    let s = this.overflowByService.get(service);
    if (s !== undefined) return s;
    const svc = this.overflowByService.size < this.maxOverflowServices ? service : OVERFLOW_SERVICE;
    s = this.overflowByService.get(svc);
    if (s !== undefined) return s;
    const key = [OVERFLOW_OPERATION, ...Array.from({ length: this.options.parts - 1 }, () => '')];
    s = this.options.create(svc, key, true, now);
    this.overflowByService.set(svc, s);
    this.all.add(s);
    this.created++;
    return s;
  }

  /** Removes series idle since `now - ttl`; calls `onEvict` for each. Returns how many. */
  evictIdle(now: number, onEvict?: (s: S) => void): number {
    const cutoff = now - this.options.ttlMs;
    let n = 0;
    for (const s of this.all) {
      if (s.lastSeen > cutoff) continue;
      this.remove(s);
      onEvict?.(s);
      n++;
    }
    this.evicted += n;
    if (!this.capArmed && this.regular < this.options.maxSeries * REARM_SHARE) this.capArmed = true;
    return n;
  }

  private remove(s: S): void {
    this.all.delete(s);
    if (s.overflow) {
      this.overflowByService.delete(s.service);
      return;
    }
    this.regular--;
    // Delete the leaf, then prune maps the deletion left empty, bottom up.
    const path: Node<S>[] = [];
    let node = this.root.get(s.service) as Node<S> | undefined;
    const parts = s.keyParts;
    for (let i = 0; i < parts.length - 1 && node !== undefined; i++) {
      path.push(node);
      node = node.get(parts[i]) as Node<S> | undefined;
    }
    if (node === undefined || node.get(parts[parts.length - 1]) !== s) return;
    node.delete(parts[parts.length - 1]);
    for (let i = path.length - 1; i >= 0 && node.size === 0; i--) {
      path[i].delete(parts[i]);
      node = path[i];
    }
    if (node.size === 0) this.root.delete(s.service);
  }
}
