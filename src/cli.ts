#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * Command line: `otel-friction [run] [--config FILE]`, `otel-friction validate --config FILE`,
 * `otel-friction replay --input PATH… [--config FILE] [--json]`,
 * `otel-friction demo [--duration 5m] [--seed N] [--speed X] [--grpc-port P] [--http-port P] [--admin-port P]`.
 * The config file may also come from OTEL_FRICTION_CONFIG; without one, embedded defaults.
 */
import { ConfigInvalidError, type FrictionConfig, loadConfig } from './config/index.js';
import { runDemo } from './demo/demo.js';
import { type DemoArgs, parseDemoOptions } from './demo/options.js';
import { FrictionError } from './errors.js';
import { VERSION, runSidecar } from './main.js';
import { replay } from './replay/replay.js';
import type { SignalTransition } from './signals/signal.js';

const USAGE = `usage: otel-friction [command] [--config FILE]

commands:
  run        start the sidecar (default)
  validate   check the configuration and exit (0 valid, 1 invalid)
  replay     feed recorded OTLP through the pipeline on the data's own clock and print the
             signals that would have fired (for tuning thresholds before deploying them)
  demo       run the sidecar with a simulated fleet of 8 services (OpenTelemetry SDK, OTLP/gRPC)
             and injected incidents, showing the signals as they fire and resolve; Ctrl-C stops
  version    print the version

options:
  --config FILE   YAML configuration: a path, file:PATH, env:VAR (the variable holds the YAML) or
                  yaml:TEXT (default: $OTEL_FRICTION_CONFIG, else embedded defaults)
  --input PATH    replay: a recording (.otlp), OTLP-JSON lines (.jsonl/.json), a protobuf
                  request (.pb), or a directory of them; repeatable
  --json          replay: print each signal transition as a JSON line
  --duration D    demo: how long to run, e.g. 90s, 2m (default 5m)
  --seed N        demo: seed of the simulated traffic (default 1)
  --speed X       demo: time compression, 0.1-10 (default 1): windows shrink and traffic
                  grows by X, so the incidents come X times sooner
  --grpc-port P, --http-port P, --admin-port P
                  demo: the sidecar's ports (default 4317, 4318, 13133, or a free port when
                  one is busy; 0 = any free port)
  -h, --help      this text
`;

/** Parsed command line. */
interface Invocation {
  command: 'run' | 'validate' | 'replay' | 'demo' | 'version' | 'help';
  configFile?: string;
  inputs: string[];
  json: boolean;
  /** Options of `demo`, as text; checked by parseDemoOptions. */
  demo: DemoArgs;
}

const COMMANDS = ['run', 'validate', 'replay', 'demo', 'version', 'help'] as const;

// `--name VALUE` / `--name=VALUE` options of the demo, and the DemoArgs key each fills.
const DEMO_OPTIONS: Readonly<Record<string, keyof DemoArgs>> = {
  '--duration': 'duration',
  '--seed': 'seed',
  '--speed': 'speed',
  '--grpc-port': 'grpcPort',
  '--http-port': 'httpPort',
  '--admin-port': 'adminPort',
};

function parseArgs(argv: readonly string[]): Invocation {
  const inv: Invocation = { command: 'run', inputs: [], json: false, demo: {} };
  let commandSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const demoKey = Object.hasOwn(DEMO_OPTIONS, name) ? DEMO_OPTIONS[name] : undefined;
    if (demoKey !== undefined) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new FrictionError('CLI_USAGE', `${arg} needs a value`);
      inv.demo[demoKey] = value;
    } else if (arg === '--config' || arg === '-c') {
      const file = argv[++i];
      if (file === undefined) throw new FrictionError('CLI_USAGE', `${arg} needs a file path`);
      inv.configFile = file;
    } else if (arg.startsWith('--config=')) {
      inv.configFile = arg.slice('--config='.length);
    } else if (arg === '--input' || arg === '-i') {
      const input = argv[++i];
      if (input === undefined) throw new FrictionError('CLI_USAGE', `${arg} needs a path`);
      inv.inputs.push(input);
    } else if (arg.startsWith('--input=')) {
      inv.inputs.push(arg.slice('--input='.length));
    } else if (arg === '--json') {
      inv.json = true;
    } else if (arg === '-h' || arg === '--help') {
      inv.command = 'help';
    } else if (!commandSeen && (COMMANDS as readonly string[]).includes(arg)) {
      inv.command = arg as Invocation['command'];
      commandSeen = true;
    } else {
      throw new FrictionError('CLI_USAGE', `unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (inv.command === 'replay' && inv.inputs.length === 0) throw new FrictionError('CLI_USAGE', 'replay needs at least one --input');
  if (inv.command !== 'demo' && Object.keys(inv.demo).length > 0) throw new FrictionError('CLI_USAGE', `${Object.keys(inv.demo).join(', ')}: demo options, only with the demo command`);
  // The demo writes its own sidecar config: detection tuned to its fleet and time compression.
  if (inv.command === 'demo' && inv.configFile !== undefined) throw new FrictionError('CLI_USAGE', 'demo generates its own sidecar configuration and takes no --config');
  return inv;
}

function load(inv: Invocation): FrictionConfig {
  const file = inv.configFile ?? (process.env.OTEL_FRICTION_CONFIG || undefined);
  return loadConfig({ file, env: process.env });
}

async function main(argv: readonly string[]): Promise<number> {
  let inv: Invocation;
  try {
    inv = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`otel-friction: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (inv.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (inv.command === 'version') {
    process.stdout.write(`otel-friction ${VERSION}\n`);
    return 0;
  }
  if (inv.command === 'demo') {
    try {
      return await runDemo(parseDemoOptions(inv.demo));
    } catch (err) {
      if (!(err instanceof FrictionError) || err.code !== 'FRICTION_ERR_CLI_USAGE') throw err;
      process.stderr.write(`otel-friction: ${err.message}\n\n${USAGE}`);
      return 2;
    }
  }
  let config: FrictionConfig;
  try {
    config = load(inv);
  } catch (err) {
    const code = err instanceof FrictionError ? ` [${err.code}]` : '';
    process.stderr.write(`otel-friction: ${(err as Error).message}${code}\n`);
    return 1;
  }
  if (inv.command === 'validate') {
    const source = inv.configFile ?? process.env.OTEL_FRICTION_CONFIG ?? 'embedded defaults';
    process.stdout.write(`configuration is valid: ${source}\n`);
    return 0;
  }
  if (inv.command === 'replay') return runReplay(config, inv);
  await runSidecar(config);
  return -1;
}

function describeTransition(t: SignalTransition): string {
  const s = t.signal;
  const at = t.transition === 'resolved' ? (s.endsAt ?? s.updatedAt) : s.updatedAt;
  return `${at}  ${t.transition.padEnd(8)} ${s.severity.padEnd(8)} p=${String(s.priority).padStart(3)}  ${s.kind.padEnd(18)} ${s.title}\n`;
}

async function runReplay(config: FrictionConfig, inv: Invocation): Promise<number> {
  let result;
  try {
    result = await replay(config, inv.inputs, (t) => process.stdout.write(inv.json ? `${JSON.stringify({ transition: t.transition, sequence: t.sequence, ...t.signal })}\n` : describeTransition(t)));
  } catch (err) {
    process.stderr.write(`otel-friction replay: ${(err as Error).message}\n`);
    return 1;
  }
  const fired = result.transitions.filter((t) => t.transition === 'firing');
  const byKind = new Map<string, number>();
  for (const t of fired) byKind.set(t.signal.kind, (byKind.get(t.signal.kind) ?? 0) + 1);
  const kinds = [...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  process.stderr.write(
    `replayed ${result.files} file(s), ${result.requests} request(s): ${result.spans} spans, ${result.points} metric points; ` +
      `signals fired: ${fired.length} (${kinds})${result.skipped.length ? `; ${result.skipped.length} request(s) skipped, first: ${result.skipped[0]}` : ''}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    // Only reachable through a bug: everything expected is handled above.
    const detail = err instanceof ConfigInvalidError ? err.message : (err as Error).stack;
    process.stderr.write(`otel-friction: unexpected error: ${detail}\n`);
    process.exitCode = 1;
  },
);
