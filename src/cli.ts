#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * Command line: `otel-friction [run] [--config FILE]`, `otel-friction validate --config FILE`.
 * The config file may also come from OTEL_FRICTION_CONFIG; without one, embedded defaults.
 */
import { ConfigInvalidError, type FrictionConfig, loadConfig } from './config/index.js';
import { FrictionError } from './errors.js';
import { VERSION, runSidecar } from './main.js';

const USAGE = `usage: otel-friction [command] [--config FILE]

commands:
  run        start the sidecar (default)
  validate   check the configuration and exit (0 valid, 1 invalid)
  version    print the version

options:
  --config FILE   YAML configuration (default: $OTEL_FRICTION_CONFIG, else embedded defaults)
  -h, --help      this text
`;

/** Parsed command line. */
interface Invocation {
  command: 'run' | 'validate' | 'version' | 'help';
  configFile?: string;
}

function parseArgs(argv: readonly string[]): Invocation {
  const inv: Invocation = { command: 'run' };
  let commandSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--config' || arg === '-c') {
      const file = argv[++i];
      if (file === undefined) throw new FrictionError('CLI_USAGE', `${arg} needs a file path`);
      inv.configFile = file;
    } else if (arg.startsWith('--config=')) {
      inv.configFile = arg.slice('--config='.length);
    } else if (arg === '-h' || arg === '--help') {
      inv.command = 'help';
    } else if (!commandSeen && (arg === 'run' || arg === 'validate' || arg === 'version' || arg === 'help')) {
      inv.command = arg;
      commandSeen = true;
    } else {
      throw new FrictionError('CLI_USAGE', `unknown argument ${JSON.stringify(arg)}`);
    }
  }
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
  await runSidecar(config);
  return -1;
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
