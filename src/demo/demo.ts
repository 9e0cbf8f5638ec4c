/**
 * `otel-friction demo`: the orchestration. Starts the sidecar (a child process, see
 * sidecar-child.ts) with the demo config, runs the simulated fleet against it through the
 * OpenTelemetry SDK, injects the scheduled incidents, follows the signals through the admin
 * API and shows it all in the terminal. Ends after `--duration` or on SIGINT/SIGTERM: traffic
 * stops, the SDKs flush, the sidecar drains, a summary is printed, exit 0.
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

  /** Stops the run early (SIGINT, SIGTERM). */
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

/**
 * Runs the demo; resolves with the exit code (0 after a full run or a Ctrl-C, 1 when the
 * sidecar could not start or died).
 */
export async function runDemo(options: DemoOptions, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): Promise<number> {
  const view = createView(stdout);
  const dir = mkdtempSync(join(tmpdir(), 'otel-friction-demo-'));
  let sidecar: SidecarChild | undefined;
  let run: DemoRun | undefined;
  let signals = 0;
  // Installed before the sidecar starts, so a Ctrl-C during start-up is a clean stop too.
  let interrupted = false;
  const onSignal = () => {
    signals++;
    interrupted = true;
    run?.interrupt();
    // A second Ctrl-C does not wait for the sidecar's drain.
    if (signals > 1) sidecar?.kill('SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { ports, moved } = await choosePorts(options.ports);
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, demoSidecarYaml({ speed: options.speed, ports, statePath: join(dir, 'state') }));
    sidecar = await SidecarChild.start(configFile, ports, dir);
    const otlpEndpoint = `127.0.0.1:${ports.grpc}`;
    view.header({
      seed: options.seed,
      speed: options.speed,
      durationMs: options.durationMs,
      services: SERVICES,
      otlpEndpoint,
      adminUrl: sidecar.adminUrl,
      sidecarPid: sidecar.pid,
      notes: moved.map((m) => `note: default ${m} is busy, using a free port instead`),
    });
    if (interrupted) return await stopSidecar(sidecar, view, ['stopped before the fleet started']);
    run = new DemoRun(options, view, sidecar, `http://${otlpEndpoint}`);
    const ending = await run.start();
    view.note(ending === 'completed' ? 'run complete: stopping the fleet and the sidecar' : `${ending}: stopping the fleet and the sidecar`);
    const summary = await run.close();
    if (ending === 'sidecar exited') {
      view.close(summary);
      stderr.write(`otel-friction demo: the sidecar exited during the run [${ErrorCodes.DEMO_SIDECAR.code}]:\n${sidecar.output()}\n`);
      return 1;
    }
    return await stopSidecar(sidecar, view, summary);
  } catch (err) {
    sidecar?.kill('SIGKILL');
    const code = err instanceof FrictionError ? ` [${err.code}]` : '';
    stderr.write(`otel-friction demo: ${(err as Error).message}${code}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (sidecar !== undefined) await sidecar.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops the sidecar gracefully, prints the summary; 0 when the sidecar drained cleanly. */
async function stopSidecar(sidecar: SidecarChild, view: DemoView, summary: readonly string[]): Promise<number> {
  const code = await sidecar.stop(SIDECAR_STOP_TIMEOUT_MS);
  view.close(code === 0 ? summary : [...summary, `note: the sidecar exited with ${code} on shutdown:`, sidecar.output()]);
  return 0;
}
