/**
 * Loads the repository's OTLP .proto files (proto/) with protobufjs, the same way
 * test/support/otlp-proto.ts does: a Root whose resolvePath maps imports onto proto/.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

export const GRPC_TRACE_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

let cached;

/** { root, ExportTraceServiceRequest, ExportTraceServiceResponse } */
export function loadOtlp() {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto']);
  root.resolveAll();
  cached = {
    root,
    ExportTraceServiceRequest: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    ExportTraceServiceResponse: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  };
  return cached;
}
