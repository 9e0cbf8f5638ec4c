/**
 * Backpressure against the real process: slow uploads hold the in-flight budget; further
 * requests are refused with the retryable answer (HTTP 503 + Retry-After, gRPC UNAVAILABLE
 * with RetryInfo), counted, and once the load stops the sidecar accepts again by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_TRACES, RawGrpcClient, httpRequest, slowGrpcUpload, slowHttpUpload, traceRequest } from '../support/clients.js';
import { Status } from '../support/otlp-proto.js';
import { type SidecarProcess, startSidecarProcess } from '../support/sidecar-process.js';

let sidecar: SidecarProcess;
// ~600 KB each: one fits in the 1 MiB budget, two do not.
const BIG = traceRequest(1500, 300);
const proto = { 'content-type': 'application/x-protobuf' };

beforeAll(async () => {
  expect(BIG.length).toBeGreaterThan(520 * 1024);
  expect(BIG.length).toBeLessThan(1024 * 1024);
  sidecar = await startSidecarProcess({ extraYaml: () => 'limits: { max_inflight_bytes_mib: 1 }\n' });
});

afterAll(async () => {
  expect(await sidecar.stop()).toBe(0);
});

describe('in-flight limit', () => {
  it('HTTP: refuses with 503 + Retry-After while a slow upload holds the budget, then recovers', async () => {
    const slow = slowHttpUpload(sidecar.httpPort, BIG, 1000);
    // Wait until the sidecar has reserved the slow upload's bytes.
    await expect.poll(() => sidecar.metric('otel_friction_receiver_inflight_bytes'), { timeout: 5000 }).toBe(BIG.length);

    const refused = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: proto, body: BIG });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    const status = Status.decode(refused.body) as unknown as { code: number; message: string };
    expect(status.code).toBe(14);
    expect(await sidecar.metric('otel_friction_receiver_requests_total', { protocol: 'http', outcome: 'backpressure' })).toBe(1);

    // The load stops: the slow upload completes and is accepted in full.
    const done = await slow.finish();
    expect(done.status).toBe(200);
    expect(await sidecar.metric('otel_friction_receiver_inflight_bytes')).toBe(0);

    const accepted = await httpRequest(sidecar.httpPort, '/v1/traces', { headers: proto, body: BIG });
    expect(accepted.status).toBe(200);
  });

  it('gRPC: refuses with UNAVAILABLE and RetryInfo while a slow call holds the budget, then recovers', async () => {
    const client = new RawGrpcClient(sidecar.grpcPort);
    const slow = slowGrpcUpload(sidecar.grpcPort, BIG, 1000);
    try {
      await expect.poll(() => sidecar.metric('otel_friction_receiver_inflight_bytes'), { timeout: 5000 }).toBe(BIG.length);

      const refused = await client.call(GRPC_TRACES, BIG);
      expect(refused.code).toBe(14);
      const details = refused.metadata?.get('grpc-status-details-bin')[0] as Buffer;
      const status = Status.toObject(Status.decode(details)) as { code: number; details: Array<{ type_url: string }> };
      expect(status.code).toBe(14);
      expect(status.details[0].type_url).toBe('type.googleapis.com/google.rpc.RetryInfo');
      expect(await sidecar.metric('otel_friction_receiver_requests_total', { protocol: 'grpc', outcome: 'backpressure' })).toBe(1);

      expect((await slow.finish()).grpcStatus).toBe('0');
      expect(await sidecar.metric('otel_friction_receiver_inflight_bytes')).toBe(0);
      expect((await client.call(GRPC_TRACES, BIG)).code).toBe(0);
    } finally {
      slow.close();
      client.close();
    }
  });

  it('an abandoned upload gives its bytes back', async () => {
    const slow = slowHttpUpload(sidecar.httpPort, BIG, 1000);
    await expect.poll(() => sidecar.metric('otel_friction_receiver_inflight_bytes'), { timeout: 5000 }).toBe(BIG.length);
    slow.abort();
    await expect.poll(() => sidecar.metric('otel_friction_receiver_inflight_bytes'), { timeout: 5000 }).toBe(0);
    expect(await sidecar.metric('otel_friction_receiver_requests_total', { protocol: 'http', outcome: 'canceled' })).toBe(1);
    expect((await httpRequest(sidecar.httpPort, '/v1/traces', { headers: proto, body: BIG })).status).toBe(200);
  });
});
