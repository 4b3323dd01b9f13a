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
});
