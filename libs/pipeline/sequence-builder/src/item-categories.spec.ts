import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeItem } from '@seqrec/contracts';
import { MemoryCatalogueStore } from '@seqrec/window';
import { ItemCategories } from './item-categories';

describe(ItemCategories.name, () => {
  it('reads top-level categories from the catalogue once per TTL; no record or an unreadable one has none', async () => {
    const store = new MemoryCatalogueStore();
    await store.apply([
      { itemId: 'a', record: encodeItem({ itemId: 'a', category: 'Toys/Cars' }, 1) },
      { itemId: 'b', record: encodeItem({ itemId: 'b' }, 1) },
      { itemId: 'bad', record: Buffer.from([9, 9]) },
    ]);
    let reads = 0;
    const counting = { ...store, apply: store.apply.bind(store), scan: store.scan.bind(store), getMany: (ids: string[]) => (reads++, store.getMany(ids)) };
    const sut = new ItemCategories(counting, 1_000);
    const got = await sut.of(['a', 'b', 'bad', 'none', 'a'], 0);
    assert.deepEqual([...got], [['a', 'Toys'], ['b', undefined], ['bad', undefined], ['none', undefined]]);
    await store.apply([{ itemId: 'a', record: encodeItem({ itemId: 'a', category: 'Garden' }, 2) }]);
    assert.equal((await sut.of(['a'], 999)).get('a'), 'Toys', 'cached within the TTL');
    assert.equal(reads, 1);
    assert.equal((await sut.of(['a'], 1_000)).get('a'), 'Garden', 'read again after it');
    assert.equal(reads, 2);
  });
});
