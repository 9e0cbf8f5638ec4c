/**
 * Scans ExportTraceServiceRequest bytes into a {@link SpanBatch}.
 *
 * Field numbers (opentelemetry/proto/trace/v1/trace.proto):
 *   ExportTraceServiceRequest.resource_spans = 1
 *   ResourceSpans: resource = 1, scope_spans = 2
 *   Resource: attributes = 1
 *   ScopeSpans: spans = 2
 *   Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, kind = 6,
 *         start_time_unix_nano = 7, end_time_unix_nano = 8, attributes = 9, status = 15
 *   Status: code = 3
 * Everything else is skipped by length. Protobuf allows fields in any order, so a
 * ResourceSpans is walked twice: once for its resource, once for its spans.
 */
import { KeySet, readKeyValue } from './attributes.js';
import { ScannedSpan, SpanBatch } from './batch.js';
import { StringInterner } from './interner.js';
import { WireReader, WireType, isAllZero, readTag, WireError } from './wire.js';

const SERVICE_NAME = new KeySet(['service.name']);
// Span fields as their one-byte tags: (field number << 3) | wire type.
const TAG_TRACE_ID = (1 << 3) | WireType.LEN;
const TAG_SPAN_ID = (2 << 3) | WireType.LEN;
const TAG_PARENT_SPAN_ID = (4 << 3) | WireType.LEN;
const TAG_NAME = (5 << 3) | WireType.LEN;
const TAG_KIND = (6 << 3) | WireType.VARINT;
const TAG_START = (7 << 3) | WireType.I64;
const TAG_END = (8 << 3) | WireType.I64;
const TAG_ATTRIBUTES = (9 << 3) | WireType.LEN;
const TAG_STATUS = (15 << 3) | WireType.LEN;
/** ScopeSpans.spans (field 2, length-delimited). */
const TAG_SPANS = (2 << 3) | WireType.LEN;

/** What the scanner extracts beyond the fixed span fields. */
export interface ScanOptions {
  /** Attribute keys looked up on each span, then on its resource (series dimensions). */
  dimensions?: readonly string[];
  /** Shared interner; one per process keeps memory bounded. */
  interner?: StringInterner;
}

/** Reusable trace scanner. Not re-entrant: one scan at a time (scans are synchronous). */
export class TraceScanner {
  private readonly r = new WireReader(Buffer.alloc(0));
  private readonly interner: StringInterner;
  private readonly dims: KeySet;
  private readonly resourceDims: string[];
  private readonly kv = { key: '', value: '' };
  private serviceName = '';
  private serviceId = -1;
  private traceIdLen = 0;
  private spanIdLen = 0;

  constructor(options: ScanOptions = {}) {
    this.interner = options.interner ?? new StringInterner();
    this.dims = new KeySet(options.dimensions ?? []);
    this.resourceDims = new Array<string>(this.dims.size).fill('');
  }

  /** Configured dimension keys, in the order of {@link ScannedSpan.dims}. */
  get dimensionKeys(): readonly string[] {
    return this.dims.keys;
  }

  /**
   * Fills `batch` from `buf`. Throws {@link WireError} for malformed input, leaving the batch
   * in an unspecified state that the caller must discard.
   */
  scan(buf: Buffer, batch: SpanBatch): void {
    const r = this.r;
    r.reset(buf);
    batch.reset(buf);
    const generation = this.interner.resets;
    while (r.pos < r.end) {
      const tag = readTag(r);
      if (tag >>> 3 === 1) {
        r.expect(tag & 7, WireType.LEN, 'ExportTraceServiceRequest.resource_spans');
        const end = r.readLengthEnd();
        this.resourceSpans(r.pos, end, batch);
        r.pos = end;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
    batch.idsValid = this.interner.resets === generation;
    batch.idGeneration = generation;
  }

  private resourceSpans(start: number, end: number, batch: SpanBatch): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    this.serviceName = '';
    this.serviceId = -1;
    this.resourceDims.fill('');
    // Pass 1: the resource, wherever it is.
    while (r.pos < end) {
      const tag = readTag(r);
      if (tag >>> 3 === 1) {
        r.expect(tag & 7, WireType.LEN, 'ResourceSpans.resource');
        const e = r.readLengthEnd();
        this.resource(e);
        r.pos = e;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
    // Pass 2: the scopes and their spans.
    r.pos = start;
    while (r.pos < end) {
      const tag = readTag(r);
      if (tag >>> 3 === 2) {
        r.expect(tag & 7, WireType.LEN, 'ResourceSpans.scope_spans');
        const e = r.readLengthEnd();
        this.scopeSpans(e, batch);
        r.pos = e;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
    r.end = outerEnd;
  }

  private resource(end: number): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    const kv = this.kv;
    while (r.pos < end) {
      const tag = readTag(r);
      if (tag >>> 3 === 1) {
        r.expect(tag & 7, WireType.LEN, 'Resource.attributes');
        const e = r.readLengthEnd();
        const kvStart = r.pos;
        this.interner.lastId = -1;
        if (readKeyValue(r, e, SERVICE_NAME, this.interner, kv) === 0) {
          this.serviceName = kv.value;
          this.serviceId = this.interner.lastId;
        }
        if (this.dims.size > 0) {
          r.pos = kvStart;
          const d = readKeyValue(r, e, this.dims, this.interner, kv);
          if (d >= 0) this.resourceDims[d] = kv.value;
        }
        r.pos = e;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
    r.end = outerEnd;
  }

  private scopeSpans(end: number, batch: SpanBatch): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    const buf = r.buf;
    while (r.pos < end) {
      const pos = r.pos;
      // Fast path: a span with a one- or two-byte length (up to 16 KB), nearly all of them.
      if (buf[pos] === TAG_SPANS) {
        const b1 = buf[pos + 1];
        const b2 = buf[pos + 2];
        const start = b1 < 0x80 ? pos + 2 : b2 < 0x80 ? pos + 3 : -1;
        const spanEnd = b1 < 0x80 ? start + b1 : start + ((b1 & 0x7f) | (b2 << 7));
        if (start >= 0 && spanEnd <= end) {
          r.pos = start;
          this.span(spanEnd, batch);
          r.pos = spanEnd;
          continue;
        }
      }
      const tag = readTag(r);
      if (tag >>> 3 === 2) {
        r.expect(tag & 7, WireType.LEN, 'ScopeSpans.spans');
        const e = r.readLengthEnd();
        this.span(e, batch);
        r.pos = e;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
    r.end = outerEnd;
  }

  /**
   * The per-span loop, the hottest code in the sidecar. The cursor lives in locals and the
   * common tags (one byte, known field, right wire type) are matched whole, so a span costs a
   * few byte reads per field; anything unusual falls back to the WireReader, which also
   * produces the errors.
   */
  private span(end: number, batch: SpanBatch): void {
    const r = this.r;
    const buf = r.buf;
    const outerEnd = r.end;
    r.end = end;
    const s: ScannedSpan = batch.next(this.dims.size);
    s.serviceName = this.serviceName;
    s.serviceId = this.serviceId;
    s.name = '';
    s.kind = 0;
    s.statusCode = 0;
    s.startHi = s.startLo = s.endHi = s.endLo = 0;
    s.isRoot = true;
    const dims = s.dims;
    for (let i = 0; i < dims.length; i++) dims[i] = this.resourceDims[i];
    this.traceIdLen = 0;
    this.spanIdLen = 0;
    const skipAttributes = this.dims.size === 0;
    let pos = r.pos;
    while (pos < end) {
      const tag = buf[pos];
      if ((tag & 7) === WireType.LEN && tag < 0x80) {
        // Length-delimited field with a one-byte tag and (nearly always) a one-byte length.
        const len = buf[pos + 1];
        const e = pos + 2 + len;
        if (len < 0x80 && e <= end) {
          switch (tag) {
            case TAG_ATTRIBUTES:
              // The bulk of a span: attributes nobody asked for, skipped by their length.
              if (!skipAttributes) break;
              pos = e;
              continue;
            case TAG_TRACE_ID:
              s.traceIdOffset = pos + 2;
              this.traceIdLen = len;
              pos = e;
              continue;
            case TAG_SPAN_ID:
              s.spanIdOffset = pos + 2;
              this.spanIdLen = len;
              pos = e;
              continue;
            case TAG_PARENT_SPAN_ID:
              s.isRoot = len === 0;
              pos = e;
              continue;
            case TAG_NAME:
              s.name = this.interner.intern(buf, pos + 2, e);
              s.nameId = this.interner.lastId;
              pos = e;
              continue;
            case TAG_STATUS:
              r.pos = pos + 2;
              s.statusCode = this.status(e);
              pos = e;
              continue;
          }
        }
      } else if ((tag === TAG_START || tag === TAG_END) && pos + 9 <= end) {
        const lo = buf[pos + 1] + buf[pos + 2] * 0x100 + buf[pos + 3] * 0x10000 + buf[pos + 4] * 0x1000000;
        const hi = buf[pos + 5] + buf[pos + 6] * 0x100 + buf[pos + 7] * 0x10000 + buf[pos + 8] * 0x1000000;
        if (tag === TAG_START) {
          s.startLo = lo;
          s.startHi = hi;
        } else {
          s.endLo = lo;
          s.endHi = hi;
        }
        pos += 9;
        continue;
      } else if (tag === TAG_KIND && buf[pos + 1] < 0x80 && pos + 2 <= end) {
        s.kind = buf[pos + 1];
        pos += 2;
        continue;
      }
      // Everything else (status, flags, events, links, long lengths, malformed input).
      r.pos = pos;
      this.spanField(s, end, dims);
      pos = r.pos;
    }
    const traceIdLen = this.traceIdLen;
    const spanIdLen = this.spanIdLen;
    r.pos = pos;
    r.end = outerEnd;
    s.durationNs = (s.endHi - s.startHi) * 4294967296 + (s.endLo - s.startLo);
    if (traceIdLen !== 16 || isAllZero(buf, s.traceIdOffset, 16)) {
      batch.dropLast(traceIdLen !== 16 ? `invalid trace_id length ${traceIdLen} (want 16 bytes)` : 'trace_id is all zeros');
    } else if (spanIdLen !== 8 || isAllZero(buf, s.spanIdOffset, 8)) {
      batch.dropLast(spanIdLen !== 8 ? `invalid span_id length ${spanIdLen} (want 8 bytes)` : 'span_id is all zeros');
    }
  }

  /** Reads one field of a span at `r.pos`; id lengths go to traceIdLen / spanIdLen. */
  private spanField(s: ScannedSpan, end: number, dims: string[]): void {
    const r = this.r;
    const tag = readTag(r);
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1: {
        r.expect(wt, WireType.LEN, 'Span.trace_id');
        const e = r.readLengthEnd();
        s.traceIdOffset = r.pos;
        this.traceIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case 2: {
        r.expect(wt, WireType.LEN, 'Span.span_id');
        const e = r.readLengthEnd();
        s.spanIdOffset = r.pos;
        this.spanIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case 4: {
        r.expect(wt, WireType.LEN, 'Span.parent_span_id');
        const e = r.readLengthEnd();
        s.isRoot = e === r.pos;
        r.pos = e;
        break;
      }
      case 5: {
        r.expect(wt, WireType.LEN, 'Span.name');
        const e = r.readLengthEnd();
        s.name = this.interner.intern(r.buf, r.pos, e);
        s.nameId = this.interner.lastId;
        r.pos = e;
        break;
      }
      case 6:
        r.expect(wt, WireType.VARINT, 'Span.kind');
        s.kind = r.readUint32() | 0;
        break;
      case 7:
        r.expect(wt, WireType.I64, 'Span.start_time_unix_nano');
        r.readFixed64Halves();
        s.startHi = r.hi;
        s.startLo = r.lo;
        break;
      case 8:
        r.expect(wt, WireType.I64, 'Span.end_time_unix_nano');
        r.readFixed64Halves();
        s.endHi = r.hi;
        s.endLo = r.lo;
        break;
      case 9: {
        r.expect(wt, WireType.LEN, 'Span.attributes');
        const e = r.readLengthEnd();
        if (this.dims.size > 0) {
          const d = readKeyValue(r, e, this.dims, this.interner, this.kv);
          if (d >= 0) dims[d] = this.kv.value;
        }
        r.pos = e;
        break;
      }
      case 15: {
        r.expect(wt, WireType.LEN, 'Span.status');
        const e = r.readLengthEnd();
        s.statusCode = this.status(e);
        r.pos = e;
        break;
      }
      default:
        r.skip(wt, tag >>> 3);
    }
    if (r.pos > end) throw new WireError('Span overruns its length', r.pos);
  }

  private status(end: number): number {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    let code = 0;
    while (r.pos < end) {
      const tag = readTag(r);
      if (tag >>> 3 === 3) {
        r.expect(tag & 7, WireType.VARINT, 'Status.code');
        code = r.readUint32() | 0;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
    r.end = outerEnd;
    return code;
  }
}
