import { describe, expect, test } from 'vitest';
import { formatDuration, parseDuration, validateConfig } from '../../src/config/index.js';

describe('parseDuration', () => {
  test.each([
    ['0s', 0],
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['.5s', 500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1m30s500ms', 90_500],
    ['1d2h3m4s5ms', 93_784_005],
    [' 10s ', 10_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '10', '-5s', '+5s', '10 s', '1h 30m', 's', '5x', '5sec', '1.s', '10S', 'ns', '5ns', '1e3s', 'Infinity'])('%j is rejected', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test('"m" is minutes and "ms" milliseconds, even side by side', () => {
    expect(parseDuration('1m1ms')).toBe(60_001);
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [500, '500ms'],
    [10_000, '10s'],
    [5_400_000, '1h30m'],
    [90_500, '1m30s500ms'],
    [86_400_000, '1d'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('duration settings', () => {
  const issue = (v: unknown) => validateConfig({ shutdown_timeout: v }).issues.map((i) => i.message);

  test('plain numbers are rejected with a hint to add a unit', () => {
    expect(issue(10)).toEqual(['expected a duration with a unit such as "10s" or "10ms", got number 10']);
    expect(issue('30')).toEqual(['missing unit in "30": write e.g. "30s" or "30ms" (units ms, s, m, h, d)']);
  });

  test('other mistakes', () => {
    expect(issue('-1s')).toEqual(['duration must not be negative, got "-1s"']);
    expect(issue('soon')).toEqual(['expected a duration such as "10s" or "1h30m" (units ms, s, m, h, d), got "soon"']);
    expect(issue('0ms')).toEqual(['must be greater than 0s, got "0ms"']);
    expect(issue(true)).toEqual(['expected a duration such as "10s" or "1h30m", got true']);
  });

  test('valid values become milliseconds', () => {
    expect(validateConfig({ shutdown_timeout: '1h30m' }).config?.shutdown_timeout).toBe(5_400_000);
  });
});
