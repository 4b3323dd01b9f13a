import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { EventV1, RedisKeys } from '@seqrec/contracts';
import { SequenceApplier, decodeWindow, encodeUserVector, type PositionedEvent, type SequenceStore } from '@seqrec/window';
import type { RedisClient } from './cluster';
import { RedisItemDictionary } from './item-dictionary';
import { RedisSequenceStore } from './sequence-store';
import { dumpNamespace, keysHolding, redisTestTargets, testRedis } from './testing';

const DAY = 86_400_000;
const view = (userId: string | undefined, sessionId: string | undefined, itemId: string, ts: number, eventId = `${itemId}-${ts}`): EventV1 => ({
  eventId,
  ...(userId ? { userId } : {}),
  ...(sessionId ? { sessionId } : {}),
  itemId,
  type: 'view',
  ts,
});

// The same suite on the single server and on the 3-master cluster of scripts/infra.sh.
for (const { name, target } of redisTestTargets()) {
  describe(`user erasure (right to be forgotten) on ${name === 'cluster' ? 'a 3-master Redis Cluster' : 'a single Redis'}`, () => {
    let redis: RedisClient;
    let keys: RedisKeys;
    let cleanup: () => Promise<void>;
    let store: RedisSequenceStore;
    let items: RedisItemDictionary;
    let offset = 0;
    const applier = (s: SequenceStore = store) => new SequenceApplier(s, items, { capacity: 50, sessionGapMs: 1_800_000 });
    const batch = (events: EventV1[], timestamp?: number): PositionedEvent[] =>
      events.map((event) => ({ partition: 0, offset: offset++, event, ...(timestamp === undefined ? {} : { timestamp }) }));
    const windowItems = async (userId: string) => {
      const buf = await redis.getBuffer(keys.userSequence(userId));
      return buf ? items.idsOf(decodeWindow(buf).events.map((e) => e.item)) : null;
    };

    beforeEach(async () => {
      ({ redis, keys, cleanup } = await testRedis(target));
      store = new RedisSequenceStore(redis, keys, { ttlMs: 3_600_000, sessionTtlMs: 600_000, markerTtlMs: 30 * DAY });
      items = new RedisItemDictionary(redis, keys);
    });
    afterEach(async () => cleanup());

    it('erases the window, vector, sessions and their links; only the marker names the user, and it holds a time', async () => {
      const t = Date.now() - 60_000;
      const [alice, bob] = ['alice-7f3a', 'bob-19c2'];
      // alice browses anonymously in s-anon, logs in with it, logs in again from s-empty (nothing to merge)
      await applier().apply(batch([view(undefined, 's-anon', 'a', t), view(undefined, 's-anon', 'b', t + 1)]));
      await applier().apply(batch([view(alice, 's-anon', 'c', t + 2), view(alice, 's-empty@1:2', 'd', t + 3)]));
      await applier().apply(batch([view(bob, 's-bob', 'a', t + 4)]));
      await redis.set(keys.userVector(alice), encodeUserVector({ version: 'v1', lastTs: t + 3, events: 4, vector: new Float32Array([0.5, -0.5]) }));
      assert.deepEqual(await windowItems(alice), ['a', 'b', 'c', 'd']);
      assert.ok(keysHolding(await dumpNamespace(redis, keys), alice).length >= 5, 'the user is in the window, vector, sessions, logins and the session links');

      const at = Date.now();
      const erased = await store.erase({ userId: alice, at, objection: false });
      assert.equal(erased.applied, true);
      assert.equal(erased.sessions, 2, 's-anon (merged) and s-empty@1:2 (linked, nothing merged; an id that looks like a merge id)');

      const dump = await dumpNamespace(redis, keys);
      assert.deepEqual(keysHolding(dump, alice), [keys.userDeleted(alice)], 'nothing of the user but the deletion marker');
      assert.equal(await redis.get(keys.userDeleted(alice)), String(at), 'the marker holds the deletion time only');
      const ttl = await redis.pttl(keys.userDeleted(alice));
      assert.ok(ttl > 29 * DAY && ttl <= 30 * DAY, `marker TTL ${ttl}`);
      assert.deepEqual(await windowItems(bob), ['a'], 'another user is untouched');
      assert.equal(await redis.get(keys.sessionMergedInto('s-bob')), `1:${bob}`, "another user's session link is untouched");
    });

    it('events in flight when the user was deleted never recreate the window; a user who comes back starts fresh', async () => {
      const alice = 'alice-inflight';
      const t = Date.now() - 10_000;
      await applier().apply(batch([view(alice, undefined, 'a', t)]));
      const at = Date.now();
      await store.erase({ userId: alice, at, objection: false });
      // stamped before the deletion by the producer, or (clock skew) only by Kafka
      const r = await applier().apply([...batch([view(alice, undefined, 'b', t + 1)]), ...batch([view(alice, undefined, 'c', at + 5_000)], at - 1)]);
      assert.equal(r.deleted, 2);
      assert.equal(r.applied, 0);
      assert.equal(await windowItems(alice), null);
      // back after the deletion
      const back = await applier().apply(batch([view(alice, undefined, 'z', at + 10_000)], at + 10_000));
      assert.deepEqual([back.applied, back.deleted], [1, 0]);
      assert.deepEqual(await windowItems(alice), ['z'], 'only what came after the deletion');
    });

    it('a deletion the applier has not met refuses the write in the script; the events are dropped', async () => {
      const alice = 'alice-race';
      const t = Date.now() - 10_000;
      let at = 0;
      let erased = false;
      // the deletion lands after the applier read the windows and before it writes
      const racing = Object.assign(Object.create(store) as RedisSequenceStore, {
        writeMany: async (writes: Parameters<SequenceStore['writeMany']>[0]) => {
          if (!erased) {
            erased = true;
            at = Date.now();
            await store.erase({ userId: alice, at, objection: false });
          }
          return store.writeMany(writes);
        },
      });
      const r = await applier(racing).apply(batch([view(alice, undefined, 'a', t), view(alice, undefined, 'b', t + 1)]));
      assert.equal(erased, true);
      assert.deepEqual([r.applied, r.deleted, r.updates.length], [0, 2, 0]);
      assert.equal(await windowItems(alice), null);
    });

    it('reads no marker for users never deleted; a returning user is written at once after the first refusal', async () => {
      const alice = 'alice-returns';
      const at = Date.now() - 60_000;
      await store.erase({ userId: alice, at, objection: false });
      let reads = 0;
      let refusals = 0;
      const counting = Object.assign(Object.create(store) as RedisSequenceStore, {
        markers: async (ids: string[]) => {
          reads += ids.length;
          return store.markers(ids);
        },
        writeMany: async (writes: Parameters<SequenceStore['writeMany']>[0]) => {
          const out = await store.writeMany(writes);
          refusals += out.filter((o) => o === 'deleted').length;
          return out;
        },
      });
      const sut = applier(counting);
      const others = Array.from({ length: 50 }, (_, u) => view(`never-deleted-${u}`, undefined, 'a', Date.now()));
      await sut.apply(batch(others));
      assert.deepEqual([reads, refusals], [0, 0], 'no marker read, no refusal for users never deleted');
      // back after the deletion: the first batch is refused once and learns the marker, the next ones are not
      const first = await sut.apply(batch([view(alice, undefined, 'x', at + 1_000)], at + 1_000));
      const second = await sut.apply(batch([view(alice, undefined, 'y', at + 2_000)], at + 2_000));
      assert.deepEqual([first.applied, second.applied, refusals, reads], [1, 1, 1, 1]);
      assert.deepEqual(await windowItems(alice), ['x', 'y']);
    });

    it('is idempotent and replay-safe: the same or an older deletion does nothing, nor one older than the marker lifetime', async () => {
      const alice = 'alice-replay';
      const at = Date.now() - 5_000;
      assert.equal((await store.erase({ userId: alice, at, objection: false })).applied, true);
      await applier().apply(batch([view(alice, undefined, 'new', at + 1_000)], at + 1_000));
      // the deletions topic replayed: the same record, then an older one
      assert.equal((await store.erase({ userId: alice, at, objection: false })).applied, false);
      assert.equal((await store.erase({ userId: alice, at: at - 1, objection: false })).applied, false);
      assert.deepEqual(await windowItems(alice), ['new'], "the returning user's new window is kept");
      // the marker expired (after the events topic's retention): an old record finds nothing to protect
      await redis.del(keys.userDeleted(alice));
      assert.equal((await store.erase({ userId: alice, at: Date.now() - 31 * DAY, objection: false })).applied, false);
      assert.deepEqual(await windowItems(alice), ['new']);
      // a new deletion applies again
      assert.equal((await store.erase({ userId: alice, at: Date.now(), objection: false })).applied, true);
      assert.equal(await windowItems(alice), null);
    });

    it('an objection keeps every later event out until it is withdrawn', async () => {
      const carol = 'carol-objects';
      const at = Date.now();
      await applier().apply(batch([view(carol, undefined, 'a', at - 1_000)]));
      await store.erase({ userId: carol, at, objection: true });
      assert.equal(await redis.get(keys.userDeleted(carol)), `o:${at}`);
      assert.equal(await redis.pttl(keys.userDeleted(carol)), -1, 'an objection has no TTL');
      const sut = applier();
      const later = await sut.apply(batch([view(carol, 's-c', 'b', at + 60_000)], at + 60_000));
      assert.deepEqual([later.applied, later.deleted], [0, 1]);
      assert.equal(await windowItems(carol), null);
      assert.equal(await redis.exists(keys.userLogins(carol)), 0, 'not even the login is recorded');
      // withdrawn: a deletion record after it; events after the withdrawal count again
      const withdrawn = Date.now() + 100_000;
      assert.equal((await store.erase({ userId: carol, at: withdrawn, objection: false })).applied, true);
      // the same applier, which met the objection: the withdrawal is honoured all the same
      await sut.apply(batch([view(carol, undefined, 'c', withdrawn + 1_000)], withdrawn + 1_000));
      assert.deepEqual(await windowItems(carol), ['c']);
    });
  });
}
