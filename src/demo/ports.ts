/**
 * Ports for the demo's sidecar: an explicit port as given (or a clear error when it is busy),
 * else its default when free, else a free one, so a second demo (or a sidecar already running)
 * does not stop the demo from starting.
 */
import { once } from 'node:events';
import net from 'node:net';
import { FrictionError } from '../errors.js';
import type { SidecarPorts } from './sidecar-config.js';

/** The sidecar's default ports, which the demo takes when they are free. */
export const DEFAULT_PORTS: SidecarPorts = { grpc: 4317, http: 4318, admin: 13133 };

/** The option that sets each port. */
export const PORT_FLAGS: Readonly<Record<keyof SidecarPorts, string>> = { grpc: '--grpc-port', http: '--http-port', admin: '--admin-port' };

const NAMES = ['grpc', 'http', 'admin'] as const;

/** Why 127.0.0.1:`port` cannot be bound now (EADDRINUSE, EACCES…), or undefined when it can. */
async function bindError(port: number): Promise<NodeJS.ErrnoException | undefined> {
  const server = net.createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return undefined;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  } finally {
    if (server.listening) {
      server.close();
      await once(server, 'close');
    }
  }
}

/** True when nothing listens on 127.0.0.1:`port` (checked by binding it for a moment). */
export async function isPortFree(port: number): Promise<boolean> {
  return (await bindError(port)) === undefined;
}

/** A port the kernel picks as free now (released before use: a small, harmless race on loopback). */
export async function anyFreePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * The ports to run on. An explicit port is taken as given: it is reserved before any default
 * (so `--admin-port 4317` moves the gRPC default away, not itself) and must be free now, or
 * the sidecar would fail to bind it, or worse, another server answering `/readyz` there would
 * pass for the sidecar. An unset port is the default when free, else any free port; 0 is any
 * free port. `moved` says which defaults were not available and why. (`defaults`: for tests.)
 * @throws FrictionError DEMO_SIDECAR when an explicit port cannot be bound; CLI_USAGE when two
 *   options name the same port (parseDemoOptions rejects that first).
 */
export async function choosePorts(requested: Partial<SidecarPorts>, defaults: SidecarPorts = DEFAULT_PORTS): Promise<{ ports: SidecarPorts; moved: string[] }> {
  const moved: string[] = [];
  const chosen: { -readonly [K in keyof SidecarPorts]?: number } = {};
  const owner = new Map<number, keyof SidecarPorts>();
  for (const name of NAMES) {
    const want = requested[name];
    if (want === undefined || want === 0) continue;
    const other = owner.get(want);
    if (other !== undefined) throw new FrictionError('CLI_USAGE', `${PORT_FLAGS[other]} and ${PORT_FLAGS[name]} are both ${want}; each needs its own port`);
    const err = await bindError(want);
    if (err !== undefined) {
      const why = err.code === 'EADDRINUSE' ? 'is busy (something else listens on it)' : `cannot be used (${err.code ?? err.message})`;
      throw new FrictionError('DEMO_SIDECAR', `port ${want} (${PORT_FLAGS[name]}) ${why}; choose another, or 0 for any free port`);
    }
    owner.set(want, name);
    chosen[name] = want;
  }
  for (const name of NAMES) {
    if (chosen[name] !== undefined) continue;
    let port = requested[name] ?? defaults[name];
    if (port !== 0) {
      const holder = owner.get(port);
      if (holder !== undefined) {
        moved.push(`default ${name} port ${port} is taken by ${PORT_FLAGS[holder]}`);
        port = 0;
      } else if (!(await isPortFree(port))) {
        moved.push(`default ${name} port ${port} is busy`);
        port = 0;
      }
    }
    while (port === 0 || owner.has(port)) port = await anyFreePort();
    owner.set(port, name);
    chosen[name] = port;
  }
  return { ports: { grpc: chosen.grpc ?? 0, http: chosen.http ?? 0, admin: chosen.admin ?? 0 }, moved };
}
