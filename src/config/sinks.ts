/**
 * `sinks:` and `state:`. Each sink entry is a variant keyed by `type` (like a Collector
 * exporter): only the keys of that type are accepted, and every type shares `retry`, which the
 * outbox applies to it. `state:` is where the outbox and signal history live.
 */
import * as s from './spec.js';

/** Per-sink retry policy: exponential backoff with ±50% jitter, then the dead letters. */
const retry = s.object({
  initial_interval: s.duration({ default: '1s', greaterThan: 0 }),
  max_interval: s.duration({ default: '1m', greaterThan: 0 }),
  /** Attempts before a delivery is dead-lettered; 0 = no limit (only `max_age`). */
  max_attempts: s.integer({ default: 100, min: 0, max: 1_000_000 }),
  max_age: s.duration({ default: '24h', greaterThan: 0 }),
});

/** Keys every sink type has. */
const common = {
  /** Stable name for metrics, logs and the outbox; defaults to `<type>[<index>]`. */
  name: s.string({ default: '' }),
  retry,
};

const timeout = () => s.duration({ default: '10s', greaterThan: 0, max: 10 * 60_000 });

// A NATS subject token: no whitespace, no wildcards; `{service}` is filled in per signal.
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

const stdout = s.object({ ...common });

const file = s.object(
  {
    path: s.string({ default: '' }),
    max_mb: s.number({ default: 64, greaterThan: 0 }),
    ...common,
  },
  {
    check(k, issue, path) {
      if (k.path === '') issue(s.join(path, 'path'), 'a file sink needs a path');
    },
  },
);

/** Reports a missing URL (absent keys take their default without being decoded). */
function requireUrl(key: string) {
  return (k: Record<string, unknown>, issue: (path: string, message: string) => void, path: string) => {
    if (k[key] === '') issue(s.join(path, key), 'a URL is required');
  };
}

const webhook = s.object({
  url: s.url({ default: '', schemes: ['http:', 'https:'] }),
  format: s.oneOf(['plain', 'cloudevents'] as const, { default: 'plain' }),
  /** HMAC-SHA256 key; the signature of the body goes in `signature_header`. Empty = unsigned. */
  secret: s.string({ default: '' }),
  signature_header: s.string({ default: 'X-Friction-Signature', nonEmpty: true }),
  /** CloudEvents `source`. */
  source: s.string({ default: 'otel-friction', nonEmpty: true }),
  headers: s.stringMap(),
  timeout: timeout(),
  ...common,
}, { check: requireUrl('url') });

const alertmanager = s.object(
  {
    urls: s.list(s.url({ default: '', schemes: ['http:', 'https:'] }), { minItems: 1 }),
    headers: s.stringMap(),
    /** Extra static labels on every alert (cluster, environment). */
    labels: s.stringMap(),
    /** Firing alerts are re-sent this often, as Alertmanager expects from its clients. */
    resend_interval: s.duration({ default: '1m', greaterThan: 0 }),
    timeout: timeout(),
    ...common,
  },
  {
    check(k, issue, path) {
      if (k.urls.length === 0) issue(s.join(path, 'urls'), 'at least one Alertmanager URL is required');
      for (const name of Object.keys(k.labels)) {
        if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) issue(s.join(s.join(path, 'labels'), name), 'not a valid Prometheus label name');
      }
    },
  },
);

const otlpLogs = s.object({
  endpoint: s.url({ default: '', schemes: ['http:', 'https:'] }),
  protocol: s.oneOf(['grpc', 'http/protobuf'] as const, { default: 'http/protobuf' }),
  headers: s.stringMap(),
  compression: s.oneOf(['none', 'gzip'] as const, { default: 'none' }),
  timeout: timeout(),
  ...common,
}, { check: requireUrl('endpoint') });

const nats = s.object(
  {
    servers: s.list(s.url({ default: '', schemes: ['nats:', 'tls:'] }), { minItems: 1, default: () => ['nats://127.0.0.1:4222'] }),
    subject: s.string({ default: 'friction.signals.{service}', nonEmpty: true }),
    stream: s.string({ default: 'FRICTION_SIGNALS', nonEmpty: true }),
    /** Create the stream (subjects: the subject with `{service}` → `>`) when it does not exist. */
    create_stream: s.boolean({ default: true }),
    token: s.string({ default: '' }),
    user: s.string({ default: '' }),
    password: s.string({ default: '' }),
    timeout: timeout(),
    ...common,
  },
  {
    check(k, issue, path) {
      const subject = k.subject.replaceAll('{service}', 'x');
      if (!SUBJECT.test(subject)) issue(s.join(path, 'subject'), `not a valid NATS subject for publishing (dot-separated tokens, no spaces or wildcards): "${k.subject}"`);
      if (!/^[^\s.*>/\\]+$/.test(k.stream)) issue(s.join(path, 'stream'), `not a valid JetStream stream name: "${k.stream}"`);
    },
  },
);

const module = s.object(
  {
    /** File exporting `createSink(options, context)`; relative paths are from the working directory. */
    path: s.string({ default: '' }),
    options: s.freeform(),
    ...common,
  },
  {
    check(k, issue, path) {
      if (k.path === '') issue(s.join(path, 'path'), 'a module sink needs the path of the file that exports createSink');
    },
  },
);

/** Schema of one `sinks[]` entry. */
export const sinkSpec = s.variant({ stdout, file, webhook, alertmanager, otlp_logs: otlpLogs, nats, module }, { default: 'stdout' });

/** One configured sink, by type. */
export type SinkConfig = s.SpecValue<typeof sinkSpec>;

/** The config of one sink type. */
export type SinkConfigOf<T extends SinkConfig['type']> = Extract<SinkConfig, { type: T }>;

/** A sink's retry policy. */
export type RetryConfig = s.SpecValue<typeof retry>;

/** Schema of the `sinks` list. */
export const sinksSpec = s.list(sinkSpec, { default: (): SinkConfig[] => [sinkSpec.defaultValue()] });

/** The name a sink reports and the outbox files its deliveries under: `name`, or `<type>[<index>]`. */
export function sinkName(config: SinkConfig, index: number): string {
  return config.name !== '' ? config.name : `${config.type}[${index}]`;
}

/** Sink names must be unique: the outbox keeps one delivery cursor per name. */
export function checkSinkNames(sinks: readonly SinkConfig[], issue: (path: string, message: string) => void): void {
  const seen = new Map<string, number>();
  sinks.forEach((sink, i) => {
    const name = sinkName(sink, i);
    if (!/^[A-Za-z0-9_.\-[\]]+$/.test(name)) issue(`sinks[${i}].name`, `use letters, digits, "_", "-", "." only, got "${name}"`);
    const first = seen.get(name);
    if (first !== undefined) issue(`sinks[${i}].name`, `"${name}" is also the name of sinks[${first}]`);
    else seen.set(name, i);
  });
}

/** Schema of `state:`. */
export const stateSpec = s.object({
  /** Directory of the SQLite database (outbox, signal history). */
  path: s.string({ default: './data', nonEmpty: true }),
  /** Outbox payload bytes, MiB; past it delivered rows are pruned first, then the oldest undelivered are dead-lettered. */
  max_outbox_mb: s.number({ default: 64, min: 1 }),
  /** Dead letters kept (per sink rows); the oldest are dropped and counted past it. */
  max_dead_letters: s.integer({ default: 10_000, min: 1 }),
  /** How long resolved signals stay queryable in the history. */
  history_retention: s.duration({ default: '30d', greaterThan: 0 }),
  /** How often detector state (SLO buckets, baselines) is saved; also saved on shutdown. */
  checkpoint_interval: s.duration({ default: '30s', greaterThan: 0 }),
});

/** `state:` settings. */
export type StateConfig = s.SpecValue<typeof stateSpec>;
