/**
 * The configuration schema: every key, its type and default, and the cross-field rules.
 * To add a section, describe it with the builders from spec.ts, add it to `frictionConfigSpec`
 * and its interface to {@link FrictionConfig}; the compiler checks the two agree.
 */
import { type AggregationConfig, aggregationSpec } from './aggregation.js';
import { type BurnRateWindowConfig, type SloConfig, alertingSpec, checkSlos, slosSpec } from './slos.js';
import { type DetectorsConfig, detectorsSpec } from './detectors.js';
import { type OutcomeConfig, type RecordConfig, type ServiceConfig, type SignalsConfig, outcomesSpec, recordSpec, servicesSpec, signalsSpec } from './signals.js';
import { type SinkConfig, type StateConfig, checkSinkNames, sinksSpec, stateSpec } from './sinks.js';
import { type ForwardConfig, forwardSpec } from './forward.js';
import { type PrivacyConfig, type ReceiverAuthConfig, type ServerTlsConfig, privacySpec, receiverAuthSpec, serverTlsSpec } from './security.js';
import { type Endpoint, endpointsCollide, formatEndpoint } from './endpoint.js';
import * as s from './spec.js';

export { type Endpoint, formatEndpoint, parseEndpoint } from './endpoint.js';
export type { AggregationConfig, OperationRuleConfig } from './aggregation.js';
export type { BurnRateWindowConfig, SloConfig } from './slos.js';
export type { OutcomeConfig, RecordConfig, ServiceConfig, SignalsConfig } from './signals.js';
export type { RetryConfig, SinkConfig, SinkConfigOf, StateConfig } from './sinks.js';
export { sinkName } from './sinks.js';
export type { ForwardConfig, ForwardTargetConfig } from './forward.js';
export type { ClientTlsConfig, PrivacyConfig, ReceiverAuthConfig, ServerTlsConfig } from './security.js';
export type { DetectorsConfig, ErrorSpikeConfig, LatencyRegressionConfig, MetricAnomalyConfig, MetricThresholdConfig, TrafficDropConfig } from './detectors.js';
export { formatDuration, parseDuration } from './duration.js';
export type { ConfigIssue } from './spec.js';

/** Log levels, most to least verbose (pino's names). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** OTLP/gRPC server settings. */
export interface GrpcProtocolConfig {
  enabled: boolean;
  endpoint: Endpoint;
  /** Largest accepted request message, MiB. */
  max_recv_msg_size_mib: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  max_concurrent_streams: number;
  /** HTTP/2 receive window for each stream and the connection, MiB. */
  flow_control_window_mib: number;
  tls: ServerTlsConfig;
  auth: ReceiverAuthConfig;
}

/** OTLP/HTTP server settings. */
export interface HttpProtocolConfig {
  enabled: boolean;
  endpoint: Endpoint;
  /** Largest accepted request body after decompression, MiB. */
  max_request_body_size_mib: number;
  tls: ServerTlsConfig;
  auth: ReceiverAuthConfig;
}

/** The validated configuration, with every default filled in. */
export interface FrictionConfig {
  receivers: { otlp: { protocols: { grpc: GrpcProtocolConfig; http: HttpProtocolConfig } } };
  admin: {
    endpoint: Endpoint;
    /** Bearer token mutating API calls must carry; empty = none required. */
    token: string;
    /** How people reach the admin server (links in alerts); empty = from `endpoint`. */
    external_url: string;
    /** The page at `GET /`. */
    dashboard: {
      enabled: boolean;
      /** Link for exemplar trace ids, `{trace_id}` replaced (a Jaeger or Tempo URL); empty = ids as text. */
      trace_url: string;
    };
  };
  limits: { max_inflight_bytes_mib: number };
  aggregation: AggregationConfig;
  slos: SloConfig[];
  alerting: { burn_rate_windows: BurnRateWindowConfig[] };
  detectors: DetectorsConfig;
  signals: SignalsConfig;
  outcomes: Record<string, OutcomeConfig>;
  services: Record<string, ServiceConfig>;
  sinks: SinkConfig[];
  record: RecordConfig;
  state: StateConfig;
  forward: ForwardConfig;
  privacy: PrivacyConfig;
  log: { level: LogLevel };
  /** Milliseconds. */
  shutdown_timeout: number;
}

// gRPC and HTTP/2 carry sizes and windows as signed 32-bit byte counts, so 2047 MiB is the ceiling.
const MAX_INT32_MIB = 2047;

/**
 * A protocol section that can be switched off two ways: `enabled: false`, or YAML null
 * (`grpc: null` or an empty `grpc:` key). Note the Collector reads an empty key as "enabled with
 * defaults"; here both protocols are on by default, so null is the short way to turn one off.
 */
function protocol<F extends s.Fields>(fields: F) {
  const spec = s.object({ enabled: s.boolean({ default: true }), ...fields });
  return s.nullable(spec, () => ({ ...spec.defaultValue(), enabled: false }));
}

const grpc = protocol({
  endpoint: s.endpoint({ default: 'localhost:4317' }),
  max_recv_msg_size_mib: s.number({ default: 4, greaterThan: 0, max: MAX_INT32_MIB }),
  max_concurrent_streams: s.integer({ default: 100, min: 1, max: 2 ** 31 - 1 }),
  flow_control_window_mib: s.number({ default: 16, greaterThan: 0, max: MAX_INT32_MIB }),
  tls: serverTlsSpec,
  auth: receiverAuthSpec,
});

const http = protocol({
  endpoint: s.endpoint({ default: 'localhost:4318' }),
  max_request_body_size_mib: s.number({ default: 20, greaterThan: 0 }),
  tls: serverTlsSpec,
  auth: receiverAuthSpec,
});

const protocols = s.object(
  { grpc, http },
  {
    check(p, issue, path) {
      if (!p.grpc.enabled && !p.http.enabled) {
        issue(path, 'at least one of grpc, http must be enabled');
      } else if (p.grpc.enabled && p.http.enabled && endpointsCollide(p.grpc.endpoint, p.http.endpoint)) {
        issue(s.join(path, 'http.endpoint'), `${formatEndpoint(p.http.endpoint)} is also used by ${s.join(path, 'grpc.endpoint')}`);
      }
    },
  },
);

const root = s.object(
  {
    receivers: s.object({ otlp: s.object({ protocols }) }),
    admin: s.object({
      endpoint: s.endpoint({ default: 'localhost:13133' }),
      token: s.string({ default: '' }),
      external_url: s.url({ default: '', schemes: ['http:', 'https:'], optional: true }),
      dashboard: s.object(
        {
          enabled: s.boolean({ default: true }),
          trace_url: s.url({ default: '', schemes: ['http:', 'https:'], optional: true }),
        },
        {
          check(d, issue, path) {
            if (d.trace_url !== '' && !d.trace_url.includes('{trace_id}')) issue(s.join(path, 'trace_url'), `must contain {trace_id} where the trace id goes, got "${d.trace_url}"`);
          },
        },
      ),
    }),
    limits: s.object({ max_inflight_bytes_mib: s.number({ default: 256, greaterThan: 0 }) }),
    aggregation: aggregationSpec,
    slos: slosSpec,
    alerting: alertingSpec,
    detectors: detectorsSpec,
    signals: signalsSpec,
    outcomes: outcomesSpec,
    services: servicesSpec,
    sinks: sinksSpec,
    record: recordSpec,
    state: stateSpec,
    forward: forwardSpec,
    privacy: privacySpec,
    log: s.object({ level: s.oneOf(LOG_LEVELS, { default: 'info' }) }),
    shutdown_timeout: s.duration({ default: '10s', greaterThan: 0 }),
  },
  {
    // The admin server must not take a port a receiver needs; checked here because it spans sections.
    check(c, issue) {
      checkSlos(c.slos, issue);
      checkSinkNames(c.sinks, issue);
      // Outcomes named on SLOs, services and rules must be declared, or their weight is silently 0.
      const named: [string, string[]][] = [
        ...c.slos.map((x, i): [string, string[]] => [`slos[${i}].outcomes`, x.outcomes]),
        ...Object.entries(c.services).map(([k, v]): [string, string[]] => [`services.${k}.outcomes`, v.outcomes]),
        ...c.detectors.metric_thresholds.map((x, i): [string, string[]] => [`detectors.metric_thresholds[${i}].outcomes`, x.outcomes]),
      ];
      for (const [path, list] of named) {
        list.forEach((o, i) => {
          if (!Object.hasOwn(c.outcomes, o)) issue(`${path}[${i}]`, `outcome "${o}" is not declared under outcomes`);
        });
      }
      const { grpc: g, http: h } = c.receivers.otlp.protocols;
      for (const [name, p] of [['grpc', g], ['http', h]] as const) {
        if (p.enabled && endpointsCollide(c.admin.endpoint, p.endpoint)) {
          issue('admin.endpoint', `${formatEndpoint(c.admin.endpoint)} is also used by receivers.otlp.protocols.${name}.endpoint`);
        }
      }
    },
  },
);

/** True when A and B are mutually assignable. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// Compile-time guard: the schema and the hand-written interfaces must describe the same shape,
// so a key added to one but not the other fails the build instead of drifting silently.
const schemaMatchesInterface: Same<s.SpecValue<typeof root>, FrictionConfig> = true;
void schemaMatchesInterface;

/** The whole configuration tree with defaults; {@link FrictionConfig} is what it produces. */
export const frictionConfigSpec: s.ObjectSpec<FrictionConfig> = root;
