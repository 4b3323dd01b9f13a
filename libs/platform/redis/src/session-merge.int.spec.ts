import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { EventV1, RedisKeys } from '@seqrec/contracts';
import { SequenceApplier, decodeWindow, type PositionedEvent } from '@seqrec/window';
import { keySlot, type RedisClient } from './cluster';
import { RedisItemDictionary } from './item-dictionary';
import { RedisSequenceStore } from './sequence-store';
import { redisTestTargets, testRedis } from './testing';

const T0 = 1_795_000_000_000;
const anon = (sessionId: string, itemId: string, s: number): EventV1 => ({ eventId: `${sessionId}-${s}`, sessionId, itemId, type: 'view', ts: T0 + s * 1000 });
const login = (userId: string, sessionId: string, itemId: string, s: number): EventV1 => ({ eventId: `${userId}-${s}`, userId, sessionId, itemId, type: 'click', ts: T0 + s * 1000 });
const at = (partition: number, from: number, events: EventV1[]): PositionedEvent[] => events.map((event, i) => ({ partition, offset: from + i, event }));

// The same suite on the single server and on the 3-master cluster of scripts/infra.sh.
for (const { name, target } of redisTestTargets()) {
  const onCluster = name === 'cluster';
  describe(`anonymous sessions and their merge on ${onCluster ? 'a 3-master Redis Cluster' : 'a single Redis'}`, () => {
    let redis: RedisClient;
    let keys: RedisKeys;
    let cleanup: () => Promise<void>;
    let store: RedisSequenceStore;
    let items: RedisItemDictionary;
    const applier = () => new SequenceApplier(store, items, { capacity: 50, sessionGapMs: 1_800_000 });
    const itemsOf = async (buf: Buffer | null | undefined) => (buf ? items.idsOf(decodeWindow(buf).events.map((e) => e.item)) : null);

    beforeEach(async () => {
      ({ redis, keys, cleanup } = await testRedis(target));
      store = new RedisSequenceStore(redis, keys, { ttlMs: 3_600_000, sessionTtlMs: 60_000 });
      items = new RedisItemDictionary(redis, keys);
    });
    afterEach(async () => cleanup());

    it('keeps session windows in their own key space with their own TTL', async () => {
      await applier().apply(at(1, 0, [anon('s1', 'a', 0), anon('s1', 'b', 1)]));
      assert.deepEqual(await itemsOf(await redis.getBuffer(keys.sessionSequence('s1'))), ['a', 'b']);
      assert.equal(await redis.exists(keys.userSequence('s1')), 0);
      const ttl = await redis.pttl(keys.sessionSequence('s1'));
      assert.ok(ttl > 0 && ttl <= 60_000, `session TTL ${ttl}`);
    });

    it('merges the session into the user once, across slots, and redelivery of everything changes nothing', async () => {
      const [u, s] = ['u-merge', 's-merge'];
      if (onCluster) assert.notEqual(keySlot(keys.userSequence(u)), keySlot(keys.sessionSequence(s)), 'the test needs the two keys on different slots');
      const browsing = at(1, 0, [anon(s, 'a', 0), anon(s, 'b', 10)]);
      const history = at(0, 0, [{ eventId: 'old', userId: u, itemId: 'old', type: 'purchase', ts: T0 + 5_000 }]);
      const loggedIn = at(0, 1, [login(u, s, 'c', 20)]);
      const after = at(1, 2, [anon(s, 'd', 30)]);
      for (const batch of [browsing, history, loggedIn, after]) await applier().apply(batch);
      const merged = await redis.getBuffer(keys.userSequence(u));
      assert.deepEqual(await itemsOf(merged), ['a', 'old', 'b', 'c', 'd']);
      assert.equal(await redis.exists(keys.sessionSequence(s)), 0, 'the session window is deleted');
      assert.equal(await redis.get(keys.sessionMergedInto(s)), `1:${u}`, 'the session -> user link');
      assert.deepEqual(await redis.smembers(keys.userMergedSessions(u)), [`${s}@1:1`], 'the user -> session link: the session and its final window');
      const ttl = await redis.pttl(keys.sessionMergedInto(s));
      assert.ok(ttl > 0 && ttl <= 60_000, `the session -> user marker lives as long as a session window: ${ttl}`);
      // a redelivery of every batch, in any order, is a no-op
      for (const batch of [loggedIn, browsing, after, history, loggedIn]) {
        const r = await applier().apply(batch);
        assert.deepEqual([r.applied, r.merges.merged, r.updates.length], [0, 0, 0]);
      }
      assert.ok((await redis.getBuffer(keys.userSequence(u)))!.equals(merged!));
    });

    it('finishes a merge cut between the steps once, whichever step the builder died after', async () => {
      for (const [k, stop] of (['begin', 'commit'] as const).entries()) {
        const [u, s] = [`u-cut${k}`, `s-cut${k}`];
        await applier().apply(at(1, 0, [anon(s, 'a', 0), anon(s, 'b', 1)]));
        const [start] = await store.beginMerge([{ sessionId: s, userId: u }]);
        assert.equal(start!.status, 'open');
        if (stop === 'commit') {
          const window = (start as { window: Buffer | null }).window!;
          const wm = decodeWindow(window).watermark!;
          assert.deepEqual(await store.commitMerge([{ userId: u, sessionId: s, mergeId: `${s}@${wm.partition}:${wm.offset}`, expected: null, next: window }]), ['ok']);
        }
        // meanwhile an anonymous event of the session is refused by its window and goes to the user
        await applier().apply(at(1, 2, [anon(s, 'c', 2)]));
        const r = await applier().apply(at(0, 0, [login(u, s, 'd', 3)]));
        assert.equal(r.merges.merged + r.merges.before, 1, stop);
        assert.deepEqual(await itemsOf(await redis.getBuffer(keys.userSequence(u))), ['a', 'b', 'c', 'd'], stop);
        assert.equal(await redis.exists(keys.sessionSequence(s)), 0, stop);
      }
    });

    it('lets the first login win', async () => {
      await applier().apply(at(1, 0, [anon('s2', 'a', 0)]));
      await applier().apply(at(0, 0, [login('u1', 's2', 'b', 1)]));
      const r = await applier().apply(at(0, 1, [login('u2', 's2', 'c', 2)]));
      assert.deepEqual(r.merges, { merged: 0, empty: 0, before: 0, taken: 1 });
      assert.deepEqual(await itemsOf(await redis.getBuffer(keys.userSequence('u2'))), ['c']);
    });
  });
}
