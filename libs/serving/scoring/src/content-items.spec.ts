import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContentMap, selectTopK } from '@seqrec/model';
import { resolveRules } from './rules';
import { CatalogueView, type IndexedModel } from './catalogue-view';
import { ContentItems, DEFAULT_NEW_ITEM_BOOST, mergeRanked } from './content-items';
import { newItemBoost } from './scoring.env';

// A 2-dimension item space where `cat:A` points along x and `cat:B` along y.
const map = ContentMap.fromJSON({ features: ['cat:A', 'cat:B'], dim: 2, lambda: 1, mean: [0, 0], weights: [1, 0, 0, 1] });
const vocabulary = ['', 'k1', 'k2'];
const index = new Map([
  ['k1', 1],
  ['k2', 2],
]);
const model: IndexedModel = { indexOf: (id) => index.get(id) ?? 0, artifact: { index, vocabulary, contentMap: map } };
const DEFAULTS = { onlyAvailable: false, excludeCategories: [], excludeInteracted: [], maxPerCategory: 0 };
const at = (t: number) => ({ updatedAt: t });

describe(ContentItems.name, () => {
  it('gives unseen items indices after the model, reuses a deleted slot and ranks by dot product', () => {
    const c = new ContentItems(map, 3);
    assert.equal(c.put('n1', ['cat:A']), 3);
    assert.equal(c.put('n2', ['cat:B']), 4);
    assert.equal(c.put('n3', ['cat:Z']), 0, 'no known feature: no vector');
    assert.equal(c.size, 2);
    const top = c.topK(Float32Array.of(0, 2), 5);
    assert.deepEqual(Array.from(top.items), [4, 3]);
    assert.deepEqual(Array.from(top.scores), [2, 0]);
    assert.equal(c.remove('n1'), 3);
    assert.equal(c.put('n4', ['cat:A', 'cat:B']), 3);
    assert.equal(c.idOf(3), 'n4');
    assert.equal(c.score(Float32Array.of(1, 1), 3), 2);
    assert.deepEqual(Array.from(c.topK(Float32Array.of(1, 0), 5, (i) => i !== 3).items), [4]);
  });

  it('scores on the model\'s scale when the map is calibrated, so a new item can outrank a known one', () => {
    // the known items' scores spread twice as far as the predictions', around a mean item (1, 1)
    const calibration = { knownMean: [1, 1], knownCov: [4, 0, 0, 4], predictedMean: [0, 0], predictedCov: [1, 0, 0, 1] };
    const calibrated = ContentMap.fromJSON({ ...map.toJSON(), calibration });
    const c = new ContentItems(calibrated, 3, 1);
    c.put('a', ['cat:A']);
    const b = c.put('b', ['cat:B']);
    const u = Float32Array.of(0, 2);
    // scale √(16 / 4) = 2, offset u·(1, 1) − 2 u·(0, 0) = 2: raw 2 → 6, raw 0 → 2
    const top = c.topK(u, 5);
    assert.deepEqual(Array.from(top.items), [b, 3]);
    assert.deepEqual(Array.from(top.scores), [6, 2]);
    assert.equal(c.score(u, b), 6);
    const known = { items: Int32Array.of(1), scores: Float32Array.of(5) };
    assert.deepEqual(Array.from(mergeRanked(known, top, 1).items), [b], 'calibrated, the new item wins the top 1');
    const raw = new ContentItems(map, 3);
    raw.put('b', ['cat:B']);
    assert.deepEqual(Array.from(mergeRanked(known, raw.topK(u, 5), 1).items), [1], 'raw, it does not');
    // the same array with other values is another user: calibrated again
    u[1] = 4;
    assert.equal(c.score(u, b), 12, 'u·(1, 1) + 2 × 4 (with the last user\'s calibration: 2 + 2 × 4)');
  });

  it('mixes the standardised score with the raw one by its boost', () => {
    const calibration = { knownMean: [1, 1], knownCov: [4, 0, 0, 4], predictedMean: [0, 0], predictedCov: [1, 0, 0, 1] };
    const calibrated = ContentMap.fromJSON({ ...map.toJSON(), calibration });
    const u = Float32Array.of(0, 2);
    const scoreAt = (boost: number) => {
      const c = new ContentItems(calibrated, 3, boost);
      return c.score(u, c.put('b', ['cat:B']));
    };
    // raw 2, standardised 6
    assert.equal(scoreAt(0), 2);
    assert.equal(scoreAt(0.5), 4);
    assert.equal(scoreAt(0.75), 5);
    assert.equal(new ContentItems(calibrated, 3).boost, DEFAULT_NEW_ITEM_BOOST);
    assert.throws(() => new ContentItems(calibrated, 3, 1.5), /boost must be in \[0, 1\], got 1.5/);
    assert.throws(() => newItemBoost({ SCORER_NEW_ITEM_BOOST: -0.1 }), /SCORER_NEW_ITEM_BOOST/);
    assert.equal(newItemBoost({ SCORER_NEW_ITEM_BOOST: 0.3 }), 0.3);
    const view = new CatalogueView(0);
    view.put({ itemId: 'n', category: 'B', ...at(1) });
    const content = view.contentItems({ ...model, artifact: { ...model.artifact, contentMap: calibrated } })!;
    assert.equal(content.score(u, content.indexOf('n')), 2, 'the view passes its boost on');
  });

  it('merges two rankings into the best width', () => {
    const m = mergeRanked({ items: Int32Array.of(1, 2), scores: Float32Array.of(5, 1) }, { items: Int32Array.of(7), scores: Float32Array.of(3) }, 2);
    assert.deepEqual(Array.from(m.items), [1, 7]);
  });
});

describe(`${CatalogueView.name} with a content map`, () => {
  it('scores catalogue items the model has not seen, kept current as the catalogue changes, under the rules', () => {
    const view = new CatalogueView();
    view.put({ itemId: 'k1', category: 'A', ...at(1) });
    view.put({ itemId: 'old', category: 'A', available: false, ...at(1) });
    assert.equal(view.contentItems(model)!.size, 1, 'built at first use');
    const content = view.contentItems(model)!;
    // posted after the model was built: a vector at once
    for (let i = 0; i < 40; i++) view.put({ itemId: `new${i}`, category: 'B', price: i, ...at(2) });
    assert.equal(content.size, 41);
    const tables = view.tables(model);
    const ix = content.indexOf('new39');
    assert.ok(ix >= 3 && tables.price[ix] === 39, 'the tables grew to the new indices');
    // the rules judge content items like the model's own
    const rules = view.compile(model, resolveRules(DEFAULTS, { onlyAvailable: true, categories: ['B'], maxPrice: 10 }), []);
    const user = Float32Array.of(1, 1);
    const top = selectTopK(50, rules, 2 + content.size, (w, accept) => mergeRanked({ items: new Int32Array(0), scores: new Float32Array(0) }, content.topK(user, w, accept), w));
    assert.equal(top.items.length, 11, 'new0..new10 pass (B, price ≤ 10); old is unavailable and in A');
    assert.ok(Array.from(top.items).every((i) => (content.idOf(i) ?? '').startsWith('new')));
    // a change of content moves the vector; a deletion frees the slot and clears its facts
    view.put({ itemId: 'new39', category: 'A', ...at(3) });
    assert.equal(content.score(Float32Array.of(1, 0), content.indexOf('new39')), 1);
    view.remove('new39', 4);
    assert.equal(content.indexOf('new39'), 0);
    assert.equal(tables.category[ix], -1);
    // an item that loses every known feature loses its vector
    view.put({ itemId: 'new0', category: 'Z', ...at(5) });
    assert.equal(content.indexOf('new0'), 0);
  });

  it('keeps the tables of the last two model versions (a hot swap rebuilds neither) and patches both', () => {
    const view = new CatalogueView();
    view.put({ itemId: 'k1', category: 'A', ...at(1) });
    const next = new Map([['k1', 1], ['k3', 2]]);
    const swapped: IndexedModel = { indexOf: (id) => next.get(id) ?? 0, artifact: { index: next, vocabulary: ['', 'k1', 'k3'], contentMap: map } };
    const old = view.contentItems(model)!;
    const fresh = view.contentItems(swapped)!;
    assert.equal(view.contentItems(model), old, 'the old version alternating with the new: no rebuild');
    view.put({ itemId: 'k2', category: 'B', ...at(2) });
    assert.ok(old.indexOf('k2') === 0 && fresh.indexOf('k2') > 0, 'k2 is known to the old model, new to the next');
    view.put({ itemId: 'k3', category: 'B', ...at(2) });
    assert.ok(old.indexOf('k3') > 0 && fresh.indexOf('k3') === 0);
    const third = new Map([['k9', 1]]);
    view.contentItems({ indexOf: (id) => third.get(id) ?? 0, artifact: { index: third, vocabulary: ['', 'k9'], contentMap: map } });
    assert.notEqual(view.contentItems(model), old, 'a third version pushes the oldest out');
  });

  it('has no content items for a model without a content map', () => {
    const view = new CatalogueView();
    view.put({ itemId: 'n', category: 'A', ...at(1) });
    assert.equal(view.contentItems({ ...model, artifact: { index, vocabulary } }), null);
  });
});
