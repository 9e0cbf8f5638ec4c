/**
 * OTLP/gRPC receiver: the three unary `Export` methods, served straight on node:http2.
 *
 * Why not grpc-js: it offers no way to raise HTTP/2 flow-control windows, and its 64 KiB
 * default halves throughput for 200 KB OTLP requests (PERF-NOTES); it also deserializes
 * through a per-call object pipeline that costs ~0.4 µs per span. A unary gRPC call is small
 * enough to serve directly (gRPC over HTTP/2: length-prefixed message, status in trailers),
 * which gives us the windows, the raw request bytes for forwarding, and size and in-flight
 * checks before a byte of an oversized message is buffered. The interop tests drive it with
 * the official grpc-js based OTLP exporters.
 *
 * Optional TLS (`tls`: h2 over TLS only, no HTTP/1 fallback; mTLS with `client_ca_file`) and
 * bearer-token auth (`auth`), checked from the headers before a byte of the message is read.
 */
import http2 from 'node:http2';
import type { Logger } from 'pino';
import type { TlsOptions } from 'node:tls';
import { type Endpoint, type ReceiverAuthConfig, type ServerTlsConfig, formatEndpoint } from '../config/index.js';
import { isFrictionError } from '../errors.js';
import type { Component } from '../lifecycle/component.js';
import type { RequestOutcome, SelfMetrics } from '../telemetry/metrics.js';
import { InflatedTooLargeError, decompress, parseCompression } from './body.js';
import type { BufferPool } from './buffer-pool.js';
import type { ExportHandler, WireBody } from './export-handler.js';
import { AUTH_REFUSAL_MESSAGE, type BearerAuth, bearerAuthFrom } from './bearer-auth.js';
import type { InflightBudget } from './inflight.js';
import { closeBefore, listen } from './listen.js';
import { GrpcCode, exportResponseProto, grpcMessage, statusProto } from './responses.js';
import { GRPC_PATHS, type Signal } from './signals.js';
import { loadServerTls } from './tls.js';

/** Settings and collaborators of {@link GrpcReceiver}. */
export interface GrpcReceiverOptions {
  endpoint: Endpoint;
  maxMessageBytes: number;
  maxConcurrentStreams: number;
  /** HTTP/2 receive window for each stream and for the connection. */
  windowBytes: number;
  handler: ExportHandler;
  budget: InflightBudget;
  /** Where request message buffers come from and go back to. */
  buffers: BufferPool;
  metrics: SelfMetrics;
  logger: Logger;
  retryAfterSeconds?: number;
  /** Longest a call may take to deliver its message; it holds in-flight bytes meanwhile. */
  receiveTimeoutMs?: number;
  /** Server TLS; off while `cert_file` is empty. Files are read at start. */
  tls?: ServerTlsConfig;
  /** Bearer-token auth; off while `bearer_tokens_file` is empty. The file is read at start. */
  auth?: ReceiverAuthConfig;
  /** How often the token file is checked for changes (default 1000 ms). */
  authPollMs?: number;
}

const WHAT = 'receivers.otlp.protocols.grpc';

const ACCEPT_ENCODING = 'identity,deflate,gzip';
const HEADER_BYTES = 5;

/** State of one call while its message arrives. */
class Call {
  header = Buffer.alloc(HEADER_BYTES);
  headerFilled = 0;
  compressed = false;
  message: Buffer | undefined;
  filled = 0;
  reserved = 0;
  done = false;
  processing = false;
}

/** The OTLP/gRPC server. */
export class GrpcReceiver implements Component {
  readonly name = 'otlp/grpc';
  // Created at start, once the TLS files are read.
  private server: http2.Http2Server | http2.Http2SecureServer | undefined;
  private auth: BearerAuth | undefined;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private bound: Endpoint | undefined;
  private draining = false;
  private readonly retryAfter: number;
  private readonly receiveTimeoutMs: number;

  constructor(private readonly options: GrpcReceiverOptions) {
    this.retryAfter = options.retryAfterSeconds ?? 1;
    this.receiveTimeoutMs = options.receiveTimeoutMs ?? 60_000;
  }

  get address(): Endpoint | undefined {
    return this.bound;
  }

  /** Reads the TLS and token files (FrictionError TLS_CONFIG / AUTH_CONFIG), then listens. */
  async start(): Promise<void> {
    const tls = loadServerTls(this.options.tls, WHAT);
    const auth = bearerAuthFrom(this.options.auth?.bearer_tokens_file, WHAT, this.options.logger, this.options.authPollMs);
    auth?.start();
    this.auth = auth;
    this.server = this.createServer(tls);
    this.bound = await listen(this.server, this.options.endpoint, WHAT).catch((err: unknown) => {
      auth?.stop();
      throw err;
    });
  }

  private createServer(tls: TlsOptions | undefined): http2.Http2Server | http2.Http2SecureServer {
    const window = Math.min(this.options.windowBytes, 2 ** 31 - 1);
    const options: http2.ServerOptions = {
      settings: { initialWindowSize: window, maxConcurrentStreams: this.options.maxConcurrentStreams },
      // Session memory must cover a full window; the in-flight budget is the real bound.
      maxSessionMemory: Math.max(10, Math.ceil((window * 2) / (1024 * 1024))),
    };
    // gRPC needs HTTP/2: a TLS client that does not offer h2 (ALPN) is turned away.
    const server = tls === undefined ? http2.createServer(options) : http2.createSecureServer({ ...options, ...tls, allowHTTP1: false });
    if (tls !== undefined) {
      (server as http2.Http2SecureServer).on('tlsClientError', (err) => this.options.logger.debug({ receiver: this.name, reason: err.message }, 'TLS handshake failed'));
    }
    server.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      session.on('error', () => session.destroy());
      // The stream windows come from SETTINGS; the connection window needs raising separately.
      session.once('connect', () => {
        try {
          session.setLocalWindowSize(window);
        } catch {
          // The session closed before it was set up; nothing to tune.
        }
      });
      if (this.draining) session.close();
    });
    server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => this.onStream(stream, headers));
    return server;
  }

  async shutdown(deadline: number): Promise<boolean> {
    this.auth?.stop();
    if (this.draining || this.server === undefined || !this.server.listening) {
      this.draining = true;
      return true;
    }
    this.draining = true;
    const closing = closeBefore(this.server, deadline, () => {
      this.options.logger.warn({ receiver: this.name, connections: this.sessions.size }, 'shutdown deadline passed; closing open connections');
      for (const s of this.sessions) s.destroy();
    });
    // GOAWAY: clients open no new streams here; streams already open run to completion.
    for (const s of this.sessions) s.close();
    return closing;
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const contentType = String(headers['content-type'] ?? '');
    if (headers[':method'] !== 'POST' || !contentType.startsWith('application/grpc')) {
      // Not a gRPC request at all: gRPC over HTTP/2 answers with plain HTTP status 415.
      stream.respond({ ':status': 415, 'content-type': 'text/plain' });
      stream.end('OTLP/gRPC expects POST with content-type application/grpc\n');
      return;
    }
    const signal = GRPC_PATHS[String(headers[':path'])];
    if (signal === undefined) return this.fail(stream, undefined, GrpcCode.UNIMPLEMENTED, `unknown method ${headers[':path']}`, 'not_found');
    if (this.auth !== undefined) {
      const verdict = this.auth.check(headers.authorization);
      if (verdict !== 'ok') return this.fail(stream, signal, GrpcCode.UNAUTHENTICATED, AUTH_REFUSAL_MESSAGE[verdict], 'unauthenticated');
    }
    const compression = parseCompression(headers['grpc-encoding'] as string | undefined);
    if (compression === undefined) {
      return this.fail(stream, signal, GrpcCode.UNIMPLEMENTED, `unsupported grpc-encoding ${headers['grpc-encoding']}`, 'unsupported_encoding');
    }
    if (this.draining) return this.fail(stream, signal, GrpcCode.UNAVAILABLE, 'the receiver is shutting down', 'shutting_down', this.retryAfter);
    const call = new Call();
    const timer = setTimeout(() => {
      if (call.done) return;
      call.done = true;
      release();
      this.fail(stream, signal, GrpcCode.DEADLINE_EXCEEDED, `request message not received within ${this.receiveTimeoutMs} ms`, 'timeout');
    }, this.receiveTimeoutMs);
    timer.unref();
    // Gives back the call's bytes and buffer. Never while the pipeline holds the message: a
    // client cancelling mid-processing must not let the buffer be reused under the decoder.
    const release = (): void => {
      if (call.processing) return;
      clearTimeout(timer);
      this.options.budget.release(call.reserved);
      call.reserved = 0;
      if (call.message !== undefined) this.options.buffers.release(call.message);
      call.message = undefined;
    };
    stream.on('data', (chunk: Buffer) => {
      if (call.done) return;
      const problem = this.absorb(call, chunk);
      if (problem !== null) {
        call.done = true;
        release();
        this.fail(stream, signal, problem.code, problem.message, problem.outcome, problem.retry);
      }
    });
    stream.on('aborted', () => {
      if (!call.done) this.options.metrics.request('grpc', signal, 'canceled');
      call.done = true;
      release();
    });
    stream.on('close', release);
    stream.on('end', () => {
      if (call.done) return;
      call.done = true;
      if (call.message === undefined || call.filled < call.message.length || call.headerFilled !== 0) {
        release();
        return this.fail(stream, signal, GrpcCode.UNIMPLEMENTED, 'no complete request message received', 'invalid');
      }
      this.options.metrics.received('grpc', signal, HEADER_BYTES + call.message.length);
      call.processing = true;
      this.process(stream, signal, call, compression, headers).finally(() => {
        call.processing = false;
        release();
      });
    });
  }

  /** Appends a DATA chunk to the call; returns why the call must be refused, or null. */
  private absorb(call: Call, chunk: Buffer): { code: number; message: string; outcome: RequestOutcome; retry?: number } | null {
    let off = 0;
    while (off < chunk.length) {
      if (call.headerFilled < HEADER_BYTES) {
        const n = Math.min(HEADER_BYTES - call.headerFilled, chunk.length - off);
        chunk.copy(call.header, call.headerFilled, off, off + n);
        call.headerFilled += n;
        off += n;
        if (call.headerFilled < HEADER_BYTES) break;
        if (call.message !== undefined) {
          return { code: GrpcCode.UNIMPLEMENTED, message: 'received a second request message for a unary method', outcome: 'invalid' };
        }
        call.compressed = call.header[0] === 1;
        const len = call.header.readUInt32BE(1);
        const max = this.options.maxMessageBytes;
        if (len > max) {
          return { code: GrpcCode.RESOURCE_EXHAUSTED, message: `request message of ${len} bytes exceeds the limit of ${max} bytes`, outcome: 'too_large' };
        }
        if (!this.options.budget.tryAcquire(len)) {
          return { code: GrpcCode.UNAVAILABLE, message: 'too much data in flight; retry later', outcome: 'backpressure', retry: this.retryAfter };
        }
        call.reserved = len;
        call.message = this.options.buffers.acquire(len);
        call.filled = 0;
        if (len === 0) call.headerFilled = 0;
        continue;
      }
      const msg = call.message as Buffer;
      const n = Math.min(msg.length - call.filled, chunk.length - off);
      chunk.copy(msg, call.filled, off, off + n);
      call.filled += n;
      off += n;
      // Anything after a complete message starts another one, which a unary call may not have.
      if (call.filled === msg.length) call.headerFilled = 0;
    }
    return null;
  }

  private async process(
    stream: http2.ServerHttp2Stream,
    signal: Signal,
    call: Call,
    compression: 'identity' | 'gzip' | 'deflate',
    headers: http2.IncomingHttpHeaders,
  ): Promise<void> {
    const { handler, budget, maxMessageBytes, metrics } = this.options;
    let body = call.message as Buffer;
    let wire: WireBody | undefined;
    if (call.compressed) {
      if (compression === 'identity') {
        return this.fail(stream, signal, GrpcCode.INTERNAL, 'compressed message flag set without grpc-encoding', 'invalid');
      }
      try {
        body = await decompress(body, compression, maxMessageBytes);
      } catch (err) {
        if (err instanceof InflatedTooLargeError) {
          return this.fail(stream, signal, GrpcCode.RESOURCE_EXHAUSTED, `request message exceeds the limit of ${maxMessageBytes} bytes after decompression`, 'too_large');
        }
        return this.fail(stream, signal, GrpcCode.INVALID_ARGUMENT, `cannot decompress ${compression} message: ${(err as Error).message}`, 'invalid');
      }
      budget.hold(body.length);
      call.reserved += body.length;
      wire = { compression, body: call.message as Buffer };
    }
    try {
      const outcome = await handler.handle('grpc', signal, body, 'protobuf', headers, wire);
      metrics.request('grpc', signal, outcome.rejected > 0 ? 'partial_success' : 'success');
      this.ok(stream, exportResponseProto(outcome));
    } catch (err) {
      if (isFrictionError(err, 'OTLP_DECODE')) return this.fail(stream, signal, GrpcCode.INVALID_ARGUMENT, err.message, 'invalid');
      if (isFrictionError(err, 'BACKPRESSURE')) return this.fail(stream, signal, GrpcCode.UNAVAILABLE, err.message, 'backpressure', this.retryAfter);
      this.options.logger.error({ err, receiver: this.name, signal }, 'export failed');
      this.fail(stream, signal, GrpcCode.INTERNAL, 'internal error', 'internal_error');
    }
  }

  private ok(stream: http2.ServerHttp2Stream, message: Buffer): void {
    if (stream.destroyed || stream.headersSent) return;
    const frame = Buffer.allocUnsafe(HEADER_BYTES + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, HEADER_BYTES);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': ACCEPT_ENCODING, 'grpc-encoding': 'identity' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frame);
  }

  /** Trailers-only error response; the rest of an unread request is discarded. */
  private fail(stream: http2.ServerHttp2Stream, signal: Signal | undefined, code: number, message: string, outcome: RequestOutcome, retryAfterSeconds?: number): void {
    if (signal !== undefined) this.options.metrics.request('grpc', signal, outcome);
    if (stream.destroyed || stream.headersSent) return;
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc+proto',
        'grpc-accept-encoding': ACCEPT_ENCODING,
        'grpc-status': String(code),
        'grpc-message': grpcMessage(message),
        'grpc-status-details-bin': statusProto(code, message, retryAfterSeconds).toString('base64'),
      },
      { endStream: true },
    );
    // Stop the client's upload of a body we will not read.
    stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }

  toString(): string {
    return `${this.name} ${this.bound ? formatEndpoint(this.bound) : formatEndpoint(this.options.endpoint)}`;
  }
}
