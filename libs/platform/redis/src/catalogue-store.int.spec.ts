import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CATALOGUE_BUCKETS, decodeItem, encodeItem, type RedisKeys } from '@seqrec/contracts';
import { RedisCatalogueStore } from './catalogue-store';
import type { RedisClient } from './cluster';
import { redisTestTargets, testRedis } from './testing';

/** The catalogue's memory budget per item (title, category, brand, price, two attributes; no image vector), bytes. */
const BUDGET_PER_ITEM = 200;

// The same suite on the single server and on the 3-master cluster of scripts/infra.sh.
for (const { name, target } of redisTestTargets()) {
  describe(`RedisCatalogueStore (${name === 'cluster' ? '3-master Redis Cluster' : 'single Redis'})`, () => {
    let redis: RedisClient;
    let keys: RedisKeys;
    let cleanup: () => Promise<void>;

    beforeEach(async () => ({ redis, keys, cleanup } = await testRedis(target)));
    afterEach(async () => cleanup());

    it('applies changes in order, reads them back, and a full scan sees every item once', async () => {
      const sut = new RedisCatalogueStore(redis, keys);
      const items = Array.from({ length: 500 }, (_, i) => ({ itemId: `sku-${i}`, price: i, category: `C${i % 9}` }));
      await sut.apply(items.map((it) => ({ itemId: it.itemId, record: encodeItem(it, 1_000) })));
      await sut.apply([
        { itemId: 'sku-1', record: encodeItem({ itemId: 'sku-1', price: 99, available: false }, 2_000) },
        { itemId: 'sku-2', record: null },
        { itemId: 'sku-3', record: null },
        { itemId: 'sku-3', record: encodeItem({ itemId: 'sku-3', price: 3 }, 3_000) },
      ]);
      const [one, two, three] = await sut.getMany(['sku-1', 'sku-2', 'sku-3']);
      assert.deepEqual(decodeItem('sku-1', one!), { itemId: 'sku-1', price: 99, available: false, updatedAt: 2_000 });
      assert.equal(two, null);
      assert.equal(decodeItem('sku-3', three!).updatedAt, 3_000, 'the last change of an item wins');
      const seen = new Map<string, number>();
      await sut.scan((page) => page.forEach(([id]) => seen.set(id, (seen.get(id) ?? 0) + 1)));
      assert.equal(seen.size, 499);
      assert.ok([...seen.values()].every((n) => n === 1));
    });

    it(`holds its memory budget: at most ${BUDGET_PER_ITEM} bytes per item (MEMORY USAGE of the bucket hashes)`, async () => {
      const sut = new RedisCatalogueStore(redis, keys);
      const n = 20_000;
      for (let from = 0; from < n; from += 2_000) {
        await sut.apply(
          Array.from({ length: 2_000 }, (_, j) => {
            const i = from + j;
            const item = { itemId: `sku-${i}`, title: `Item number ${i} in blue`, category: `Home/Kitchen/C${i % 50}`, brand: `Brand ${i % 300}`, price: (i % 1000) + 0.99, attributes: { colour: 'blue', size: i % 7 } };
            return { itemId: item.itemId, record: encodeItem(item, 1_795_000_000_000) };
          }),
        );
      }
      const bytes = await sut.memoryUsage();
      const perItem = bytes / n;
      console.log(`catalogue: ${n} items in ${CATALOGUE_BUCKETS} hashes: ${bytes} bytes, ${perItem.toFixed(1)} per item (record ${encodeItem({ itemId: 'x', title: 'Item number 12345 in blue', category: 'Home/Kitchen/C45', brand: 'Brand 45', price: 1.99, attributes: { colour: 'blue', size: 3 } }, 0).length} B)`);
      assert.ok(perItem <= BUDGET_PER_ITEM, `${perItem.toFixed(1)} bytes per item, budget ${BUDGET_PER_ITEM}`);
    });
  });
}
