/**
 * Test support: loads the hand-written OTLP `.proto` files under `proto/` with protobufjs.
 *
 * Field names are protobufjs' default camelCase (`resourceSpans`, `timeUnixNano`, ...), except
 * inside `google.protobuf.Any`: protobufjs always supplies that type from its bundled JSON
 * definition (a local any.proto would be ignored), so its fields stay `type_url` / `value`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

/** Entry files; everything else (common, resource, signals, google/protobuf/any) comes in through imports. */
const ENTRY_FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'google/rpc/status.proto',
];

/** Absolute path of the repository's `proto/` directory (with trailing separator). */
export function protoDir(): string {
  return PROTO_DIR;
}

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports are written relative to proto/, like protoc's -I proto.
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync(ENTRY_FILES);
  root.resolveAll();
  return root;
}

/** The protobufjs root holding every loaded OTLP type. */
export const otlpRoot: protobuf.Root = loadRoot();

/** `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest` */
export const ExportTraceServiceRequest = otlpRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
/** `opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse` */
export const ExportTraceServiceResponse = otlpRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
/** `opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest` */
export const ExportMetricsServiceRequest = otlpRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
/** `opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse` */
export const ExportMetricsServiceResponse = otlpRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');
/** `opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest` */
export const ExportLogsServiceRequest = otlpRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
/** `opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse` */
export const ExportLogsServiceResponse = otlpRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
/** `google.rpc.Status` — the OTLP/HTTP error body and gRPC rich error. */
export const Status = otlpRoot.lookupType('google.rpc.Status');
