/**
 * Prometheus Alertmanager (API v2, `POST /api/v2/alerts`). Each transition becomes a postable
 * alert: labels identify the incident (alertname from the kind, service, operation, SLO, metric,
 * severity, fingerprint, plus configured static labels), annotations carry the text, `endsAt` is
 * set on resolve. Like Prometheus, firing alerts are re-sent every `resend_interval` with
 * `endsAt` four intervals ahead, so Alertmanager keeps them active while we run and lets them
 * expire if the sidecar dies.
 *
 * Several URLs form an HA pair: every alert goes to each of them (they gossip notifications, not
 * alerts, so each must hear it), and a batch counts as delivered once one of them accepted it.
 */
import type { SinkConfigOf } from '../config/index.js';
import type { FrictionSignal } from '../signals/signal.js';
import { type Delivery, DeliveryError, type SignalSink, type SinkContext, httpOutcome, networkFailure, rejected, unavailable } from './sink.js';

/** An alert as Alertmanager's v2 API takes it. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** `error_budget_burn` → `FrictionErrorBudgetBurn`. */
export function alertName(kind: string): string {
  return `Friction${kind.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`;
}

/** The alert for a signal; `endsAt` is the signal's end when resolved, else `expiresAt`. */
export function toAlert(signal: FrictionSignal, resolved: boolean, expiresAt: number, externalUrl: string, staticLabels: Readonly<Record<string, string>> = {}): PostableAlert {
  const labels: Record<string, string> = { ...staticLabels };
  const identity: Record<string, string> = {
    alertname: alertName(signal.kind), service: signal.service, operation: signal.operation, slo: signal.slo, metric: signal.metric,
    severity: signal.severity, fingerprint: signal.fingerprint,
  };
  // Empty label values are the same as absent to Alertmanager; leaving them out keeps the set honest.
  for (const [k, v] of Object.entries(identity)) if (v !== '') labels[k] = v;
  const annotations: Record<string, string> = {
    title: signal.title,
    summary: signal.summary,
    priority: String(signal.priority),
    evidence: `${externalUrl}/api/v1/signals?status=all&fingerprint=${signal.fingerprint}`,
  };
  if (signal.owner !== '') annotations.owner = signal.owner;
  if (signal.outcomes.length > 0) annotations.outcomes = signal.outcomes.join(', ');
  const traces = signal.exemplars.map((e) => e.traceId).filter((t) => t !== '');
  if (traces.length > 0) annotations.exemplar_trace_ids = traces.join(' ');
  return {
    labels,
    annotations,
    startsAt: signal.startsAt,
    endsAt: resolved && signal.endsAt !== null ? signal.endsAt : new Date(expiresAt).toISOString(),
    generatorURL: `${externalUrl}/?fingerprint=${signal.fingerprint}`,
  };
}

/** Delivers transitions to one Alertmanager or an HA set of them. */
export class AlertmanagerSink implements SignalSink {
  readonly name: string;
  readonly maxBatch = 64;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private resendFailing = false;

  constructor(private readonly config: SinkConfigOf<'alertmanager'>, private readonly context: SinkContext, private readonly now: () => number = Date.now) {
    this.name = context.name;
  }

  async start(): Promise<void> {
    this.startResending();
  }

  async deliver(batch: readonly Delivery[]): Promise<void> {
    if (this.closed) throw unavailable(`${this.name} is closed`);
    this.startResending();
    if (batch.length === 0) return;
    const expires = this.expiry();
    await this.postEverywhere(batch.map((d) => toAlert(d.signal, d.transition === 'resolved', expires, this.context.externalUrl, this.config.labels)));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Four resend intervals ahead: three missed re-sends before Alertmanager resolves on its own. */
  private expiry(): number {
    return this.now() + 4 * this.config.resend_interval;
  }

  private startResending(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => void this.resend(), this.config.resend_interval);
    this.timer.unref();
  }

  /** Re-asserts every firing signal; best effort (the outbox owns the transitions themselves). */
  private async resend(): Promise<void> {
    const firing = this.context.firing();
    if (firing.length === 0 || this.closed) return;
    const expires = this.expiry();
    try {
      for (let i = 0; i < firing.length; i += this.maxBatch) {
        await this.postEverywhere(firing.slice(i, i + this.maxBatch).map((s) => toAlert(s, false, expires, this.context.externalUrl, this.config.labels)));
      }
      if (this.resendFailing) this.context.logger.info({ sink: this.name }, 'alertmanager re-sends work again');
      this.resendFailing = false;
    } catch (err) {
      if (!this.resendFailing) this.context.logger.warn({ sink: this.name, err: (err as Error).message }, 're-sending firing alerts to alertmanager failed; will try again');
      this.resendFailing = true;
    }
  }

  private async postEverywhere(alerts: PostableAlert[]): Promise<void> {
    const body = JSON.stringify(alerts);
    const results = await Promise.allSettled(this.config.urls.map((u) => this.post(u, body)));
    if (results.some((r) => r.status === 'fulfilled')) return;
    const errors = results.map((r) => (r as PromiseRejectedResult).reason as unknown);
    const message = errors.map((e) => (e as Error).message).join('; ');
    // Retry unless every Alertmanager refused for good: one that is merely down may come back.
    const permanent = errors.every((e) => e instanceof DeliveryError && e.permanent);
    throw permanent ? rejected(message) : unavailable(message, { retryAfterMs: retryAfterOf(errors) });
  }

  private async post(base: string, body: string): Promise<void> {
    const url = `${base.replace(/\/+$/, '')}/api/v2/alerts`;
    const target = `alertmanager ${new URL(url).host}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST', body,
        headers: { 'content-type': 'application/json', 'user-agent': 'otel-friction', ...this.config.headers },
        signal: AbortSignal.timeout(this.config.timeout),
      });
    } catch (err) {
      throw networkFailure(target, err);
    }
    const detail = await res.text().catch(() => '');
    const failure = httpOutcome(target, res.status, res.headers.get('retry-after'), detail);
    if (failure) throw failure;
  }
}

function retryAfterOf(errors: readonly unknown[]): number | undefined {
  const hints = errors.map((e) => (e instanceof DeliveryError ? e.retryAfterMs : undefined)).filter((x): x is number => x !== undefined);
  return hints.length > 0 ? Math.min(...hints) : undefined;
}
