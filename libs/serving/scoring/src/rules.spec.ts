import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvError } from '@seqrec/config';
import { parseEventTypes, resolveRules, rulesFromQuery, type RuleDefaults } from './rules';
import { ruleDefaults } from './scoring.env';

const DEFAULTS: RuleDefaults = { onlyAvailable: true, excludeCategories: ['Adult'], excludeInteracted: ['purchase'], maxPerCategory: 0 };

describe('rules', () => {
  it('a request field replaces the deployment default; absent ones keep it', () => {
    assert.deepEqual(resolveRules(DEFAULTS, undefined), {
      onlyAvailable: true,
      categories: [],
      excludeCategories: ['Adult'],
      excludeItems: [],
      minPrice: null,
      maxPrice: null,
      excludeInteracted: ['purchase'],
      maxPerCategory: 0,
    });
    const r = resolveRules(DEFAULTS, { onlyAvailable: false, excludeInteracted: [], maxPerCategory: 2, minPrice: 0 });
    assert.deepEqual([r.onlyAvailable, r.excludeInteracted, r.maxPerCategory, r.minPrice, r.excludeCategories], [false, [], 2, 0, ['Adult']]);
  });

  it('reads the query parameters: comma lists, none, numbers', () => {
    assert.deepEqual(
      rulesFromQuery({ available: 'false', category: 'Home, Toys/Lego', excludeItems: 'a,b,', minPrice: '5', maxPrice: '9.5', excludeInteracted: 'click,purchase', maxPerCategory: 3 }),
      { onlyAvailable: false, categories: ['Home', 'Toys/Lego'], excludeItems: ['a', 'b'], minPrice: 5, maxPrice: 9.5, excludeInteracted: ['click', 'purchase'], maxPerCategory: 3 },
    );
    assert.deepEqual(rulesFromQuery({ excludeInteracted: 'none' }), { excludeInteracted: [] });
    assert.deepEqual(rulesFromQuery({}), {});
    assert.throws(() => rulesFromQuery({ excludeInteracted: 'hover' }), /unknown event type "hover"/);
  });

  it('the deployment settings: event types checked at start-up', () => {
    assert.deepEqual(parseEventTypes(' purchase , add_to_cart '), ['purchase', 'add_to_cart']);
    assert.deepEqual(parseEventTypes(''), []);
    const env = { SCORER_RULES_EXCLUDE_INTERACTED: 'purchase', SCORER_RULES_ONLY_AVAILABLE: false, SCORER_RULES_EXCLUDE_CATEGORIES: 'A, B/C', SCORER_RULES_MAX_PER_CATEGORY: 2 };
    assert.deepEqual(ruleDefaults(env), { onlyAvailable: false, excludeInteracted: ['purchase'], excludeCategories: ['A', 'B/C'], maxPerCategory: 2 });
    assert.throws(() => ruleDefaults({ ...env, SCORER_RULES_EXCLUDE_INTERACTED: 'buy' }), (err: unknown) => err instanceof EnvError && 'SCORER_RULES_EXCLUDE_INTERACTED' in err.problems);
  });
});
