import { describe, expect, test } from 'vitest';
import { parseDemoOptions } from '../../src/demo/options.js';
import { isFrictionError } from '../../src/errors.js';

function usageError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(isFrictionError(err, 'CLI_USAGE')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('demo options', () => {
  test('defaults: five minutes, seed 1, speed 1, default ports', () => {
    expect(parseDemoOptions({})).toEqual({ durationMs: 300_000, seed: 1, speed: 1, ports: {} });
  });

  test('durations as the config writes them, seeds, speeds, ports', () => {
    expect(parseDemoOptions({ duration: '90s', seed: '7', speed: '2.5', grpcPort: '0', adminPort: '23133' })).toEqual({ durationMs: 90_000, seed: 7, speed: 2.5, ports: { grpc: 0, admin: 23133 } });
    expect(parseDemoOptions({ duration: '2m' }).durationMs).toBe(120_000);
    expect(parseDemoOptions({ duration: '1m30s' }).durationMs).toBe(90_000);
  });

  test('mistakes name the option', () => {
    expect(usageError(() => parseDemoOptions({ duration: '90' }))).toMatch(/--duration/);
    expect(usageError(() => parseDemoOptions({ duration: '1s' }))).toMatch(/at least 5s/);
    expect(usageError(() => parseDemoOptions({ seed: '-1' }))).toMatch(/--seed/);
    expect(usageError(() => parseDemoOptions({ seed: '1.5' }))).toMatch(/--seed/);
    expect(usageError(() => parseDemoOptions({ speed: '0' }))).toMatch(/--speed/);
    expect(usageError(() => parseDemoOptions({ speed: 'fast' }))).toMatch(/--speed/);
    expect(usageError(() => parseDemoOptions({ speed: '11' }))).toMatch(/--speed/);
    expect(usageError(() => parseDemoOptions({ httpPort: '70000' }))).toMatch(/--http-port/);
    expect(usageError(() => parseDemoOptions({ grpcPort: '4317', adminPort: '4317' }))).toBe('--grpc-port and --admin-port are both 4317; each needs its own port');
    expect(parseDemoOptions({ grpcPort: '0', httpPort: '0', adminPort: '0' }).ports).toEqual({ grpc: 0, http: 0, admin: 0 });
  });
});
