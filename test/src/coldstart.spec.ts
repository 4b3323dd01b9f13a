/**
 * New items end to end (issue 19 part 5), every service as its own process against real Kafka and
 * Redis: the catalogue is posted to the ingester, the trainer fits the content map from the
 * catalogue store's content of the items its model knows and ships it in the artifact, the scorer
 * loads it; an item posted to the catalogue after training is then recommended (inside the top-k
 * with a category rule), re-ranked with a real score and given similar items, all from its content,
 * without a retrain. The shopper's events also count as trending in their items' top-level
 * category, which answers a newcomer's category page.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@seqrec/kafka/testing';
import { RedisCatalogueStore } from '@seqrec/redis';
import type { RunningService } from '@seqrec/testing';
import type { Redis } from 'ioredis';
import { E2eStack } from './stack';

/** Items 1..30: even ids in category Toys/Cars (brand acme), odd ids in Garden/Tools (brand verde). */
const ITEMS = Array.from({ length: 30 }, (_, i) => String(i + 1));
const toys = (id: string) => Number(id) % 2 === 0;
const item = (id: string) =>
  toys(id) ? { itemId: id, title: `racing car model ${id}`, category: 'Toys/Cars', brand: 'acme', price: 10 } : { itemId: id, title: `garden rake ${id}`, category: 'Garden/Tools', brand: 'verde', price: 20 };
/** Posted after training: the model has never seen it. */
const FRESH = { itemId: 'fresh-car', title: 'racing car deluxe', category: 'Toys/Cars', brand: 'acme', price: 15 };
const FRESHNESS_BUDGET_MS = 10_000;

interface Scored {
  itemId: string;
  score: number | null;
  source?: string;
}

describe('new items: catalogue → trainer content map → scorer scores an item posted after training', () => {
  const stack = new E2eStack('cold', { MODEL_NAME: 'sasrec', INGEST_EXACTLY_ONCE: 'false', SCORER_MODEL_POLL_SECONDS: '0' });
  const { ns, keys, store } = stack;
  const dataDir = mkdtempSync(join(tmpdir(), 'cold-e2e-data-'));
  const data = join(dataDir, 'train.txt');
  let ingester: RunningService;
  let scorer: RunningService;
  let trainer: RunningService;
  let redis: Redis;

  before(async () => {
    // 300 users, each browsing one category in order: the item table separates the categories.
    const lines: string[] = [];
    for (let u = 1; u <= 300; u++) {
      const own = ITEMS.filter((id) => toys(id) === (u % 2 === 0));
      for (let j = 0; j < 10; j++) lines.push(`${u} ${own[(u + j) % own.length]}`);
    }
    writeFileSync(data, `${lines.join('\n')}\n`);
    await stack.createTopics(2);
    redis = await stack.redis();
    [ingester, , scorer, trainer] = await stack.startAll([
      'ingester',
      'sequence-builder',
      ['scorer', { INSTANCE_ID: `${ns}-scorer` }],
      ['trainer', { TRAIN_DATA_PATH: data, TRAIN_DATA_FORMAT: 'sasrec', TRAIN_EPOCHS: '30', TRAIN_PATIENCE: '30', TRAIN_LR: '0.01', TRAIN_DIM: '16', TRAIN_MAX_LEN: '10', TRAIN_WARM_START: 'false' }],
    ]);
  });

  after(async () => {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async <T>(base: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.ok(res.status < 300, `${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  };

  it('fits the content map at training time and scores an item posted after it from its content', async () => {
    assert.equal((await fetch(`${ingester.url}/v1/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ITEMS.map(item)) })).status, 200);
    const catalogue = new RedisCatalogueStore(redis, keys);
    await waitFor('the catalogue in Redis', async () => (await catalogue.getMany(ITEMS)).every((b) => b !== null), 15_000);

    const run = await call<{ runId: string }>(trainer.url, '/v1/train', {});
    const done = await waitFor<{ status: string; error?: string; result?: { version: string; promoted: boolean } }>(
      'the training run',
      async () => {
        const r = await call<{ status: string; error?: string; result?: { version: string; promoted: boolean } }>(trainer.url, `/v1/train/runs/${run.runId}`);
        return r.status === 'running' ? false : r;
      },
      240_000,
    );
    assert.equal(done.status, 'succeeded', done.error);
    const version = done.result!.version;
    assert.ok(existsSync(join(store.location('sasrec', version), 'content-map.json')), 'the artifact carries the content map');
    const details = (await store.manifest('sasrec', version)).details as { contentMap: { itemsWithContent: number; features: number } };
    assert.equal(details.contentMap.itemsWithContent, 30);
    assert.ok(details.contentMap.features >= 4, `features ${details.contentMap.features}`);
    await waitFor('the scorer to serve the trained version', async () => {
      const r = await fetch(`${scorer.url}/v1/items/2/similar?k=1`);
      return r.status === 200 && ((await r.json()) as { model: { version: string } }).model.version === version;
    }, 60_000);

    // a shopper who browsed toy cars
    const ts = Date.now();
    const events = ['2', '4', '6', '8'].map((itemId, i) => ({ eventId: `${ns}-e${i}`, userId: 'shopper', type: 'view', itemId, ts: ts - (4 - i) * 1000 }));
    await call(ingester.url, '/v1/events', events);
    await waitFor('the live window', async () => (await call<{ sequence: { events: number } }>(scorer.url, '/v1/users/shopper/recommendations?k=1')).sequence.events === 4, FRESHNESS_BUDGET_MS);

    // counted as trending overall and in the items' top-level category (the builder read it from the catalogue)
    assert.deepEqual((await redis.zrange(keys.trendingItems('cat:Toys'), 0, -1)).sort(), ['2', '4', '6', '8']);
    assert.equal(await redis.exists(keys.trendingItems('cat:Garden')), 0);
    const newcomer = await call<{ items: Scored[]; popularity: string; fallback: string }>(scorer.url, '/v1/users/newcomer/recommendations?k=4&category=Toys');
    assert.equal(newcomer.fallback, 'popularity');
    assert.equal(newcomer.popularity, 'trending');
    assert.deepEqual(newcomer.items.map((i) => i.itemId).sort(), ['2', '4', '6', '8']);

    const t0 = performance.now();
    assert.equal((await fetch(`${ingester.url}/v1/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(FRESH) })).status, 200);
    const ranked = await waitFor<{ items: Scored[] }>(
      'the new item scored from its content',
      async () => {
        const r = await call<{ items: Scored[] }>(scorer.url, '/v1/rank', { userId: 'shopper', items: ['3', FRESH.itemId, '10', 'nowhere'], sort: true });
        return r.items.some((i) => i.itemId === FRESH.itemId && i.source === 'content') ? r : false;
      },
      FRESHNESS_BUDGET_MS,
    );
    console.log(`new item scored from its content ${(performance.now() - t0).toFixed(0)} ms after POST /v1/items`);
    const fresh = ranked.items.find((i) => i.itemId === FRESH.itemId)!;
    assert.equal(typeof fresh.score, 'number');
    // its content is a toy car's: it scores like the toy cars the shopper browsed, above the garden tools
    const all = (await call<{ items: Scored[] }>(scorer.url, '/v1/rank', { userId: 'shopper', items: ITEMS })).items;
    const mean = (ids: Scored[]) => ids.reduce((s, i) => s + i.score!, 0) / ids.length;
    const cars = mean(all.filter((i) => toys(i.itemId)));
    const tools = mean(all.filter((i) => !toys(i.itemId)));
    console.log(`shopper of toy cars: new toy car ${fresh.score!.toFixed(3)} from content; known toy cars mean ${cars.toFixed(3)}, garden tools mean ${tools.toFixed(3)}`);
    assert.ok(cars > tools, 'the trained model itself separates the categories');
    assert.ok(fresh.score! > tools, `the new toy car (${fresh.score}) above the garden tools' mean (${tools})`);
    assert.equal(ranked.items.at(-1)!.itemId, 'nowhere', 'an item in no catalogue stays unscored, last');
    assert.equal(ranked.items.at(-1)!.score, null);

    // recommended inside the top-k with a category rule: every toy car, the new one among them
    const recs = await call<{ items: Scored[]; scoredFrom: string }>(scorer.url, '/v1/users/shopper/recommendations?k=16&category=Toys');
    assert.equal(recs.items.length, 16, '15 known toy cars + the new one pass the rule');
    assert.deepEqual(recs.items.filter((i) => i.source === 'content').map((i) => i.itemId), [FRESH.itemId]);
    assert.ok(recs.items.every((i) => i.itemId === FRESH.itemId || toys(i.itemId)));

    // similar items of the new item: real neighbours, no fallback
    const similar = await call<{ items: Scored[]; fallback?: string }>(scorer.url, `/v1/items/${FRESH.itemId}/similar?k=5`);
    assert.equal(similar.fallback, undefined);
    assert.equal(similar.items.length, 5);

    // deleted from the catalogue: no longer scored
    assert.equal((await fetch(`${ingester.url}/v1/items/${FRESH.itemId}`, { method: 'DELETE' })).status, 200);
    await waitFor('the deletion', async () => {
      const r = await call<{ items: Scored[] }>(scorer.url, '/v1/rank', { userId: 'shopper', items: [FRESH.itemId] });
      return r.items[0]!.score === null;
    }, FRESHNESS_BUDGET_MS);
  });
});
