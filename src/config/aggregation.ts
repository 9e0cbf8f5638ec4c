/**
 * The `aggregation:` section: how spans and metric points become windowed series.
 * Kept apart from schema.ts because it is the biggest section and has its own rules.
 */
import { formatDuration } from './duration.js';
import * as s from './spec.js';

/** Where a span's window comes from. */
export const WINDOW_TIME_SOURCES = ['receive', 'span_end'] as const;
/** Sketch implementations (mirrors aggregate/sketch.ts; config must not import the pipeline). */
export const SKETCH_TYPE_NAMES = ['tdigest', 'ddsketch'] as const;

/** Renames span names before they become series keys (`/user/123` → `/user/{id}`). */
export interface OperationRuleConfig {
  /** Regular expression matched against the span name. */
  match: string;
  /** Replacement, with `$1`-style group references as in String.prototype.replace. */
  replace: string;
}

/** The validated `aggregation` section. */
export interface AggregationConfig {
  /** Tumbling window length, ms. */
  window: number;
  retain_windows: number;
  time: (typeof WINDOW_TIME_SOURCES)[number];
  /** With `time: span_end`, how long a window stays open after its end for late spans, ms. */
  allowed_lateness: number;
  max_series: number;
  /** Idle series are evicted after this long, ms. */
  series_ttl: number;
  exemplars: number;
  dimensions: string[];
  operation_rules: OperationRuleConfig[];
  errors: { http_5xx: boolean; grpc_codes: number[] };
  sketch: { type: (typeof SKETCH_TYPE_NAMES)[number]; compression: number; relative_accuracy: number };
  metrics: { max_series: number };
}

// Lanes of open windows per series = 1 + lateness/window; this keeps that small.
const MAX_LATENESS_WINDOWS = 10;

/** Schema of {@link AggregationConfig}. */
export const aggregationSpec = s.object(
  {
    window: s.duration({ default: '10s', min: 100 }),
    retain_windows: s.integer({ default: 360, min: 1, max: 100_000 }),
    time: s.oneOf(WINDOW_TIME_SOURCES, { default: 'receive' }),
    allowed_lateness: s.duration({ default: '5s', min: 0 }),
    max_series: s.integer({ default: 10_000, min: 1, max: 10_000_000 }),
    series_ttl: s.duration({ default: '15m', greaterThan: 0 }),
    exemplars: s.integer({ default: 3, min: 0, max: 32 }),
    dimensions: s.list(s.string({ default: '', nonEmpty: true })),
    operation_rules: s.list(s.object({ match: s.pattern({ default: '' }), replace: s.string({ default: '' }) })),
    errors: s.object({
      http_5xx: s.boolean({ default: false }),
      grpc_codes: s.list(s.integer({ default: 0, min: 0, max: 16 })),
    }),
    sketch: s.object({
      type: s.oneOf(SKETCH_TYPE_NAMES, { default: 'tdigest' }),
      compression: s.number({ default: 300, min: 10, max: 10_000 }),
      relative_accuracy: s.number({ default: 0.01, greaterThan: 0, max: 0.5 }),
    }),
    metrics: s.object({ max_series: s.integer({ default: 10_000, min: 1, max: 10_000_000 }) }),
  },
  {
    check(a, issue, path) {
      if (a.time === 'span_end' && a.allowed_lateness > a.window * MAX_LATENESS_WINDOWS) {
        issue(s.join(path, 'allowed_lateness'), `must be at most ${MAX_LATENESS_WINDOWS} windows (${formatDuration(a.window * MAX_LATENESS_WINDOWS)}), got ${formatDuration(a.allowed_lateness)}`);
      }
      const lateness = a.time === 'span_end' ? a.allowed_lateness : 0;
      if (a.series_ttl <= a.window + lateness) {
        issue(s.join(path, 'series_ttl'), `must be longer than one window${lateness > 0 ? ' plus allowed_lateness' : ''} (${formatDuration(a.window + lateness)}), got ${formatDuration(a.series_ttl)}`);
      }
      a.operation_rules.forEach((r, i) => {
        if (r.match === '') issue(s.join(path, `operation_rules[${i}].match`), 'must not be empty');
      });
      const seen = new Set<string>();
      a.dimensions.forEach((d, i) => {
        if (seen.has(d)) issue(s.join(path, `dimensions[${i}]`), `"${d}" is listed twice`);
        seen.add(d);
      });
    },
  },
);
