import { describe, expect, test } from 'vitest';
import { formatEndpoint, parseEndpoint } from '../../src/config/index.js';
import { endpointsCollide } from '../../src/config/endpoint.js';

describe('parseEndpoint', () => {
  test.each([
    ['localhost:4317', 'localhost', 4317],
    ['0.0.0.0:4317', '0.0.0.0', 4317],
    [':4317', '', 4317],
    ['[::1]:4317', '::1', 4317],
    ['[::]:4318', '::', 4318],
    ['127.0.0.1:0', '127.0.0.1', 0],
    ['otel-collector.observability.svc.cluster.local:4317', 'otel-collector.observability.svc.cluster.local', 4317],
    ['host:65535', 'host', 65535],
  ])('%s', (text, host, port) => {
    expect(parseEndpoint(text)).toEqual({ ok: true, endpoint: { host, port } });
  });

  test.each([
    ['abc', 'expected host:port, got "abc"'],
    ['', 'expected host:port, got ""'],
    ['localhost:', 'expected host:port, got "localhost:"'],
    ['localhost:65536', 'port 65536 out of range 0-65535 in "localhost:65536"'],
    ['localhost:-1', 'port must be a number 0-65535, got "-1" in "localhost:-1"'],
    ['localhost:4317 ', 'port must be a number 0-65535, got "4317 " in "localhost:4317 "'],
    ['::1:4317', 'IPv6 host must be in brackets, e.g. "[::1]:4317", got "::1:4317"'],
    ['[::1:4317', 'invalid IPv6 host [::1 in "[::1:4317"'],
    ['[zz]:4317', 'invalid IPv6 host [zz] in "[zz]:4317"'],
    ['[127.0.0.1]:4317', 'invalid IPv6 host [127.0.0.1] in "[127.0.0.1]:4317"'],
    ['999.1.1.1:4317', 'invalid host "999.1.1.1" in "999.1.1.1:4317"'],
    ['bad_host:1', 'invalid host "bad_host" in "bad_host:1"'],
    ['-host:1', 'invalid host "-host" in "-host:1"'],
    ['http://localhost:4317', 'expected host:port without a scheme, got "http://localhost:4317"'],
  ])('%j is rejected', (text, message) => {
    expect(parseEndpoint(text)).toEqual({ ok: false, message });
  });
});

describe('formatEndpoint', () => {
  test('round trips, bracketing IPv6', () => {
    for (const text of ['localhost:4317', ':4317', '[::1]:4317', '0.0.0.0:0']) {
      const r = parseEndpoint(text);
      expect(r.ok && formatEndpoint(r.endpoint)).toBe(text);
    }
    expect(formatEndpoint({ host: 'fe80::1', port: 80 })).toBe('[fe80::1]:80');
  });
});

describe('endpointsCollide', () => {
  const ep = (host: string, port: number) => ({ host, port });
  test.each([
    [ep('localhost', 4317), ep('localhost', 4317), true],
    [ep('LOCALHOST', 4317), ep('localhost', 4317), true],
    [ep('localhost', 4317), ep('localhost', 4318), false],
    [ep('127.0.0.1', 4317), ep('127.0.0.2', 4317), false],
    [ep('', 4317), ep('127.0.0.1', 4317), true],
    [ep('::', 4317), ep('127.0.0.1', 4317), true],
    [ep('0.0.0.0', 4317), ep('localhost', 4317), true],
    [ep('0.0.0.0', 4317), ep('::1', 4317), false],
    [ep('localhost', 0), ep('localhost', 0), false],
  ])('%o vs %o → %s', (a, b, collide) => {
    expect(endpointsCollide(a, b)).toBe(collide);
    expect(endpointsCollide(b, a)).toBe(collide);
  });
});
