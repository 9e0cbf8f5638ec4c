/**
 * The simulated fleet: eight services of a small shop, what each serves, what each calls, and
 * how much traffic reaches it from outside. Data only; traffic.ts turns it into traces.
 *
 * The call graph is shaped so that each injected incident stays with its service: the
 * operations search calls on catalog are also called by browsers directly, so a search outage
 * thins catalog's traffic but does not collapse it (catalog must stay quiet in the demo, as an
 * unaffected service would in production).
 */

/** The services of the demo fleet. */
export const SERVICES = ['checkout', 'payments', 'cart', 'catalog', 'search', 'auth', 'shipping', 'email'] as const;

/** One of {@link SERVICES}. */
export type ServiceName = (typeof SERVICES)[number];

/** A call from an operation: to another service of the fleet, or to a backing store (a leaf). */
export type CallSpec =
  | {
      /** Callee service: the caller records a client span, the callee a server span under it. */
      readonly service: ServiceName;
      readonly operation: string;
      /** Chance the call is made at all (default 1). */
      readonly probability?: number;
    }
  | {
      /** A dependency outside the fleet (database, cache, third party): one client span. */
      readonly dependency: string;
      /** Span name, e.g. `SELECT products`. */
      readonly name: string;
      readonly medianMs: number;
      readonly sigma: number;
      readonly probability?: number;
    };

/** One operation a service serves. */
export interface OperationSpec {
  readonly service: ServiceName;
  /** Span name of the server span, `METHOD /route`. */
  readonly name: string;
  /** Median of the operation's own work (downstream calls excluded), ms. */
  readonly medianMs: number;
  /** Lognormal spread of the own work (log space). */
  readonly sigma: number;
  /** Share of calls that fail on their own (not counting injected incidents). */
  readonly errorRate: number;
  /** Calls made, in order, each after the previous one returned. */
  readonly calls: readonly CallSpec[];
}

/** Traffic arriving from outside the fleet (browsers, apps) at one operation. */
export interface EntryPoint {
  readonly service: ServiceName;
  readonly operation: string;
  /** Mean requests per scenario second at the diurnal average. */
  readonly rate: number;
}

/** The whole fleet: operations by `service operation` key, and the outside traffic. */
export interface Fleet {
  readonly operations: ReadonlyMap<string, OperationSpec>;
  readonly entries: readonly EntryPoint[];
}

/** Map key of an operation. */
export function operationKey(service: string, operation: string): string {
  return `${service} ${operation}`;
}

const OPERATIONS: readonly OperationSpec[] = [
  {
    service: 'checkout', name: 'POST /checkout', medianMs: 18, sigma: 0.3, errorRate: 0.002,
    calls: [
      { service: 'auth', operation: 'POST /auth/verify' },
      { service: 'cart', operation: 'GET /cart' },
      { service: 'payments', operation: 'POST /payments/charge' },
      { service: 'shipping', operation: 'POST /shipping/quote' },
      { dependency: 'postgresql', name: 'INSERT orders', medianMs: 4, sigma: 0.3 },
      { service: 'email', operation: 'POST /email/confirmation' },
    ],
  },
  {
    service: 'payments', name: 'POST /payments/charge', medianMs: 12, sigma: 0.25, errorRate: 0.002,
    calls: [{ dependency: 'card-processor', name: 'POST /v1/charges', medianMs: 90, sigma: 0.25 }],
  },
  { service: 'auth', name: 'POST /auth/verify', medianMs: 3, sigma: 0.3, errorRate: 0.001, calls: [{ dependency: 'redis', name: 'GET session', medianMs: 0.6, sigma: 0.3 }] },
  { service: 'auth', name: 'POST /auth/login', medianMs: 35, sigma: 0.3, errorRate: 0.005, calls: [{ dependency: 'postgresql', name: 'SELECT users', medianMs: 3, sigma: 0.3 }] },
  {
    service: 'cart', name: 'GET /cart', medianMs: 4, sigma: 0.3, errorRate: 0.001,
    calls: [
      { dependency: 'redis', name: 'HGETALL cart', medianMs: 0.8, sigma: 0.3 },
      { service: 'catalog', operation: 'GET /products/{id}' },
    ],
  },
  {
    service: 'cart', name: 'POST /cart/items', medianMs: 6, sigma: 0.3, errorRate: 0.002,
    calls: [
      { service: 'auth', operation: 'POST /auth/verify' },
      { service: 'catalog', operation: 'GET /products/{id}' },
      { dependency: 'redis', name: 'HSET cart', medianMs: 0.8, sigma: 0.3 },
    ],
  },
  { service: 'catalog', name: 'GET /products/{id}', medianMs: 5, sigma: 0.3, errorRate: 0.001, calls: [{ dependency: 'postgresql', name: 'SELECT products', medianMs: 2.5, sigma: 0.3 }] },
  { service: 'catalog', name: 'GET /products', medianMs: 9, sigma: 0.3, errorRate: 0.001, calls: [{ dependency: 'postgresql', name: 'SELECT products', medianMs: 6, sigma: 0.3 }] },
  {
    service: 'search', name: 'GET /search', medianMs: 25, sigma: 0.3, errorRate: 0.002,
    calls: [
      { dependency: 'elasticsearch', name: 'POST /products/_search', medianMs: 20, sigma: 0.3 },
      { service: 'catalog', operation: 'GET /products' },
    ],
  },
  { service: 'shipping', name: 'POST /shipping/quote', medianMs: 22, sigma: 0.3, errorRate: 0.002, calls: [{ dependency: 'postgresql', name: 'SELECT rates', medianMs: 3, sigma: 0.3 }] },
  { service: 'shipping', name: 'GET /shipping/track', medianMs: 15, sigma: 0.3, errorRate: 0.002, calls: [{ dependency: 'carrier-api', name: 'GET /v2/track', medianMs: 40, sigma: 0.3 }] },
  { service: 'email', name: 'POST /email/confirmation', medianMs: 8, sigma: 0.3, errorRate: 0.001, calls: [{ dependency: 'smtp-relay', name: 'SMTP send', medianMs: 25, sigma: 0.3 }] },
];

// Requests per scenario second from outside. Checkout is the busiest flow by spans (a dozen
// per request); catalog's list endpoint gets browse traffic besides search's calls.
const ENTRIES: readonly EntryPoint[] = [
  { service: 'checkout', operation: 'POST /checkout', rate: 14 },
  { service: 'cart', operation: 'GET /cart', rate: 16 },
  { service: 'cart', operation: 'POST /cart/items', rate: 8 },
  { service: 'search', operation: 'GET /search', rate: 22 },
  { service: 'catalog', operation: 'GET /products', rate: 14 },
  { service: 'catalog', operation: 'GET /products/{id}', rate: 14 },
  { service: 'auth', operation: 'POST /auth/login', rate: 6 },
  { service: 'shipping', operation: 'GET /shipping/track', rate: 8 },
];

/** The demo fleet. Checks that every call names an operation of the fleet. */
export function demoFleet(): Fleet {
  const operations = new Map(OPERATIONS.map((op) => [operationKey(op.service, op.name), op]));
  for (const op of OPERATIONS) {
    for (const call of op.calls) {
      if ('service' in call && !operations.has(operationKey(call.service, call.operation))) {
        throw new Error(`demo fleet: ${op.service} ${op.name} calls unknown ${call.service} ${call.operation}`);
      }
    }
  }
  return { operations, entries: ENTRIES };
}
