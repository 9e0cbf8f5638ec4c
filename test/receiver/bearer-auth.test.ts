/**
 * The bearer-token file parser and the header check, without a server: what a token file may
 * hold, which `authorization` values pass, and that a bad file is a coded start-up error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { isFrictionError } from '../../src/errors.js';
import { AUTH_CHALLENGE, AUTH_REFUSAL_MESSAGE, BearerAuth, bearerAuthFrom, parseBearerTokens } from '../../src/receiver/bearer-auth.js';

const dir = mkdtempSync(join(tmpdir(), 'friction-bearer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const silent = pino({ level: 'silent' });

describe('parseBearerTokens', () => {
  it('takes one token per line, skipping blank lines and # comments, trimming whitespace', () => {
    const text = '# rotated 2024-05-01\n\n  alpha-123  \n#beta\nZm9vYmFy+/==\r\n\t\ngamma.delta_epsilon~\n';
    expect(parseBearerTokens(text)).toEqual(['alpha-123', 'Zm9vYmFy+/==', 'gamma.delta_epsilon~']);
  });

  it('keeps a repeated token once', () => {
    expect(parseBearerTokens('a\nb\na\n')).toEqual(['a', 'b']);
  });

  it('a file without a newline at the end is fine', () => {
    expect(parseBearerTokens('only')).toEqual(['only']);
  });

  it('refuses a file with no token at all', () => {
    expect(() => parseBearerTokens('')).toThrow(/no token/);
    expect(() => parseBearerTokens('# just a comment\n\n   \n')).toThrow(/no token/);
  });

  it('refuses a line with inner whitespace or non-ASCII, naming the line but not its content', () => {
    let message = '';
    try {
      parseBearerTokens('good\nsecret-one # prod\n');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^line 2:/);
    expect(message).not.toContain('secret-one');
    expect(() => parseBearerTokens('tökén\n')).toThrow(/line 1/);
  });
});

describe('BearerAuth.check', () => {
  const file = join(dir, 'tokens');
  writeFileSync(file, '# tokens\nright-token\nsecond.token\n');
  const auth = new BearerAuth({ file, what: 'receivers.otlp.protocols.http', logger: silent });
  auth.start();
  afterAll(() => auth.stop());

  it('accepts every listed token with the Bearer scheme, whatever its case', () => {
    expect(auth.size).toBe(2);
    expect(auth.check('Bearer right-token')).toBe('ok');
    expect(auth.check('bearer second.token')).toBe('ok');
    expect(auth.check('BEARER right-token')).toBe('ok');
  });

  it('no Bearer credentials is "missing"', () => {
    expect(auth.check(undefined)).toBe('missing');
    expect(auth.check('')).toBe('missing');
    expect(auth.check('Bearer')).toBe('missing');
    expect(auth.check('Bearer ')).toBe('missing');
    expect(auth.check('Basic cmlnaHQtdG9rZW4=')).toBe('missing');
    expect(auth.check('right-token')).toBe('missing');
    // Repeated headers are ambiguous: refused.
    expect(auth.check(['Bearer right-token', 'Bearer right-token'])).toBe('missing');
  });

  it('a token not in the file is "invalid", prefixes and extensions included', () => {
    expect(auth.check('Bearer wrong')).toBe('invalid');
    expect(auth.check('Bearer right-toke')).toBe('invalid');
    expect(auth.check('Bearer right-token2')).toBe('invalid');
    expect(auth.check('Bearer  ')).toBe('invalid');
  });

  it('refusal texts echo nothing of the request and challenge per RFC 6750', () => {
    expect(AUTH_REFUSAL_MESSAGE.missing).toContain('FRICTION_ERR_RECEIVER_UNAUTHENTICATED');
    expect(AUTH_CHALLENGE.missing).toBe('Bearer');
    expect(AUTH_CHALLENGE.invalid).toBe('Bearer error="invalid_token"');
  });
});

describe('start-up', () => {
  it('auth is off without a file', () => {
    expect(bearerAuthFrom('', 'x', silent)).toBeUndefined();
    expect(bearerAuthFrom(undefined, 'x', silent)).toBeUndefined();
  });

  it('a missing file is FRICTION_ERR_AUTH_CONFIG naming the setting', () => {
    const auth = new BearerAuth({ file: join(dir, 'nope'), what: 'receivers.otlp.protocols.grpc', logger: silent });
    let err: unknown;
    try {
      auth.start();
    } catch (e) {
      err = e;
    }
    expect(isFrictionError(err, 'AUTH_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/^receivers\.otlp\.protocols\.grpc\.auth\.bearer_tokens_file: cannot read .*ENOENT/);
    auth.stop();
  });

  it('an empty file is FRICTION_ERR_AUTH_CONFIG', () => {
    const file = join(dir, 'empty');
    writeFileSync(file, '# nothing yet\n');
    expect(() => new BearerAuth({ file, what: 'r', logger: silent }).start()).toThrow(/no token/);
  });
});
