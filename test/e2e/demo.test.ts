/**
 * `otel-friction demo` end to end: the built command, headless (stdout is a pipe, so plain
 * lines), its own sidecar child on free ports. A short time-compressed run must fire a signal
 * of every injected kind on the service it was injected into, and none on the services that
 * had no incident; Ctrl-C (SIGINT) mid-run must stop everything cleanly: exit 0, the sidecar
 * child gone, its ports free; so must SIGHUP (a closed terminal), which the detached child
 * would not get itself.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { dirname } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isPortFree } from '../../src/demo/ports.js';
import { CLI } from '../support/sidecar-process.js';

interface DemoProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startDemo(args: string[]): DemoProcess {
  const child = spawn(process.execPath, [CLI, 'demo', '--grpc-port', '0', '--http-port', '0', '--admin-port', '0', ...args], {
    env: { ...process.env, OTEL_FRICTION_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(p: DemoProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(p.output());
    if (m !== null) return m;
    if (Date.now() > end || p.child.exitCode !== null) throw new Error(`no ${pattern} in the demo's output:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where the demo's sidecar runs, from the header lines. */
function sidecarOf(output: string): { pid: number; grpc: number; admin: number } {
  const otlp = /→ OTLP 127\.0\.0\.1:(\d+)/.exec(output);
  const side = /sidecar pid (\d+), admin http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
  if (otlp === null || side === null) throw new Error(`no header in:\n${output}`);
  return { pid: Number(side[1]), grpc: Number(otlp[1]), admin: Number(side[2]) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('otel-friction demo', () => {
  test('a short run fires every injected kind on its service, and nothing on the services without incidents', { timeout: 150_000 }, async () => {
    // 40 s at speed 2: 80 s of scenario time, 1 s windows; the incidents start 18 s in.
    const demo = startDemo(['--duration', '40s', '--seed', '1', '--speed', '2']);
    const code = await demo.exited;
    const out = demo.output();
    expect(code, out).toBe(0);
    expect(out).not.toContain('\x1b'); // not a TTY: plain lines
    const fired = [...out.matchAll(/^\[\d+:\d\d\] FIRING +\S+ +(\S+) +(\S+) /gm)].map((m) => `${m[1]} ${m[2]}`);
    for (const expected of ['latency_regression payments', 'error_budget_burn checkout', 'traffic_drop search', 'metric_threshold shipping']) {
      expect(fired, out).toContain(expected);
    }
    for (const quiet of ['catalog', 'email', 'auth', 'cart']) {
      expect(fired.filter((f) => f.endsWith(` ${quiet}`)), out).toEqual([]);
    }
    expect(out).toMatch(/^\[0:\d\d\] incident started: latency_regression payments/m);
    expect(out).toMatch(/^summary: \d+ signal\(s\) fired/m);
    expect(out).toMatch(/^ {2}traffic_drop +search ×1$/m);
    // The sidecar child went with the demo.
    expect(alive(sidecarOf(out).pid)).toBe(false);
  });

  test('SIGINT mid-run: exit 0 with a summary, the sidecar child stopped and its ports free', { timeout: 60_000 }, async () => {
    const demo = startDemo(['--duration', '5m', '--seed', '3']);
    // The first progress line comes as the fleet starts; give it a few seconds of traffic.
    await waitFor(demo, /^\[0:00\] progress/m, 30_000);
    await new Promise((r) => setTimeout(r, 4000));
    const sidecar = sidecarOf(demo.output());
    expect(alive(sidecar.pid)).toBe(true);
    expect(await isPortFree(sidecar.admin)).toBe(false);
    demo.child.kill('SIGINT');
    const code = await demo.exited;
    const out = demo.output();
    expect(code, out).toBe(0);
    expect(out).toMatch(/^interrupted: stopping the fleet and the sidecar$/m);
    expect(out).toMatch(/^summary: \d+ signal\(s\) fired, .* spans sent in 0:\d\d$/m);
    expect(await until(() => !alive(sidecar.pid), 5000)).toBe(true);
    expect(await isPortFree(sidecar.admin)).toBe(true);
    expect(await isPortFree(sidecar.grpc)).toBe(true);
  });

  test.runIf(process.platform === 'linux')('SIGHUP (terminal closed): the sidecar child and the temporary directory go with the demo', { timeout: 60_000 }, async () => {
    const demo = startDemo(['--duration', '5m']);
    await waitFor(demo, /^\[0:00\] progress/m, 30_000);
    const { pid } = sidecarOf(demo.output());
    // The demo's temporary directory holds the config the sidecar runs with.
    const config = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').at(-2) ?? '';
    expect(config).toMatch(/otel-friction-demo-.*\/config\.yaml$/);
    demo.child.kill('SIGHUP');
    expect(await demo.exited, demo.output()).toBe(0);
    expect(await until(() => !alive(pid), 5000)).toBe(true);
    expect(existsSync(dirname(config))).toBe(false);
  });

  test('an explicit port that is busy is refused before the sidecar starts', { timeout: 30_000 }, async () => {
    // Accepts connections and never answers: the case that used to hang start-up for minutes.
    const holder = net.createServer(() => undefined);
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [CLI, 'demo', '--admin-port', String(port), '--grpc-port', '0', '--http-port', '0'], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`port ${port} (--admin-port) is busy`);
      expect(r.stderr).toContain('[FRICTION_ERR_DEMO_SIDECAR]');
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      holder.close();
    }
  });

  test('bad options are usage errors (exit 2) naming the option', () => {
    for (const [args, message] of [
      [['--speed', '50'], /--speed must be a number from 0\.1 to 10/],
      [['--duration', '90'], /--duration must be a duration/],
      [['--config', 'x.yaml'], /demo generates its own sidecar configuration/],
      [['--grpc-port', '4317', '--admin-port', '4317'], /--grpc-port and --admin-port are both 4317/],
    ] as const) {
      const r = spawnSync(process.execPath, [CLI, 'demo', ...args], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/usage: otel-friction/);
    }
  });
});
