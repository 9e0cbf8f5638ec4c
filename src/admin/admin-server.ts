/**
 * The admin HTTP server: liveness, readiness, Prometheus metrics, the JSON API and the
 * dashboard's static files. Kept apart from the receivers so probes and scrapes still answer
 * while the receivers are saturated or draining.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Logger } from 'pino';
import type { Endpoint } from '../config/index.js';
import { ErrorCodes } from '../errors.js';
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

/**
 * A mutating endpoint (`POST`): it receives the parsed JSON body (`{}` when empty) and the
 * query. When `admin.token` is set, the server checks `Authorization: Bearer <token>` first.
 */
export type AdminAction = (body: unknown, query: URLSearchParams) => AdminResponse;

/** A file served as is (the dashboard page and its scripts), held in memory. */
export interface StaticAsset {
  /** `content-type` header. */
  type: string;
  body: Buffer;
  /** Extra response headers (the page's Content-Security-Policy). */
  headers?: Readonly<Record<string, string>>;
}

// Mutating calls carry small JSON documents (a sink name, a list of ids).
const MAX_ACTION_BODY = 64 * 1024;

/** Settings and collaborators of {@link AdminServer}. */
export interface AdminServerOptions {
  endpoint: Endpoint;
  health: HealthState;
  metrics: SelfMetrics;
  logger: Logger;
  /** Extra GET routes by exact path. */
  routes?: Readonly<Record<string, AdminRoute>>;
  /** POST routes by exact path. */
  actions?: Readonly<Record<string, AdminAction>>;
  /** Bearer token POST routes require; empty = none. */
  token?: string;
  /** Static files by exact path (`/` for the dashboard page); read like the API, no token. */
  assets?: Readonly<Record<string, StaticAsset>>;
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

  private async act(req: http.IncomingMessage, res: http.ServerResponse, action: AdminAction, query: URLSearchParams): Promise<void> {
    const token = this.options.token ?? '';
    // Without a token, mutations are only taken from this host (the default admin endpoint is
    // loopback; one bound to all interfaces must not let the network retry dead letters).
    if (token === '' && !isLoopback(req.socket.remoteAddress)) {
      req.resume();
      return json(res, 403, { error: 'mutating endpoints from other hosts need admin.token to be set', code: ErrorCodes.API_UNAUTHORIZED.code });
    }
    if (token !== '' && !bearerMatches(req.headers.authorization, token)) {
      req.resume();
      res.setHeader('www-authenticate', 'Bearer realm="otel-friction"');
      return json(res, 401, { error: 'a valid admin token is required (Authorization: Bearer <admin.token>)', code: ErrorCodes.API_UNAUTHORIZED.code });
    }
    const body = await readJson(req);
    if (!body.ok) return json(res, 400, { error: body.message, code: ErrorCodes.API_BAD_REQUEST.code });
    const answer = action(body.value, query);
    this.options.logger.info({ path: req.url, status: answer.status }, 'admin action');
    return json(res, answer.status, answer.body);
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const action = this.options.actions?.[path];
    if (action !== undefined) {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' });
        res.end('method not allowed\n');
        return;
      }
      return this.act(req, res, action, url.searchParams);
    }
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
        const asset = this.options.assets?.[path];
        if (asset !== undefined) {
          res.writeHead(200, { ...asset.headers, 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
          res.end(req.method === 'HEAD' ? undefined : asset.body);
          return;
        }
        const known = ['/healthz', '/readyz', '/metrics', ...(this.options.assets?.['/'] ? ['/'] : []), ...Object.keys(this.options.routes ?? {})];
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`not found; try ${known.join(', ')}\n`);
      }
    }
  }
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback peers. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

/** True when `header` is `Bearer <token>`; compared in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (m === null) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The request body as JSON; `{}` when empty, undefined when too large or not JSON. */
async function readJson(req: http.IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ACTION_BODY) return { ok: false, message: `body larger than ${MAX_ACTION_BODY} bytes` };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, message: 'body is not valid JSON' };
  }
}

function json(res: http.ServerResponse, status: number, body: unknown, headOnly = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(headOnly ? undefined : text);
}
