/** docs/errors.md must document exactly the codes in the ErrorCodes registry, with the same retryable flag. */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { ErrorCodes } from '../src/errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

/** Rows of `| code | retryable | meaning |`, code in backticks. */
const rows = [...doc.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|\s*([a-z]+)\s*\|\s*(.*?)\s*\|\s*$/gm)].map((m) => ({
  code: m[1],
  retryable: m[2],
  meaning: m[3],
}));

test('the table has the documented header', () => {
  expect(doc).toMatch(/^\| code \| retryable \| meaning \|$/m);
});

test('every registered code is documented and every documented code is registered', () => {
  const registered = Object.values(ErrorCodes).map((s) => s.code).sort();
  expect(rows.map((r) => r.code).sort()).toEqual(registered);
});

test('each code is documented once', () => {
  expect(new Set(rows.map((r) => r.code)).size).toBe(rows.length);
});

test('the retryable column matches the registry and every row has a meaning', () => {
  const byCode = new Map(Object.values(ErrorCodes).map((s) => [s.code, s]));
  for (const row of rows) {
    expect(['yes', 'no'], row.code).toContain(row.retryable);
    expect(row.retryable === 'yes', row.code).toBe(byCode.get(row.code)?.retryable);
    expect(row.meaning.length, row.code).toBeGreaterThan(10);
  }
});

test('codes follow the FRICTION_ERR_<NAME> convention', () => {
  for (const [name, s] of Object.entries(ErrorCodes)) expect(s.code).toBe(`FRICTION_ERR_${name}`);
});
