import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  ConfigInvalidError,
  defaultConfig,
  type FrictionConfig,
  loadConfig,
  parseConfig,
  validateConfig,
} from '../../src/config/index.js';
import { ErrorCodes, FrictionError, isFrictionError } from '../../src/errors.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const load = (name: string, env: NodeJS.ProcessEnv = {}): FrictionConfig => loadConfig({ file: join(testdata, name), env });

const FORWARD_TARGET = {
  endpoint: '', protocol: 'grpc' as const, headers: {}, compression: 'gzip' as const, timeout: 10_000,
  tls: { ca_file: '', cert_file: '', key_file: '', insecure_skip_verify: false },
};

const DEFAULTS: FrictionConfig = {
  receivers: {
    otlp: {
      protocols: {
        grpc: {
          enabled: true,
          endpoint: { host: 'localhost', port: 4317 },
          max_recv_msg_size_mib: 4,
          max_concurrent_streams: 100,
          flow_control_window_mib: 16,
          tls: { cert_file: '', key_file: '', client_ca_file: '' }, auth: { bearer_tokens_file: '' },
        },
        http: { enabled: true, endpoint: { host: 'localhost', port: 4318 }, max_request_body_size_mib: 20, tls: { cert_file: '', key_file: '', client_ca_file: '' }, auth: { bearer_tokens_file: '' } },
      },
    },
  },
  admin: { endpoint: { host: 'localhost', port: 13133 }, token: '', external_url: '', dashboard: { enabled: true, trace_url: '' } },
  limits: { max_inflight_bytes_mib: 256 },
  aggregation: {
    window: 10_000,
    retain_windows: 360,
    time: 'receive',
    allowed_lateness: 5_000,
    max_series: 10_000,
    series_ttl: 900_000,
    exemplars: 3,
    dimensions: [],
    operation_rules: [],
    errors: { http_5xx: false, grpc_codes: [] },
    sketch: { type: 'tdigest', compression: 300, relative_accuracy: 0.01 },
    metrics: { max_series: 10_000 },
  },
  slos: [],
  alerting: {
    burn_rate_windows: [
      { long: 3_600_000, short: 300_000, factor: 14.4, severity: 'critical' },
      { long: 21_600_000, short: 1_800_000, factor: 6, severity: 'critical' },
      { long: 86_400_000, short: 7_200_000, factor: 3, severity: 'warning' },
      { long: 259_200_000, short: 21_600_000, factor: 1, severity: 'warning' },
    ],
  },
  detectors: {
    latency_regression: { enabled: true, quantile: 0.99, baseline_windows: 30, warmup_windows: 30, min_samples: 400, ratio: 1.5, min_delta_ms: 20, sustain: 3 },
    error_spike: { enabled: true, baseline_windows: 30, warmup_windows: 30, min_errors: 10, ratio: 3, z: 4, sustain: 2 },
    traffic_drop: { enabled: true, baseline_windows: 30, warmup_windows: 30, min_baseline_rate: 1, drop_ratio: 0.2, sustain: 3 },
    metric_thresholds: [],
    metric_anomaly: { enabled: true, metrics: [], span_signals: [], sensitivity: 6, alpha: 0.05, warmup_windows: 30, sustain: 3 },
  },
  signals: { resolve_after: 3, renotify_interval: 14_400_000, flap_threshold: 3, flap_windows: 60 },
  outcomes: {},
  services: {},
  sinks: [{ type: 'stdout', name: '', retry: { initial_interval: 1000, max_interval: 60_000, max_attempts: 100, max_age: 86_400_000 } }],
  record: { path: '', max_mb: 256 },
  state: { path: './data', max_outbox_mb: 64, max_dead_letters: 10_000, history_retention: 30 * 86_400_000, checkpoint_interval: 30_000 },
  forward: {
    traces: FORWARD_TARGET, metrics: FORWARD_TARGET, logs: FORWARD_TARGET, passthrough_headers: [],
    queue: { max_mb: 256, spill: false, when_full: 'backpressure' },
    retry: { initial_interval: 1000, max_interval: 30_000, max_elapsed_time: 300_000 },
  },
  privacy: { drop_attributes: [], hash_attributes: [], salt: '' },
  log: { level: 'info' },
  shutdown_timeout: 10_000,
};

describe('defaults', () => {
  test('defaultConfig() is the documented contract', () => {
    expect(defaultConfig()).toEqual(DEFAULTS);
  });

  test('defaultConfig() returns a fresh object each time', () => {
    const a = defaultConfig();
    a.receivers.otlp.protocols.grpc.endpoint.port = 1;
    expect(defaultConfig().receivers.otlp.protocols.grpc.endpoint.port).toBe(4317);
  });

  test('no file means defaults', () => {
    expect(loadConfig({})).toEqual(DEFAULTS);
    expect(loadConfig({ file: undefined, env: { ANYTHING: '1' } })).toEqual(DEFAULTS);
  });

  test('an empty file, {} and null all mean defaults', () => {
    expect(load('good-empty.yaml')).toEqual(DEFAULTS);
    expect(validateConfig({}).config).toEqual(DEFAULTS);
    expect(validateConfig(null)).toEqual({ config: DEFAULTS, issues: [] });
  });

  test('partial config is merged over defaults', () => {
    const c = load('good-partial.yaml');
    expect(c.receivers.otlp.protocols.grpc.endpoint).toEqual({ host: '127.0.0.1', port: 0 });
    expect(c.receivers.otlp.protocols.grpc.max_recv_msg_size_mib).toBe(4);
    expect(c.receivers.otlp.protocols.http).toEqual(DEFAULTS.receivers.otlp.protocols.http);
    expect(c.log.level).toBe('warn'); // written WARN
  });

  test('every key can be set', () => {
    expect(load('good-full.yaml')).toEqual({
      receivers: {
        otlp: {
          protocols: {
            grpc: {
              enabled: true,
              endpoint: { host: '0.0.0.0', port: 14317 },
              max_recv_msg_size_mib: 8,
              max_concurrent_streams: 200,
              flow_control_window_mib: 32,
              tls: { cert_file: '', key_file: '', client_ca_file: '' }, auth: { bearer_tokens_file: '' },
            },
            http: { enabled: true, endpoint: { host: '::1', port: 14318 }, max_request_body_size_mib: 0.5, tls: { cert_file: '', key_file: '', client_ca_file: '' }, auth: { bearer_tokens_file: '' } },
          },
        },
      },
      admin: { endpoint: { host: '', port: 13134 }, token: '', external_url: '', dashboard: { enabled: true, trace_url: '' } },
      limits: { max_inflight_bytes_mib: 512 },
      aggregation: DEFAULTS.aggregation,
      slos: [],
      alerting: DEFAULTS.alerting,
      detectors: DEFAULTS.detectors,
      signals: DEFAULTS.signals,
      outcomes: {},
      services: {},
      sinks: DEFAULTS.sinks,
      record: DEFAULTS.record,
      state: DEFAULTS.state,
      forward: DEFAULTS.forward,
      privacy: DEFAULTS.privacy,
      log: { level: 'debug' },
      shutdown_timeout: 90_000,
    } satisfies FrictionConfig);
  });
});

describe('disabling protocols', () => {
  test('grpc: (empty key / null) disables gRPC and keeps its defaults', () => {
    const p = load('good-grpc-null.yaml').receivers.otlp.protocols;
    expect(p.grpc).toEqual({ ...DEFAULTS.receivers.otlp.protocols.grpc, enabled: false });
    expect(p.http.enabled).toBe(true);
  });

  test('enabled: false disables HTTP; a disabled protocol does not conflict on its endpoint', () => {
    const p = load('good-http-disabled.yaml').receivers.otlp.protocols;
    expect(p.http.enabled).toBe(false);
    expect(p.http.endpoint).toEqual({ host: 'localhost', port: 4317 });
    expect(p.grpc.enabled).toBe(true);
  });

  test('explicit null in a parsed tree behaves like the empty key', () => {
    const r = validateConfig({ receivers: { otlp: { protocols: { http: null } } } });
    expect(r.issues).toEqual([]);
    expect(r.config?.receivers.otlp.protocols.http.enabled).toBe(false);
  });

  test('a disabled protocol is still validated', () => {
    const r = validateConfig({ receivers: { otlp: { protocols: { grpc: { enabled: false, endpoint: 'abc' } } } } });
    expect(r.config).toBeUndefined();
    expect(r.issues).toEqual([{ path: 'receivers.otlp.protocols.grpc.endpoint', message: 'expected host:port, got "abc"' }]);
  });

  test('disabling both is an error', () => {
    const r = validateConfig({ receivers: { otlp: { protocols: { grpc: null, http: { enabled: false } } } } });
    expect(r.issues).toEqual([{ path: 'receivers.otlp.protocols', message: 'at least one of grpc, http must be enabled' }]);
  });
});

describe('endpoint conflicts', () => {
  test('port 0 never conflicts (ephemeral ports for tests)', () => {
    const r = validateConfig({
      receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } } },
      admin: { endpoint: '127.0.0.1:0' },
    });
    expect(r.issues).toEqual([]);
  });

  test('same port on different specific hosts is fine', () => {
    const r = validateConfig({ receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:4317' }, http: { endpoint: '127.0.0.2:4317' } } } } });
    expect(r.issues).toEqual([]);
  });

  test('":port" covers every host on that port', () => {
    const r = validateConfig({ receivers: { otlp: { protocols: { grpc: { endpoint: ':4317' }, http: { endpoint: '[::1]:4317' } } } } });
    expect(r.issues.map((i) => i.path)).toEqual(['receivers.otlp.protocols.http.endpoint']);
  });
});

describe('errors', () => {
  test('validateConfig reports every issue and returns no config', () => {
    const r = validateConfig({ log: { level: 'loud', colour: 'red' }, shutdown_timeout: '-5s', limits: { max_inflight_bytes_mib: 0 } });
    expect(r.config).toBeUndefined();
    expect(r.issues).toEqual([
      { path: 'log.level', message: 'expected one of trace, debug, info, warn, error, fatal, silent, got "loud"' },
      { path: 'log.colour', message: 'unknown key' },
      { path: 'shutdown_timeout', message: 'duration must not be negative, got "-5s"' },
      { path: 'limits.max_inflight_bytes_mib', message: 'must be greater than 0, got 0' },
    ]);
  });

  test('CONFIG_INVALID carries the issues and lists them one per line', () => {
    let err: unknown;
    try {
      parseConfig('admin:\n  endpoint: abc\nlog:\n  level: loud\n', { source: 'x.yaml', env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect(isFrictionError(err, 'CONFIG_INVALID')).toBe(true);
    const e = err as ConfigInvalidError;
    expect(e.retryable).toBe(false);
    expect(e.issues).toHaveLength(2);
    expect(e.message).toBe(
      [
        'invalid configuration in x.yaml (2 problems):',
        'admin.endpoint: expected host:port, got "abc"',
        'log.level: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"',
      ].join('\n'),
    );
  });

  test('a missing file is CONFIG_READ with the cause chained', () => {
    let err: unknown;
    try {
      loadConfig({ file: join(testdata, 'does-not-exist.yaml') });
    } catch (e) {
      err = e;
    }
    expect(isFrictionError(err, 'CONFIG_READ')).toBe(true);
    expect((err as FrictionError).message).toContain('does-not-exist.yaml');
    expect((err as FrictionError).cause).toBeInstanceOf(Error);
  });

  test('YAML syntax errors give file, line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'friction-config-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'log:\n  level: "info\n');
    let err: unknown;
    try {
      loadConfig({ file });
    } catch (e) {
      err = e;
    }
    expect((err as FrictionError).code).toBe(ErrorCodes.CONFIG_READ.code);
    expect((err as FrictionError).message).toMatch(new RegExp(`${file.replace(/[.\\]/g, '\\$&')}:\\d+:\\d+: `));
  });

  test('a multi-document file is rejected', () => {
    expect(() => parseConfig('log: {}\n---\nlog: {}\n')).toThrow(FrictionError);
  });

  test('a __proto__ key is an unknown key, not a prototype change', () => {
    const r = validateConfig(JSON.parse('{"log": {"__proto__": {"level": "debug"}}}'));
    expect(r.issues).toEqual([{ path: 'log.__proto__', message: 'unknown key' }]);
  });
});

describe('aggregation', () => {
  test('a full aggregation section loads with its values', () => {
    const a = load('good-aggregation.yaml').aggregation;
    expect(a).toMatchObject({
      window: 1000,
      retain_windows: 60,
      time: 'span_end',
      allowed_lateness: 3000,
      max_series: 500,
      series_ttl: 60_000,
      exemplars: 0,
      dimensions: ['deployment.environment', 'http.route'],
      errors: { http_5xx: true, grpc_codes: [2, 13, 14] },
      sketch: { type: 'ddsketch', compression: 300, relative_accuracy: 0.02 },
      metrics: { max_series: 2000 },
    });
    expect(a.operation_rules).toEqual([
      { match: '/user/\\d+', replace: '/user/{id}' },
      { match: '^(GET|POST) /order/\\d+$', replace: '$1 /order/{id}' },
    ]);
  });
});

describe('slos', () => {
  test('SLOs load with their defaults filled in', () => {
    const c = load('good-slos.yaml');
    expect(c.slos).toEqual([
      { name: 'checkout-availability', service: 'checkout', operation: '*', objective: 0.999, period: 30 * 86_400_000, sli: { kind: 'availability', threshold_ms: 0 }, outcomes: ['revenue'] },
      { name: 'checkout-latency', service: 'checkout', operation: 'POST /v1/checkout*', objective: 0.99, period: 30 * 86_400_000, sli: { kind: 'latency', threshold_ms: 300 }, outcomes: [] },
    ]);
    expect(c.alerting.burn_rate_windows).toEqual([
      { long: 60_000, short: 5_000, factor: 14.4, severity: 'critical' },
      { long: 600_000, short: 60_000, factor: 3, severity: 'warning' },
    ]);
  });
});

describe('config sources, as the Collector reads --config', () => {
  test('env:VAR reads the YAML from a variable (the OpenTelemetry Operator pattern); file: and yaml: work too', () => {
    const yaml = 'log: { level: debug }\nadmin: { endpoint: "127.0.0.1:19999" }\n';
    expect(loadConfig({ file: 'env:FRICTION_CFG', env: { FRICTION_CFG: yaml } }).log.level).toBe('debug');
    expect(loadConfig({ file: 'yaml:log: { level: warn }', env: {} }).log.level).toBe('warn');
    const dir = mkdtempSync(join(tmpdir(), 'friction-src-'));
    writeFileSync(join(dir, 'c.yaml'), yaml);
    expect(loadConfig({ file: `file:${join(dir, 'c.yaml')}`, env: {} }).admin.endpoint.port).toBe(19999);
  });

  test('an unset or empty variable is FRICTION_ERR_CONFIG_READ naming it; a bad YAML in it names env:VAR', () => {
    expect(() => loadConfig({ file: 'env:NOPE', env: {} })).toThrow(/the environment variable NOPE is not set or empty/);
    try {
      loadConfig({ file: 'env:CFG', env: { CFG: 'log: { level: loud }' } });
      throw new Error('expected a failure');
    } catch (err) {
      expect(isFrictionError(err, 'CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(/env:CFG/);
      expect((err as Error).message).toMatch(/log\.level/);
    }
  });
});
