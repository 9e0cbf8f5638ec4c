/**
 * Configuration: schema with defaults, YAML loading, `${env:VAR:-default}` expansion and
 * validation that reports every problem with its path. See docs/configuration.md.
 */
export {
  type AggregationConfig,
  type BurnRateWindowConfig,
  type SloConfig,
  type ConfigIssue,
  type OutcomeConfig,
  type RecordConfig,
  type ServiceConfig,
  type SignalsConfig,
  type SinkConfig,
  type SinkConfigOf,
  type RetryConfig,
  type StateConfig,
  type DetectorsConfig,
  type ErrorSpikeConfig,
  type LatencyRegressionConfig,
  type MetricAnomalyConfig,
  type MetricThresholdConfig,
  type TrafficDropConfig,
  type OperationRuleConfig,
  type Endpoint,
  type FrictionConfig,
  type GrpcProtocolConfig,
  type HttpProtocolConfig,
  type LogLevel,
  LOG_LEVELS,
  formatDuration,
  formatEndpoint,
  frictionConfigSpec,
  parseDuration,
  parseEndpoint,
  sinkName,
} from './schema.js';
export { ConfigInvalidError, type LoadConfigOptions, defaultConfig, formatIssue, loadConfig, parseConfig, validateConfig } from './load.js';
export { expandEnv } from './env.js';
