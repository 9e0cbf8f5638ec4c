/**
 * A small, typed description of configuration: each setting is a {@link Spec} that knows its
 * default and how to validate a raw YAML value, reporting problems with their dotted path.
 * Sections are plain {@link object} specs, so a new section is a few lines in schema.ts and its
 * TypeScript type is inferred from the description.
 *
 * Validation never stops at the first problem: every spec appends to a shared issue list and
 * returns {@link INVALID} instead of throwing, so the user sees everything wrong in one run.
 */
import { durationProblem, formatDuration, parseDuration } from './duration.js';
import { type Endpoint, parseEndpoint } from './endpoint.js';
import { ExpandedScalar, MalformedScalar } from './env.js';

/** One configuration problem: `path` like `receivers.otlp.protocols.grpc.endpoint`, and what is wrong. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * Returned by {@link Spec.decode} when no well-typed value can be built; the reason is already
 * in the issue list. A decode may also return a value *and* add issues (an unknown key, a
 * cross-field conflict): the value is still well-typed, so enclosing sections can run their own
 * checks and report more. Validity is decided by whether any issue was added.
 */
export const INVALID: unique symbol = Symbol('invalid config value');

/** Path used for problems with the document itself (e.g. the file is a list, not a mapping). */
export const ROOT_PATH = '(root)';

/** Description of one setting or section. */
export interface Spec<T> {
  /** What kind of value this is (`object`, `integer`, `duration`, …); for docs and introspection. */
  readonly kind: string;
  /** Child settings of an object section, so tools (the docs test) can walk the schema. */
  readonly fields?: Fields;
  /** Item spec of a list. */
  readonly item?: Spec<unknown>;
  /** A fresh default value, used when the key is absent. */
  defaultValue(): T;
  /** Validates `raw` (already env-expanded) at `path`, appending problems to `issues`; see {@link INVALID}. */
  decode(raw: unknown, path: string, issues: ConfigIssue[]): T | typeof INVALID;
}

/** The TypeScript type a spec produces. */
export type SpecValue<S> = S extends Spec<infer T> ? T : never;

/** Field specs of an object section, by key. */
export type Fields = Record<string, Spec<unknown>>;

/** The value type of an object section with these fields. */
export type ObjectValue<F extends Fields> = { [K in keyof F]: SpecValue<F[K]> };

/** An object section. */
export interface ObjectSpec<T> extends Spec<T> {
  readonly fields: Fields;
}

/** Cross-field rule run on an object once all its fields are valid; reports with `issue(path, message)`. */
export type ObjectCheck<T> = (value: T, issue: (path: string, message: string) => void, path: string) => void;

/** Joins a parent path and a key: `join('log', 'level')` → `log.level`. */
export function join(path: string, key: string): string {
  return path === '' || path === ROOT_PATH ? key : `${path}.${key}`;
}

/** Decodes a child value, reporting malformed `${…}` references at their path first. */
export function decodeAt<T>(spec: Spec<T>, raw: unknown, path: string, issues: ConfigIssue[]): T | typeof INVALID {
  if (raw instanceof MalformedScalar) {
    issues.push({ path: path || ROOT_PATH, message: raw.message });
    return INVALID;
  }
  return spec.decode(raw, path || ROOT_PATH, issues);
}

/** The value as string settings see it: the expanded text, exactly as written. */
function textView(raw: unknown): unknown {
  return raw instanceof ExpandedScalar ? raw.text : raw;
}

/** The value as number and boolean settings see it: the typed reading of a whole reference. */
function typedView(raw: unknown): unknown {
  return raw instanceof ExpandedScalar ? raw.typed : raw;
}

/** Describes a value for messages: `"abc"`, `number 4`, `null`, `a list`, `a mapping`, `true`. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return `number ${value}`;
  return String(value);
}

/** A problem found while reading a scalar. */
interface Problem {
  problem: string;
}

function isProblem(r: unknown): r is Problem {
  return typeof r === 'object' && r !== null && 'problem' in r;
}

/** Builds a scalar spec from a function that turns the right view of the value into T or a problem. */
function scalar<T>(kind: string, view: (raw: unknown) => unknown, defaultValue: () => T, read: (v: unknown, got: string) => T | Problem): Spec<T> {
  return {
    kind,
    defaultValue,
    decode(raw, path, issues) {
      const v = view(raw);
      const r = read(v, describe(v));
      if (!isProblem(r)) return r;
      // Name the reference a bad value came from: `got ""` alone hides an unset variable.
      const origin = raw instanceof ExpandedScalar ? ` (from "${raw.source}")` : '';
      issues.push({ path, message: r.problem + origin });
      return INVALID;
    },
  };
}

/** Bounds for numeric settings. `greaterThan` is exclusive (sizes must be > 0); `min`/`max` inclusive. */
export interface NumberBounds {
  greaterThan?: number;
  min?: number;
  max?: number;
}

/** Checks bounds; `show` prints bounds in the setting's own notation (durations as `10s`). */
function checkBounds(n: number, b: NumberBounds, got: string, show: (x: number) => string = String): Problem | undefined {
  if (b.greaterThan !== undefined && !(n > b.greaterThan)) return { problem: `must be greater than ${show(b.greaterThan)}, got ${got}` };
  if (b.min !== undefined && n < b.min) return { problem: `must be at least ${show(b.min)}, got ${got}` };
  if (b.max !== undefined && n > b.max) return { problem: `must be at most ${show(b.max)}, got ${got}` };
  return undefined;
}

/** A string setting. */
export function string(options: { default: string; nonEmpty?: boolean }): Spec<string> {
  return scalar('string', textView, () => options.default, (v, got) => {
    if (typeof v !== 'string') return { problem: `expected a string, got ${got}` };
    if (options.nonEmpty && v === '') return { problem: 'must not be empty' };
    return v;
  });
}

/** A finite number setting (fractions allowed). */
export function number(options: { default: number } & NumberBounds): Spec<number> {
  return scalar('number', typedView, () => options.default, (v, got) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return { problem: `expected a number, got ${got}` };
    return checkBounds(v, options, String(v)) ?? v;
  });
}

/** A whole-number setting. */
export function integer(options: { default: number } & NumberBounds): Spec<number> {
  return scalar('integer', typedView, () => options.default, (v, got) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return { problem: `expected an integer, got ${got}` };
    return checkBounds(v, options, String(v)) ?? v;
  });
}

/**
 * A regular expression (JavaScript syntax), kept as its source text; invalid patterns are
 * reported with the engine's message so users see what to fix.
 */
export function pattern(options: { default: string }): Spec<string> {
  return scalar('regex', textView, () => options.default, (v, got) => {
    if (typeof v !== 'string') return { problem: `expected a regular expression, got ${got}` };
    try {
      new RegExp(v);
    } catch (err) {
      return { problem: (err as Error).message };
    }
    return v;
  });
}

/** A number that may be left out (null when absent or written as YAML null). */
export function optionalNumber(): Spec<number | null> {
  return scalar('number', typedView, () => null, (v, got) => {
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) return { problem: `expected a number, got ${got}` };
    return v;
  });
}

/** A mapping of user-chosen names to values of one spec (`outcomes: { revenue: { weight: 5 } }`). */
export function map<T>(item: Spec<T>): Spec<Record<string, T>> {
  return {
    kind: 'map',
    item,
    defaultValue: () => ({}),
    decode(raw, path, issues) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || raw instanceof ExpandedScalar) {
        issues.push({ path, message: `expected a mapping, got ${describe(textView(raw))}` });
        return INVALID;
      }
      const out: Record<string, T> = {};
      let ok = true;
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        const d = decodeAt(item, v, join(path, k), issues);
        if (d === INVALID) ok = false;
        else out[k] = d;
      }
      return ok ? out : INVALID;
    },
  };
}

/** A mapping of names to string values (`attributes: { region: eu }`); scalars are read as text. */
export function stringMap(): Spec<Record<string, string>> {
  return map(
    scalar('string', textView, () => '', (v, got) =>
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : { problem: `expected a string, got ${got}` },
    ),
  );
}

/** A `true`/`false` setting; strings like `"yes"` are rejected rather than guessed. */
export function boolean(options: { default: boolean }): Spec<boolean> {
  return scalar('boolean', typedView, () => options.default, (v, got) =>
    typeof v === 'boolean' ? v : { problem: `expected true or false, got ${got}` },
  );
}

/** One of a fixed set of lowercase words; matched case-insensitively (`INFO` reads as `info`). */
export function oneOf<const V extends string>(values: readonly V[], options: { default: NoInfer<V> }): Spec<V> {
  return scalar('enum', textView, () => options.default, (v, got) => {
    const match = typeof v === 'string' ? values.find((x) => x === v.toLowerCase()) : undefined;
    return match ?? { problem: `expected one of ${values.join(', ')}, got ${got}` };
  });
}

/** A duration string (`10s`, `1h30m`) read as milliseconds. Plain numbers are rejected: the unit must be explicit. */
export function duration(options: { default: string } & NumberBounds): Spec<number> {
  const def = parseDuration(options.default);
  if (def === undefined) throw new Error(`bad default duration ${options.default}`);
  return scalar('duration', textView, () => def, (v, got) => {
    if (typeof v === 'number') return { problem: `expected a duration with a unit such as "${v}s" or "${v}ms", got ${got}` };
    if (typeof v !== 'string') return { problem: `expected a duration such as "10s" or "1h30m", got ${got}` };
    const ms = parseDuration(v);
    if (ms === undefined) return { problem: durationProblem(v) };
    return checkBounds(ms, options, got, formatDuration) ?? ms;
  });
}

/** A `host:port` listen address read as an {@link Endpoint}. */
export function endpoint(options: { default: string }): Spec<Endpoint> {
  const def = parseEndpoint(options.default);
  if (!def.ok) throw new Error(`bad default endpoint ${options.default}`);
  return scalar('endpoint', textView, () => ({ ...def.endpoint }), (v, got) => {
    if (typeof v !== 'string') return { problem: `expected host:port, got ${got}` };
    const r = parseEndpoint(v);
    return r.ok ? r.endpoint : { problem: r.message };
  });
}

/** A list whose items all follow `item`; paths of items are `key[0]`, `key[1]`, … */
export function list<T>(item: Spec<T>, options: { default?: () => T[]; minItems?: number } = {}): Spec<T[]> {
  return {
    kind: 'list',
    item,
    defaultValue: options.default ?? (() => []),
    decode(raw, path, issues) {
      if (!Array.isArray(raw)) {
        issues.push({ path, message: `expected a list, got ${describe(textView(raw))}` });
        return INVALID;
      }
      const out: T[] = [];
      let ok = true;
      raw.forEach((r: unknown, i) => {
        const v = decodeAt(item, r, `${path}[${i}]`, issues);
        if (v === INVALID) ok = false;
        else out.push(v);
      });
      if (options.minItems !== undefined && raw.length < options.minItems) {
        issues.push({ path, message: `must have at least ${options.minItems} item(s), got ${raw.length}` });
      }
      return ok ? out : INVALID;
    },
  };
}

function isMapping(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) && !(raw instanceof ExpandedScalar);
}

/**
 * A section with fixed keys. Absent keys take their defaults; keys not in `fields` are errors
 * (a typo must not be silently ignored). `check` runs cross-field rules once every field is valid.
 */
export function object<F extends Fields>(fields: F, options: { check?: ObjectCheck<ObjectValue<F>> } = {}): ObjectSpec<ObjectValue<F>> {
  const keys = Object.keys(fields);
  const build = (valueOf: (key: string) => unknown): ObjectValue<F> =>
    Object.fromEntries(keys.map((k) => [k, valueOf(k)])) as ObjectValue<F>;
  return {
    kind: 'object',
    fields,
    defaultValue: () => build((k) => fields[k].defaultValue()),
    decode(raw, path, issues) {
      if (!isMapping(raw)) {
        issues.push({ path, message: `expected a mapping, got ${describe(textView(raw))}` });
        return INVALID;
      }
      const decoded = new Map<string, unknown>();
      let fieldsValid = true;
      // Walk the keys in file order so problems are listed in the order the user wrote them.
      for (const [key, value] of Object.entries(raw)) {
        if (!Object.hasOwn(fields, key)) {
          issues.push({ path: join(path, key), message: 'unknown key' });
          continue;
        }
        const v = decodeAt(fields[key], value, join(path, key), issues);
        if (v === INVALID) fieldsValid = false;
        else decoded.set(key, v);
      }
      if (!fieldsValid) return INVALID;
      const value = build((k) => (decoded.has(k) ? decoded.get(k) : fields[k].defaultValue()));
      options.check?.(value, (p, message) => issues.push({ path: p, message }), path);
      return value;
    },
  };
}

/**
 * Accepts YAML `null` (including an empty key, `grpc:`) as meaning `whenNull()`; any other
 * value is validated by `inner`. Used for protocols, where `grpc: null` disables gRPC.
 */
export function nullable<T>(inner: Spec<T>, whenNull: () => T): Spec<T> {
  return {
    kind: `nullable ${inner.kind}`,
    fields: inner.fields,
    item: inner.item,
    defaultValue: () => inner.defaultValue(),
    decode: (raw, path, issues) => (raw === null ? whenNull() : inner.decode(raw, path, issues)),
  };
}

/**
 * Every setting path under `spec`, leaves and sections alike, list items as `key[]`:
 * `['admin', 'admin.endpoint', …]`. Lets a test check that the docs mention every key.
 */
export function settingPaths(spec: Spec<unknown>, path = ''): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(spec.fields ?? {})) {
    const p = join(path, key);
    out.push(p, ...settingPaths(child, p));
  }
  if (spec.item) out.push(...settingPaths(spec.item, `${path}[]`));
  return out;
}

/** The value of a {@link variant}: the chosen variant's fields plus its `type`. */
export type VariantValue<V extends Record<string, ObjectSpec<unknown>>> = { [K in keyof V]: { type: K } & SpecValue<V[K]> }[keyof V];

/**
 * A section whose keys depend on its `type` (a sink, like a Collector exporter): `type` picks
 * one object spec from `variants`, which then validates the other keys, so a key that belongs to
 * another type is reported as unknown. `fields` is the union of all variants' fields, for docs.
 */
export function variant<const V extends Record<string, ObjectSpec<unknown>>>(variants: V, options: { default: keyof V & string }): Spec<VariantValue<V>> {
  const names = Object.keys(variants);
  const typeSpec = oneOf(names, { default: options.default });
  const fields: Fields = { type: typeSpec };
  for (const v of Object.values(variants)) Object.assign(fields, v.fields);
  const build = (name: string, value: unknown) => ({ type: name, ...(value as object) }) as VariantValue<V>;
  return {
    kind: 'variant',
    fields,
    defaultValue: () => build(options.default, variants[options.default].defaultValue()),
    decode(raw, path, issues) {
      if (!isMapping(raw)) {
        issues.push({ path, message: `expected a mapping, got ${describe(textView(raw))}` });
        return INVALID;
      }
      const name = decodeAt(typeSpec, raw.type ?? options.default, join(path, 'type'), issues);
      if (name === INVALID) return INVALID;
      const rest = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'type'));
      const value = variants[name].decode(rest, path, issues);
      return value === INVALID ? INVALID : build(name, value);
    },
  };
}

/**
 * A mapping passed through as written (a user module's own options): only checked to be a
 * mapping; whoever consumes it validates the contents.
 */
export function freeform(): Spec<Record<string, unknown>> {
  return {
    kind: 'mapping',
    defaultValue: () => ({}),
    decode(raw, path, issues) {
      if (!isMapping(raw)) {
        issues.push({ path, message: `expected a mapping, got ${describe(textView(raw))}` });
        return INVALID;
      }
      return plain(raw) as Record<string, unknown>;
    },
  };
}

/** Env-expanded scalars back to plain values, recursively. */
function plain(raw: unknown): unknown {
  if (raw instanceof ExpandedScalar) return raw.typed;
  if (Array.isArray(raw)) return raw.map(plain);
  if (raw !== null && typeof raw === 'object') return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, plain(v)]));
  return raw;
}

/** An absolute URL whose scheme is one of `schemes` (`http:`, `https:`); empty only when `optional`. */
export function url(options: { default: string; schemes: readonly string[]; optional?: boolean }): Spec<string> {
  return scalar('url', textView, () => options.default, (v, got) => {
    if (typeof v !== 'string') return { problem: `expected a URL, got ${got}` };
    if (v === '') return options.optional ? v : { problem: 'a URL is required' };
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return { problem: `expected an absolute URL such as "${options.schemes[0]}//host:port/path", got ${got}` };
    }
    if (!options.schemes.includes(u.protocol)) return { problem: `expected a ${options.schemes.map((x) => x.replace(':', '')).join(' or ')} URL, got ${got}` };
    return v;
  });
}
