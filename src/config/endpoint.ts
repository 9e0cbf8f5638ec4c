/**
 * `host:port` listen addresses, parsed once at load time so servers get a host and a port
 * and never split strings themselves.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A listen address. `host` `''` means all interfaces (written `":4317"`); port 0 asks the OS for a free port. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Parse result: the endpoint, or a message saying what is wrong with the text. */
export type EndpointParse = { ok: true; endpoint: Endpoint } | { ok: false; message: string };

// RFC 1123 labels; underscores are rejected because resolvers and TLS reject them in hostnames.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Parses `host:port`: `localhost:4317`, `0.0.0.0:4317`, `:4317`, `[::1]:4317`, `127.0.0.1:0`.
 * IPv6 hosts must be bracketed, since `::1:4317` cannot be split unambiguously.
 */
export function parseEndpoint(text: string): EndpointParse {
  // A URL is the most common mistake (copied from an exporter's config); say so directly.
  if (text.includes('://')) return { ok: false, message: `expected host:port without a scheme, got "${text}"` };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { ok: false, message: `expected host:port, got "${text}"` };
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') || host.endsWith(']')) {
    if (!host.startsWith('[') || !host.endsWith(']') || !isIPv6(host.slice(1, -1))) {
      return { ok: false, message: `invalid IPv6 host ${host} in "${text}"` };
    }
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    return { ok: false, message: `IPv6 host must be in brackets, e.g. "[::1]:4317", got "${text}"` };
  } else if (host !== '' && !isIPv4(host) && (/^[\d.]+$/.test(host) || !HOSTNAME.test(host))) {
    return { ok: false, message: `invalid host "${host}" in "${text}"` };
  }
  if (portText === '') return { ok: false, message: `expected host:port, got "${text}"` };
  if (!/^\d+$/.test(portText)) return { ok: false, message: `port must be a number 0-65535, got "${portText}" in "${text}"` };
  const port = Number(portText);
  if (port > 65535) return { ok: false, message: `port ${portText} out of range 0-65535 in "${text}"` };
  return { ok: true, endpoint: { host, port } };
}

/** Formats an endpoint back to `host:port`, bracketing IPv6 hosts: `{host:'::1',port:4317}` → `"[::1]:4317"`. */
export function formatEndpoint(e: Endpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

/**
 * True when two servers could not both bind these endpoints: same non-zero port and the same
 * host, or a wildcard host that already covers the other (`""` and `::` cover every address,
 * `0.0.0.0` every IPv4 address and host name).
 */
export function endpointsCollide(a: Endpoint, b: Endpoint): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host.toLowerCase() === b.host.toLowerCase() || covers(a.host, b.host) || covers(b.host, a.host);
}

function covers(wildcard: string, host: string): boolean {
  if (wildcard === '' || wildcard === '::') return true;
  return wildcard === '0.0.0.0' && !isIPv6(host);
}
