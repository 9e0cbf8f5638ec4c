/**
 * Duration strings as written in configuration: `500ms`, `10s`, `1h30m`, `1.5d`.
 * Units are required, so `10` is never silently read as seconds or milliseconds.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// `ms` is listed before `m` so the alternation never reads "5ms" as 5 minutes + "s".
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/y;

/**
 * Parses a duration such as `"250ms"`, `"10s"`, `"1h30m"` (units ms, s, m, h, d; parts may
 * have decimals and are summed) into milliseconds. Returns `undefined` for anything else,
 * including plain numbers without a unit, negative values and the empty string.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const m = PART.exec(s);
    if (m === null || m.index !== start) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Formats milliseconds the way {@link parseDuration} reads them, largest units first: `5400000` → `"1h30m"`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}

/** Why `raw` is not a duration, phrased for a person; used by the schema's duration type. */
export function durationProblem(raw: string): string {
  if (/^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(raw)) {
    return `missing unit in "${raw}": write e.g. "${raw.trim()}s" or "${raw.trim()}ms" (units ms, s, m, h, d)`;
  }
  if (raw.trim().startsWith('-')) return `duration must not be negative, got "${raw}"`;
  return `expected a duration such as "10s" or "1h30m" (units ms, s, m, h, d), got "${raw}"`;
}
