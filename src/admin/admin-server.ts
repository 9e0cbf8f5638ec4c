/**
 * The admin HTTP server: liveness, readiness and Prometheus metrics. Kept apart from the
 * receivers so probes and scrapes still answer while the receivers are saturated or draining.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import type { Endpoint } from '../config/index.js';
import type { Component } from '../lifecycle/component.js';
import { closeBefore, listen } from '../receiver/listen.js';
import type { SelfMetrics } from '../telemetry/metrics.js';
import type { HealthState } from './health.js';

/** A JSON answer from an {@link AdminRoute}. */
export interface AdminResponse {
  status: number;
  body: unknown;
}

/**
 * A read-only JSON endpoint other stages contribute (`/api/v1/series`, …). It receives the
 * query string and answers synchronously from in-memory state.
 */
export type AdminRoute = (query: URLSearchParams) => AdminResponse;

/** Settings and collaborators of {@link AdminServer}. */
export interface AdminServerOptions {
  endpoint: Endpoint;
  health: HealthState;
  metrics: SelfMetrics;
  logger: Logger;
  /** Extra GET routes by exact path. */
  routes?: Readonly<Record<string, AdminRoute>>;
}

/** Serves /healthz, /readyz, /metrics and the JSON API routes it is given. */
export class AdminServer implements Component {
  readonly name = 'admin';
  private readonly server: http.Server;
  private bound: Endpoint | undefined;
  private closing = false;

  constructor(private readonly options: AdminServerOptions) {
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        options.logger.error({ err }, 'admin request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
  }

  get address(): Endpoint | undefined {
    return this.bound;
  }

  async start(): Promise<void> {
    this.bound = await listen(this.server, this.options.endpoint, 'admin');
  }

  async shutdown(deadline: number): Promise<boolean> {
    if (this.closing || !this.server.listening) {
      this.closing = true;
      return true;
    }
    this.closing = true;
    const closing = closeBefore(this.server, deadline, () => this.server.closeAllConnections());
    this.server.closeIdleConnections();
    return closing;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('method not allowed\n');
      return;
    }
    const { health, metrics } = this.options;
    switch (path) {
      case '/healthz':
        return json(res, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - health.startedAt) / 1000) });
      case '/readyz':
        return json(res, health.ready ? 200 : 503, { status: health.ready ? 'ready' : health.phase });
      case '/metrics': {
        const { contentType, body } = await metrics.render();
        res.writeHead(200, { 'content-type': contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      default: {
        const route = this.options.routes?.[path];
        if (route !== undefined) {
          const answer = route(url.searchParams);
          return json(res, answer.status, answer.body, req.method === 'HEAD');
        }
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`not found; try ${['/healthz', '/readyz', '/metrics', ...Object.keys(this.options.routes ?? {})].join(', ')}\n`);
      }
    }
  }
}

function json(res: http.ServerResponse, status: number, body: unknown, headOnly = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(headOnly ? undefined : text);
}
