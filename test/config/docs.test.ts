import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { defaultConfig, frictionConfigSpec } from '../../src/config/index.js';
import { settingPaths } from '../../src/config/spec.js';

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** Rows of the Keys table: key → default column. */
const rows = new Map(
  [...doc.matchAll(/^\| `([a-z0-9_.[\]]+)` \| [^|]+ \| ([^|]+) \|/gm)].map((m) => [m[1], m[2].trim()]),
);

test('every leaf setting has a row in docs/configuration.md', () => {
  const leaves = settingPaths(frictionConfigSpec).filter((p) => !settingPaths(frictionConfigSpec).some((q) => q.startsWith(`${p}.`)));
  const missing = leaves.filter((p) => !rows.has(p));
  expect(missing).toEqual([]);
});

test('the table documents no key the schema lacks', () => {
  const known = new Set(settingPaths(frictionConfigSpec));
  expect([...rows.keys()].filter((k) => !known.has(k))).toEqual([]);
});

test('documented scalar defaults match defaultConfig()', () => {
  const c = defaultConfig();
  const p = c.receivers.otlp.protocols;
  const expected: Record<string, string> = {
    'receivers.otlp.protocols.grpc.endpoint': '`localhost:4317`',
    'receivers.otlp.protocols.grpc.max_recv_msg_size_mib': `\`${p.grpc.max_recv_msg_size_mib}\``,
    'receivers.otlp.protocols.grpc.max_concurrent_streams': `\`${p.grpc.max_concurrent_streams}\``,
    'receivers.otlp.protocols.grpc.flow_control_window_mib': `\`${p.grpc.flow_control_window_mib}\``,
    'receivers.otlp.protocols.http.endpoint': '`localhost:4318`',
    'receivers.otlp.protocols.http.max_request_body_size_mib': `\`${p.http.max_request_body_size_mib}\``,
    'admin.endpoint': '`localhost:13133`',
    'limits.max_inflight_bytes_mib': `\`${c.limits.max_inflight_bytes_mib}\``,
    'log.level': `\`${c.log.level}\``,
    'shutdown_timeout': '`10s`',
  };
  for (const [key, value] of Object.entries(expected)) expect(rows.get(key), key).toBe(value);
  expect(c.shutdown_timeout).toBe(10_000);
  expect(p.grpc.endpoint).toEqual({ host: 'localhost', port: 4317 });
});
