/**
 * Scans ExportLogsServiceRequest bytes: log records are counted and their ids checked, so
 * services exporting all three signals are never refused. Nothing else is extracted yet.
 *
 * Field numbers (opentelemetry/proto/logs/v1/logs.proto):
 *   ExportLogsServiceRequest.resource_logs = 1; ResourceLogs.scope_logs = 2;
 *   ScopeLogs.log_records = 2; LogRecord: trace_id = 9, span_id = 10
 */
import { LogBatch } from './batch.js';
import { WireReader, WireType, readTag } from './wire.js';

/** Reusable log scanner. Not re-entrant. */
export class LogScanner {
  private readonly r = new WireReader(Buffer.alloc(0));

  /** Fills `batch` from `buf`; throws WireError for malformed input. */
  scan(buf: Buffer, batch: LogBatch): void {
    const r = this.r;
    r.reset(buf);
    batch.reset();
    this.each(r.end, 1, (e1) => this.each(e1, 2, (e2) => this.each(e2, 2, (e3) => this.record(e3, batch))));
  }

  private each(end: number, field: number, fn: (end: number) => void): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    while (r.pos < end) {
      const tag = readTag(r);
      if (tag >>> 3 === field) {
        r.expect(tag & 7, WireType.LEN, 'logs container');
        const e = r.readLengthEnd();
        fn(e);
        r.pos = e;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
    r.end = outerEnd;
  }

  private record(end: number, batch: LogBatch): void {
    const r = this.r;
    const outerEnd = r.end;
    r.end = end;
    let traceIdLen = 0;
    let spanIdLen = 0;
    while (r.pos < end) {
      const tag = readTag(r);
      const field = tag >>> 3;
      if (field === 9 || field === 10) {
        r.expect(tag & 7, WireType.LEN, field === 9 ? 'LogRecord.trace_id' : 'LogRecord.span_id');
        const e = r.readLengthEnd();
        if (field === 9) traceIdLen = e - r.pos;
        else spanIdLen = e - r.pos;
        r.pos = e;
      } else {
        r.skip(tag & 7, field);
      }
    }
    r.end = outerEnd;
    // Log records need not belong to a trace, but ids that are present must be well formed.
    if (traceIdLen !== 0 && traceIdLen !== 16) batch.reject(1, `invalid trace_id length ${traceIdLen} (want 0 or 16 bytes)`);
    else if (spanIdLen !== 0 && spanIdLen !== 8) batch.reject(1, `invalid span_id length ${spanIdLen} (want 0 or 8 bytes)`);
    else batch.length++;
  }
}
