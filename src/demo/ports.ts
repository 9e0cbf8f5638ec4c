/**
 * Ports for the demo's sidecar: its defaults when they are free, else free ones, so a second
 * demo (or a sidecar already running) does not stop the demo from starting.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { SidecarPorts } from './sidecar-config.js';

/** The sidecar's default ports, which the demo takes when they are free. */
export const DEFAULT_PORTS: SidecarPorts = { grpc: 4317, http: 4318, admin: 13133 };

/** True when nothing listens on 127.0.0.1:`port` (checked by binding it for a moment). */
export async function isPortFree(port: number): Promise<boolean> {
  const server = net.createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) {
      server.close();
      await once(server, 'close');
    }
  }
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
 * The ports to run on: an explicit port is taken as given (if it is busy the sidecar will say
 * so); an unset one is the default when free, else any free port; 0 is any free port.
 * `moved` names the defaults that were busy.
 */
export async function choosePorts(requested: Partial<SidecarPorts>): Promise<{ ports: SidecarPorts; moved: string[] }> {
  const moved: string[] = [];
  const taken = new Set<number>();
  const pick = async (name: keyof SidecarPorts): Promise<number> => {
    const want = requested[name];
    let port = want;
    if (port === undefined) {
      port = DEFAULT_PORTS[name];
      if (!(await isPortFree(port))) {
        moved.push(`${name} ${port}`);
        port = 0;
      }
    }
    while (port === 0 || taken.has(port)) port = await anyFreePort();
    taken.add(port);
    return port;
  };
  const grpc = await pick('grpc');
  const http = await pick('http');
  const admin = await pick('admin');
  return { ports: { grpc, http, admin }, moved };
}
