/**
 * Shared bits of the reference servers: argument parsing, the naive decode path, readiness and
 * a stats line on SIGTERM (so the harness can check what the server really received).
 */
import { loadOtlp } from '../lib/otlp.mjs';

export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[i + 1];
    i++;
  }
  return out;
}

export const stats = { requests: 0, bytes: 0, spans: 0, errors: 0, checksum: 0 };

/**
 * What a naive implementation does with a request: protobufjs decode + toObject, then one
 * object per span carrying the fields an aggregator needs.
 */
export function makeNaiveDecoder() {
  const { ExportTraceServiceRequest, ExportTraceServiceResponse } = loadOtlp();
  const opts = { longs: String, enums: String, bytes: Buffer };
  const response = Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create()).finish());
  return {
    response,
    decode(body) {
      const obj = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), opts);
      const out = [];
      for (const rs of obj.resourceSpans ?? []) {
        let service = 'unknown';
        for (const a of rs.resource?.attributes ?? []) if (a.key === 'service.name') service = a.value?.stringValue ?? service;
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            out.push({
              service,
              name: s.name,
              kind: s.kind,
              durationMs: (Number(s.endTimeUnixNano) - Number(s.startTimeUnixNano)) / 1e6,
              error: s.status?.code === 'STATUS_CODE_ERROR',
              traceId: s.traceId,
            });
          }
        }
      }
      stats.spans += out.length;
      // Touch the result so the work cannot be skipped.
      for (const span of out) stats.checksum = (stats.checksum + span.durationMs + (span.error ? 1 : 0)) % 1e9;
      return out;
    },
  };
}

/** Prints READY once listening, the stats line and exits on SIGTERM. */
export function lifecycle(close) {
  process.stdout.write('READY\n');
  let closing = false;
  const finish = () => {
    if (closing) return;
    closing = true;
    process.stdout.write(`STATS ${JSON.stringify(stats)}\n`, () => process.exit(0));
    try {
      close();
    } catch {
      // exiting anyway
    }
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', finish);
  process.on('SIGINT', finish);
  // If the harness dies, do not outlive it.
  process.stdin.on('end', finish);
  process.stdin.on('error', finish);
  process.stdin.resume();
}
