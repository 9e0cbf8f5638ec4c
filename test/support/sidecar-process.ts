/**
 * Starts the built sidecar (`node dist/cli.js run`) as a real process on free loopback
 * ports, waits until /readyz answers, and reads its Prometheus counters.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anyFreePort } from '../../src/demo/ports.js';

/** Path of the built CLI. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** A free TCP port on 127.0.0.1 (released before use; the race is harmless on loopback tests). */
export const freePort = anyFreePort;

/** A running sidecar process. */
export interface SidecarProcess {
  grpcPort: number;
  httpPort: number;
  adminPort: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Reads a counter or gauge from /metrics; labels must all match; 0 when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Options for {@link startSidecarProcess}. */
export interface SidecarProcessOptions {
  /** Extra YAML appended to the generated config (ports are filled in). */
  extraYaml?: (ports: { grpc: number; http: number; admin: number }) => string;
  /** Replaces the generated config entirely. */
  yaml?: (ports: { grpc: number; http: number; admin: number }) => string;
  env?: NodeJS.ProcessEnv;
  /** Start with no config file at all: the embedded defaults (pass their ports too). */
  noConfig?: boolean;
  /** Fixed ports instead of free ones (e.g. the embedded defaults). */
  ports?: { grpc: number; http: number; admin: number };
  /** Contents of the generated `state:` mapping; default: a fresh directory per process. */
  state?: string;
}

/** Starts the sidecar and waits until it is ready. */
export async function startSidecarProcess(options: SidecarProcessOptions = {}): Promise<SidecarProcess> {
  const ports = options.ports ?? { grpc: await freePort(), http: await freePort(), admin: await freePort() };
  // The process runs in its own directory, so relative paths (the default state.path, ./data)
  // never land in the repository.
  const dir = mkdtempSync(join(tmpdir(), 'otel-friction-test-'));
  const yaml =
    options.yaml?.(ports) ??
    `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:${ports.grpc}" }
      http: { endpoint: "127.0.0.1:${ports.http}" }
admin: { endpoint: "127.0.0.1:${ports.admin}" }
log: { level: info }
state: { ${options.state ?? `path: "${join(dir, 'state')}"`} }
${options.extraYaml?.(ports) ?? ''}`;
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, yaml);
  const args = options.noConfig ? [CLI, 'run'] : [CLI, 'run', '--config', configFile];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, OTEL_FRICTION_CONFIG: '', ...options.env },
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const admin = `http://127.0.0.1:${ports.admin}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sidecar exited with ${child.exitCode} before ready:\n${out}`);
    try {
      const res = await fetch(`${admin}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sidecar not ready within 15s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    grpcPort: ports.grpc,
    httpPort: ports.http,
    adminPort: ports.admin,
    child,
    output: () => out,
    async metric(name, labels = {}) {
      const text = await (await fetch(`${admin}/metrics`)).text();
      return readMetric(text, name, labels);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Sums the samples of `name` whose labels include all of `labels`. */
export function readMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[lm[1]] = lm[2];
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}
