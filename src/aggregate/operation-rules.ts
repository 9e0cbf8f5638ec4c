/**
 * Renames span names before they become series keys. Ids embedded in span names
 * (`GET /user/123`) are the first cause of cardinality explosions, so users collapse them with
 * regex rules (`/user/\d+` → `/user/{id}`).
 */
import type { OperationRuleConfig } from '../config/index.js';

// Raw span names remembered with their rewritten form. Regexes run once per distinct name,
// not once per span; the cache is cleared when full so hostile name churn cannot grow it.
const DEFAULT_CACHE_SIZE = 20_000;

/** Applies `aggregation.operation_rules` in order; the first matching rule wins. */
export class OperationRules {
  private readonly rules: { re: RegExp; replace: string }[];
  private readonly cache = new Map<string, string>();
  /** Times the cache filled and was cleared. */
  cacheResets = 0;

  constructor(rules: readonly OperationRuleConfig[], private readonly cacheSize = DEFAULT_CACHE_SIZE) {
    // Global flag so every occurrence in a name is replaced (`/a/1/b/2` → `/a/{id}/b/{id}`).
    this.rules = rules.map((r) => ({ re: new RegExp(r.match, 'g'), replace: r.replace }));
  }

  get size(): number {
    return this.rules.length;
  }

  /** The operation name for span name `name`. */
  apply(name: string): string {
    if (this.rules.length === 0) return name;
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    let out = name;
    for (const rule of this.rules) {
      rule.re.lastIndex = 0;
      if (rule.re.test(name)) {
        rule.re.lastIndex = 0;
        out = name.replace(rule.re, rule.replace);
        break;
      }
    }
    if (this.cache.size >= this.cacheSize) {
      this.cache.clear();
      this.cacheResets++;
    }
    this.cache.set(name, out);
    return out;
  }
}
