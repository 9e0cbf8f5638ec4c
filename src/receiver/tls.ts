/**
 * Server TLS (and mTLS) material for the receivers, read once at start.
 *
 * The files are read and checked here rather than left to the server constructors so that a
 * missing file, a key that does not belong to its certificate or a CA bundle with no
 * certificate in it stops the start with one coded error naming the setting, instead of
 * surfacing as failed handshakes once clients connect.
 */
import { readFileSync } from 'node:fs';
import { type TlsOptions, createSecureContext } from 'node:tls';
import type { ServerTlsConfig } from '../config/index.js';
import { FrictionError } from '../errors.js';

// TLS 1.0/1.1 are deprecated (RFC 8996); every OTLP exporter speaks 1.2 or later.
const MIN_VERSION = 'TLSv1.2';

function readPem(file: string, setting: string): Buffer {
  if (file === '') throw new FrictionError('TLS_CONFIG', `${setting} is empty`);
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new FrictionError('TLS_CONFIG', `${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!pem.includes('-----BEGIN ')) throw new FrictionError('TLS_CONFIG', `${setting}: ${file} holds no PEM block`);
  return pem;
}

/**
 * Loads a receiver's TLS settings. Returns undefined while TLS is off (no `cert_file`), else
 * options for `tls`/`https`/`http2` secure servers. With `client_ca_file` set the server asks
 * for a client certificate and refuses, at the handshake, a client without one that chains to
 * that CA (mTLS). Throws FrictionError TLS_CONFIG when a file cannot be read or used; the
 * message names `what` (the receiver's config path) and the file, never the key material.
 */
export function loadServerTls(tls: ServerTlsConfig | undefined, what: string): TlsOptions | undefined {
  if (tls === undefined || tls.cert_file === '') return undefined;
  const cert = readPem(tls.cert_file, `${what}.tls.cert_file`);
  const key = readPem(tls.key_file, `${what}.tls.key_file`);
  const options: TlsOptions = { cert, key, minVersion: MIN_VERSION };
  if (tls.client_ca_file !== '') {
    options.ca = readPem(tls.client_ca_file, `${what}.tls.client_ca_file`);
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  try {
    // Parses everything now: a mismatched key or a malformed certificate fails here.
    createSecureContext(options);
  } catch (err) {
    const files = [tls.cert_file, tls.key_file, tls.client_ca_file].filter((f) => f !== '').join(', ');
    throw new FrictionError('TLS_CONFIG', `${what}.tls: cannot use ${files}: ${(err as Error).message}`, { cause: err });
  }
  return options;
}
