import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventV1 } from '@seqrec/contracts';
import { SequenceApplier, describeWindow } from './applier';
import { decodeWindow } from './codec';
import { MemoryItemDictionary, MemorySequenceStore, type WindowWrite, type WriteOutcome } from './stores';
import { ItemIdCache, decodeWindowUpdates } from './window-update';

const T0 = 1_795_000_000_000;
const event = (userId: string, itemId: string, s: number, type: EventV1['type'] = 'view'): EventV1 => ({ eventId: `${userId}-${s}`, userId, itemId, type, ts: T0 + s * 1000 });

function newTestApplier(capacity = 50) {
  const store = new MemorySequenceStore();
  const items = new MemoryItemDictionary();
  const sut = new SequenceApplier(store, items, { capacity, sessionGapMs: 30 * 60_000 });
  return { sut, store, items };
}

describe(SequenceApplier.name, () => {
  it('groups a batch by user and emits one update per user', async () => {
    const { sut, store, items } = newTestApplier();
    const batch = [event('a', 'x', 0), event('b', 'y', 1), event('a', 'z', 2, 'click')].map((e, i) => ({ partition: 0, offset: i, event: e }));
    const r = await sut.apply(batch);
    assert.equal(r.users, 2);
    assert.equal(r.applied, 3);
    const stored = await store.getMany(['a', 'b']);
    assert.deepEqual(r.updates.map((u) => [u.userId, u.applied]), [['a', 2], ['b', 1]]);
    assert.deepEqual(r.updates.map((u) => u.window), stored, 'each update carries the window as written');
    const { updates } = await decodeWindowUpdates(r.updates.map((u) => ({ key: Buffer.from(u.userId), value: u.window, timestamp: 5 })), new ItemIdCache(items), 30 * 60_000);
    assert.deepEqual(updates.map((u) => [u.userId, u.items, u.types, u.updatedAt]), [
      ['a', ['x', 'z'], [0, 1], 5],
      ['b', ['y'], [0], 5],
    ]);
    const [a] = await store.getMany(['a']);
    const described = await describeWindow(a!, items, 30 * 60_000);
    assert.deepEqual(described.events.map((e) => [e.itemId, e.type]), [['x', 'view'], ['z', 'click']]);
  });

  it('applies a redelivered batch once', async () => {
    const { sut, store } = newTestApplier();
    const batch = [event('a', 'x', 0), event('a', 'y', 1)].map((e, i) => ({ partition: 2, offset: 10 + i, event: e }));
    await sut.apply(batch);
    const again = await sut.apply(batch);
    assert.equal(again.applied, 0);
    assert.equal(again.stale, 2);
    assert.equal(again.updates.length, 0);
    const [a] = await store.getMany(['a']);
    assert.equal(decodeWindow(a!).events.length, 2);
  });

  it('recomputes after a conflicting concurrent write', async () => {
    const { store, items } = newTestApplier();
    let raced = false;
    const racing = Object.assign(Object.create(store) as MemorySequenceStore, {
      writeMany: async (writes: WindowWrite[]): Promise<WriteOutcome[]> => {
        if (!raced) {
          raced = true;
          const other = new SequenceApplier(store, items, { capacity: 50, sessionGapMs: 1 });
          await other.apply([{ partition: 0, offset: 0, event: event('a', 'first', 0) }]);
        }
        return store.writeMany(writes);
      },
    });
    const sut = new SequenceApplier(racing, items, { capacity: 50, sessionGapMs: 1 });
    const r = await sut.apply([{ partition: 0, offset: 1, event: event('a', 'second', 1) }]);
    assert.equal(r.conflicts, 1);
    const ids = await items.idsOf(decodeWindow(r.updates[0]!.window).events.map((e) => e.item));
    assert.deepEqual(ids, ['first', 'second']);
  });

  it('rebuilds a corrupt stored window from the batch and reports it, instead of failing the batch', async () => {
    const { sut, store, items } = newTestApplier();
    const corrupt = [Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 9, 200]), Buffer.from('not a window at all'), Buffer.from([1, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])];
    for (const [u, bytes] of corrupt.entries()) await store.writeMany([{ userId: `c${u}`, expected: null, next: bytes }]);
    const batch = [event('c0', 'x', 0), event('c1', 'y', 1), event('c2', 'z', 2), event('ok', 'w', 3)].map((e, i) => ({ partition: 0, offset: 100 + i, event: e }));
    const r = await sut.apply(batch);
    assert.equal(r.applied, 4);
    assert.deepEqual(r.corrupt.map((c) => [c.userId, c.window]), corrupt.map((bytes, u) => [`c${u}`, bytes]));
    assert.ok(r.corrupt.every((c) => c.detail.length > 0));
    const stored = await store.getMany(['c0', 'c1', 'c2']);
    for (const [u, buf] of stored.entries()) {
      const w = decodeWindow(buf!);
      assert.deepEqual(await items.idsOf(w.events.map((e) => e.item)), [['x', 'y', 'z'][u]]);
      assert.deepEqual(w.watermark, { partition: 0, offset: 100 + u });
    }
    const next = await sut.apply([{ partition: 0, offset: 200, event: event('c1', 'y2', 5) }]);
    assert.deepEqual([next.applied, next.corrupt.length], [1, 0], 'the rebuilt window is a normal window');
  });
});
