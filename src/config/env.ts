/**
 * `${env:NAME}` expansion in configuration values, with the OpenTelemetry Collector's rules.
 *
 * Expansion runs after YAML parsing, over string scalar values only (never keys), so a value
 * can never inject YAML structure. Malformed references do not throw: they become a
 * {@link MalformedScalar} that validation reports at the value's path, together with every
 * other problem in the file.
 */
import { parse as parseYamlScalar } from 'yaml';

/**
 * A string value that contained at least one `${env:…}` reference, after expansion.
 * Kept as a wrapper (not a bare string) so that string settings use the text exactly as
 * written while number and boolean settings can use the typed reading, and so error messages
 * can show where a bad value came from.
 */
export class ExpandedScalar {
  constructor(
    /** Expanded text. */
    readonly text: string,
    /** Typed reading: a number or boolean when the whole value was one reference whose
     *  expansion is a YAML number or boolean; otherwise the same as `text`. */
    readonly typed: string | number | boolean,
    /** The value as written in the file, before expansion. */
    readonly source: string,
  ) {}
}

/** A string value whose `${…}` reference could not be understood; `message` says why. */
export class MalformedScalar {
  constructor(
    readonly message: string,
    readonly source: string,
  ) {}
}

/** Same rule as the Collector's env provider, so names that work there work here. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Result of expanding one string: the text, or why it could not be expanded. */
type Expansion = { ok: true; text: string; references: number; whole: boolean } | { ok: false; message: string };

function expandString(value: string, env: NodeJS.ProcessEnv): Expansion {
  let out = '';
  let references = 0;
  let whole = false;
  let i = 0;
  while (i < value.length) {
    const dollar = value.indexOf('$', i);
    if (dollar < 0) {
      out += value.slice(i);
      break;
    }
    out += value.slice(i, dollar);
    const next = value[dollar + 1];
    if (next === '$') {
      // `$$` is the escape for a literal `$`, as in the Collector.
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      // A lone `$` (e.g. in a password) is literal; only `${` starts a reference.
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = value.indexOf('}', dollar + 2);
    if (close < 0) {
      return { ok: false, message: `unterminated reference "${value.slice(dollar)}": expected \${env:NAME} or \${env:NAME:-default}` };
    }
    const body = value.slice(dollar + 2, close);
    if (!body.startsWith('env:')) {
      return { ok: false, message: `unsupported reference "\${${body}}": expected \${env:NAME} or \${env:NAME:-default} (write $$ for a literal $)` };
    }
    const spec = body.slice('env:'.length);
    const sep = spec.indexOf(':-');
    const name = sep < 0 ? spec : spec.slice(0, sep);
    if (!ENV_NAME.test(name)) {
      return { ok: false, message: `invalid environment variable name "${name}" in "\${${body}}": must match ${ENV_NAME.source}` };
    }
    const set = env[name];
    // Like the Collector, the default applies only when the variable is unset, not when empty.
    out += set !== undefined ? set : sep < 0 ? '' : spec.slice(sep + 2);
    references++;
    whole = dollar === 0 && close === value.length - 1;
    i = close + 1;
  }
  return { ok: true, text: out, references, whole };
}

/** The typed reading of a whole-value reference: numbers and booleans only, as YAML reads them. */
function typedReading(text: string): string | number | boolean {
  try {
    const v: unknown = parseYamlScalar(text);
    if (typeof v === 'number' || typeof v === 'boolean') return v;
  } catch {
    // Not a scalar YAML would accept; keep the text.
  }
  return text;
}

/**
 * Expands `${env:NAME}` and `${env:NAME:-default}` in every string value of a parsed YAML
 * tree, and `$$` to `$`. An unset variable without default expands to the empty string.
 * Returns a new tree; values with references become {@link ExpandedScalar}, malformed ones
 * {@link MalformedScalar}. Pure: the environment is passed in.
 */
export function expandEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw === 'string') {
    const r = expandString(raw, env);
    if (!r.ok) return new MalformedScalar(r.message, raw);
    if (r.references === 0) return r.text;
    const typed = r.references === 1 && r.whole ? typedReading(r.text) : r.text;
    return new ExpandedScalar(r.text, typed, raw);
  }
  if (Array.isArray(raw)) return raw.map((item) => expandEnv(item, env));
  if (raw !== null && typeof raw === 'object') {
    // fromEntries defines own properties, so a key like `__proto__` stays plain data.
    return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, expandEnv(value, env)]));
  }
  return raw;
}
