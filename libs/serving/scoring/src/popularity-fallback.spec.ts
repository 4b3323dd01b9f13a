import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContentMap } from '@seqrec/model';
import { MemoryTrendingStore } from '@seqrec/window';
import { CatalogueView } from './catalogue-view';
import { PopularityFallback } from './popularity-fallback';
import { resolveRules } from './rules';
import type { ServingModel } from './serving-model';

// 60 garden tools that trend hard overall, 5 toys that trend a little
const garden = Array.from({ length: 60 }, (_, i) => `g${i}`);
const toys = Array.from({ length: 5 }, (_, i) => `t${i}`);
const vocabulary = ['', ...garden, ...toys];
const index = new Map(vocabulary.map((id, i) => [id, i] as const).slice(1));
const model = {
  indexOf: (id: string) => index.get(id) ?? 0,
  artifact: { index, vocabulary, popularity: new Float32Array(vocabulary.length) },
  popular: () => ({ items: new Int32Array(0), scores: new Float32Array(0) }),
} as unknown as ServingModel;

describe(PopularityFallback.name, () => {
  it("answers a category filter from that category's trending list, not the overall one filtered", async () => {
    const trending = new MemoryTrendingStore(3_600_000);
    const now = Date.now();
    let offset = 0;
    const events = [
      ...garden.flatMap((itemId) => [0, 1, 2].map(() => ({ offset: offset++, ts: now, itemId, category: 'Garden' }))),
      ...toys.map((itemId, i) => Array.from({ length: 1 + (i % 2) }, () => ({ offset: offset++, ts: now, itemId, category: 'Toys' }))).flat(),
    ];
    await trending.record(0, events);
    const view = new CatalogueView();
    for (const id of garden) view.put({ itemId: id, category: 'Garden/Tools', updatedAt: 1 });
    for (const id of toys) view.put({ itemId: id, category: 'Toys/Cars', updatedAt: 1 });
    const sut = new PopularityFallback(trending, { trendingCacheMs: 0, maxK: 5 });
    const spec = resolveRules({ onlyAvailable: false, excludeCategories: [], excludeInteracted: [], maxPerCategory: 0 }, { categories: ['Toys/Cars'] });
    const rules = view.compile(model, spec, []);
    const got = await sut.top(model, 3, rules, spec.categories);
    assert.equal(got.source, 'trending');
    assert.deepEqual(got.items.map((i) => i.itemId), ['t1', 't3', 't0']);
    assert.ok(got.items.every((i) => i.score > 0), 'real trending counts, not a training-time fill');
    // the overall list (55 items read, all garden tools) has none of them (and this model no training-time popularity)
    assert.deepEqual((await sut.top(model, 3, rules)).items, []);
  });

  it('keeps trending items the model has not seen under rules when the catalogue scores them from content', async () => {
    const trending = new MemoryTrendingStore(3_600_000);
    const now = Date.now();
    await trending.record(0, [
      { offset: 0, ts: now, itemId: 'new-toy', category: 'Toys' },
      { offset: 1, ts: now, itemId: 'new-toy', category: 'Toys' },
      { offset: 2, ts: now, itemId: 't0', category: 'Toys' },
    ]);
    const map = ContentMap.fromJSON({ features: ['cat:Toys'], dim: 1, lambda: 1, mean: [0], weights: [1] });
    const withMap = { ...model, artifact: { ...model.artifact, contentMap: map } } as unknown as ServingModel;
    const view = new CatalogueView();
    view.put({ itemId: 't0', category: 'Toys/Cars', updatedAt: 1 });
    view.put({ itemId: 'new-toy', category: 'Toys/Cars', updatedAt: 1 });
    const sut = new PopularityFallback(trending, { trendingCacheMs: 0, maxK: 5 });
    const spec = resolveRules({ onlyAvailable: true, excludeCategories: [], excludeInteracted: [], maxPerCategory: 0 }, { categories: ['Toys'] });
    const got = await sut.top(withMap, 2, view.compile(withMap, spec, []), spec.categories, view.contentItems(withMap));
    assert.deepEqual(got.items.map((i) => i.itemId), ['new-toy', 't0']);
    // without the content items it cannot be judged, and is left out
    assert.deepEqual((await sut.top(withMap, 2, view.compile(withMap, spec, []), spec.categories)).items.map((i) => i.itemId), ['t0']);
  });
});
