/** Sinks by `type`, as configured under `sinks:`: one factory per type, like the Collector's exporters. */
import type { SinkConfig, SinkConfigOf } from '../config/index.js';
import { AlertmanagerSink } from './alertmanager-sink.js';
import { FileSink } from './file-sink.js';
import { loadModuleSink } from './module-sink.js';
import { NatsSink } from './nats-sink.js';
import { OtlpLogsSink } from './otlp-logs-sink.js';
import type { SignalSink, SinkContext } from './sink.js';
import { StdoutSink } from './stdout-sink.js';
import { WebhookSink } from './webhook-sink.js';

/** Builds a sink of one type. */
type SinkFactory<T extends SinkConfig['type']> = (config: SinkConfigOf<T>, context: SinkContext) => SignalSink | Promise<SignalSink>;

const factories: { [T in SinkConfig['type']]: SinkFactory<T> } = {
  stdout: (_c, ctx) => new StdoutSink(ctx.name),
  file: (c, ctx) => new FileSink(ctx.name, c.path, Math.floor(c.max_mb * 1024 * 1024)),
  webhook: (c, ctx) => new WebhookSink(c, ctx),
  alertmanager: (c, ctx) => new AlertmanagerSink(c, ctx),
  otlp_logs: (c, ctx) => new OtlpLogsSink(c, ctx),
  nats: (c, ctx) => new NatsSink(c, ctx),
  module: (c, ctx) => loadModuleSink(c, ctx),
};

/** Builds the sink a config entry describes (module sinks load their file, hence async). */
export async function createSink(config: SinkConfig, context: SinkContext): Promise<SignalSink> {
  const factory = factories[config.type] as SinkFactory<SinkConfig['type']>;
  return factory(config, context);
}
