/**
 * Runs every config in testdata/. Each file states what it expects in comments:
 *   `# env: NAME=value`   environment for ${env:…} expansion
 *   `# expect: path: message`   one per issue, in order (bad-*.yaml)
 *   `# expect-read: text`  a CONFIG_READ error whose message contains text
 * good-*.yaml must load without issues.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ConfigInvalidError, loadConfig } from '../../src/config/index.js';
import { ErrorCodes, FrictionError } from '../../src/errors.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

function directives(file: string, name: string): string[] {
  const prefix = `# ${name}: `;
  return readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));
}

function envOf(file: string): NodeJS.ProcessEnv {
  return Object.fromEntries(directives(file, 'env').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

function loadError(file: string): unknown {
  try {
    loadConfig({ file: join(dir, file), env: envOf(file) });
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('testdata', () => {
  test('has good and bad configs', () => {
    expect(files.filter((f) => f.startsWith('good-')).length).toBeGreaterThan(3);
    expect(files.filter((f) => f.startsWith('bad-')).length).toBeGreaterThan(10);
    expect(files.every((f) => f.startsWith('good-') || f.startsWith('bad-'))).toBe(true);
  });

  test.each(files.filter((f) => f.startsWith('good-')))('%s loads', (file) => {
    expect(loadError(file)).toBeUndefined();
  });

  const invalid = files.filter((f) => f.startsWith('bad-') && directives(f, 'expect').length > 0);
  test.each(invalid)('%s reports exactly its expected issues', (file) => {
    const err = loadError(file);
    expect(err).toBeInstanceOf(ConfigInvalidError);
    const e = err as ConfigInvalidError;
    expect(e.code).toBe(ErrorCodes.CONFIG_INVALID.code);
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(directives(file, 'expect'));
    // The message lists every issue, one per line.
    for (const line of directives(file, 'expect')) expect(e.message.split('\n')).toContain(line);
  });

  const unreadable = files.filter((f) => f.startsWith('bad-') && directives(f, 'expect-read').length > 0);
  test.each(unreadable)('%s is a CONFIG_READ error', (file) => {
    const err = loadError(file);
    expect(err).toBeInstanceOf(FrictionError);
    const e = err as FrictionError;
    expect(e.code).toBe(ErrorCodes.CONFIG_READ.code);
    for (const text of directives(file, 'expect-read')) expect(e.message).toContain(text);
  });

  test('every bad config states what it expects', () => {
    for (const f of files.filter((x) => x.startsWith('bad-'))) {
      expect(directives(f, 'expect').length + directives(f, 'expect-read').length, f).toBeGreaterThan(0);
    }
  });
});
