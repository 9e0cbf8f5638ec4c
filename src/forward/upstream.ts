/**
 * The next collector: sends one accepted request's bytes, untouched, over OTLP/gRPC or
 * OTLP/HTTP, and classifies the answer by the OTLP retry rules (HTTP 429/502/503/504 and the
 * retryable gRPC codes retry, honouring Retry-After / RetryInfo; anything else is permanent).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { ForwardTargetConfig } from '../config/index.js';
import type { OtlpEncoding } from '../otlp/decoder.js';
import type { Signal } from '../receiver/signals.js';
import { decodeRpcStatus } from '../sinks/otlp-logs-encoding.js';
import { parseRetryAfter } from '../sinks/sink.js';

const gzipAsync = promisify(gzip);

/** How a send failed: retry (maybe after a server-given delay) or give up. */
export class UpstreamError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** One request as received, with the headers to pass through. */
export interface ForwardRequest {
  signal: Signal;
  encoding: OtlpEncoding;
  body: Buffer;
  headers: Record<string, string>;
}

/** Sends requests to one upstream. */
export interface Upstream {
  /** Resolves once the upstream accepted the request; rejects with {@link UpstreamError}. */
  send(req: ForwardRequest): Promise<void>;
  /** Whether this upstream can carry a request in `encoding` without re-encoding it. */
  accepts(encoding: OtlpEncoding): boolean;
  close(): void;
}

const GRPC_METHOD: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

const RETRYABLE_GRPC = new Set<number>([
  grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS,
]);
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

function tlsFiles(c: ForwardTargetConfig['tls']): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  return {
    ca: c.ca_file ? readFileSync(c.ca_file) : undefined,
    cert: c.cert_file ? readFileSync(c.cert_file) : undefined,
    key: c.key_file ? readFileSync(c.key_file) : undefined,
  };
}

/** Builds the upstream a target describes (reads its TLS files now, so a bad path fails at start). */
export function createUpstream(signal: Signal, config: ForwardTargetConfig): Upstream {
  return config.protocol === 'grpc' ? new GrpcUpstream(signal, config) : new HttpUpstream(signal, config);
}

/** OTLP/HTTP: POST to `/v1/<signal>` with the request's own content type. */
class HttpUpstream implements Upstream {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(private readonly signal: Signal, private readonly config: ForwardTargetConfig) {
    const u = new URL(config.endpoint);
    if (!u.pathname.endsWith(`/v1/${signal}`)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/${signal}`;
    this.url = u;
    this.agent = u.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, ...tlsFiles(config.tls), rejectUnauthorized: !config.tls.insecure_skip_verify })
      : new http.Agent({ keepAlive: true });
  }

  accepts(): boolean {
    return true;
  }

  async send(req: ForwardRequest): Promise<void> {
    const body = this.config.compression === 'gzip' ? await gzipAsync(req.body) : req.body;
    const headers: Record<string, string | number> = {
      ...req.headers,
      ...this.config.headers,
      'content-type': req.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      'content-length': body.length,
      'user-agent': 'otel-friction',
    };
    if (this.config.compression === 'gzip') headers['content-encoding'] = 'gzip';
    const mod = this.url.protocol === 'https:' ? https : http;
    await new Promise<void>((resolve, reject) => {
      const r = mod.request(this.url, { method: 'POST', headers, agent: this.agent, timeout: this.config.timeout }, (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => {
          if (status >= 200 && status < 300) return resolve();
          const retryable = RETRYABLE_HTTP.has(status);
          reject(new UpstreamError(`${this.url.host} answered HTTP ${status}`, retryable, retryable ? parseRetryAfter(res.headers['retry-after'] ?? null) : undefined));
        });
      });
      r.on('timeout', () => r.destroy(new Error('timed out')));
      r.on('error', (err: NodeJS.ErrnoException) => reject(new UpstreamError(`${this.url.host}: ${err.code ?? err.message}`, true)));
      r.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** OTLP/gRPC: a unary call with the original protobuf message as its bytes. */
class GrpcUpstream implements Upstream {
  private readonly client: grpc.Client;
  private readonly metadata: grpc.Metadata;

  constructor(private readonly signal: Signal, private readonly config: ForwardTargetConfig) {
    const u = new URL(config.endpoint);
    const tls = u.protocol === 'https:';
    const port = u.port || (tls ? '443' : '80');
    const files = tlsFiles(config.tls);
    const credentials = tls
      ? grpc.credentials.createSsl(files.ca ?? null, files.key ?? null, files.cert ?? null, config.tls.insecure_skip_verify ? { checkServerIdentity: () => undefined } : {})
      : grpc.credentials.createInsecure();
    const options: grpc.ChannelOptions = { 'grpc.max_send_message_length': -1 };
    if (config.compression === 'gzip') options['grpc.default_compression_algorithm'] = 2;
    this.client = new grpc.Client(`${u.hostname.replace(/^\[|\]$/g, '')}:${port}`, credentials, options);
    this.metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(config.headers)) this.metadata.set(k.toLowerCase(), v);
  }

  accepts(encoding: OtlpEncoding): boolean {
    return encoding === 'protobuf';
  }

  send(req: ForwardRequest): Promise<void> {
    const md = this.metadata.clone();
    for (const [k, v] of Object.entries(req.headers)) md.set(k, v);
    const identity = (b: Buffer): Buffer => b;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(GRPC_METHOD[this.signal], identity, identity, req.body, md, { deadline: Date.now() + this.config.timeout }, (err) => {
        if (!err) return resolve();
        const details = err.metadata?.get('grpc-status-details-bin')[0];
        const retryAfterMs = Buffer.isBuffer(details) ? decodeRpcStatus(details).retryDelayMs : undefined;
        reject(new UpstreamError(`${this.config.endpoint}: ${grpc.status[err.code] ?? err.code} ${err.details}`, RETRYABLE_GRPC.has(err.code), retryAfterMs));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
