/**
 * Process lifecycle: graceful drain on SIGTERM/SIGINT, the shutdown deadline, start-up
 * failures and the validate command — all against the built CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpRequest, slowGrpcUpload, slowHttpUpload, traceRequest } from '../support/clients.js';
import { CLI, freePort, startSidecarProcess } from '../support/sidecar-process.js';

const BODY = traceRequest(200, 100);

function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'otel-friction-cli-')), 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('graceful shutdown', () => {
  it('on SIGTERM: not ready, no new connections, in-flight HTTP and gRPC requests finish, exit 0', async () => {
    const sidecar = await startSidecarProcess();
    const slowHttp = slowHttpUpload(sidecar.httpPort, BODY, 100);
    const slowGrpc = slowGrpcUpload(sidecar.grpcPort, BODY, 100);
    await expect.poll(() => sidecar.metric('otel_friction_receiver_inflight_bytes')).toBe(2 * BODY.length);

    const exited = sidecar.stop('SIGTERM');
    const admin = `http://127.0.0.1:${sidecar.adminPort}`;
    await expect.poll(async () => (await fetch(`${admin}/readyz`)).status).toBe(503);
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    expect(await refusesConnections(sidecar.httpPort)).toBe(true);
    expect(await refusesConnections(sidecar.grpcPort)).toBe(true);

    expect((await slowHttp.finish()).status).toBe(200);
    expect((await slowGrpc.finish()).grpcStatus).toBe('0');
    slowGrpc.close();
    expect(await exited).toBe(0);
    expect(sidecar.output()).toMatch(/"msg":"stopped"/);
  });

  it('on SIGINT with nothing in flight: exits 0 at once', async () => {
    const sidecar = await startSidecarProcess();
    const started = Date.now();
    expect(await sidecar.stop('SIGINT')).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('abandons work at shutdown_timeout and exits 1', async () => {
    const sidecar = await startSidecarProcess({ extraYaml: () => 'shutdown_timeout: 1s\n' });
    const stuck = slowHttpUpload(sidecar.httpPort, BODY, 100);
    await expect.poll(() => sidecar.metric('otel_friction_receiver_inflight_bytes')).toBe(BODY.length);
    const started = Date.now();
    expect(await sidecar.stop()).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sidecar.output()).toMatch(/shutdown deadline passed/);
    stuck.abort();
  });
});

describe('start-up', () => {
  it('runs on embedded defaults (localhost:4317/4318/13133) when ports are free', async () => {
    const free = (await Promise.all([4317, 4318, 13133].map(refusesConnections))).every(Boolean);
    if (!free) return; // another process owns the default ports on this machine
    const sidecar = await startSidecarProcess({ noConfig: true, ports: { grpc: 4317, http: 4318, admin: 13133 } });
    try {
      expect((await fetch('http://localhost:13133/readyz')).status).toBe(200);
      const res = await httpRequest(4318, '/v1/traces', { headers: { 'content-type': 'application/x-protobuf' }, body: BODY });
      expect(res.status).toBe(200);
    } finally {
      expect(await sidecar.stop()).toBe(0);
    }
  });

  it('a disabled protocol does not listen', async () => {
    const sidecar = await startSidecarProcess({
      yaml: (p) => `receivers:\n  otlp:\n    protocols:\n      grpc: null\n      http: { endpoint: "127.0.0.1:${p.http}" }\nadmin: { endpoint: "127.0.0.1:${p.admin}" }\n`,
    });
    try {
      expect(await refusesConnections(sidecar.grpcPort)).toBe(true);
      expect(sidecar.output()).toMatch(/"grpc":"disabled"/);
    } finally {
      expect(await sidecar.stop()).toBe(0);
    }
  });

  it('a port in use fails start-up with FRICTION_ERR_LISTEN and exit 1', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const file = writeConfig(`receivers:\n  otlp:\n    protocols:\n      http: { endpoint: "127.0.0.1:${taken}" }\n      grpc: { endpoint: "127.0.0.1:${await freePort()}" }\nadmin: { endpoint: "127.0.0.1:${await freePort()}" }\n`);
      const r = runCli(['run', '--config', file]);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/FRICTION_ERR_LISTEN/);
      expect(r.stdout).toMatch(new RegExp(`cannot listen on 127.0.0.1:${taken}: EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });

  it('an invalid config fails start-up listing every problem with its path', () => {
    const file = writeConfig('receivers:\n  otlp:\n    protocols:\n      grpc: { endpoint: "abc" }\nlog: { level: loud }\nadmin: { endpont: "x" }\n');
    const r = runCli(['--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/receivers\.otlp\.protocols\.grpc\.endpoint: expected host:port, got "abc"/);
    expect(r.stderr).toMatch(/log\.level: /);
    expect(r.stderr).toMatch(/admin\.endpont: unknown key/);
    expect(r.stderr).toMatch(/FRICTION_ERR_CONFIG_INVALID/);
  });
});

describe('validate', () => {
  it('accepts a good file without starting anything, also via OTEL_FRICTION_CONFIG', async () => {
    const port = await freePort();
    const file = writeConfig(`receivers:\n  otlp:\n    protocols:\n      grpc: { endpoint: "127.0.0.1:${port}" }\n`);
    const r = runCli(['validate', '--config', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/configuration is valid/);
    expect(await refusesConnections(port)).toBe(true);
    expect(runCli(['validate'], { OTEL_FRICTION_CONFIG: file }).status).toBe(0);
  });

  it('rejects a bad file with exit 1 and every error', () => {
    const file = writeConfig('limits: { max_inflight_bytes_mib: -1 }\nshutdown_timeout: soon\n');
    const r = runCli(['validate', '--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/limits\.max_inflight_bytes_mib: /);
    expect(r.stderr).toMatch(/shutdown_timeout: /);
  });

  it('reports bad sink settings with their paths (missing URL, bad NATS subject, unknown key)', () => {
    const file = writeConfig('sinks:\n  - type: webhook\n  - { type: nats, subject: "friction signals" }\n  - { type: alertmanager, urls: ["http://am:9093"], url: "http://x/" }\n');
    const r = runCli(['validate', '--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sinks\[0\]\.url: a URL is required/);
    expect(r.stderr).toMatch(/sinks\[1\]\.subject: not a valid NATS subject/);
    expect(r.stderr).toMatch(/sinks\[2\]\.url: unknown key/);
  });

  it('expands ${env:VAR:-default} in values', () => {
    const file = writeConfig('log: { level: "${env:FRICTION_TEST_LEVEL:-info}" }\n');
    expect(runCli(['validate', '--config', file]).status).toBe(0);
    expect(runCli(['validate', '--config', file], { FRICTION_TEST_LEVEL: 'chatty' }).status).toBe(1);
  });

  it("accepts the container image's config file", () => {
    const file = new URL('../../deploy/docker/config.yaml', import.meta.url).pathname;
    const r = runCli(['validate', '--config', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('rejects unknown arguments with usage and exit 2', () => {
    const r = runCli(['--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: otel-friction/);
  });
});
