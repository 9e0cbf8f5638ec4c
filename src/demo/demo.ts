/**
 * `otel-friction demo`: the orchestration. Starts the sidecar (a child process, see
 * sidecar-child.ts) with the demo config, runs the simulated fleet against it through the
 * OpenTelemetry SDK, injects the scheduled incidents, follows the signals through the admin
 * API and shows it all in the terminal. Ends after `--duration` or on SIGINT/SIGTERM: traffic
 * stops, the SDKs flush, the sidecar drains, a summary is printed, exit 0. SIGHUP (the terminal
 * closed) and SIGQUIT stop it the same way; should the demo die otherwise, an 'exit' handler
 * still kills the sidecar and removes its temporary directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, FrictionError } from '../errors.js';
import { INCIDENT_COUNT, type Incident, activeAt, buildSchedule, phaseAt } from './incidents.js';
import type { DemoOptions } from './options.js';
import { SeededRandom } from './random.js';
import { MIN_INCIDENT_MS, SCENARIO_WARMUP_MS, SCENARIO_WINDOW_MS, demoSidecarYaml } from './sidecar-config.js';
import { choosePorts } from './ports.js';
import { SidecarChild } from './sidecar-child.js';
import { SignalTracker, fetchSignals } from './signal-feed.js';
import { FleetTelemetry } from './telemetry.js';
import { SERVICES, demoFleet } from './topology.js';
import { TrafficModel, cpuUtilization } from './traffic.js';
import { type DemoView, createView, summaryLines } from './view.js';

// Traffic is generated in fixed slices of scenario time, so a seed gives the same traces
// however the event loop's ticks fall; ticks only decide when the slices are sent.
const STEP_MS = 100;
const TICK_MS = 50;
const STATUS_EVERY_MS = 250;
const FLUSH_TIMEOUT_MS = 5_000;
const SIDECAR_STOP_TIMEOUT_MS = 15_000;
// One compressed day lasts the whole run, but no less than this: a shorter day would swing
// the traffic faster than the detectors' 30 s baselines are meant to follow.
const MIN_DAY_MS = 300_000;

/** Why a run ended. */
type Ending = 'completed' | 'interrupted' | 'sidecar exited';

/** One run of the fleet against a started sidecar. */
class DemoRun {
  private readonly schedule: Incident[];
  private readonly model: TrafficModel;
  private readonly telemetry: FleetTelemetry;
  private readonly tracker = new SignalTracker();
  private readonly scenarioMs: number;
  private readonly dayMs: number;
  private readonly started = new Set<Incident>();
  private readonly ended = new Set<Incident>();
  private readonly rate: { at: number; spans: number }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly t0 = Date.now();
  private readonly since = new Date(this.t0 - 1000).toISOString();
  private generatedTo = 0;
  private lastStatus = Number.NEGATIVE_INFINITY;
  private polling = false;
  private finish!: (ending: Ending) => void;
  /** Resolves with how the run ended (traffic already stopped). */
  readonly ending: Promise<Ending>;

  constructor(
    private readonly options: DemoOptions,
    private readonly view: DemoView,
    private readonly sidecar: SidecarChild,
    otlpEndpoint: string,
  ) {
    this.scenarioMs = options.durationMs * options.speed;
    this.dayMs = Math.max(MIN_DAY_MS, this.scenarioMs);
    this.schedule = buildSchedule({ scenarioMs: this.scenarioMs, warmupMs: SCENARIO_WARMUP_MS, minIncidentMs: MIN_INCIDENT_MS });
    this.model = new TrafficModel(demoFleet(), this.schedule, new SeededRandom(options.seed), this.dayMs);
    this.telemetry = new FleetTelemetry(SERVICES, {
      endpoint: otlpEndpoint,
      // A CPU sample in every window, or the threshold's `for` would count stale values.
      metricIntervalMs: SCENARIO_WINDOW_MS / options.speed / 2,
      cpu: (service) => cpuUtilization(service, this.scenarioNow(), this.dayMs, this.schedule),
    });
    this.ending = new Promise((resolve) => {
      this.finish = (ending) => {
        for (const t of this.timers) clearInterval(t);
        this.timers.length = 0;
        resolve(ending);
      };
    });
  }

  /** Scenario ms since the start, capped at the scenario's end. */
  private scenarioNow(): number {
    return Math.min(this.scenarioMs, (Date.now() - this.t0) * this.options.speed);
  }

  /** Runs until the duration is over or `finish` is called; returns how it ended. */
  start(): Promise<Ending> {
    if (this.schedule.length < INCIDENT_COUNT) {
      this.view.note(`note: ${Math.round(this.scenarioMs / 1000)}s of scenario time is too short for every incident (they start after a ${SCENARIO_WARMUP_MS / 1000}s warm-up); ${this.schedule.length} of ${INCIDENT_COUNT} scheduled`);
    }
    this.timers.push(setInterval(() => this.tick(), TICK_MS));
    const pollMs = Math.min(1000, Math.max(250, SCENARIO_WINDOW_MS / this.options.speed / 2));
    this.timers.push(setInterval(() => void this.poll(), pollMs));
    // After a normal end this fires too (the sidecar is stopped last); the promise has settled by then.
    void this.sidecar.exited.then(() => this.finish('sidecar exited'));
    return this.ending;
  }

  /** Stops the run early (SIGINT, SIGTERM, SIGHUP, SIGQUIT). */
  interrupt(): void {
    this.finish('interrupted');
  }

  private tick(): void {
    const now = Date.now();
    const elapsed = now - this.t0;
    const scenarioNow = this.scenarioNow();
    while (this.generatedTo + STEP_MS <= scenarioNow) {
      for (const plan of this.model.step(this.generatedTo, STEP_MS)) this.telemetry.emit(plan, this.t0 + plan.atMs / this.options.speed);
      this.generatedTo += STEP_MS;
    }
    for (const i of this.schedule) {
      if (!this.started.has(i) && scenarioNow >= i.startMs) {
        this.started.add(i);
        this.view.incident('started', i, i.startMs / this.options.speed, this.options.speed);
      }
      if (!this.ended.has(i) && scenarioNow >= i.endMs) {
        this.ended.add(i);
        this.view.incident('ended', i, i.endMs / this.options.speed, this.options.speed);
      }
    }
    if (now - this.lastStatus >= STATUS_EVERY_MS) {
      this.lastStatus = now;
      this.view.status({
        elapsedMs: Math.min(elapsed, this.options.durationMs),
        durationMs: this.options.durationMs,
        phase: phaseAt(this.schedule, SCENARIO_WARMUP_MS, scenarioNow),
        active: activeAt(this.schedule, scenarioNow),
        next: this.schedule.find((i) => i.startMs > scenarioNow),
        spansPerSecond: this.spansPerSecond(now),
        spansSent: this.telemetry.spansSent,
      });
    }
    if (elapsed >= this.options.durationMs) this.finish('completed');
  }

  /** Spans handed to the SDKs per second over the last two seconds. */
  private spansPerSecond(now: number): number {
    this.rate.push({ at: now, spans: this.telemetry.spansSent });
    while (this.rate.length > 2 && now - this.rate[0].at > 2000) this.rate.shift();
    const first = this.rate[0];
    return now > first.at ? ((this.telemetry.spansSent - first.spans) * 1000) / (now - first.at) : 0;
  }

  /** Asks the sidecar for its signals and reports what changed. */
  async poll(): Promise<void> {
    if (this.polling || !this.sidecar.running) return;
    this.polling = true;
    try {
      const events = this.tracker.update(await fetchSignals(this.sidecar.adminUrl, this.since));
      const at = Date.now() - this.t0;
      for (const e of events) this.view.signal(e, at);
    } catch {
      // A poll that failed (the sidecar busy or stopping) is retried at the next interval.
    } finally {
      this.polling = false;
    }
  }

  /** Flushes the fleet's SDKs, takes a last look at the signals, and returns the summary. */
  async close(): Promise<string[]> {
    await this.telemetry.shutdown(FLUSH_TIMEOUT_MS);
    await this.poll();
    return summaryLines(this.tracker.signals, this.telemetry.spansSent, Math.min(Date.now() - this.t0, this.options.durationMs));
  }
}

// The signals that end a run cleanly. SIGHUP (the terminal closed) and SIGQUIT must not end
// the demo by their default action: the sidecar, in its own process group, would live on.
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * Runs the demo; resolves with the exit code (0 after a full run or a Ctrl-C, 1 when the
 * sidecar could not start, died, or did not drain cleanly).
 */
export async function runDemo(options: DemoOptions, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): Promise<number> {
  // A closed terminal (SIGHUP) makes writes fail with EIO, emitted as 'error' events: dropped,
  // or they would crash the demo before it has stopped its sidecar.
  for (const stream of new Set([stdout, stderr])) stream.on('error', ignoreOutputError);
  const view = createView(stdout);
  const dir = mkdtempSync(join(tmpdir(), 'otel-friction-demo-'));
  let sidecar: SidecarChild | undefined;
  let run: DemoRun | undefined;
  let signals = 0;
  // Aborted by the first stop signal: cuts the sidecar's start-up short.
  const interrupt = new AbortController();
  // Synchronous, so it also works from a process 'exit' handler, whatever ends the process.
  const cleanUp = () => {
    sidecar?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    view.dispose();
  };
  const exitNow = (code: number): never => {
    cleanUp();
    process.exit(code);
  };
  // Installed before the sidecar starts, so a Ctrl-C during start-up is a clean stop too.
  const onSignal = () => {
    signals++;
    interrupt.abort();
    run?.interrupt();
    if (signals === 1) return;
    // A second Ctrl-C does not wait for the sidecar's drain; during start-up, for nothing.
    sidecar?.kill('SIGKILL');
    if (run === undefined) exitNow(0);
  };
  const onFatal = (err: unknown) => {
    stderr.write(`otel-friction demo: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
    exitNow(1);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on('exit', cleanUp);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  try {
    const { ports, moved } = await choosePorts(options.ports);
    if (interrupt.signal.aborted) {
      view.close(['stopped before the sidecar started']);
      return 0;
    }
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, demoSidecarYaml({ speed: options.speed, ports, statePath: join(dir, 'state') }));
    sidecar = SidecarChild.spawn({ configFile, adminPort: ports.admin, cwd: dir });
    try {
      await sidecar.ready({ signal: interrupt.signal });
    } catch (err) {
      if (!interrupt.signal.aborted) throw err;
      view.close(['stopped before the sidecar was ready']);
      return 0;
    }
    const otlpEndpoint = `127.0.0.1:${ports.grpc}`;
    view.header({
      seed: options.seed,
      speed: options.speed,
      durationMs: options.durationMs,
      services: SERVICES,
      otlpEndpoint,
      adminUrl: sidecar.adminUrl,
      sidecarPid: sidecar.pid,
      notes: moved.map((m) => `note: ${m}, using a free port instead`),
    });
    if (interrupt.signal.aborted) return await stopSidecar(sidecar, view, ['stopped before the fleet started'], () => signals > 1);
    run = new DemoRun(options, view, sidecar, `http://${otlpEndpoint}`);
    const ending = await run.start();
    view.note(ending === 'completed' ? 'run complete: stopping the fleet and the sidecar' : `${ending}: stopping the fleet and the sidecar`);
    const summary = await run.close();
    if (ending === 'sidecar exited') {
      view.close(summary);
      stderr.write(`otel-friction demo: the sidecar exited during the run (${sidecar.exitReason}) [${ErrorCodes.DEMO_SIDECAR.code}]:\n${sidecar.output()}\n`);
      return 1;
    }
    return await stopSidecar(sidecar, view, summary, () => signals > 1);
  } catch (err) {
    sidecar?.kill('SIGKILL');
    view.dispose();
    const code = err instanceof FrictionError ? ` [${err.code}]` : '';
    stderr.write(`otel-friction demo: ${(err as Error).message}${code}\n`);
    return 1;
  } finally {
    // The handlers stay until the child is gone: a signal's default action now would skip the
    // 'exit' handler and leave the temporary directory behind.
    if (sidecar !== undefined) await sidecar.exited;
    for (const s of STOP_SIGNALS) process.removeListener(s, onSignal);
    cleanUp();
    process.removeListener('exit', cleanUp);
    process.removeListener('uncaughtException', onFatal);
    process.removeListener('unhandledRejection', onFatal);
  }
}

function ignoreOutputError(): void {
  // See runDemo: nobody is left to read the output.
}

/**
 * Stops the sidecar gracefully and prints the summary. 0 when the sidecar drained cleanly (exit
 * code 0) or the user forced it down with a second Ctrl-C (`forced()`); else 1, with its output.
 */
async function stopSidecar(sidecar: SidecarChild, view: DemoView, summary: readonly string[], forced: () => boolean): Promise<number> {
  const code = await sidecar.stop(SIDECAR_STOP_TIMEOUT_MS);
  if (code === 0 || forced()) {
    view.close(code === 0 ? summary : [...summary, 'note: the sidecar was killed (second Ctrl-C)']);
    return 0;
  }
  view.close([...summary, `note: the sidecar did not shut down cleanly (${sidecar.exitReason}) [${ErrorCodes.DEMO_SIDECAR.code}]:`, sidecar.output()]);
  return 1;
}
