/** The three OTLP signals and where each is served. */

/** An OTLP signal type. */
export type Signal = 'traces' | 'metrics' | 'logs';

/** All signals, in a fixed order. */
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** OTLP/HTTP request paths. */
export const HTTP_PATHS: Readonly<Record<string, Signal>> = {
  '/v1/traces': 'traces',
  '/v1/metrics': 'metrics',
  '/v1/logs': 'logs',
};

/** OTLP/gRPC method paths. */
export const GRPC_PATHS: Readonly<Record<string, Signal>> = {
  '/opentelemetry.proto.collector.trace.v1.TraceService/Export': 'traces',
  '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export': 'metrics',
  '/opentelemetry.proto.collector.logs.v1.LogsService/Export': 'logs',
};

/** Name of one item of each signal, for messages and metric labels. */
export const ITEM_NAME: Readonly<Record<Signal, string>> = {
  traces: 'spans',
  metrics: 'data points',
  logs: 'log records',
};
