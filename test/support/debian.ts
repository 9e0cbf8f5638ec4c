/**
 * Real servers for integration tests, from Debian's packages: installed on first use when
 * missing (CI starts from a clean machine; tests never rely on what someone installed by hand),
 * started on a free loopback port with a temporary directory, stopped after the file.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { anyFreePort } from '../../src/demo/ports.js';

/** Installs `pkg` with apt-get unless `binary` already exists; returns the binary's path. */
export function ensureDebianBinary(pkg: string, binary: string): string {
  if (existsSync(binary)) return binary;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const run = (args: string[]) => execFileSync(sudo[0] ?? args[0], sudo.length > 0 ? [...sudo.slice(1), ...args] : args.slice(1), { env, stdio: 'inherit', timeout: 600_000 });
  // Another apt-get (a second test, a developer's shell) may hold the dpkg lock: wait for it.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  run(['apt-get', ...lock, 'update', '-qq']);
  run(['apt-get', ...lock, 'install', '-y', '-qq', '--no-install-recommends', pkg]);
  if (!existsSync(binary)) throw new Error(`apt-get installed ${pkg} but ${binary} is missing`);
  return binary;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export const freePort = anyFreePort;

/** Resolves once something accepts TCP connections on 127.0.0.1:port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => { sock.destroy(); resolve(true); });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A started server process with its scratch directory. */
export interface ServerProcess {
  port: number;
  dir: string;
  child: ChildProcess;
  /** Output so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `binary args` (args may use the scratch dir) and waits for its port. */
export async function startServer(binary: string, args: (port: number, dir: string) => string[], name: string): Promise<ServerProcess> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const child = spawn(binary, args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    await waitForPort(port);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start: ${(err as Error).message}\n${out}`);
  }
  return {
    port, dir, child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
