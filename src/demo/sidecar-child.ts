/**
 * The demo's sidecar, run as a child process: the real `otel-friction run` with the demo's
 * config file, not an in-process copy. The sidecar's `main.ts` owns the process (signal
 * handlers, `process.exit`), so a child keeps its lifecycle intact, shows that the real binary
 * works, and can be stopped the way an orchestrator would stop it (SIGTERM, graceful drain).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FrictionError } from '../errors.js';
import type { SidecarPorts } from './sidecar-config.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
// Lines of the child's output kept for an error message.
const OUTPUT_LINES = 40;

/** A running sidecar child. */
export class SidecarChild {
  private readonly lines: string[] = [];
  private readonly onParentExit = () => this.kill('SIGTERM');
  /** Resolves with the exit code (null when killed by a signal) once the child is gone. */
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly adminUrl: string,
  ) {
    const keep = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim() !== '') this.lines.push(line);
      this.lines.splice(0, Math.max(0, this.lines.length - OUTPUT_LINES));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    // The child has its own process group (see start): should the demo die without its
    // shutdown, this still takes the sidecar down with it.
    process.once('exit', this.onParentExit);
    void this.exited.then(() => process.removeListener('exit', this.onParentExit));
  }

  /**
   * Starts `otel-friction run --config <configFile>` and waits for `/readyz`.
   * @throws FrictionError DEMO_SIDECAR when it exits or is not ready within `readyTimeoutMs`.
   */
  static async start(configFile: string, ports: SidecarPorts, cwd: string, readyTimeoutMs = 20_000): Promise<SidecarChild> {
    const child = spawn(process.execPath, ['--max-semi-space-size=1', CLI, 'run', '--config', configFile], {
      cwd,
      env: { ...process.env, OTEL_FRICTION_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the
      // demo wants to stop its fleet (flushing the SDKs into a live sidecar) before the sidecar.
      detached: true,
    });
    const sidecar = new SidecarChild(child, `http://127.0.0.1:${ports.admin}`);
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new FrictionError('DEMO_SIDECAR', `the sidecar exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${sidecar.output()}`);
      }
      try {
        const res = await fetch(`${sidecar.adminUrl}/readyz`);
        await res.body?.cancel();
        if (res.status === 200) return sidecar;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        sidecar.kill('SIGKILL');
        throw new FrictionError('DEMO_SIDECAR', `the sidecar was not ready within ${readyTimeoutMs} ms:\n${sidecar.output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Process id of the sidecar. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the child has exited. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the sidecar wrote (it logs at `warn`, so normally nothing). */
  output(): string {
    return this.lines.join('\n');
  }

  /** Sends a signal if the child still runs. */
  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /**
   * Graceful stop: SIGTERM (the sidecar drains and checkpoints), SIGKILL after `timeoutMs`.
   * Resolves with the exit code.
   */
  async stop(timeoutMs: number): Promise<number | null> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
