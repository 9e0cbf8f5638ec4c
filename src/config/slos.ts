/**
 * The `slos:` list and `alerting.burn_rate_windows`: what the error-budget detector watches
 * and when it pages. Defaults are the Google SRE Workbook's multiwindow, multi-burn-rate alerts.
 */
import { formatDuration } from './duration.js';
import * as s from './spec.js';

/** SLI kinds: `availability` counts errors as bad; `latency` counts spans slower than a threshold. */
export const SLI_KINDS = ['availability', 'latency'] as const;
/** Alert severities, most urgent first. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;

/** One declared SLO. */
export interface SloConfig {
  name: string;
  service: string;
  /** Glob on the operation (`*` any run of characters, `?` one character); `*` = all. */
  operation: string;
  /** Target good ratio, e.g. 0.999. */
  objective: number;
  /** Budget period, ms. */
  period: number;
  sli: { kind: (typeof SLI_KINDS)[number]; threshold_ms: number };
  outcomes: string[];
}

/** One multiwindow burn-rate rule: both windows must burn faster than `factor`. */
export interface BurnRateWindowConfig {
  /** ms */
  long: number;
  /** ms */
  short: number;
  factor: number;
  severity: (typeof SEVERITIES)[number];
}

const DEFAULT_BURN_RATE_WINDOWS: BurnRateWindowConfig[] = [
  { long: 3_600_000, short: 300_000, factor: 14.4, severity: 'critical' },
  { long: 21_600_000, short: 1_800_000, factor: 6, severity: 'critical' },
  { long: 86_400_000, short: 7_200_000, factor: 3, severity: 'warning' },
  { long: 259_200_000, short: 21_600_000, factor: 1, severity: 'warning' },
];

const sloSpec = s.object(
  {
    name: s.string({ default: '', nonEmpty: true }),
    service: s.string({ default: '', nonEmpty: true }),
    operation: s.string({ default: '*', nonEmpty: true }),
    objective: s.number({ default: 0.999, greaterThan: 0 }),
    period: s.duration({ default: '30d', min: 60_000 }),
    sli: s.object({
      kind: s.oneOf(SLI_KINDS, { default: 'availability' }),
      threshold_ms: s.number({ default: 0, min: 0 }),
    }),
    outcomes: s.list(s.string({ default: '', nonEmpty: true })),
  },
  {
    check(slo, issue, path) {
      if (slo.name === '') issue(s.join(path, 'name'), 'is required');
      if (slo.service === '') issue(s.join(path, 'service'), 'is required');
      if (!(slo.objective < 1)) issue(s.join(path, 'objective'), `must be below 1 (1 leaves no error budget), got ${slo.objective}`);
      if (slo.sli.kind === 'latency' && !(slo.sli.threshold_ms > 0)) issue(s.join(path, 'sli.threshold_ms'), 'a latency SLI needs a threshold above 0');
    },
  },
);

/** Schema of the `slos` list. */
export const slosSpec = s.list(sloSpec);

/** Schema of the `alerting` section. */
export const alertingSpec = s.object({
  burn_rate_windows: s.list(
    s.object(
      {
        long: s.duration({ default: '1h', greaterThan: 0 }),
        short: s.duration({ default: '5m', greaterThan: 0 }),
        factor: s.number({ default: 14.4, greaterThan: 0 }),
        severity: s.oneOf(SEVERITIES, { default: 'critical' }),
      },
      {
        check(w, issue, path) {
          if (w.short >= w.long) issue(s.join(path, 'short'), `must be shorter than long (${formatDuration(w.long)}), got ${formatDuration(w.short)}`);
        },
      },
    ),
    { default: () => DEFAULT_BURN_RATE_WINDOWS.map((w) => ({ ...w })), minItems: 1 },
  ),
});

/** Cross-section rules: SLO names are fingerprints, so they must be unique. */
export function checkSlos(slos: readonly SloConfig[], issue: (path: string, message: string) => void): void {
  const seen = new Set<string>();
  slos.forEach((slo, i) => {
    if (seen.has(slo.name)) issue(`slos[${i}].name`, `"${slo.name}" is already used by another SLO`);
    seen.add(slo.name);
  });
}
