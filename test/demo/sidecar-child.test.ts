/**
 * SidecarChild's start-up and exit handling, with stand-in children (a plain `node -e`) and a
 * port holder that accepts connections and never answers, so no real sidecar is needed.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { SidecarChild } from '../../src/demo/sidecar-child.js';
import { isFrictionError } from '../../src/errors.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const children: SidecarChild[] = [];

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

/** A port whose holder accepts connections and never answers: fetch alone would wait minutes. */
function silentPort(): Promise<number> {
  return listen(net.createServer((s) => void sockets.push(s)));
}

/** A stand-in for the sidecar: node running `script`. */
function standIn(script: string, adminPort: number): SidecarChild {
  const child = SidecarChild.spawn({ configFile: 'unused', adminPort, cwd: process.cwd(), argv: [process.execPath, '-e', script] });
  children.push(child);
  return child;
}

const FOREVER = 'setInterval(() => {}, 1000)';

async function rejection(p: Promise<unknown>): Promise<{ err: Error; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (err) {
    return { err: err as Error, ms: Date.now() - t0 };
  }
  throw new Error('expected a rejection');
}

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await c.exited;
  }
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('demo sidecar child', () => {
  test('a /readyz that never answers: the deadline holds, the child is killed', { timeout: 10_000 }, async () => {
    const child = standIn(FOREVER, await silentPort());
    const { err, ms } = await rejection(child.ready({ timeoutMs: 1500 }));
    expect(isFrictionError(err, 'DEMO_SIDECAR')).toBe(true);
    expect(err.message).toMatch(/^the sidecar was not ready within 1500 ms/);
    expect(ms).toBeLessThan(3000);
    expect(child.running).toBe(false);
    expect(child.exitReason).toBe('signal SIGKILL');
  });

  test('an abort (Ctrl-C) cuts a hanging attempt short and kills the child', { timeout: 10_000 }, async () => {
    const child = standIn(FOREVER, await silentPort());
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const { err, ms } = await rejection(child.ready({ timeoutMs: 20_000, signal: abort.signal }));
    expect(err.message).toBe('interrupted before the sidecar was ready');
    expect(ms).toBeLessThan(1500);
    expect(child.running).toBe(false);
  });

  test('the child exiting during a hanging attempt rejects at once, with its exit code and output', { timeout: 10_000 }, async () => {
    const child = standIn("console.error('listen EADDRINUSE'); setTimeout(() => process.exit(3), 300)", await silentPort());
    const { err, ms } = await rejection(child.ready({ timeoutMs: 20_000 }));
    expect(err.message).toMatch(/^the sidecar exited \(exit code 3\) before it was ready:\nlisten EADDRINUSE/);
    expect(ms).toBeLessThan(1500);
  });

  test('a /readyz answer counts only while the child lives', { timeout: 10_000 }, async () => {
    const port = await listen(http.createServer((_req, res) => res.end('ok')));
    const child = standIn('process.exit(0)', port);
    await child.exited;
    const { err } = await rejection(child.ready({ timeoutMs: 2000 }));
    expect(err.message).toMatch(/^the sidecar exited \(exit code 0\)/);
  });

  test('a child killed by a signal says which', async () => {
    const child = standIn("process.kill(process.pid, 'SIGTERM')", 1);
    expect(await child.exited).toBeNull();
    expect(child.exitReason).toBe('signal SIGTERM');
  });

  test('a spawn failure settles `exited` instead of crashing the demo', async () => {
    const child = SidecarChild.spawn({ configFile: 'unused', adminPort: 1, cwd: process.cwd(), argv: ['/nonexistent/otel-friction'] });
    expect(await child.exited).toBeNull();
    expect(child.running).toBe(false);
    expect(child.exitReason).toMatch(/^could not start: .*ENOENT/);
    const { err } = await rejection(child.ready({ timeoutMs: 1000 }));
    expect(err.message).toMatch(/^the sidecar exited \(could not start: .*ENOENT.*\) before it was ready/);
  });
});
