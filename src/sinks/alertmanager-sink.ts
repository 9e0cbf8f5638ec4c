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
import type { Severity } from '../detect/detector.js';
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

const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** `error_budget_burn` → `FrictionErrorBudgetBurn`. */
export function alertName(kind: string): string {
  return `Friction${kind.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`;
}

/**
 * The alert for a signal, ending at `endsAt` (ms): the signal's own end for a resolved
 * transition, a few resend intervals ahead for a firing one.
 */
export function toAlert(signal: FrictionSignal, endsAt: number, externalUrl: string, staticLabels: Readonly<Record<string, string>> = {}): PostableAlert {
  const fp = encodeURIComponent(signal.fingerprint);
  const labels: Record<string, string> = { ...staticLabels };
  const identity: Record<string, string> = {
    alertname: alertName(signal.kind), service: signal.service, operation: signal.operation, slo: signal.slo, metric: signal.metric,
    severity: signal.severity, fingerprint: signal.fingerprint,
  };
  // Alertmanager drops empty label values anyway; leaving them out keeps what we send what it stores.
  for (const [k, v] of Object.entries(identity)) if (v !== '') labels[k] = v;
  const annotations: Record<string, string> = {
    title: signal.title,
    summary: signal.summary,
    priority: String(signal.priority),
    evidence: `${externalUrl}/api/v1/signals?fingerprint=${fp}&status=all`,
  };
  if (signal.owner !== '') annotations.owner = signal.owner;
  if (signal.outcomes.length > 0) annotations.outcomes = signal.outcomes.join(', ');
  const traces = [...new Set(signal.exemplars.map((e) => e.traceId).filter((t) => t !== ''))];
  if (traces.length > 0) annotations.exemplar_trace_ids = traces.join(', ');
  // Alertmanager refuses (400) an alert ending before it starts, e.g. after a clock step.
  const starts = Date.parse(signal.startsAt);
  return {
    labels,
    annotations,
    startsAt: signal.startsAt,
    endsAt: new Date(Number.isNaN(starts) ? endsAt : Math.max(endsAt, starts)).toISOString(),
    generatorURL: `${externalUrl}/?fingerprint=${fp}`,
  };
}

/** Delivers transitions to one Alertmanager or an HA set of them. */
export class AlertmanagerSink implements SignalSink {
  readonly name: string;
  readonly maxBatch = 64;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private resending = false;
  /** URLs whose re-sends fail, so an outage is logged once, not every interval. */
  private readonly resendDown = new Set<string>();
  /** Posts run one at a time: a re-send must not land after the transition that resolved its signal. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: SinkConfigOf<'alertmanager'>, private readonly context: SinkContext) {
    this.name = context.name;
  }

  async start(): Promise<void> {
    // Re-assert at once: after a restart, alerts we sent before may be close to expiring.
    if (this.startResending()) void this.resend();
  }

  async deliver(batch: readonly Delivery[]): Promise<void> {
    if (this.closed) throw unavailable(`${this.name} is closed`);
    this.startResending();
    if (batch.length === 0) return;
    await this.serial(async () => {
      const now = Date.now();
      const alerts = batch.flatMap((d) => {
        const resolved = d.transition === 'resolved';
        // Alertmanager ends a stored alert only with an endsAt already past when it arrives.
        const endedAt = pastTime(resolved ? d.signal.endsAt : d.signal.updatedAt, now);
        const main = toAlert(d.signal, resolved ? endedAt : this.expiry(now), this.context.externalUrl, this.config.labels);
        if (d.transition === 'firing') return [main];
        // Severity is a label, so a severity change is another alert to Alertmanager: end the
        // others, or the old severity keeps firing until it expires.
        const others = SEVERITIES.filter((s) => s !== d.signal.severity)
          .map((severity) => toAlert({ ...d.signal, severity }, endedAt, this.context.externalUrl, this.config.labels));
        return [main, ...others];
      });
      const results = await this.postAll(JSON.stringify(alerts));
      if (results.some((r) => r.status === 'fulfilled')) return;
      throw combine(results.map((r) => (r as PromiseRejectedResult).reason as unknown));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.tail;
  }

  /** Four resend intervals ahead: three missed re-sends before Alertmanager resolves on its own. */
  private expiry(now: number): number {
    return now + 4 * this.config.resend_interval;
  }

  /** Starts the re-send timer unless running or closed; true when it started it. */
  private startResending(): boolean {
    if (this.timer !== undefined || this.closed) return false;
    this.timer = setInterval(() => void this.resend(), this.config.resend_interval);
    this.timer.unref();
    return true;
  }

  /** Re-asserts every firing signal, best effort: the outbox owns the transitions themselves. */
  private async resend(): Promise<void> {
    if (this.resending || this.closed) return;
    this.resending = true;
    try {
      const fingerprints = this.context.firing().map((s) => s.fingerprint);
      for (let i = 0; i < fingerprints.length && !this.closed; i += this.maxBatch) {
        await this.serial(async () => {
          // Looked up again per chunk: a signal resolved (or changed) since the first look must
          // not be re-fired after its transition went out.
          const current = new Map(this.context.firing().map((s) => [s.fingerprint, s]));
          const now = Date.now();
          const alerts = fingerprints.slice(i, i + this.maxBatch).flatMap((fp) => {
            const s = current.get(fp);
            return s === undefined ? [] : [toAlert(s, this.expiry(now), this.context.externalUrl, this.config.labels)];
          });
          if (alerts.length > 0) this.noteResend(await this.postAll(JSON.stringify(alerts)));
        });
      }
    } catch (err) {
      this.context.logger.warn({ sink: this.name, err: (err as Error).message }, 're-sending firing alerts to alertmanager failed');
    } finally {
      this.resending = false;
    }
  }

  private noteResend(results: readonly PromiseSettledResult<void>[]): void {
    results.forEach((r, i) => {
      const url = this.config.urls[i];
      if (r.status === 'rejected' && !this.resendDown.has(url)) {
        this.resendDown.add(url);
        this.context.logger.warn({ sink: this.name, err: (r.reason as Error).message }, 're-sending firing alerts to an alertmanager failed; they expire there unless it comes back');
      } else if (r.status === 'fulfilled' && this.resendDown.delete(url)) {
        this.context.logger.info({ sink: this.name, target: hostOf(url) }, 'alertmanager takes re-sent alerts again');
      }
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private postAll(body: string): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(this.config.urls.map((u) => this.post(u, body)));
  }

  private async post(base: string, body: string): Promise<void> {
    const target = `alertmanager ${hostOf(base)}`;
    let res: Response;
    try {
      res = await fetch(`${base.replace(/\/+$/, '')}/api/v2/alerts`, {
        method: 'POST', body,
        headers: { 'content-type': 'application/json', 'user-agent': 'otel-friction', ...this.config.headers },
        signal: AbortSignal.timeout(this.config.timeout),
      });
    } catch (err) {
      throw networkFailure(target, err);
    }
    // Read either way so the connection can be reused; the text explains a refusal.
    const detail = await res.text().catch(() => '');
    const failure = httpOutcome(target, res.status, res.headers.get('retry-after'), detail);
    if (failure) throw failure;
  }
}

/** A transition's time (ms), never later than now; now when absent. */
function pastTime(iso: string | null, now: number): number {
  const t = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isNaN(t) ? now : Math.min(t, now);
}

/** Host and port only: a URL may carry credentials. */
function hostOf(url: string): string {
  return new URL(url).host;
}

/** Every Alertmanager failed: permanent only if each refused for good, since one that is down may come back. */
function combine(errors: readonly unknown[]): DeliveryError {
  const message = errors.map((e) => (e as Error).message).join('; ');
  if (errors.every((e) => e instanceof DeliveryError && e.permanent)) return rejected(message, { cause: errors[0] });
  const hints = errors.map((e) => (e instanceof DeliveryError ? e.retryAfterMs : undefined)).filter((x): x is number => x !== undefined);
  return unavailable(message, { cause: errors[0], retryAfterMs: hints.length > 0 ? Math.min(...hints) : undefined });
}
