/**
 * Shared bits of the reference servers: argument parsing, the naive decode path, readiness and
 * a stats line on SIGTERM (so the harness can check what the server really received).
 */
import tdigest from 'tdigest';
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
 * What a naive implementation does with a request: protobufjs decode + toObject, one object
 * per span carrying the fields an aggregator needs, then per-series aggregation the obvious
 * way — a Map keyed by a joined string, holding counters and an npm `tdigest` per series.
 * (Like the sidecar it keeps one open window; series are never evicted in a bench run.)
 */
export function makeNaiveDecoder() {
  const { ExportTraceServiceRequest, ExportTraceServiceResponse } = loadOtlp();
  const opts = { longs: String, enums: String, bytes: Buffer };
  const response = Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create()).finish());
  const series = new Map();
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
      for (const span of out) {
        const key = `${span.service}|${span.name}|${span.kind}`;
        let agg = series.get(key);
        if (agg === undefined) {
          agg = { count: 0, errors: 0, sum: 0, digest: new tdigest.TDigest() };
          series.set(key, agg);
        }
        agg.count++;
        if (span.error) agg.errors++;
        agg.sum += span.durationMs;
        agg.digest.push(span.durationMs);
      }
      stats.series = series.size;
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
