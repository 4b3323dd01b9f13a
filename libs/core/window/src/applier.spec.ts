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

  describe('anonymous sessions', () => {
    const anon = (sessionId: string, itemId: string, s: number): EventV1 => ({ eventId: `${sessionId}-${s}`, sessionId, itemId, type: 'view', ts: T0 + s * 1000 });
    const login = (userId: string, sessionId: string, itemId: string, s: number): EventV1 => ({ ...event(userId, itemId, s), sessionId });
    const at = (partition: number, from: number, events: EventV1[]) => events.map((e, i) => ({ partition, offset: from + i, event: e }));
    const itemsOf = async (items: MemoryItemDictionary, buf: Buffer | null) => (buf ? items.idsOf(decodeWindow(buf).events.map((e) => e.item)) : null);

    it('keeps a window per session, apart from users, and publishes no update for it', async () => {
      const { sut, store, items } = newTestApplier();
      const r = await sut.apply(at(1, 0, [anon('s1', 'x', 0), anon('s1', 'y', 1), event('s1', 'z', 2)]));
      assert.equal(r.applied, 3);
      assert.deepEqual(r.updates.map((u) => u.userId), ['s1'], 'the user "s1" is not the session "s1"');
      assert.equal(r.sessionUpdates, 1);
      assert.deepEqual(await itemsOf(items, (await store.getMany(['s1'], 'session'))[0]!), ['x', 'y']);
      assert.deepEqual(await itemsOf(items, (await store.getMany(['s1']))[0]!), ['z']);
    });

    it('merges the session into the user once at login, and the redelivery changes nothing', async () => {
      const { sut, store, items } = newTestApplier();
      const browsing = at(1, 0, [anon('s1', 'a', 0), anon('s1', 'b', 10)]);
      const before = at(0, 0, [event('u1', 'old', 5)]);
      const loggedIn = at(0, 1, [login('u1', 's1', 'c', 20), login('u1', 's1', 'd', 21)]);
      await sut.apply(browsing);
      await sut.apply(before);
      const r = await sut.apply(loggedIn);
      assert.deepEqual(r.merges, { merged: 1, empty: 0, before: 0, taken: 0 });
      const [u1] = await store.getMany(['u1']);
      assert.deepEqual(await itemsOf(items, u1!), ['a', 'old', 'b', 'c', 'd']);
      assert.deepEqual(r.updates.map((u) => [u.userId, u.window]), [['u1', u1]], 'the update carries the merged window');
      assert.deepEqual(await store.getMany(['s1'], 'session'), [null], 'the session window is gone');
      assert.deepEqual(await store.mergedInto(['s1']), ['u1']);
      for (const batch of [browsing, before, loggedIn]) {
        const again = await sut.apply(batch);
        assert.deepEqual([again.applied, again.updates.length, again.merges.merged], [0, 0, 0]);
      }
      assert.ok((await store.getMany(['u1']))[0]!.equals(u1!));
    });

    it("sends the session's events after the merge to the user", async () => {
      const { sut, store, items } = newTestApplier();
      await sut.apply(at(1, 0, [anon('s1', 'a', 0)]));
      await sut.apply(at(0, 0, [login('u1', 's1', 'b', 5)]));
      const r = await sut.apply(at(1, 1, [anon('s1', 'c', 9)]));
      assert.deepEqual(r.updates.map((u) => u.userId), ['u1']);
      assert.deepEqual(await itemsOf(items, (await store.getMany(['u1']))[0]!), ['a', 'b', 'c']);
      assert.deepEqual(await store.getMany(['s1'], 'session'), [null]);
      const again = await sut.apply(at(1, 0, [anon('s1', 'a', 0), anon('s1', 'c', 9)]));
      assert.deepEqual([again.applied, again.stale], [0, 2], "the session's watermark moved to the user");
    });

    it('moves anonymous events to the user when the merge began while they were computed', async () => {
      const { store, items } = newTestApplier();
      const sut = new SequenceApplier(store, items, { capacity: 50, sessionGapMs: 1 });
      await sut.apply(at(1, 0, [anon('s1', 'a', 0)]));
      let raced = false;
      const racing = Object.assign(Object.create(store) as MemorySequenceStore, {
        writeMany: async (writes: WindowWrite[]): Promise<WriteOutcome[]> => {
          if (!raced && writes.some((w) => w.kind === 'session')) {
            raced = true;
            await sut.apply(at(0, 0, [login('u1', 's1', 'b', 5)]));
          }
          return store.writeMany(writes);
        },
      });
      const r = await new SequenceApplier(racing, items, { capacity: 50, sessionGapMs: 1 }).apply(at(1, 1, [anon('s1', 'c', 9)]));
      assert.deepEqual(r.updates.map((u) => u.userId), ['u1']);
      assert.deepEqual(await itemsOf(items, (await store.getMany(['u1']))[0]!), ['a', 'b', 'c']);
    });

    it('merges once when the builder dies between the steps and the login is redelivered', async () => {
      for (const dieAt of ['commitMerge', 'endMerge'] as const) {
        const { store, items } = newTestApplier();
        await new SequenceApplier(store, items, { capacity: 50, sessionGapMs: 1 }).apply(at(1, 0, [anon('s1', 'a', 0), anon('s1', 'b', 1)]));
        const dying = Object.assign(Object.create(store) as MemorySequenceStore, {
          [dieAt]: async (...args: never[]) => {
            if (dieAt === 'endMerge') await (store.commitMerge as (...a: never[]) => Promise<unknown>)(...args).catch(() => undefined);
            throw new Error(`builder killed before ${dieAt}`);
          },
        });
        const batch = at(0, 0, [login('u1', 's1', 'c', 5)]);
        await assert.rejects(new SequenceApplier(dying, items, { capacity: 50, sessionGapMs: 1 }).apply(batch));
        const r = await new SequenceApplier(store, items, { capacity: 50, sessionGapMs: 1 }).apply(batch);
        assert.equal(r.merges.merged + r.merges.before, 1, dieAt);
        assert.deepEqual(await itemsOf(items, (await store.getMany(['u1']))[0]!), ['a', 'b', 'c'], dieAt);
        assert.deepEqual(await store.getMany(['s1'], 'session'), [null], dieAt);
      }
    });

    it("asks the store about a merged session's later events once, not per batch", async () => {
      const { store, items } = newTestApplier();
      let begins = 0;
      const counting = Object.assign(Object.create(store) as MemorySequenceStore, {
        beginMerge: async (merges: Array<{ sessionId: string; userId: string }>) => {
          begins += merges.length;
          return store.beginMerge(merges);
        },
      });
      const sut = new SequenceApplier(counting, items, { capacity: 50, sessionGapMs: 1 });
      await sut.apply(at(1, 0, [anon('s1', 'a', 0)]));
      for (let i = 0; i < 5; i++) await sut.apply(at(0, i, [login('u1', 's1', `b${i}`, 5 + i)]));
      assert.equal(begins, 1);
      // another builder (no memory of it) asks once and then remembers too
      const other = new SequenceApplier(counting, items, { capacity: 50, sessionGapMs: 1 });
      for (let i = 5; i < 8; i++) assert.equal((await other.apply(at(0, i, [login('u1', 's1', `b${i}`, 5 + i)]))).merges.before, 1);
      assert.equal(begins, 2);
      assert.deepEqual(await itemsOf(items, (await store.getMany(['u1']))[0]!), ['a', ...Array.from({ length: 8 }, (_, i) => `b${i}`)]);
    });

    it('lets the first login win: another user with the same session merges nothing', async () => {
      const { sut, store, items } = newTestApplier();
      await sut.apply(at(1, 0, [anon('s1', 'a', 0)]));
      await sut.apply(at(0, 0, [login('u1', 's1', 'b', 5)]));
      const r = await sut.apply(at(0, 1, [login('u2', 's1', 'c', 6)]));
      assert.deepEqual(r.merges, { merged: 0, empty: 0, before: 0, taken: 1 });
      assert.deepEqual(await itemsOf(items, (await store.getMany(['u2']))[0]!), ['c']);
      assert.deepEqual(await itemsOf(items, (await store.getMany(['u1']))[0]!), ['a', 'b']);
    });

    it("closes a session whose login comes before its anonymous events (another partition): they go to the user", async () => {
      const { sut, store, items } = newTestApplier();
      const r = await sut.apply(at(0, 0, [login('u1', 's9', 'b', 5), login('u1', 's9', 'c', 6)]));
      assert.deepEqual(r.merges, { merged: 0, empty: 1, before: 0, taken: 0 });
      assert.deepEqual(await store.mergedInto(['s9']), ['u1']);
      await sut.apply(at(1, 0, [anon('s9', 'a', 1)]));
      assert.deepEqual(await itemsOf(items, (await store.getMany(['u1']))[0]!), ['a', 'b', 'c']);
      assert.deepEqual(await store.getMany(['s9'], 'session'), [null]);
    });
  });
});
