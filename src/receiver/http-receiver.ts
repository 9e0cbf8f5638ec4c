/**
 * OTLP/HTTP receiver: POST /v1/traces, /v1/metrics, /v1/logs with protobuf or JSON bodies,
 * optionally gzip/deflate compressed, answered in the request's content type.
 *
 * Refusals follow the OTLP/HTTP specification: 400 (undecodable, google.rpc.Status body),
 * 405 (method), 413 (too large, also after decompression), 415 (content type or encoding),
 * 503 with Retry-After (backpressure or draining: retryable); with bearer auth on, 401 with
 * `WWW-Authenticate: Bearer`, decided from the headers before the body is read. Optional TLS
 * (`tls`, HTTPS; mTLS with `client_ca_file`).
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { type Endpoint, type ReceiverAuthConfig, type ServerTlsConfig, formatEndpoint } from '../config/index.js';
import { isFrictionError } from '../errors.js';
import type { Component } from '../lifecycle/component.js';
import type { OtlpEncoding } from '../otlp/decoder.js';
import type { RequestOutcome, SelfMetrics } from '../telemetry/metrics.js';
import { type BodyCompression, InflatedTooLargeError, decompress, parseCompression } from './body.js';
import type { BufferPool } from './buffer-pool.js';
import type { ExportHandler } from './export-handler.js';
import { AUTH_CHALLENGE, AUTH_REFUSAL_MESSAGE, type BearerAuth, bearerAuthFrom } from './bearer-auth.js';
import type { InflightBudget } from './inflight.js';
import { closeBefore, listen } from './listen.js';
import { GrpcCode, exportResponseJson, exportResponseProto, statusJson, statusProto } from './responses.js';
import { HTTP_PATHS, type Signal } from './signals.js';
import { loadServerTls } from './tls.js';

/** Settings and collaborators of {@link HttpReceiver}. */
export interface HttpReceiverOptions {
  endpoint: Endpoint;
  /** Largest body accepted, compressed or not. */
  maxBodyBytes: number;
  handler: ExportHandler;
  budget: InflightBudget;
  /** Where request body buffers come from and go back to. */
  buffers: BufferPool;
  metrics: SelfMetrics;
  logger: Logger;
  /** Seconds clients are told to wait when refused for backpressure. */
  retryAfterSeconds?: number;
  /** Server TLS (HTTPS); off while `cert_file` is empty. Files are read at start. */
  tls?: ServerTlsConfig;
  /** Bearer-token auth; off while `bearer_tokens_file` is empty. The file is read at start. */
  auth?: ReceiverAuthConfig;
  /** How often the token file is checked for changes (default 1000 ms). */
  authPollMs?: number;
}

const WHAT = 'receivers.otlp.protocols.http';

const CONTENT_TYPES: Record<string, OtlpEncoding> = {
  'application/x-protobuf': 'protobuf',
  'application/json': 'json',
};

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return CONTENT_TYPES[mime];
}

// A refused upload is read to its end and thrown away before the answer goes out: Node
// closes a keep-alive connection whose request body is unread, and clients (Node's among
// them) then report EPIPE/ECONNRESET instead of the answer. Past this many bytes we stop
// reading, answer, and close.
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
// A client without a valid token gets less of our reading: past this, answer and close.
const UNAUTHENTICATED_DISCARD_LIMIT_BYTES = 1024 * 1024;

function discardBody(req: http.IncomingMessage, limit: number, answer: (complete: boolean) => void): void {
  if (req.complete) return answer(true);
  let discarded = 0;
  let answered = false;
  req.removeAllListeners('data');
  req.removeAllListeners('end');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limit && !answered) {
      answered = true;
      req.pause();
      answer(false);
    }
  });
  req.on('end', () => {
    if (!answered) {
      answered = true;
      answer(true);
    }
  });
  req.resume();
}

/** Answers a refused request; `discardLimit` bounds how much of its body is read first. */
type Refuse = (status: number, code: number, message: string, outcome: RequestOutcome, headers?: http.OutgoingHttpHeaders, discardLimit?: number) => void;

/** State of one request while its body arrives. */
interface Exchange {
  signal: Signal;
  encoding: OtlpEncoding;
  compression: BodyCompression;
  reserved: number;
  /** The request's headers, for forwarding the configured passthrough headers. */
  headers: http.IncomingHttpHeaders;
}

/** The OTLP/HTTP server. */
export class HttpReceiver implements Component {
  readonly name = 'otlp/http';
  // Created at start, once the TLS files are read.
  private server: http.Server | https.Server | undefined;
  private auth: BearerAuth | undefined;
  private bound: Endpoint | undefined;
  private draining = false;
  private readonly retryAfter: number;

  constructor(private readonly options: HttpReceiverOptions) {
    this.retryAfter = options.retryAfterSeconds ?? 1;
  }

  /** The bound address (after start). */
  get address(): Endpoint | undefined {
    return this.bound;
  }

  /** Reads the TLS and token files (FrictionError TLS_CONFIG / AUTH_CONFIG), then listens. */
  async start(): Promise<void> {
    const tls = loadServerTls(this.options.tls, WHAT);
    const auth = bearerAuthFrom(this.options.auth?.bearer_tokens_file, WHAT, this.options.logger, this.options.authPollMs);
    auth?.start();
    this.auth = auth;
    const settings: http.ServerOptions = { keepAliveTimeout: 30_000, requestTimeout: 60_000 };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => this.onRequest(req, res);
    const server = tls === undefined ? http.createServer(settings, onRequest) : https.createServer({ ...settings, ...tls }, onRequest);
    if (tls !== undefined) server.on('tlsClientError', (err: Error) => this.options.logger.debug({ receiver: this.name, reason: err.message }, 'TLS handshake failed'));
    this.server = server;
    this.bound = await listen(server, this.options.endpoint, WHAT).catch((err: unknown) => {
      auth?.stop();
      throw err;
    });
  }

  async shutdown(deadline: number): Promise<boolean> {
    this.auth?.stop();
    const server = this.server;
    if (this.draining || server === undefined || !server.listening) {
      this.draining = true;
      return true;
    }
    this.draining = true;
    const closing = closeBefore(server, deadline, () => {
      this.options.logger.warn({ receiver: this.name }, 'shutdown deadline passed; closing open connections');
      server.closeAllConnections();
    });
    server.closeIdleConnections();
    return closing;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const signal = HTTP_PATHS[q < 0 ? url : url.slice(0, q)];
    const encoding = encodingOf(req.headers['content-type']);
    const answerAs = encoding ?? 'json';
    const refuse: Refuse = (status, code, message, outcome, headers = {}, discardLimit = DISCARD_LIMIT_BYTES) => {
      if (signal !== undefined) this.options.metrics.request('http', signal, outcome);
      const body = answerAs === 'json' ? statusJson(code, message) : statusProto(code, message);
      discardBody(req, discardLimit, (complete) => this.send(res, status, answerAs, body, complete ? headers : { ...headers, connection: 'close' }));
    };
    if (signal === undefined) return refuse(404, GrpcCode.UNIMPLEMENTED, `unknown path ${url}; OTLP/HTTP serves /v1/traces, /v1/metrics, /v1/logs`, 'not_found');
    if (this.auth !== undefined) {
      const verdict = this.auth.check(req.headers.authorization);
      if (verdict !== 'ok') {
        return refuse(401, GrpcCode.UNAUTHENTICATED, AUTH_REFUSAL_MESSAGE[verdict], 'unauthenticated', { 'www-authenticate': AUTH_CHALLENGE[verdict] }, UNAUTHENTICATED_DISCARD_LIMIT_BYTES);
      }
    }
    if (req.method !== 'POST') return refuse(405, GrpcCode.UNIMPLEMENTED, `method ${req.method} not allowed; use POST`, 'method_not_allowed', { allow: 'POST' });
    if (encoding === undefined) {
      return refuse(415, GrpcCode.INVALID_ARGUMENT, `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}; use application/x-protobuf or application/json`, 'unsupported_media_type');
    }
    const compression = parseCompression(req.headers['content-encoding']);
    if (compression === undefined) {
      return refuse(415, GrpcCode.INVALID_ARGUMENT, `unsupported content encoding ${JSON.stringify(req.headers['content-encoding'])}; use gzip, deflate or identity`, 'unsupported_encoding');
    }
    if (this.draining) {
      return refuse(503, GrpcCode.UNAVAILABLE, 'the receiver is shutting down', 'shutting_down', { 'retry-after': String(this.retryAfter) });
    }
    const max = this.options.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return refuse(413, GrpcCode.RESOURCE_EXHAUSTED, `request body of ${declared} bytes exceeds the limit of ${max} bytes`, 'too_large');
    if (!this.options.budget.tryAcquire(declared)) {
      return refuse(503, GrpcCode.UNAVAILABLE, 'too much data in flight; retry later', 'backpressure', { 'retry-after': String(this.retryAfter) });
    }
    const ex: Exchange = { signal, encoding, compression, reserved: declared, headers: req.headers };
    this.readBody(req, res, ex, refuse);
  }

  private readBody(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    ex: Exchange,
    refuse: Refuse,
  ): void {
    const { budget, buffers } = this.options;
    const max = this.options.maxBodyBytes;
    // With a declared length the body goes straight into one pooled buffer; chunked uploads
    // collect their chunks and are joined at the end.
    let whole: Buffer | undefined = ex.reserved > 0 ? buffers.acquire(ex.reserved) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let state: 'reading' | 'processing' | 'processed' | 'done' = 'reading';
    const release = (): void => {
      if (state === 'processing') return;
      state = 'done';
      budget.release(ex.reserved);
      ex.reserved = 0;
      if (whole !== undefined) buffers.release(whole);
      whole = undefined;
      chunks.length = 0;
    };
    req.on('data', (chunk: Buffer) => {
      if (state !== 'reading') return;
      if (whole !== undefined && size + chunk.length <= whole.length) {
        chunk.copy(whole, size);
        size += chunk.length;
        return;
      }
      size += chunk.length;
      if (size > max) {
        release();
        return refuse(413, GrpcCode.RESOURCE_EXHAUSTED, `request body exceeds the limit of ${max} bytes`, 'too_large');
      }
      // Chunked uploads have no length up front: reserve as the bytes come.
      if (size > ex.reserved) {
        const extra = size - ex.reserved;
        if (!budget.tryAcquire(extra)) {
          release();
          return refuse(503, GrpcCode.UNAVAILABLE, 'too much data in flight; retry later', 'backpressure', { 'retry-after': String(this.retryAfter) });
        }
        ex.reserved += extra;
      }
      chunks.push(chunk);
    });
    req.on('error', release);
    req.on('aborted', () => {
      if (state === 'reading') this.options.metrics.request('http', ex.signal, 'canceled');
      release();
    });
    req.on('end', () => {
      if (state !== 'reading') return;
      const body = whole !== undefined ? whole.subarray(0, size) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      this.options.metrics.received('http', ex.signal, size);
      state = 'processing';
      this.process(body, ex, res).finally(() => {
        state = 'processed';
        release();
      });
    });
  }

  private async process(raw: Buffer, ex: Exchange, res: http.ServerResponse): Promise<void> {
    const { metrics, handler, budget, maxBodyBytes } = this.options;
    const fail = (status: number, code: number, message: string, outcome: RequestOutcome, headers?: http.OutgoingHttpHeaders): void => {
      metrics.request('http', ex.signal, outcome);
      this.send(res, status, ex.encoding, ex.encoding === 'json' ? statusJson(code, message) : statusProto(code, message), headers);
    };
    let body: Buffer;
    try {
      body = await decompress(raw, ex.compression, maxBodyBytes);
    } catch (err) {
      if (err instanceof InflatedTooLargeError) return fail(413, GrpcCode.RESOURCE_EXHAUSTED, `request body exceeds the limit of ${maxBodyBytes} bytes after decompression`, 'too_large');
      return fail(400, GrpcCode.INVALID_ARGUMENT, `cannot decompress ${ex.compression} body: ${(err as Error).message}`, 'invalid');
    }
    // The inflated copy is held too; it is already bounded by the size limit.
    if (body !== raw) {
      budget.hold(body.length);
      ex.reserved += body.length;
    }
    try {
      const wire = body !== raw ? { compression: ex.compression, body: raw } : undefined;
      const outcome = await handler.handle('http', ex.signal, body, ex.encoding, ex.headers, wire);
      metrics.request('http', ex.signal, outcome.rejected > 0 ? 'partial_success' : 'success');
      this.send(res, 200, ex.encoding, ex.encoding === 'json' ? exportResponseJson(ex.signal, outcome) : exportResponseProto(outcome));
    } catch (err) {
      if (isFrictionError(err, 'OTLP_DECODE')) return fail(400, GrpcCode.INVALID_ARGUMENT, err.message, 'invalid');
      if (isFrictionError(err, 'BACKPRESSURE')) return fail(503, GrpcCode.UNAVAILABLE, err.message, 'backpressure', { 'retry-after': String(this.retryAfter) });
      this.options.logger.error({ err, receiver: this.name, signal: ex.signal }, 'export failed');
      fail(500, GrpcCode.INTERNAL, 'internal error', 'internal_error');
    }
  }

  private send(res: http.ServerResponse, status: number, encoding: OtlpEncoding, body: Buffer, headers: http.OutgoingHttpHeaders = {}): void {
    if (res.headersSent) return;
    const h: http.OutgoingHttpHeaders = {
      'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      'content-length': body.length,
      ...headers,
    };
    if (this.draining) h.connection = 'close';
    res.writeHead(status, h);
    res.end(body);
  }

  toString(): string {
    return `${this.name} ${this.bound ? formatEndpoint(this.bound) : formatEndpoint(this.options.endpoint)}`;
  }
}
