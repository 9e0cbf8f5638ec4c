/**
 * TraceScanner against a full protobufjs decode of the same bytes, field by field.
 *
 * The oracle (`expected`) reads the decoded message the slow, obvious way; the scanner must
 * agree on every span for every generated request, also when the bytes are re-arranged in
 * ways protobufjs never writes but other encoders may (fields out of order, unpacked).
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { SpanBatch } from '../../src/otlp/batch.js';
import { StringInterner } from '../../src/otlp/interner.js';
import { TraceScanner } from '../../src/otlp/trace-scanner.js';
import {
  Random,
  encodeTraceRequest,
  generateTraceRequest,
  lookupAttribute,
  rewriteFields,
  spanRows,
  u64,
  type Obj,
  type RewriteOptions,
  type SpanRow,
} from '../support/generate.js';
import { ExportTraceServiceRequest, otlpRoot } from '../support/otlp-proto.js';

const DIMS = ['http.route', 'deployment.environment', 'region', 'ключ', '🔑', 'absent.key'];
const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);

interface Outcome {
  rows: SpanRow[];
  rejected: number;
}

const isValidId = (id: Uint8Array, n: number): boolean => id.length === n && id.some((b) => b !== 0);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What the scanner must report, read from a full protobufjs decode of `bytes`. */
function expected(bytes: Buffer, dims: readonly string[]): Outcome {
  const req = ExportTraceServiceRequest.decode(bytes) as Obj;
  const rows: SpanRow[] = [];
  let rejected = 0;
  for (const rs of req.resourceSpans) {
    const resAttrs = rs.resource?.attributes;
    const serviceName = lookupAttribute(resAttrs, 'service.name') ?? '';
    for (const ss of rs.scopeSpans) {
      for (const sp of ss.spans) {
        if (!isValidId(sp.traceId, 16) || !isValidId(sp.spanId, 8)) {
          rejected++;
          continue;
        }
        const start = sp.startTimeUnixNano;
        const end = sp.endTimeUnixNano;
        rows.push({
          serviceName,
          name: sp.name,
          kind: sp.kind,
          statusCode: sp.status?.code ?? 0,
          startHi: start.high >>> 0,
          startLo: start.low >>> 0,
          endHi: end.high >>> 0,
          endLo: end.low >>> 0,
          durationNs: Number(u64(end) - u64(start)),
          traceId: hex(sp.traceId),
          spanId: hex(sp.spanId),
          isRoot: sp.parentSpanId.length === 0,
          dims: dims.map((d) => lookupAttribute(sp.attributes, d) ?? lookupAttribute(resAttrs, d) ?? ''),
        });
      }
    }
  }
  return { rows, rejected };
}

// One scanner and one batch for everything: pooled entries are reused across requests, so
// anything left over from a previous request would show up as a mismatch.
const scanner = new TraceScanner({ dimensions: DIMS });
const batch = new SpanBatch();

function scan(bytes: Buffer): Outcome {
  scanner.scan(bytes, batch);
  return { rows: spanRows(batch), rejected: batch.rejected };
}

function checkSeeds(rewrite?: (bytes: Buffer, seed: number) => Buffer): Outcome[] {
  const outcomes: Outcome[] = [];
  let changed = 0;
  for (const seed of SEEDS) {
    const original = encodeTraceRequest(generateTraceRequest(seed));
    const bytes = rewrite ? rewrite(original, seed) : original;
    if (!bytes.equals(original)) changed++;
    const want = expected(bytes, DIMS);
    expect(scan(bytes), `seed ${seed}`).toEqual(want);
    outcomes.push(want);
  }
  if (rewrite) expect(changed).toBeGreaterThan(SEEDS.length / 2);
  return outcomes;
}

const rewritten = (options: (seed: number) => RewriteOptions) => (bytes: Buffer, seed: number) =>
  rewriteFields(ExportTraceServiceRequest, bytes, options(seed));

describe('TraceScanner', () => {
  it('agrees with protobufjs on every span of 200 generated requests', () => {
    const outcomes = checkSeeds();
    // The generator must actually exercise what the comparison is about.
    const rows = outcomes.flatMap((o) => o.rows);
    expect(rows.length).toBeGreaterThan(800);
    expect(new Set(rows.map((r) => r.kind))).toEqual(new Set([0, 1, 2, 3, 4, 5, 7, -1]));
    expect(new Set(rows.map((r) => r.statusCode))).toEqual(new Set([0, 1, 2, 5]));
    expect(new Set(rows.map((r) => r.isRoot))).toEqual(new Set([true, false]));
    expect(new Set(rows.map((r) => r.serviceName))).toContain('');
    expect(rows.some((r) => r.durationNs < 0)).toBe(true);
    expect(rows.some((r) => r.startHi === 0xffffffff && r.startLo === 0xffffffff)).toBe(true);
    expect(outcomes.reduce((n, o) => n + o.rejected, 0)).toBeGreaterThan(50);
    const dims = new Set(rows.flatMap((r) => r.dims));
    for (const v of ['true', 'false', '-1', '9223372036854775807', '-9223372036854775808', 'NaN', '日本語のスパン', '']) expect(dims).toContain(v);
  });

  it('agrees with protobufjs when every message writes its fields in reverse order', () => {
    // Resource after scope_spans, status before name, attributes before times, ...
    checkSeeds(rewritten(() => ({ order: 'reverse' })));
  });

  it('agrees with protobufjs when fields are shuffled and repeated scalars unpacked', () => {
    checkSeeds(rewritten((seed) => ({ order: new Random(seed ^ 0x5eed), unpack: true })));
  });

  it('applies the resource to its spans when the resource comes after scope_spans', () => {
    const scope = encodeAs('opentelemetry.proto.trace.v1.ScopeSpans', { spans: [span({ name: 'late' })] });
    const resource = encodeAs('opentelemetry.proto.resource.v1.Resource', {
      attributes: [attr('service.name', { stringValue: 'checkout' }), attr('region', { stringValue: 'eu' })],
    });
    const request = lenField(1, Buffer.concat([lenField(2, scope), lenField(1, resource)]));
    const got = scan(request);
    expect(got).toEqual(expected(request, DIMS));
    expect(got.rows).toMatchObject([{ serviceName: 'checkout', name: 'late', dims: ['', '', 'eu', '', '', ''] }]);
  });

  it('gives each span the interner ids of its name and service, equal for equal strings', () => {
    const own = new TraceScanner();
    const b = new SpanBatch();
    const bytes = encodeTraceRequest({
      resourceSpans: [
        { resource: { attributes: [attr('service.name', { stringValue: 'checkout' })] }, scopeSpans: [{ spans: [span({ name: 'GET /a' }), span({ name: 'GET /b' }), span({ name: 'GET /a' })] }] },
        { resource: { attributes: [attr('service.name', { stringValue: 'cart' })] }, scopeSpans: [{ spans: [span({ name: 'GET /a' })] }] },
        { resource: { attributes: [] }, scopeSpans: [{ spans: [span({ name: '' })] }] },
      ],
    });
    own.scan(bytes, b);
    expect(b.idsValid).toBe(true);
    const ids = b.spans.slice(0, b.length).map((x) => [x.nameId, x.serviceId]);
    expect(ids[0][0]).toBe(ids[2][0]);
    expect(ids[0][0]).toBe(ids[3][0]);
    expect(ids[1][0]).not.toBe(ids[0][0]);
    expect(ids[0][1]).toBe(ids[1][1]);
    expect(ids[3][1]).not.toBe(ids[0][1]);
    expect(ids[4]).toEqual([-1, -1]); // empty name, no service.name
    expect(Math.min(...ids.slice(0, 4).flat())).toBeGreaterThanOrEqual(0);
  });

  it('marks ids unusable when the string table starts over during the scan', () => {
    const own = new TraceScanner({ interner: new StringInterner({ maxEntries: 4 }) });
    const b = new SpanBatch();
    const names = Array.from({ length: 10 }, (_, i) => span({ name: `op-${i}` }));
    own.scan(encodeTraceRequest({ resourceSpans: [{ resource: { attributes: [attr('service.name', { stringValue: 's' })] }, scopeSpans: [{ spans: names }] }] }), b);
    expect(b.length).toBe(10);
    expect(b.idsValid).toBe(false);
  });

  it('takes a dimension from the span, else the resource, never from events, links or the scope', () => {
    const bytes = encodeTraceRequest({
      resourceSpans: [{
        resource: { attributes: [attr('http.route', { stringValue: 'from-resource' }), attr('region', { stringValue: 'eu' })] },
        scopeSpans: [{
          scope: { name: 's', attributes: [attr('ключ', { stringValue: 'from-scope' })] },
          spans: [span({
            attributes: [attr('http.route', { stringValue: '/cart' })],
            events: [{ name: 'e', attributes: [attr('deployment.environment', { stringValue: 'from-event' })] }],
            links: [{ traceId: Buffer.alloc(16, 3), spanId: Buffer.alloc(8, 4), attributes: [attr('🔑', { stringValue: 'from-link' })] }],
          })],
        }],
      }],
    });
    expect(scan(bytes).rows[0].dims).toEqual(['/cart', '', 'eu', '', '', '']);
  });

  it('renders dimension values of every AnyValue type as documented', () => {
    const cases: Array<[Obj, string]> = [
      [{ stringValue: 'héllo 🚀' }, 'héllo 🚀'],
      [{ boolValue: true }, 'true'],
      [{ boolValue: false }, 'false'],
      [{ intValue: '-1' }, '-1'],
      [{ intValue: '9007199254740993' }, '9007199254740993'],
      [{ intValue: '-9223372036854775808' }, '-9223372036854775808'],
      [{ doubleValue: 1.5 }, '1.5'],
      [{ doubleValue: 1e21 }, '1e+21'],
      [{ doubleValue: NaN }, 'NaN'],
      [{ bytesValue: Buffer.from([0xde, 0xad, 0xbe, 0xef]) }, '3q2+7w=='],
      [{ arrayValue: { values: [{ stringValue: 'a' }] } }, ''],
      [{ kvlistValue: { values: [attr('a', { stringValue: 'b' })] } }, ''],
      [{}, ''],
    ];
    for (const [value, want] of cases) {
      const bytes = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [span({ attributes: [attr('region', value)] })] }] }] });
      expect(scan(bytes).rows[0].dims[2], JSON.stringify(value)).toBe(want);
    }
  });

  it('rejects spans with invalid ids, counting them and keeping the first reason', () => {
    const bytes = encodeTraceRequest({
      resourceSpans: [{
        scopeSpans: [{
          spans: [
            span({ name: 'ok-1' }),
            span({ traceId: Buffer.alloc(15, 1) }),
            span({ traceId: undefined }),
            span({ traceId: Buffer.alloc(16) }),
            span({ spanId: Buffer.alloc(8) }),
            span({ spanId: Buffer.alloc(9, 1) }),
            span({ name: 'ok-2' }),
          ],
        }],
      }],
    });
    const got = scan(bytes);
    expect(got.rows.map((r) => r.name)).toEqual(['ok-1', 'ok-2']);
    expect(got.rejected).toBe(5);
    expect(batch.rejectReason).toBe('invalid trace_id length 15 (want 16 bytes)');
  });

  it('leaves nothing of a previous, larger request in the pooled batch', () => {
    expect(scan(encodeTraceRequest(generateTraceRequest(4))).rows.length).toBeGreaterThan(10);
    const small = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [span({ name: 'only' })] }] }] });
    expect(scan(small)).toEqual({ rows: [expect.objectContaining({ name: 'only', serviceName: '', statusCode: 0, kind: 0, isRoot: true, dims: ['', '', '', '', '', ''] })], rejected: 0 });
    expect(batch.rejectReason).toBe('');
  });
});

function attr(key: string, value: Obj): Obj {
  return { key, value };
}

/** A valid span with the given fields replaced. */
function span(fields: Obj): Obj {
  return { traceId: Buffer.alloc(16, 0xab), spanId: Buffer.alloc(8, 0xcd), name: 'op', ...fields };
}

function encodeAs(typeName: string, obj: Obj): Buffer {
  const type = otlpRoot.lookupType(typeName);
  return Buffer.from(type.encode(type.fromObject(obj)).finish());
}

/** A length-delimited field: tag, length, payload. */
function lenField(no: number, payload: Buffer): Buffer {
  return Buffer.concat([protobuf.Writer.create().uint32((no << 3) | 2).uint32(payload.length).finish(), payload]);
}
