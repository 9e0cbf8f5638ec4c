/**
 * Binding servers to configured endpoints, with bind failures turned into one coded error
 * that names the endpoint (the most common start-up problem is a port already in use).
 */
import type { Server } from 'node:net';
import { type Endpoint, formatEndpoint } from '../config/index.js';
import { FrictionError } from '../errors.js';
import { beforeDeadline } from '../lifecycle/component.js';

/** Host to pass to listen(): "" binds every interface; "localhost" binds IPv4 loopback. */
export function bindHost(e: Endpoint): string | undefined {
  if (e.host === '') return undefined;
  // Resolving "localhost" may yield ::1 only; clients (with Happy Eyeballs) reach 127.0.0.1.
  if (e.host === 'localhost') return '127.0.0.1';
  return e.host;
}

/** Listens on `endpoint`; resolves with the bound address (port 0 becomes the real port). */
export function listen(server: Server, endpoint: Endpoint, what: string): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new FrictionError('LISTEN', `${what}: cannot listen on ${formatEndpoint(endpoint)}: ${err.code ?? err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ port: endpoint.port, host: bindHost(endpoint) }, () => {
      server.off('error', onError);
      const addr = server.address();
      if (addr === null || typeof addr === 'string') resolve(endpoint);
      else resolve({ host: addr.family === 'IPv6' && endpoint.host === '' ? '' : addr.address, port: addr.port });
    });
  });
}

/**
 * Stops `server` accepting connections and waits for the open ones to finish; at the
 * deadline calls `force` to cut them. Resolves true when nothing had to be cut.
 */
export async function closeBefore(server: Server, deadline: number, force: () => void): Promise<boolean> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if (await beforeDeadline(closed, deadline)) return true;
  force();
  return false;
}
