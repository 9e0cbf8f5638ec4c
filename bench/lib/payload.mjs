/**
 * Realistic, deterministic OTLP trace load: a pool of pre-encoded ExportTraceServiceRequest
 * messages, each holding SPANS_PER_REQUEST spans from 5 services and 40 operations, ~10
 * attributes per span, 2% errors, random trace/span ids and lognormal durations — what an
 * agent batching a small cluster's traffic sends (about 430 bytes per span).
 */
import { loadOtlp } from './otlp.mjs';

export const SPANS_PER_REQUEST = 512;
const SPANS_PER_TRACE = 8;
const ERROR_RATE = 0.02;

const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };

/** mulberry32: small seeded PRNG, so every run sends the same bytes. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    bytes(n) {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
    hex(n) {
      let s = '';
      for (let i = 0; i < n; i++) s += Math.floor(next() * 16).toString(16);
      return s;
    },
    /** Lognormal with the given median (ms) and sigma. */
    lognormal: (median, sigma) => median * Math.exp(sigma * gauss()),
  };
}

// 5 services x 8 operations = 40 span names. type drives the attribute set.
const SERVICES = {
  frontend: [
    ['GET /', 'http-server', 12], ['GET /product/{id}', 'http-server', 25], ['GET /cart', 'http-server', 18],
    ['POST /cart', 'http-server', 30], ['POST /checkout', 'http-server', 180], ['GET /api/recommendations', 'http-client', 40],
    ['POST /api/orders', 'http-client', 150], ['render product-page', 'internal', 4],
  ],
  checkout: [
    ['POST /v1/checkout', 'http-server', 160], ['GET /v1/checkout/{id}', 'http-server', 15], ['POST /v1/payments/authorize', 'http-client', 90],
    ['GET /v1/inventory/{sku}', 'http-client', 12], ['SELECT checkout.sessions', 'db', 3], ['INSERT checkout.sessions', 'db', 5],
    ['checkout.orders publish', 'messaging', 2], ['compute cart totals', 'internal', 1.5],
  ],
  payments: [
    ['POST /v1/payments/authorize', 'http-server', 85], ['POST /v1/payments/capture', 'http-server', 70], ['GET /v1/payments/{id}', 'http-server', 10],
    ['POST /charges', 'http-client', 60], ['SELECT payments.transactions', 'db', 4], ['UPDATE payments.transactions', 'db', 6],
    ['fraud score', 'internal', 8], ['payments.events publish', 'messaging', 2],
  ],
  orders: [
    ['POST /api/orders', 'http-server', 140], ['GET /api/orders/{id}', 'http-server', 14], ['GET /api/orders', 'http-server', 35],
    ['INSERT orders.orders', 'db', 6], ['SELECT orders.orders', 'db', 4], ['checkout.orders process', 'messaging-consumer', 45],
    ['GET /v1/inventory/{sku}', 'http-client', 12], ['validate order', 'internal', 2],
  ],
  inventory: [
    ['GET /v1/inventory/{sku}', 'http-server', 9], ['POST /v1/inventory/reserve', 'http-server', 22], ['POST /v1/inventory/release', 'http-server', 18],
    ['SELECT inventory.stock', 'db', 2.5], ['UPDATE inventory.stock', 'db', 5], ['GET stock:{sku}', 'cache', 0.6],
    ['SET stock:{sku}', 'cache', 0.8], ['inventory.reserved publish', 'messaging', 2],
  ],
};

const PEERS = {
  frontend: 'frontend.shop-prod.svc.cluster.local', checkout: 'checkout.shop-prod.svc.cluster.local',
  payments: 'payments.shop-prod.svc.cluster.local', orders: 'orders.shop-prod.svc.cluster.local',
  inventory: 'inventory.shop-prod.svc.cluster.local',
};
const SCOPES = {
  'http-server': ['@opentelemetry/instrumentation-http', '0.52.1'],
  'http-client': ['@opentelemetry/instrumentation-undici', '0.4.0'],
  db: ['@opentelemetry/instrumentation-pg', '0.43.0'],
  cache: ['@opentelemetry/instrumentation-ioredis', '0.42.0'],
  messaging: ['@opentelemetry/instrumentation-kafkajs', '0.2.0'],
  'messaging-consumer': ['@opentelemetry/instrumentation-kafkajs', '0.2.0'],
  internal: ['shop-app', '3.14.2'],
};
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'okhttp/4.12.0', 'shop-android/5.2.1 (Pixel 8; Android 14)',
];

const str = (key, v) => ({ key, value: { stringValue: v } });
const int = (key, v) => ({ key, value: { intValue: v } });
const bool = (key, v) => ({ key, value: { boolValue: v } });

function resourceOf(service, r) {
  const pod = `${service}-${r.hex(10)}-${r.hex(5)}`;
  return {
    attributes: [
      str('service.name', service), str('service.namespace', 'shop'), str('service.version', `2.${r.int(20)}.${r.int(10)}`),
      str('service.instance.id', `${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}`),
      str('deployment.environment', 'production'), str('k8s.namespace.name', 'shop-prod'), str('k8s.pod.name', pod),
      str('k8s.node.name', `ip-10-0-${r.int(255)}-${r.int(255)}.eu-west-1.compute.internal`), str('host.name', pod),
      str('cloud.region', 'eu-west-1'), str('telemetry.sdk.name', 'opentelemetry'), str('telemetry.sdk.language', 'nodejs'),
      str('telemetry.sdk.version', '1.25.1'),
    ],
  };
}

function attributesOf(op, service, status, r) {
  const user = `u-${100000 + r.int(900000)}`;
  const tenant = `t-${r.int(40)}`;
  switch (op.type) {
    case 'http-server': {
      const [method, route] = op.name.split(' ');
      const target = route.replace('{id}', String(r.int(100000))).replace('{sku}', `SKU-${r.int(99999)}`);
      return [
        str('http.method', method), str('http.route', route), str('http.target', target), int('http.status_code', status),
        str('net.host.name', PEERS[service]), str('net.peer.name', `10.1.${r.int(255)}.${r.int(255)}`),
        int('net.peer.port', 30000 + r.int(30000)), str('http.user_agent', r.pick(AGENTS)), str('enduser.id', user),
        str('shop.tenant.id', tenant),
      ];
    }
    case 'http-client': {
      const [method, route] = op.name.split(' ');
      const target = route.replace('{id}', String(r.int(100000))).replace('{sku}', `SKU-${r.int(99999)}`);
      const peer = op.peer ?? 'api.stripe.com';
      return [
        str('http.method', method), str('http.url', `http://${peer}${target}`), int('http.status_code', status),
        str('net.peer.name', peer), int('net.peer.port', op.peer ? 8080 : 443), str('http.flavor', '1.1'),
        str('enduser.id', user), str('shop.tenant.id', tenant), int('http.request_content_length', 200 + r.int(2000)),
      ];
    }
    case 'db': {
      const [verb, table] = op.name.split(' ');
      return [
        str('db.system', 'postgresql'), str('db.name', table.split('.')[0]), str('db.operation', verb), str('db.sql.table', table),
        str('db.statement', `${verb} * FROM ${table} WHERE id = $1 AND tenant_id = $2`), str('db.user', `${service}_rw`),
        str('net.peer.name', `${service}-db.shop-prod.svc.cluster.local`), int('net.peer.port', 5432), str('enduser.id', user),
        str('shop.tenant.id', tenant),
      ];
    }
    case 'cache':
      return [
        str('db.system', 'redis'), str('db.statement', op.name.replace('{sku}', `SKU-${r.int(99999)}`)), int('db.redis.database_index', 0),
        str('net.peer.name', 'redis-master.shop-prod.svc.cluster.local'), int('net.peer.port', 6379), str('enduser.id', user),
        str('shop.tenant.id', tenant), bool('cache.hit', r.next() < 0.85),
      ];
    case 'messaging':
    case 'messaging-consumer':
      return [
        str('messaging.system', 'kafka'), str('messaging.destination.name', op.name.split(' ')[0]),
        str('messaging.operation', op.type === 'messaging' ? 'publish' : 'process'),
        str('messaging.kafka.message.key', `${tenant}:${user}`), int('messaging.kafka.destination.partition', r.int(12)),
        str('messaging.client_id', `${service}-${r.hex(6)}`), str('net.peer.name', 'kafka-0.kafka.shop-prod.svc.cluster.local'),
        int('net.peer.port', 9092), str('enduser.id', user), str('shop.tenant.id', tenant),
      ];
    default:
      return [
        str('code.function', op.name.replace(/ /g, '_')), str('code.namespace', `shop.${service}`), str('enduser.id', user),
        str('shop.tenant.id', tenant), int('shop.cart.items', 1 + r.int(12)), str('shop.currency', r.pick(['EUR', 'USD', 'GBP'])),
        bool('shop.logged_in', r.next() < 0.7), str('thread.name', 'main'),
      ];
  }
}

function kindOf(type) {
  switch (type) {
    case 'http-server': return KIND.SERVER;
    case 'messaging': return KIND.PRODUCER;
    case 'messaging-consumer': return KIND.CONSUMER;
    case 'internal': return KIND.INTERNAL;
    default: return KIND.CLIENT;
  }
}

const OPS = [];
for (const [service, ops] of Object.entries(SERVICES)) {
  for (const [name, type, medianMs] of ops) {
    const op = { service, name, type, medianMs, kind: kindOf(type) };
    // Client calls to our own services name their peer.
    if (type === 'http-client') {
      const target = Object.entries(SERVICES).find(([s, list]) => s !== service && list.some(([n, t]) => n === name && t === 'http-server'));
      if (target) op.peer = PEERS[target[0]];
    }
    OPS.push(op);
  }
}
const ENTRY_OPS = OPS.filter((o) => o.kind === KIND.SERVER);

/**
 * One request's object tree (fromObject input). With `variants` > 1, span names get a
 * ` #k` suffix cycling through k < variants, so the pool spans about 40 × variants series —
 * how the bench reaches 10,000 or 50,000 live series.
 */
function buildRequest(r, baseNanos, variants, counter) {
  const byService = new Map(); // service -> Map(scopeKey -> spans)
  const resources = new Map();
  for (const service of Object.keys(SERVICES)) resources.set(service, resourceOf(service, r));
  let spans = 0;
  while (spans < SPANS_PER_REQUEST) {
    const traceId = r.bytes(16);
    const traceStart = baseNanos + BigInt(r.int(5_000_000)) * 1000n;
    const tree = [];
    const n = Math.min(SPANS_PER_TRACE, SPANS_PER_REQUEST - spans);
    for (let i = 0; i < n; i++) {
      const op = i === 0 ? r.pick(ENTRY_OPS) : r.pick(OPS);
      const parent = i === 0 ? undefined : tree[r.int(tree.length)];
      const durMs = r.lognormal(op.medianMs, 0.8);
      const start = parent ? parent.start + BigInt(Math.floor(r.next() * 2_000_000)) : traceStart;
      const end = start + BigInt(Math.max(1000, Math.round(durMs * 1e6)));
      const isError = r.next() < ERROR_RATE;
      const httpStatus = isError ? r.pick([500, 502, 503, 504]) : r.pick([200, 200, 200, 200, 201, 204, 304, 404]);
      const span = {
        traceId,
        spanId: r.bytes(8),
        parentSpanId: parent ? parent.span.spanId : undefined,
        name: variants > 1 ? `${op.name} #${counter.n++ % variants}` : op.name,
        kind: op.kind,
        startTimeUnixNano: start.toString(),
        endTimeUnixNano: end.toString(),
        attributes: attributesOf(op, op.service, httpStatus, r),
        status: isError ? { code: 2, message: `upstream returned ${httpStatus}` } : { code: 0 },
      };
      if (isError) {
        span.events = [{
          timeUnixNano: end.toString(),
          name: 'exception',
          attributes: [str('exception.type', 'UpstreamError'), str('exception.message', `${op.name} failed with ${httpStatus}`)],
        }];
      }
      tree.push({ span, start });
      const scopeKey = op.type;
      if (!byService.has(op.service)) byService.set(op.service, new Map());
      const scopes = byService.get(op.service);
      if (!scopes.has(scopeKey)) scopes.set(scopeKey, []);
      scopes.get(scopeKey).push(span);
      spans++;
    }
  }
  const resourceSpans = [];
  for (const [service, scopes] of byService) {
    resourceSpans.push({
      resource: resources.get(service),
      schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
      scopeSpans: [...scopes].map(([type, list]) => ({ scope: { name: SCOPES[type][0], version: SCOPES[type][1] }, spans: list })),
    });
  }
  return { resourceSpans };
}

/**
 * Builds `count` distinct encoded requests. Returns { payloads: Buffer[], spansPerRequest,
 * bytesPerSpan, attributesPerSpan, errorRate }. `options.series` spreads span names so the
 * pool holds about that many distinct (service, operation, kind) series.
 */
export function buildPool(count = 16, seed = 42, options = {}) {
  const variants = Math.max(1, Math.ceil((options.series ?? 0) / OPS.length));
  const counter = { n: 0 };
  const { ExportTraceServiceRequest } = loadOtlp();
  const r = rng(seed);
  const baseNanos = BigInt(Date.UTC(2026, 10, 24, 12, 0, 0)) * 1_000_000n;
  const payloads = [];
  let attrs = 0;
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const obj = buildRequest(r, baseNanos + BigInt(i) * 5_000_000_000n, variants, counter);
    for (const rs of obj.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          attrs += s.attributes.length;
          if (s.status.code === 2) errors++;
        }
      }
    }
    const msg = ExportTraceServiceRequest.fromObject(obj);
    const err = ExportTraceServiceRequest.verify(msg);
    if (err) throw new Error(`bench payload invalid: ${err}`);
    payloads.push(Buffer.from(ExportTraceServiceRequest.encode(msg).finish()));
  }
  const totalBytes = payloads.reduce((a, b) => a + b.length, 0);
  const series = new Set();
  for (const p of payloads) for (const key of seriesKeys(ExportTraceServiceRequest.decode(p))) series.add(key);
  const totalSpans = count * SPANS_PER_REQUEST;
  return {
    payloads,
    spansPerRequest: SPANS_PER_REQUEST,
    bytesPerRequest: totalBytes / count,
    bytesPerSpan: totalBytes / totalSpans,
    attributesPerSpan: attrs / totalSpans,
    errorRate: errors / totalSpans,
    series: series.size,
  };
}

function* seriesKeys(req) {
  for (const rs of req.resourceSpans) {
    const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
    for (const ss of rs.scopeSpans) for (const s of ss.spans) yield `${service}\u0000${s.name}\u0000${s.kind}`;
  }
}

/** Serialises a pool for the generator process: u32 count, then u32 length + bytes each. */
export function serializePool(payloads) {
  const parts = [Buffer.alloc(4)];
  parts[0].writeUInt32BE(payloads.length, 0);
  for (const p of payloads) {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(p.length, 0);
    parts.push(h, p);
  }
  return Buffer.concat(parts);
}

export function deserializePool(buf) {
  const n = buf.readUInt32BE(0);
  const out = [];
  let off = 4;
  for (let i = 0; i < n; i++) {
    const len = buf.readUInt32BE(off);
    off += 4;
    out.push(buf.subarray(off, off + len));
    off += len;
  }
  return out;
}
