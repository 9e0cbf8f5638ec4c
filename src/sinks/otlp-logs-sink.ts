/**
 * `otlp_logs`: signal transitions as OTLP log records (events), exported over gRPC or
 * HTTP/protobuf to any OTLP endpoint (a Collector, or a backend's OTLP intake), so they land
 * next to the application's own logs and traces. One batch is one Export request.
 *
 * Mapping (OTel logs data model): one ResourceLogs per affected service (`service.name` is the
 * app with the friction, not this sidecar; the producer is the scope `otel-friction`); each
 * transition is an event named `friction.signal.<transition>` with every signal field under
 * `friction.*` and the first exemplar as its trace context.
 */
import * as grpc from '@grpc/grpc-js';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { SinkConfigOf } from '../config/index.js';
import type { Severity } from '../detect/detector.js';
import {
  type Attribute,
  type LogRecordModel,
  type PartialSuccess,
  type ResourceLogsModel,
  decodeExportLogsResponse,
  decodeRpcStatus,
  encodeExportLogsRequest,
} from './otlp-logs-encoding.js';
import { type Delivery, type SignalSink, type SinkContext, httpOutcome, networkFailure, rejected, unavailable } from './sink.js';

const gzipAsync = promisify(gzip);

/** InstrumentationScope name of every record: marks otel-friction as the producer. */
export const SCOPE_NAME = 'otel-friction';

/** gRPC method of the OTLP logs service. */
export const LOGS_EXPORT_METHOD = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

// The package version, for the scope and User-Agent. Read like main.ts does (importing main.js
// would be circular: main → registry → this sink); a missing package.json just omits it.
const VERSION: string | undefined = (() => {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
})();
const USER_AGENT = `otel-friction/${VERSION ?? 'dev'}`;

/**
 * SeverityNumber/Text per signal severity. Critical is ERROR, not FATAL: the data model keeps
 * FATAL for crashes, and a friction signal is a service that still runs but fails its users;
 * ERROR (≥ 17) already marks the record as an erroneous situation for every backend. The text
 * is the short name of the number, so it agrees with the number also on resolved transitions
 * (INFO); the signal's own word stays in `friction.severity`.
 */
const SEVERITY: Record<Severity, { number: number; text: string }> = {
  critical: { number: 17, text: 'ERROR' },
  warning: { number: 13, text: 'WARN' },
  info: { number: 9, text: 'INFO' },
};
const RESOLVED = { number: 9, text: 'INFO' };

// gRPC codes worth retrying per the OTLP spec (RESOURCE_EXHAUSTED strictly only with RetryInfo,
// but a throttled endpoint is better retried with backoff than dead-lettered).
const RETRYABLE_GRPC = new Set<number>([
  grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS,
]);

function nanos(iso: string | null): bigint {
  const ms = iso === null ? Number.NaN : Date.parse(iso);
  // 0 = unknown time: receivers then fall back on the observed time.
  return Number.isNaN(ms) ? 0n : BigInt(ms) * 1_000_000n;
}

/** A trace/span id from hex; undefined unless it has the right length and is not all zeros (invalid per W3C). */
function hexId(hex: string | undefined, bytes: number): Buffer | undefined {
  if (hex === undefined || hex.length !== bytes * 2 || !/^[0-9a-f]+$/i.test(hex) || /^0+$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
}

/** One transition as an OTLP event log record. */
export function toLogRecord(d: Delivery, observedTimeUnixNano: bigint): LogRecordModel {
  const s = d.signal;
  const resolved = d.transition === 'resolved';
  const severity = resolved ? RESOLVED : SEVERITY[s.severity];
  const eventName = `friction.signal.${d.transition}`;
  const attributes: Attribute[] = [];
  // Empty optional fields (no SLO, no owner, not ended) are left out rather than sent as "":
  // an absent attribute is what OTel backends treat as "not applicable".
  const add = (key: string, value: string | bigint | readonly string[] | null): void => {
    if (value === null || value === '' || (Array.isArray(value) && value.length === 0)) return;
    attributes.push([`friction.${key}`, value]);
  };
  // event.name is deprecated in favour of the EventName field, which is set too; the attribute
  // stays for backends built on older OTLP protos, which skip field 12 as unknown.
  attributes.push(['event.name', eventName]);
  add('id', s.id);
  add('fingerprint', s.fingerprint);
  add('kind', s.kind);
  add('status', s.status);
  add('severity', s.severity);
  add('priority', BigInt(Math.round(s.priority)));
  add('operation', s.operation);
  add('slo', s.slo);
  add('metric', s.metric);
  add('outcomes', s.outcomes);
  add('owner', s.owner);
  add('title', s.title);
  add('transition', d.transition);
  add('sequence', BigInt(d.sequence));
  add('key', d.key);
  add('starts_at', s.startsAt);
  add('updated_at', s.updatedAt);
  add('ends_at', s.endsAt);
  add('evidence', JSON.stringify(s.evidence));
  if (s.exemplars.length > 0) add('exemplars', JSON.stringify(s.exemplars));
  const first = s.exemplars[0];
  const traceId = hexId(first?.traceId, 16);
  const spanId = traceId ? hexId(first?.spanId, 8) : undefined;
  return {
    timeUnixNano: nanos(resolved ? (s.endsAt ?? s.updatedAt) : s.updatedAt),
    observedTimeUnixNano,
    severityNumber: severity.number,
    severityText: severity.text,
    // The summary describes the problem; on resolve say so first, or a log view reads as if it still fired.
    body: resolved ? `Resolved: ${s.title} (was: ${s.summary})` : s.summary,
    attributes,
    traceId,
    spanId,
    eventName,
  };
}

/** A batch as resource logs: one ResourceLogs per service, records in batch order. */
export function toResourceLogs(batch: readonly Delivery[], now = Date.now()): ResourceLogsModel[] {
  const observed = BigInt(now) * 1_000_000n;
  const byService = new Map<string, LogRecordModel[]>();
  for (const d of batch) {
    let records = byService.get(d.signal.service);
    if (!records) byService.set(d.signal.service, (records = []));
    records.push(toLogRecord(d, observed));
  }
  return [...byService].map(([service, records]) => ({
    resource: [['service.name', service]],
    scope: { name: SCOPE_NAME, version: VERSION },
    records,
  }));
}

/** The OTLP/HTTP logs URL: the endpoint as given when it already ends in `/v1/logs`, else with it appended. */
export function logsUrl(endpoint: string): URL {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith('/v1/logs')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/logs`;
  return url;
}

/** Delivers signal transitions as OTLP log records over gRPC or HTTP/protobuf. */
export class OtlpLogsSink implements SignalSink {
  readonly name: string;
  readonly maxBatch = 100;
  private readonly url: URL;
  /** Endpoint as shown in errors and logs (no credentials, no query). */
  private readonly target: string;
  private readonly client?: grpc.Client;
  /** HTTP request headers, built once: an invalid configured header fails at start-up, not on every retry. */
  private readonly headers = new Headers();
  private closed = false;

  constructor(
    private readonly config: SinkConfigOf<'otlp_logs'>,
    private readonly context: SinkContext,
  ) {
    this.name = context.name;
    this.url = config.protocol === 'grpc' ? new URL(config.endpoint) : logsUrl(config.endpoint);
    this.target = `${this.url.origin}${config.protocol === 'grpc' ? '' : this.url.pathname}`;
    if (config.protocol === 'http/protobuf') {
      // A Headers object so our content-type/-encoding replace any spelling of them from config.
      for (const [key, value] of Object.entries(config.headers)) this.headers.set(key, value);
      if (!this.headers.has('user-agent')) this.headers.set('user-agent', USER_AGENT);
      this.headers.set('content-type', 'application/x-protobuf');
      if (config.compression === 'gzip') this.headers.set('content-encoding', 'gzip');
    } else {
      const tls = this.url.protocol === 'https:';
      const port = this.url.port || (tls ? '443' : '80');
      // grpc-js connects lazily, so building the client here does no I/O.
      this.client = new grpc.Client(`${this.url.hostname}:${port}`, tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), {
        'grpc.primary_user_agent': USER_AGENT,
        // 2 = gzip in grpc-js's CompressionAlgorithms; the receiver sees grpc-encoding: gzip.
        ...(config.compression === 'gzip' ? { 'grpc.default_compression_algorithm': 2 } : {}),
      });
    }
  }

  async deliver(batch: readonly Delivery[]): Promise<void> {
    if (batch.length === 0) return;
    if (this.closed) throw unavailable(`${this.name} is closed`);
    const body = encodeExportLogsRequest(toResourceLogs(batch));
    const partial = this.client ? await this.sendGrpc(this.client, body) : await this.sendHttp(body);
    // Partial success is still a success (OTLP: the client must not retry it); the refused
    // records are gone, so say so loudly rather than fail a batch a retry would not fix.
    if (partial && (partial.rejectedLogRecords > 0 || partial.errorMessage !== '')) {
      this.context.logger.warn(
        { sink: this.name, endpoint: this.target, rejected: partial.rejectedLogRecords, message: partial.errorMessage, batch: batch.length },
        'OTLP logs endpoint rejected some signal records',
      );
    }
  }

  private async sendHttp(body: Buffer): Promise<PartialSuccess | undefined> {
    let res: Response;
    let answer: Buffer;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: this.headers,
        body: this.config.compression === 'gzip' ? await gzipAsync(body) : body,
        signal: AbortSignal.timeout(this.config.timeout),
      });
      answer = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw networkFailure(this.target, err);
    }
    const type = res.headers.get('content-type') ?? '';
    const failure = httpOutcome(this.target, res.status, res.headers.get('retry-after'), errorDetail(type, answer));
    if (failure) throw failure;
    // OTLP answers in the request's content type; a proxy's JSON or HTML 200 carries no partial success.
    return answer.length === 0 || !type.includes('protobuf') ? undefined : safeDecode(answer);
  }

  private sendGrpc(client: grpc.Client, body: Buffer): Promise<PartialSuccess | undefined> {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(this.config.headers)) {
      const k = key.toLowerCase();
      // gRPC binary headers (-bin) carry bytes; in config they are written base64, as on the wire.
      if (k.endsWith('-bin')) metadata.add(k, Buffer.from(value, 'base64'));
      else metadata.add(k, value);
    }
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        LOGS_EXPORT_METHOD,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        metadata,
        { deadline: Date.now() + this.config.timeout },
        (err: grpc.ServiceError | null, response?: Buffer) => {
          if (err) reject(this.grpcFailure(err));
          else resolve(response && response.length > 0 ? safeDecode(response) : undefined);
        },
      );
    });
  }

  private grpcFailure(err: grpc.ServiceError): Error {
    const code = grpc.status[err.code] ?? String(err.code);
    const message = `${this.target} answered gRPC ${code}${err.details ? `: ${err.details.slice(0, 200)}` : ''}`;
    if (!RETRYABLE_GRPC.has(err.code)) return rejected(message, { cause: err });
    const details = err.metadata?.get('grpc-status-details-bin')[0];
    let retryAfterMs: number | undefined;
    if (Buffer.isBuffer(details)) {
      try {
        retryAfterMs = decodeRpcStatus(details).retryDelayMs;
      } catch {
        // Unreadable details only lose the server's hint; the outbox's backoff still applies.
      }
    }
    return unavailable(message, { cause: err, retryAfterMs });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client?.close();
  }
}

function safeDecode(buf: Buffer): PartialSuccess | undefined {
  try {
    return decodeExportLogsResponse(buf);
  } catch {
    // The records were accepted (OK status); an unreadable response body changes nothing.
    return undefined;
  }
}

/** The reason in an error body: a `google.rpc.Status` per OTLP/HTTP, or whatever text a proxy sent. */
function errorDetail(contentType: string, body: Buffer): string {
  if (body.length === 0) return '';
  if (contentType.includes('protobuf')) {
    try {
      return decodeRpcStatus(body).message;
    } catch {
      return '';
    }
  }
  return body.toString('utf8', 0, Math.min(body.length, 200)).trim();
}
