import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { categoryMatches, encodeItem, EVENT_TYPE_CODE, type ItemV1 } from '@seqrec/contracts';
import { ExactTopK, loadWat, selectTopK } from '@seqrec/model';
import { Rng } from '@seqrec/random';
import { CatalogueView, type IndexedModel } from './catalogue-view';
import { interactedItems } from './interacted';
import { resolveRules, type RuleDefaults, type RulesInput } from './rules';

const N = 3_000;
const D = 16;
const CATEGORIES = ['Home/Kitchen', 'Home/Garden', 'Home', 'Beauty/Skin', 'Beauty/Skincare', 'Toys'];
const DEFAULTS: RuleDefaults = { onlyAvailable: false, excludeCategories: [], excludeInteracted: [], maxPerCategory: 0 };

const rng = new Rng(3);
const vocabulary = Array.from({ length: N + 1 }, (_, i) => (i === 0 ? '<pad>' : `i${i}`));
const index = new Map(vocabulary.map((id, i) => [id, i] as const).slice(1));
const model: IndexedModel = { indexOf: (id) => index.get(id) ?? 0, artifact: { index, vocabulary } };
const rows = Float32Array.from({ length: (N + 1) * D }, () => rng.float() * 2 - 1);
/** Items 1..N in the catalogue but every 7th (not in the catalogue). */
const catalogue = new Map<number, ItemV1>();
for (let i = 1; i <= N; i++) {
  if (i % 7 === 0) continue;
  catalogue.set(i, {
    itemId: `i${i}`,
    ...(i % 11 ? { category: CATEGORIES[i % CATEGORIES.length]! } : {}),
    ...(i % 13 ? { price: Math.round(rng.float() * 10_000) / 100 } : {}),
    available: i % 5 !== 0,
  });
}

/** The reference: every item scored, sorted, and the rules written out plainly, applied walking down. */
function reference(q: Float32Array, k: number, input: RulesInput, interacted: Set<number>): string[] {
  const r = resolveRules(DEFAULTS, input);
  const all = Array.from({ length: N }, (_, j) => j + 1).map((i) => {
    let s = 0;
    for (let j = 0; j < D; j++) s += rows[i * D + j]! * q[j]!;
    return [i, s] as const;
  });
  all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const counts = new Map<string, number>();
  const out: string[] = [];
  for (const [i] of all) {
    if (out.length === k) break;
    const item = catalogue.get(i);
    if (interacted.has(i) || r.excludeItems.includes(`i${i}`)) continue;
    if (r.onlyAvailable && item?.available === false) continue;
    if (r.categories.length && !(item?.category && r.categories.some((p) => categoryMatches(item.category!, p)))) continue;
    if (item?.category && r.excludeCategories.some((p) => categoryMatches(item.category!, p))) continue;
    if ((r.minPrice !== null || r.maxPrice !== null) && !(item?.price !== undefined && item.price >= (r.minPrice ?? 0) && item.price <= (r.maxPrice ?? Infinity))) continue;
    if (r.maxPerCategory > 0 && item?.category) {
      const c = counts.get(item.category) ?? 0;
      if (c >= r.maxPerCategory) continue;
      counts.set(item.category, c + 1);
    }
    out.push(`i${i}`);
  }
  return out;
}

describe(CatalogueView.name, () => {
  let exact: ExactTopK;
  const view = new CatalogueView();
  before(async () => {
    await loadWat();
    exact = new ExactTopK(rows, N + 1, D, 1);
    let t = 1_000;
    for (const item of catalogue.values()) assert.ok(view.putRecord(item.itemId, encodeItem(item, t++)));
  });

  const answer = (q: Float32Array, k: number, input: RulesInput, interacted: Int32Array = new Int32Array(0)) => {
    const rules = view.compile(model, resolveRules(DEFAULTS, input), interacted);
    return Array.from(selectTopK(k, rules, N, (w, accept) => exact.topK(q, w, undefined, accept)).items, (i) => vocabulary[i]!);
  };

  const cases: Array<[string, RulesInput]> = [
    ['only available items', { onlyAvailable: true }],
    ['include a category prefix (by level: Beauty/Skin is not Beauty/Skincare)', { categories: ['Beauty/Skin'] }],
    ['include two categories', { categories: ['Home/Garden', 'Toys'] }],
    ['exclude a category prefix', { excludeCategories: ['Home'] }],
    ['exclude ids', { excludeItems: ['i1', 'i2', 'i3', 'i100', 'i2999'] }],
    ['a price range (items without a price fail it)', { minPrice: 20, maxPrice: 35.5 }],
    ['at most 2 per category', { maxPerCategory: 2 }],
    ['every rule at once', { onlyAvailable: true, categories: ['Home'], excludeCategories: ['Home/Kitchen'], minPrice: 10, maxPerCategory: 3, excludeItems: ['i4'] }],
  ];
  for (const [name, input] of cases) {
    it(`${name}: the best k that pass, as the brute-force reference`, () => {
      for (let t = 0; t < 5; t++) {
        const q = Float32Array.from({ length: D }, () => rng.float() * 2 - 1);
        for (const k of [1, 10, 40]) assert.deepEqual(answer(q, k, input), reference(q, k, input, new Set()), `${name}, k=${k}`);
      }
    });
  }

  it('exclude the items the user interacted with, per event type', () => {
    const ids = Int32Array.from([5, 6, 7, 8, 9, 10]);
    const types = Uint8Array.from(['view', 'purchase', 'click', 'add_to_cart', 'purchase', 'view'].map((t) => EVENT_TYPE_CODE[t as 'view']));
    const bought = interactedItems({ ids, types, dropped: 0 }, ['purchase']);
    assert.deepEqual(Array.from(bought), [6, 9]);
    assert.deepEqual(Array.from(interactedItems({ ids, types, dropped: 0 }, ['view', 'add_to_cart'])), [5, 8, 10]);
    // a query whose best items are exactly the interacted ones
    const q = Float32Array.from({ length: D }, (_, j) => rows[6 * D + j]! + rows[9 * D + j]!);
    assert.deepEqual(answer(q, 10, {}, bought), reference(q, 10, {}, new Set([6, 9])));
    assert.ok(!answer(q, 10, {}, bought).includes('i6'));
  });

  it('returns k results when exactly k items pass, fewer only when fewer exist', () => {
    const q = Float32Array.from({ length: D }, () => rng.float() * 2 - 1);
    // Toys under 1.00 is a handful of items: ask for exactly that many, then one more
    const input: RulesInput = { categories: ['Toys'], maxPrice: 5 };
    const all = reference(q, N, input, new Set());
    assert.ok(all.length >= 2, `fixture: ${all.length} items pass`);
    assert.deepEqual(answer(q, all.length, input), all);
    assert.deepEqual(answer(q, all.length + 1, input), all);
  });

  it('sees a change at once: newer wins, an older record or one older than a deletion is ignored', () => {
    const q = Float32Array.from({ length: D }, (_, j) => rows[1 * D + j]!); // item 1 scores best
    assert.equal(answer(q, 1, { onlyAvailable: true })[0], 'i1');
    view.put({ itemId: 'i1', available: false, updatedAt: 50_000 });
    assert.notEqual(answer(q, 1, { onlyAvailable: true })[0], 'i1');
    assert.equal(view.put({ itemId: 'i1', available: true, updatedAt: 40_000 }), false, 'an older record (a snapshot) does not roll back');
    view.remove('i1', 60_000);
    assert.equal(view.put({ itemId: 'i1', available: false, updatedAt: 55_000 }), false, 'older than the deletion');
    assert.equal(answer(q, 1, { onlyAvailable: true })[0], 'i1', 'deleted: not in the catalogue, so not unavailable');
    assert.equal(answer(q, 1, { categories: ['Home'] }).includes('i1'), false, 'not in the catalogue: fails an include rule');
  });
});
