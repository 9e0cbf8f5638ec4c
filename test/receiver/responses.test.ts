/**
 * The hand-encoded OTLP answers decode, with protobufjs and our .proto files, to exactly
 * the messages the specification defines.
 */
import { describe, expect, it } from 'vitest';
import { exportResponseJson, exportResponseProto, grpcMessage, statusJson, statusProto } from '../../src/receiver/responses.js';
import protobuf from 'protobufjs';
import { ExportLogsServiceResponse, ExportMetricsServiceResponse, ExportTraceServiceResponse, Status } from '../support/otlp-proto.js';

describe('export responses', () => {
  it('full success is an empty message (protobuf) and {} (JSON)', () => {
    expect(exportResponseProto({ rejected: 0, errorMessage: '' }).length).toBe(0);
    expect(exportResponseJson('traces', { rejected: 0, errorMessage: '' }).toString()).toBe('{}');
  });

  it.each([
    [ExportTraceServiceResponse, 'rejectedSpans'],
    [ExportMetricsServiceResponse, 'rejectedDataPoints'],
    [ExportLogsServiceResponse, 'rejectedLogRecords'],
  ])('partial success decodes as %s', (type, field) => {
    const bytes = exportResponseProto({ rejected: 300, errorMessage: 'bad ids ✗' });
    const decoded = type.toObject(type.decode(bytes), { longs: Number });
    expect(decoded.partialSuccess).toEqual({ [field]: 300, errorMessage: 'bad ids ✗' });
  });

  it('JSON partial success uses the signal field name and int64 as a string', () => {
    expect(JSON.parse(exportResponseJson('metrics', { rejected: 2, errorMessage: 'x' }).toString())).toEqual({
      partialSuccess: { rejectedDataPoints: '2', errorMessage: 'x' },
    });
    expect(JSON.parse(exportResponseJson('logs', { rejected: 1, errorMessage: 'y' }).toString()).partialSuccess.rejectedLogRecords).toBe('1');
  });
});

describe('google.rpc.Status', () => {
  it('encodes code and message', () => {
    expect(Status.toObject(Status.decode(statusProto(3, 'cannot decode')))).toEqual({ code: 3, message: 'cannot decode' });
    expect(JSON.parse(statusJson(8, 'too big').toString())).toEqual({ code: 8, message: 'too big' });
  });

  it('carries RetryInfo for retryable refusals', () => {
    const status = Status.toObject(Status.decode(statusProto(14, 'busy', 2))) as { details: Array<{ type_url: string; value: Uint8Array }> };
    expect(status.details).toHaveLength(1);
    expect(status.details[0].type_url).toBe('type.googleapis.com/google.rpc.RetryInfo');
    const { root } = protobuf.parse(
      'syntax = "proto3"; package t; message Duration { int64 seconds = 1; int32 nanos = 2; } message RetryInfo { Duration retry_delay = 1; }',
      { keepCase: true },
    );
    const RetryInfo = root.lookupType('t.RetryInfo');
    expect(RetryInfo.toObject(RetryInfo.decode(status.details[0].value), { longs: Number })).toEqual({ retry_delay: { seconds: 2 } });
    expect(JSON.parse(statusJson(14, 'busy', 2).toString()).details[0].retryDelay).toBe('2s');
  });
});

describe('grpc-message', () => {
  it('percent-encodes non-ASCII, control characters and %', () => {
    expect(grpcMessage('héllo 100%\n')).toBe('h%C3%A9llo 100%25%0A');
    expect(decodeURIComponent(grpcMessage('héllo 100%\n'))).toBe('héllo 100%\n');
  });
});
