/**
 * `privacy:` — attribute values that must not leave the process in signals. Applied to every
 * finding before the synthesizer sees it, so the signal, its fingerprint scope, the history, the
 * outbox, every sink and the API all carry only the redacted form. Dropped keys disappear;
 * hashed keys keep a salted SHA-256 prefix, so equal values still group into one signal while
 * the value itself cannot be read back.
 */
import { createHash } from 'node:crypto';
import type { PrivacyConfig } from '../config/index.js';
import type { Finding } from '../detect/detector.js';

/** Redacts one finding (returns a copy; the detector's objects stay untouched). */
export type FindingRedactor = (f: Finding) => Finding;

// Detectors describe a span series in evidence as `<span kind> <dimensions as JSON>`.
const SERIES_TEXT = /^(\S+) (\{.*\})$/s;

/** The salted hash a value is replaced with: `sha256:` and 16 hex digits. */
export function hashValue(salt: string, value: string): string {
  return `sha256:${createHash('sha256').update(salt).update('\u0000').update(value).digest('hex').slice(0, 16)}`;
}

/** The redactor for `config`, or undefined when nothing is dropped or hashed. */
export function createRedactor(config: PrivacyConfig): FindingRedactor | undefined {
  const drop = new Set(config.drop_attributes);
  const hash = new Set(config.hash_attributes);
  if (drop.size === 0 && hash.size === 0) return undefined;

  const redactObject = (o: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (drop.has(k)) continue;
      out[k] = hash.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') ? hashValue(config.salt, String(v)) : redact(v);
    }
    return out;
  };
  const redactText = (s: string): string => {
    const m = SERIES_TEXT.exec(s);
    if (m === null) return s;
    try {
      const dims = JSON.parse(m[2]) as unknown;
      return dims !== null && typeof dims === 'object' && !Array.isArray(dims) ? `${m[1]} ${JSON.stringify(redactObject(dims as Record<string, unknown>))}` : s;
    } catch {
      return s;
    }
  };
  function redact(v: unknown): unknown {
    if (typeof v === 'string') return redactText(v);
    if (Array.isArray(v)) return v.map(redact);
    if (v !== null && typeof v === 'object') return redactObject(v as Record<string, unknown>);
    return v;
  }
  return (f) => ({ ...f, evidence: redactObject(f.evidence) });
}
