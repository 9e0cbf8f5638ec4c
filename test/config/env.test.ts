import { describe, expect, test } from 'vitest';
import { expandEnv, loadConfig, parseConfig, validateConfig } from '../../src/config/index.js';
import { ExpandedScalar, MalformedScalar } from '../../src/config/env.js';

/** Expands one string value and returns the text a string setting would see. */
function text(value: string, env: NodeJS.ProcessEnv = {}): string {
  const r = expandEnv(value, env);
  if (r instanceof MalformedScalar) throw new Error(r.message);
  return r instanceof ExpandedScalar ? r.text : String(r);
}

describe('expandEnv', () => {
  test('${env:VAR} and ${env:VAR:-default}', () => {
    expect(text('${env:HOST}:4317', { HOST: '0.0.0.0' })).toBe('0.0.0.0:4317');
    expect(text('${env:HOST:-localhost}:4317', {})).toBe('localhost:4317');
    expect(text('${env:HOST:-localhost}:4317', { HOST: 'h' })).toBe('h:4317');
    expect(text('${env:A}-${env:B}', { A: 'a', B: 'b' })).toBe('a-b');
  });

  test('an unset variable without default is empty; a set-but-empty one wins over its default', () => {
    expect(text('x${env:NOPE}y')).toBe('xy');
    expect(text('${env:EMPTY:-fallback}', { EMPTY: '' })).toBe('');
    expect(text('${env:X:-}', {})).toBe('');
  });

  test('$$ is a literal $, a lone $ stays, expansion is not recursive', () => {
    expect(text('$${env:HOST}')).toBe('${env:HOST}');
    expect(text('pa$$word')).toBe('pa$word');
    expect(text('cost $5 and $')).toBe('cost $5 and $');
    expect(text('$$$${env:A}', { A: 'x' })).toBe('$${env:A}');
    expect(text('$$${env:A}', { A: 'x' })).toBe('$x');
    expect(text('${env:A}', { A: '${env:B}', B: 'no' })).toBe('${env:B}');
  });

  test('a default may contain colons and dashes', () => {
    expect(text('${env:EP:-[::1]:4317}')).toBe('[::1]:4317');
  });

  test('malformed references become MalformedScalar with a message', () => {
    const cases: Record<string, string> = {
      '${env:}': 'invalid environment variable name "" in "${env:}": must match ^[A-Za-z_][A-Za-z0-9_]*$',
      '${foo': 'unterminated reference "${foo": expected ${env:NAME} or ${env:NAME:-default}',
      'a${env:X': 'unterminated reference "${env:X": expected ${env:NAME} or ${env:NAME:-default}',
      '${HOME}': 'unsupported reference "${HOME}": expected ${env:NAME} or ${env:NAME:-default} (write $$ for a literal $)',
      '${file:/etc/x}': 'unsupported reference "${file:/etc/x}": expected ${env:NAME} or ${env:NAME:-default} (write $$ for a literal $)',
      '${env:1X}': 'invalid environment variable name "1X" in "${env:1X}": must match ^[A-Za-z_][A-Za-z0-9_]*$',
    };
    for (const [value, message] of Object.entries(cases)) {
      const r = expandEnv(value, {});
      expect(r, value).toBeInstanceOf(MalformedScalar);
      expect((r as MalformedScalar).message, value).toBe(message);
    }
  });

  test('keys and non-string values are never expanded; the tree is copied', () => {
    const raw = { '${env:K}': 'v', n: 4, b: true, z: null, list: ['${env:A}', 1] };
    const out = expandEnv(raw, { K: 'key', A: 'a' }) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['${env:K}', 'n', 'b', 'z', 'list']);
    expect(out.n).toBe(4);
    expect(out.b).toBe(true);
    expect(out.z).toBeNull();
    expect((out.list as unknown[])[0]).toEqual(new ExpandedScalar('a', 'a', '${env:A}'));
    expect(raw.list[0]).toBe('${env:A}');
  });

  test('a whole-value reference gets a typed reading; a partial one stays text', () => {
    expect(expandEnv('${env:N}', { N: '8' })).toEqual(new ExpandedScalar('8', 8, '${env:N}'));
    expect(expandEnv('${env:N:-0x10}', {})).toEqual(new ExpandedScalar('0x10', 16, '${env:N:-0x10}'));
    expect(expandEnv('${env:B}', { B: 'false' })).toEqual(new ExpandedScalar('false', false, '${env:B}'));
    expect(expandEnv('${env:N}0', { N: '8' })).toEqual(new ExpandedScalar('80', '80', '${env:N}0'));
    expect(expandEnv('${env:S}', { S: 'a: b' })).toEqual(new ExpandedScalar('a: b', 'a: b', '${env:S}'));
  });
});

describe('env in configuration', () => {
  test('typed numbers and booleans from whole references', () => {
    const c = parseConfig(
      [
        'receivers:',
        '  otlp:',
        '    protocols:',
        '      grpc:',
        '        max_recv_msg_size_mib: ${env:MAX:-4}',
        '        max_concurrent_streams: ${env:STREAMS}',
        '      http:',
        '        enabled: ${env:HTTP_ON:-true}',
      ].join('\n'),
      { env: { STREAMS: '64', HTTP_ON: 'false' } },
    );
    expect(c.receivers.otlp.protocols.grpc.max_recv_msg_size_mib).toBe(4);
    expect(c.receivers.otlp.protocols.grpc.max_concurrent_streams).toBe(64);
    expect(c.receivers.otlp.protocols.http.enabled).toBe(false);
  });

  test('string settings use the text, so a numeric-looking value is not turned into a number', () => {
    const c = parseConfig('shutdown_timeout: ${env:T}\nlog:\n  level: ${env:L}\n', { env: { T: '1h30m', L: 'ERROR' } });
    expect(c.shutdown_timeout).toBe(5_400_000);
    expect(c.log.level).toBe('error');
  });

  test('the good-env testdata resolves', () => {
    const c = loadConfig({
      file: new URL('./testdata/good-env.yaml', import.meta.url).pathname,
      env: { GRPC_HOST: '0.0.0.0', MAX_MIB: '8', LEVEL: 'debug' },
    });
    expect(c.receivers.otlp.protocols.grpc.endpoint).toEqual({ host: '0.0.0.0', port: 4317 });
    expect(c.receivers.otlp.protocols.grpc.max_recv_msg_size_mib).toBe(8);
    expect(c.receivers.otlp.protocols.grpc.max_concurrent_streams).toBe(50);
    expect(c.receivers.otlp.protocols.http.enabled).toBe(false);
    expect(c.log.level).toBe('debug');
    expect(c.shutdown_timeout).toBe(2_000);
  });

  test('an unset variable that leaves a value invalid is reported with its reference', () => {
    const raw = { admin: { endpoint: '${env:ADMIN_HOST}:99999' }, limits: { max_inflight_bytes_mib: '${env:INFLIGHT}' } };
    expect(validateConfig(expandEnv(raw, {})).issues).toEqual([
      { path: 'admin.endpoint', message: 'port 99999 out of range 0-65535 in ":99999" (from "${env:ADMIN_HOST}:99999")' },
      { path: 'limits.max_inflight_bytes_mib', message: 'expected a number, got "" (from "${env:INFLIGHT}")' },
    ]);
  });

  test('loadConfig defaults env to process.env', () => {
    process.env.FRICTION_TEST_LEVEL = 'trace';
    try {
      const c = parseConfig('log:\n  level: ${env:FRICTION_TEST_LEVEL}\n');
      expect(c.log.level).toBe('trace');
    } finally {
      delete process.env.FRICTION_TEST_LEVEL;
    }
  });
});
