import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { anyFreePort, choosePorts } from '../../src/demo/ports.js';
import { isFrictionError } from '../../src/errors.js';

const servers: net.Server[] = [];

/** Holds a port the way another program would. */
async function occupy(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('demo ports', () => {
  test('an explicit busy port is an error naming the port and the option, not adopted', async () => {
    const busy = await occupy();
    const err = await rejection(choosePorts({ admin: busy, grpc: 0, http: 0 }));
    expect(isFrictionError(err, 'DEMO_SIDECAR')).toBe(true);
    expect(err.message).toBe(`port ${busy} (--admin-port) is busy (something else listens on it); choose another, or 0 for any free port`);
  });

  test('explicit ports are reserved before the defaults: a default they take moves instead', async () => {
    const defaults = { grpc: await anyFreePort(), http: await anyFreePort(), admin: await anyFreePort() };
    const { ports, moved } = await choosePorts({ admin: defaults.grpc }, defaults);
    expect(ports.admin).toBe(defaults.grpc);
    expect(ports.http).toBe(defaults.http);
    expect(ports.grpc).not.toBe(defaults.grpc);
    expect(new Set(Object.values(ports)).size).toBe(3);
    expect(moved).toEqual([`default grpc port ${defaults.grpc} is taken by --admin-port`]);
  });

  test('a busy default moves to a free port, with a note', async () => {
    const defaults = { grpc: await occupy(), http: await anyFreePort(), admin: await anyFreePort() };
    const { ports, moved } = await choosePorts({}, defaults);
    expect(ports.grpc).not.toBe(defaults.grpc);
    expect(ports).toMatchObject({ http: defaults.http, admin: defaults.admin });
    expect(moved).toEqual([`default grpc port ${defaults.grpc} is busy`]);
  });

  test('two options on one port are a usage error; 0 may repeat', async () => {
    const port = await anyFreePort();
    const err = await rejection(choosePorts({ grpc: port, admin: port }));
    expect(isFrictionError(err, 'CLI_USAGE')).toBe(true);
    expect(err.message).toMatch(/--grpc-port and --admin-port are both \d+/);
    const { ports } = await choosePorts({ grpc: 0, http: 0, admin: 0 });
    expect(new Set(Object.values(ports)).size).toBe(3);
  });
});
