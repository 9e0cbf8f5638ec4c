/**
 * `otel-friction demo` options: what the command line gives as text, checked and converted.
 * Mistakes are usage errors (FRICTION_ERR_CLI_USAGE) naming the option and what it accepts.
 */
import { parseDuration } from '../config/duration.js';
import { FrictionError } from '../errors.js';
import type { SidecarPorts } from './sidecar-config.js';

/** The demo's settings. */
export interface DemoOptions {
  /** Wall-clock length of the run, ms. */
  readonly durationMs: number;
  /** Seed of the traffic PRNG: the same seed gives the same traffic. */
  readonly seed: number;
  /** Time compression: scenario seconds per wall second (windows shrink, traffic rate grows). */
  readonly speed: number;
  /** Ports asked for; unset ones are the defaults when free. */
  readonly ports: Partial<SidecarPorts>;
}

/** The options as text, as the command line has them. */
export interface DemoArgs {
  duration?: string;
  seed?: string;
  speed?: string;
  grpcPort?: string;
  httpPort?: string;
  adminPort?: string;
}

/** Defaults: a five-minute run at real demo speed. */
export const DEFAULT_DURATION = '5m';
export const DEFAULT_SEED = 1;
export const DEFAULT_SPEED = 1;
// Faster than this, windows get so short (2 s ÷ speed) and traffic so dense that the 2-core
// machines the demo targets spend the run on the fleet, not the sidecar.
const MAX_SPEED = 10;
const MIN_SPEED = 0.1;
const MIN_DURATION_MS = 5_000;

function usage(message: string): FrictionError {
  return new FrictionError('CLI_USAGE', message);
}

function port(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65_535) throw usage(`--${name} must be a port number 0-65535 (0 = any free port), got ${JSON.stringify(text)}`);
  return n;
}

/** Checks and converts the demo's arguments. */
export function parseDemoOptions(args: DemoArgs): DemoOptions {
  const durationText = args.duration ?? DEFAULT_DURATION;
  const durationMs = parseDuration(durationText);
  if (durationMs === undefined || durationMs < MIN_DURATION_MS) throw usage(`--duration must be a duration of at least 5s such as 90s, 2m or 5m, got ${JSON.stringify(durationText)}`);
  const seed = args.seed === undefined ? DEFAULT_SEED : Number(args.seed);
  if (!/^\d+$/.test(args.seed ?? '1') || !Number.isSafeInteger(seed) || seed > 0xffff_ffff) throw usage(`--seed must be an integer 0-4294967295, got ${JSON.stringify(args.seed)}`);
  const speed = args.speed === undefined ? DEFAULT_SPEED : Number(args.speed);
  if (!Number.isFinite(speed) || speed < MIN_SPEED || speed > MAX_SPEED || args.speed?.trim() === '') throw usage(`--speed must be a number from ${MIN_SPEED} to ${MAX_SPEED}, got ${JSON.stringify(args.speed)}`);
  const ports: { -readonly [K in keyof SidecarPorts]?: number } = {};
  const grpc = port('grpc-port', args.grpcPort);
  const http = port('http-port', args.httpPort);
  const admin = port('admin-port', args.adminPort);
  if (grpc !== undefined) ports.grpc = grpc;
  if (http !== undefined) ports.http = http;
  if (admin !== undefined) ports.admin = admin;
  // Two options on one port would have the sidecar fail to bind the second; 0 (any free
  // port) may repeat, each gets its own.
  const given = ([['grpc-port', grpc], ['http-port', http], ['admin-port', admin]] as const).filter(([, p]) => p !== undefined && p !== 0);
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) {
      if (given[i][1] === given[j][1]) throw usage(`--${given[i][0]} and --${given[j][0]} are both ${given[i][1]}; each needs its own port`);
    }
  }
  return { durationMs, seed, speed, ports };
}
