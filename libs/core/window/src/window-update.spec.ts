import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeWindow } from './codec';
import { MemoryItemDictionary } from './stores';
import { ItemIdCache, decodeWindowUpdates } from './window-update';

describe(ItemIdCache.name, () => {
  it('asks the dictionary only for indices it has not seen', async () => {
    const dict = new MemoryItemDictionary();
    await dict.indicesOf(['a', 'b', 'c']);
    const asked: number[][] = [];
    const sut = new ItemIdCache({ idsOf: (ix) => (asked.push(ix), dict.idsOf(ix)) });
    assert.deepEqual([...(await sut.idsOf([0, 1])).entries()].sort(), [[0, 'a'], [1, 'b']]);
    assert.equal((await sut.idsOf([1, 2])).get(2), 'c');
    assert.deepEqual(asked, [[0, 1], [2]]);
  });

  it('starts again empty past its bound', async () => {
    const dict = new MemoryItemDictionary();
    await dict.indicesOf(['a', 'b', 'c']);
    const sut = new ItemIdCache(dict, 2);
    await sut.idsOf([0, 1]);
    const ids = await sut.idsOf([2]);
    assert.equal(ids.get(2), 'c');
    assert.ok(ids.size <= 2);
  });
});

describe(decodeWindowUpdates.name, () => {
  it('resolves item ids and sessions, and counts unreadable messages instead of throwing', async () => {
    const dict = new MemoryItemDictionary();
    await dict.indicesOf(['x', 'y']);
    const t = 1_795_000_000_000;
    const window = encodeWindow({
      watermark: { partition: 1, offset: 9 },
      events: [
        { item: 0, type: 0, ts: t },
        { item: -1, type: 2, ts: t + 1_000 },
        { item: 1, type: 3, ts: t + 3_600_000 },
      ],
    });
    const { updates, bad } = await decodeWindowUpdates(
      [
        { key: Buffer.from('u1'), value: window, timestamp: 42 },
        { key: null, value: window, timestamp: 1 },
        { key: Buffer.from('u2'), value: Buffer.from([9, 9, 9]), timestamp: 1 },
      ],
      new ItemIdCache(dict),
      30 * 60_000,
    );
    assert.equal(bad, 2);
    assert.deepEqual(updates, [
      { userId: 'u1', lastTs: t + 3_600_000, updatedAt: 42, items: ['x', '', 'y'], types: [0, 2, 3], ts: [t, t + 1_000, t + 3_600_000], sessions: [0, 0, 1] },
    ]);
  });
});
