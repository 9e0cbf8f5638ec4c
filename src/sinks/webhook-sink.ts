/**
 * POSTs each transition as JSON to a URL: the plain signal, or a CloudEvents 1.0 event in
 * structured mode. One request per transition, so a receiver's answer is about exactly one
 * transition and the idempotency key can travel as a header and as the event id. With a secret,
 * `X-Friction-Signature: sha256=<hex>` carries an HMAC-SHA256 of the exact body bytes.
 */
import { createHmac } from 'node:crypto';
import type { SinkConfigOf } from '../config/index.js';
import { type Delivery, type SignalSink, type SinkContext, httpOutcome, networkFailure, toPlainJson } from './sink.js';

/** A CloudEvents 1.0 event (structured content mode). */
export interface SignalCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** Extension attributes for routing without parsing `data`. */
  frictionkind: string;
  frictionseverity: string;
  data: Record<string, unknown>;
}

/** The CloudEvent for one transition: `type` is `dev.otel-friction.signal.<transition>`, `id` the idempotency key. */
export function toCloudEvent(d: Delivery, source: string): SignalCloudEvent {
  return {
    specversion: '1.0',
    id: d.key,
    source,
    type: `dev.otel-friction.signal.${d.transition}`,
    subject: d.signal.service,
    time: d.signal.endsAt ?? d.signal.updatedAt,
    datacontenttype: 'application/json',
    frictionkind: d.signal.kind,
    frictionseverity: d.signal.severity,
    data: toPlainJson(d),
  };
}

/** HMAC-SHA256 of `body` as the signature header's value. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Delivers transitions to an HTTP endpoint. */
export class WebhookSink implements SignalSink {
  readonly name: string;
  readonly maxBatch = 1;

  constructor(private readonly config: SinkConfigOf<'webhook'>, context: SinkContext) {
    this.name = context.name;
  }

  async deliver(batch: readonly Delivery[]): Promise<void> {
    for (const d of batch) await this.post(d);
  }

  private async post(d: Delivery): Promise<void> {
    const c = this.config;
    const cloud = c.format === 'cloudevents';
    const body = JSON.stringify(cloud ? toCloudEvent(d, c.source) : toPlainJson(d));
    const headers: Record<string, string> = {
      'content-type': cloud ? 'application/cloudevents+json; charset=utf-8' : 'application/json',
      'idempotency-key': d.key,
      'user-agent': 'otel-friction',
      ...c.headers,
    };
    if (c.secret !== '') headers[c.signature_header.toLowerCase()] = signBody(c.secret, body);
    let res: Response;
    try {
      res = await fetch(c.url, { method: 'POST', body, headers, signal: AbortSignal.timeout(c.timeout) });
    } catch (err) {
      throw networkFailure(`webhook ${redact(c.url)}`, err);
    }
    const detail = res.ok ? '' : await res.text().catch(() => '');
    if (res.ok) await res.body?.cancel().catch(() => undefined);
    const failure = httpOutcome(`webhook ${redact(c.url)}`, res.status, res.headers.get('retry-after'), detail);
    if (failure) throw failure;
  }

  async close(): Promise<void> {
    // fetch keeps no per-sink resources.
  }
}

/** The URL without credentials or query (which may hold tokens), for logs and errors. */
function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
