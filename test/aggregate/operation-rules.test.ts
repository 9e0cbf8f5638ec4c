import { describe, expect, test } from 'vitest';
import { OperationRules } from '../../src/aggregate/operation-rules.js';

describe('OperationRules', () => {
  test('no rules: names pass through', () => {
    expect(new OperationRules([]).apply('GET /user/123')).toBe('GET /user/123');
  });

  test('collapses ids with group references, every occurrence, first matching rule wins', () => {
    const rules = new OperationRules([
      { match: '/user/\\d+', replace: '/user/{id}' },
      { match: '/[0-9a-f]{8}-[0-9a-f-]{27}', replace: '/{uuid}' },
      { match: '^(GET|POST) /order/\\d+$', replace: '$1 /order/{id}' },
      { match: '/\\d+', replace: '/{n}' },
    ]);
    expect(rules.apply('GET /user/123')).toBe('GET /user/{id}');
    expect(rules.apply('GET /user/1/friends/user/22')).toBe('GET /user/{id}/friends/user/{id}');
    expect(rules.apply('GET /doc/0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('GET /doc/{uuid}');
    expect(rules.apply('POST /order/77')).toBe('POST /order/{id}');
    expect(rules.apply('GET /a/1/b/2')).toBe('GET /a/{n}/b/{n}');
    expect(rules.apply('health')).toBe('health');
    // Cached answers are the same answers.
    expect(rules.apply('GET /user/123')).toBe('GET /user/{id}');
  });

  test('the cache of seen names is bounded', () => {
    const rules = new OperationRules([{ match: '\\d+', replace: '{n}' }], 10);
    for (let i = 0; i < 35; i++) expect(rules.apply(`op ${i}`)).toBe('op {n}');
    expect(rules.cacheResets).toBe(3);
  });
});
