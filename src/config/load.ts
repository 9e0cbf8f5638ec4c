/**
 * Loading: read the file, parse YAML, expand `${env:…}`, apply defaults, validate.
 * Start-up fails fast with one error listing every problem; nothing here runs after start-up.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { FrictionError } from '../errors.js';
import { expandEnv } from './env.js';
import { type FrictionConfig, frictionConfigSpec } from './schema.js';
import { type ConfigIssue, decodeAt, INVALID, ROOT_PATH } from './spec.js';

/** Thrown by {@link loadConfig} when the file parses but is not a valid configuration. */
export class ConfigInvalidError extends FrictionError {
  /** Every problem found, in file order. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], source?: string) {
    const where = source === undefined ? '' : ` in ${source}`;
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    // One `path: message` per line, so each problem can be read and grepped on its own.
    super('CONFIG_INVALID', [`invalid configuration${where} (${count}):`, ...issues.map(formatIssue)].join('\n'));
    this.name = 'ConfigInvalidError';
    this.issues = issues;
  }
}

/** Formats an issue as `path: message`. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path}: ${issue.message}`;
}

/** The built-in defaults: a working configuration with no file at all. Returns a fresh object. */
export function defaultConfig(): FrictionConfig {
  return frictionConfigSpec.defaultValue();
}

/**
 * Validates a parsed (and env-expanded) YAML tree against the schema, filling in defaults.
 * `null`/`undefined` (an empty file) means "all defaults". Pure; never throws.
 * Returns `config` only when `issues` is empty.
 */
export function validateConfig(raw: unknown): { config?: FrictionConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const value = decodeAt(frictionConfigSpec, raw ?? {}, ROOT_PATH, issues);
  return value === INVALID || issues.length > 0 ? { issues } : { config: value, issues };
}

/**
 * Parses configuration YAML text, expands env references and validates it.
 * `source` names the text in messages (usually the file path).
 * @throws FrictionError `CONFIG_READ` on YAML syntax errors (with line and column),
 *   {@link ConfigInvalidError} (`CONFIG_INVALID`) listing every validation problem.
 */
export function parseConfig(text: string, options: { env?: NodeJS.ProcessEnv; source?: string } = {}): FrictionConfig {
  const source = options.source ?? '<config>';
  const lineCounter = new LineCounter();
  // uniqueKeys: a key written twice is almost always a mistake, and YAML would keep only one.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return `${source}:${line}:${col}: ${e.message}`;
    });
    throw new FrictionError('CONFIG_READ', [`cannot parse ${source} as YAML:`, ...lines].join('\n'));
  }
  const expanded = expandEnv(doc.toJS({ maxAliasCount: 100 }), options.env ?? process.env);
  const { config, issues } = validateConfig(expanded);
  if (config === undefined) throw new ConfigInvalidError(issues, source);
  return config;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Where the YAML comes from, as the Collector's `--config` reads it: a path (or `file:PATH`),
   * `env:VAR` (the variable holds the YAML, as the OpenTelemetry Operator injects it), or
   * `yaml:TEXT`. When undefined the built-in defaults are used.
   */
  file?: string;
  /** Environment for `${env:…}` references; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads the configuration: defaults when `file` is undefined, otherwise the file's YAML with env
 * references expanded, merged over the defaults and validated.
 * @throws FrictionError `CONFIG_READ` when the file cannot be read or is not valid YAML;
 *   {@link ConfigInvalidError} (`CONFIG_INVALID`, with `issues`) when it is not a valid configuration.
 */
export function loadConfig(options: LoadConfigOptions = {}): FrictionConfig {
  if (options.file === undefined) return defaultConfig();
  const source = options.file;
  const env = options.env ?? process.env;
  if (source.startsWith('env:')) {
    const name = source.slice(4);
    const text = env[name];
    if (text === undefined || text.trim() === '') throw new FrictionError('CONFIG_READ', `--config ${source}: the environment variable ${name} is not set or empty`);
    return parseConfig(text, { env, source });
  }
  if (source.startsWith('yaml:')) return parseConfig(source.slice(5), { env, source: 'yaml:' });
  const file = source.startsWith('file:') ? source.slice(5) : source;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new FrictionError('CONFIG_READ', `cannot read config file ${file}: ${reason}`, { cause: err });
  }
  return parseConfig(text, { env: options.env, source: file });
}
