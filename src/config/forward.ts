/**
 * `forward:` — relay every accepted request upstream as the bytes it arrived with, per signal
 * type, through a bounded queue with OTLP retry rules and an optional spill to disk.
 */
import { clientTlsSpec } from './security.js';
import * as s from './spec.js';

/** One signal type's upstream; off while `endpoint` is empty. */
const target = s.object({
  /** `http(s)://host:port`; for HTTP, `/v1/<signal>` is appended unless the path already ends with it. */
  endpoint: s.url({ default: '', schemes: ['http:', 'https:'], optional: true }),
  protocol: s.oneOf(['grpc', 'http/protobuf'] as const, { default: 'grpc' }),
  headers: s.stringMap(),
  compression: s.oneOf(['gzip', 'none'] as const, { default: 'gzip' }),
  timeout: s.duration({ default: '10s', greaterThan: 0, max: 10 * 60_000 }),
  tls: clientTlsSpec,
});

/** Schema of `forward:`. */
export const forwardSpec = s.object({
  traces: target,
  metrics: target,
  logs: target,
  /** Incoming request headers copied to the upstream request (tenant ids), lower-cased names. */
  passthrough_headers: s.list(s.string({ default: '', nonEmpty: true })),
  queue: s.object({
    /** Bytes waiting to be forwarded, all signals together. */
    max_mb: s.number({ default: 256, greaterThan: 0 }),
    /** Keep the queue under `state.path` too, so a restart during an upstream outage loses nothing. */
    spill: s.boolean({ default: false }),
    /** `backpressure`: refuse new requests with the retryable OTLP code; `drop`: accept them, drop the copy and count it. */
    when_full: s.oneOf(['backpressure', 'drop'] as const, { default: 'backpressure' }),
  }),
  retry: s.object({
    initial_interval: s.duration({ default: '1s', greaterThan: 0 }),
    max_interval: s.duration({ default: '30s', greaterThan: 0 }),
    /** A request not delivered this long after it arrived is dropped and counted. */
    max_elapsed_time: s.duration({ default: '5m', greaterThan: 0 }),
  }),
});

/** `forward:` settings. */
export type ForwardConfig = s.SpecValue<typeof forwardSpec>;

/** One upstream's settings. */
export type ForwardTargetConfig = ForwardConfig['traces'];
