/**
 * The next collector: sends one accepted request's bytes, untouched, over OTLP/gRPC or
 * OTLP/HTTP, and classifies the answer by the OTLP retry rules (HTTP 429/502/503/504 and the
 * retryable gRPC codes retry, honouring Retry-After / RetryInfo; anything else is permanent).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import type { ForwardTargetConfig } from '../config/index.js';
import type { OtlpEncoding } from '../otlp/decoder.js';
import type { Signal } from '../receiver/signals.js';
import { parseRetryAfter } from '../sinks/sink.js';

const gzipAsync = promisify(gzip);

/**
 * gzip at level 1. Forwarding compresses every request once more; level 1 takes a third of the
 * default level's CPU on OTLP protobuf for a few percent more bytes, and the sidecar shares its
 * core with the application.
 */
export function gzipFast(body: Buffer): Promise<Buffer> {
  return gzipAsync(body, { level: constants.Z_BEST_SPEED });
}

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
  /** `body` is gzip-compressed already: the client's own bytes, relayed as they came. */
  gzipped: boolean;
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

const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

/** The client TLS files of a target, read now (a bad path fails at start). */
export function tlsFiles(c: ForwardTargetConfig['tls']): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  return {
    ca: c.ca_file ? readFileSync(c.ca_file) : undefined,
    cert: c.cert_file ? readFileSync(c.cert_file) : undefined,
    key: c.key_file ? readFileSync(c.key_file) : undefined,
  };
}

/** OTLP/HTTP: POST to `/v1/<signal>` with the request's own content type. */
export class HttpUpstream implements Upstream {
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
    // A body spilled gzipped stays gzipped even if the target's compression changed since.
    const gzip = req.gzipped || this.config.compression === 'gzip';
    const body = gzip && !req.gzipped ? await gzipFast(req.body) : req.body;
    const headers: Record<string, string | number> = {
      ...req.headers,
      ...this.config.headers,
      'content-type': req.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      'content-length': body.length,
      'user-agent': 'otel-friction',
    };
    if (gzip) headers['content-encoding'] = 'gzip';
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
