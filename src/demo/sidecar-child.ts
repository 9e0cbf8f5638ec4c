/**
 * The demo's sidecar, run as a child process: the real `otel-friction run` with the demo's
 * config file, not an in-process copy. The sidecar's `main.ts` owns the process (signal
 * handlers, `process.exit`), so a child keeps its lifecycle intact, shows that the real binary
 * works, and can be stopped the way an orchestrator would stop it (SIGTERM, graceful drain).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FrictionError } from '../errors.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
// Lines of the child's output kept for an error message.
const OUTPUT_LINES = 40;
// One /readyz attempt: a port holder that accepts and never answers must not stall start-up
// (fetch alone would wait five minutes for the headers).
const READY_ATTEMPT_MS = 1000;
const READY_RETRY_MS = 100;
export const READY_TIMEOUT_MS = 20_000;

/** How to start the child. */
export interface SpawnOptions {
  readonly configFile: string;
  /** Where the child's admin API (and so `/readyz`) listens on 127.0.0.1. */
  readonly adminPort: number;
  readonly cwd: string;
  /** The command to run instead of `otel-friction run --config <configFile>`: tests use stand-ins. */
  readonly argv?: readonly string[];
}

/** How long to wait for `/readyz`, and what cuts the wait short (the user's Ctrl-C). */
export interface ReadyOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** A running sidecar child. */
export class SidecarChild {
  private readonly lines: string[] = [];
  // Why the child is gone: `exit code 1`, `signal SIGKILL`, a spawn error; undefined while it runs.
  private ended: string | undefined;
  // The demo deletes the sidecar's state directory on its way out, so a child left behind would
  // only fail; the child has its own process group (see spawn), so nothing else would stop it.
  private readonly onParentExit = () => this.kill('SIGKILL');
  /** Resolves with the exit code (null when killed by a signal or never started) once the child is gone. */
  readonly exited: Promise<number | null>;
  readonly adminUrl: string;

  private constructor(
    private readonly child: ChildProcess,
    adminPort: number,
  ) {
    this.adminUrl = `http://127.0.0.1:${adminPort}`;
    const keep = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim() !== '') this.lines.push(line);
      this.lines.splice(0, Math.max(0, this.lines.length - OUTPUT_LINES));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.ended ??= code !== null ? `exit code ${code}` : `signal ${signal}`;
        resolve(code);
      });
      // Without this listener a spawn failure (EAGAIN, EMFILE, ENOENT) would be thrown as an
      // uncaught error, and `exited` would never settle. An error on a child that did start
      // (a failed kill) does not mean it is gone.
      child.on('error', (err) => {
        if (child.pid !== undefined) {
          keep(Buffer.from(`demo: ${err.message}`));
          return;
        }
        this.ended ??= `could not start: ${err.message}`;
        resolve(null);
      });
    });
    process.once('exit', this.onParentExit);
    void this.exited.then(() => process.removeListener('exit', this.onParentExit));
  }

  /** Starts the child (default: `otel-friction run --config <configFile>`); see {@link ready}. */
  static spawn(o: SpawnOptions): SidecarChild {
    const [command, ...args] = o.argv ?? [process.execPath, '--max-semi-space-size=1', CLI, 'run', '--config', o.configFile];
    const child = spawn(command, args, {
      cwd: o.cwd,
      env: { ...process.env, OTEL_FRICTION_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the
      // demo wants to stop its fleet (flushing the SDKs into a live sidecar) before the sidecar.
      // The price: a closed terminal's SIGHUP does not reach it either, so the demo passes it on.
      detached: true,
    });
    return new SidecarChild(child, o.adminPort);
  }

  /**
   * Waits until the child answers `/readyz` with 200. The admin port was free before the spawn
   * (see ports.ts) and an answer only counts while the child lives, so the answer is the child's.
   * On any failure (timeout, the child exited, `signal` aborted) the child is killed and gone
   * before this rejects.
   * @throws FrictionError DEMO_SIDECAR
   */
  async ready(o: ReadyOptions = {}): Promise<void> {
    const timeoutMs = o.timeoutMs ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    // Cuts a pending attempt or pause short when the child exits or the caller gives up.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    void this.exited.then(onAbort);
    try {
      for (;;) {
        if (o.signal?.aborted) throw new FrictionError('DEMO_SIDECAR', 'interrupted before the sidecar was ready');
        if (!this.running) throw new FrictionError('DEMO_SIDECAR', `the sidecar exited (${this.exitReason}) before it was ready:\n${this.output()}`);
        if ((await this.probe(stop.signal, Math.max(1, Math.min(READY_ATTEMPT_MS, deadline - Date.now())))) && this.running) return;
        if (Date.now() >= deadline) throw new FrictionError('DEMO_SIDECAR', `the sidecar was not ready within ${timeoutMs} ms:\n${this.output()}`);
        await sleep(READY_RETRY_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    } catch (err) {
      this.kill('SIGKILL');
      await this.exited;
      throw err;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * One `/readyz` request: true on 200; false when refused, failed, past `timeoutMs` or cut
   * short by `stop`. Its own controller and timer rather than AbortSignal.any/timeout: on
   * Node 20 a composed signal can be garbage-collected mid-request and then never fires (seen
   * under vitest: a 1.5 s deadline took 10 s). The race returns even if fetch ignored the abort.
   */
  private async probe(stop: AbortSignal, timeoutMs: number): Promise<boolean> {
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    const timer = setTimeout(abort, timeoutMs);
    stop.addEventListener('abort', abort, { once: true });
    const given = new Promise<false>((resolve) => attempt.signal.addEventListener('abort', () => resolve(false), { once: true }));
    const asked = (async () => {
      const res = await fetch(`${this.adminUrl}/readyz`, { signal: attempt.signal });
      await res.body?.cancel();
      return res.status === 200;
    })().catch(() => false);
    try {
      return await Promise.race([asked, given]);
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', abort);
      attempt.abort(); // ends the request if the race was won by the abort
    }
  }

  /** Process id of the sidecar. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the child has exited (or failed to start). */
  get running(): boolean {
    return this.ended === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Why the child ended (`exit code 1`, `signal SIGKILL`, `could not start: …`), or `running`. */
  get exitReason(): string {
    if (this.ended !== undefined) return this.ended;
    if (this.child.exitCode !== null) return `exit code ${this.child.exitCode}`;
    return this.child.signalCode !== null ? `signal ${this.child.signalCode}` : 'running';
  }

  /** The last lines the sidecar wrote (it logs at `warn`, so normally nothing). */
  output(): string {
    return this.lines.join('\n');
  }

  /** Sends a signal if the child still runs; synchronous, so safe in a process 'exit' handler. */
  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /**
   * Graceful stop: SIGTERM (the sidecar drains and checkpoints), SIGKILL after `timeoutMs`.
   * Resolves with the exit code (null when it had to be killed).
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
