/**
 * LogScanner against a full protobufjs decode: every record is counted, as usable or as
 * rejected for an id of the wrong length.
 */
import { describe, expect, it } from 'vitest';
import { LogBatch } from '../../src/otlp/batch.js';
import { LogScanner } from '../../src/otlp/log-scanner.js';
import { Random, encodeLogRequest, generateLogRequest, rewriteFields, type Obj } from '../support/generate.js';
import { ExportLogsServiceRequest } from '../support/otlp-proto.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);

interface Counts {
  length: number;
  rejected: number;
}

/** Records are usable when each id is absent or of its exact length (all zeros allowed). */
function expected(bytes: Buffer): Counts {
  const req = ExportLogsServiceRequest.decode(bytes) as Obj;
  const counts = { length: 0, rejected: 0 };
  for (const rl of req.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const lr of sl.logRecords) {
        const ok = [0, 16].includes(lr.traceId.length) && [0, 8].includes(lr.spanId.length);
        if (ok) counts.length++;
        else counts.rejected++;
      }
    }
  }
  return counts;
}

const scanner = new LogScanner();
const batch = new LogBatch();

function scan(bytes: Buffer): Counts {
  scanner.scan(bytes, batch);
  return { length: batch.length, rejected: batch.rejected };
}

describe('LogScanner', () => {
  it('counts the same usable and rejected records as protobufjs for 200 generated requests', () => {
    let total = 0;
    let rejected = 0;
    for (const seed of SEEDS) {
      const bytes = encodeLogRequest(generateLogRequest(seed));
      const want = expected(bytes);
      expect(scan(bytes), `seed ${seed}`).toEqual(want);
      total += want.length;
      rejected += want.rejected;
    }
    expect(total).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(20);
  });

  it('counts the same with fields shuffled', () => {
    for (const seed of SEEDS) {
      const bytes = rewriteFields(ExportLogsServiceRequest, encodeLogRequest(generateLogRequest(seed)), { order: new Random(seed) });
      expect(scan(bytes), `seed ${seed}`).toEqual(expected(bytes));
    }
  });

  it('accepts records without ids and with all-zero ids, rejects wrong lengths with a reason', () => {
    const records = [
      {},
      { traceId: Buffer.alloc(16), spanId: Buffer.alloc(8) },
      { traceId: Buffer.alloc(16, 1) },
      { traceId: Buffer.alloc(15, 1), spanId: Buffer.alloc(8, 1) },
      { spanId: Buffer.alloc(9, 1) },
    ];
    scan(encodeLogRequest({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] }));
    expect({ length: batch.length, rejected: batch.rejected }).toEqual({ length: 3, rejected: 2 });
    expect(batch.rejectReason).toBe('invalid trace_id length 15 (want 0 or 16 bytes)');
  });
});
