import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { RedisKeys } from '@seqrec/contracts';
import { SequenceApplier, decodeWindow, encodeWindow } from '@seqrec/window';
import { isCluster, keySlot, masterNodes, type RedisClient } from './cluster';
import { RedisEventClaims } from './event-claims';
import { getBuffers } from './get-buffers';
import { RedisItemDictionary } from './item-dictionary';
import { RedisSequenceStore } from './sequence-store';
import { redisTestTargets, testRedis } from './testing';

const T0 = 1_795_000_000_000;

// The same suite on the single server and on the 3-master cluster of scripts/infra.sh.
for (const { name, target } of redisTestTargets()) {
  const onCluster = name === 'cluster';
  describe(`Redis stores (${onCluster ? '3-master Redis Cluster' : 'single Redis'})`, () => {
    let redis: RedisClient;
    let keys: RedisKeys;
    let cleanup: () => Promise<void>;

    beforeEach(async () => ({ redis, keys, cleanup } = await testRedis(target)));
    afterEach(async () => cleanup());

    describe(RedisSequenceStore.name, () => {
      it('writes only when the stored value is the expected one', async () => {
        const sut = new RedisSequenceStore(redis, keys, { ttlMs: 60_000 });
        const v1 = encodeWindow({ watermark: { partition: 0, offset: 1 }, events: [{ item: 1, type: 0, ts: T0 }] });
        const v2 = encodeWindow({ watermark: { partition: 0, offset: 2 }, events: [{ item: 1, type: 0, ts: T0 }, { item: 2, type: 0, ts: T0 }] });
        assert.deepEqual(await sut.writeMany([{ userId: 'u', expected: null, next: v1 }]), ['ok']);
        assert.deepEqual(await sut.writeMany([{ userId: 'u', expected: null, next: v2 }]), ['conflict']);
        assert.deepEqual(await sut.writeMany([{ userId: 'u', expected: v1, next: v2 }]), ['ok']);
        const [got] = await sut.getMany(['u']);
        assert.ok(got!.equals(v2));
        const ttl = await redis.pttl(keys.userSequence('u'));
        assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
      });

      it('refuses a write whose watermark does not move forward (Lua guard)', async () => {
        const sut = new RedisSequenceStore(redis, keys, { ttlMs: 0 });
        const v5 = encodeWindow({ watermark: { partition: 1, offset: 5 }, events: [] });
        const v4 = encodeWindow({ watermark: { partition: 1, offset: 4 }, events: [{ item: 3, type: 0, ts: T0 }] });
        await sut.writeMany([{ userId: 'u', expected: null, next: v5 }]);
        assert.deepEqual(await sut.writeMany([{ userId: 'u', expected: v5, next: v4 }]), ['stale']);
        assert.equal(await redis.pttl(keys.userSequence('u')), -1);
      });

      it('replaces a corrupt window whose header claims a watermark ahead (replace skips the guard, not the compare)', async () => {
        const sut = new RedisSequenceStore(redis, keys, { ttlMs: 0 });
        const corrupt = Buffer.from([1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        await redis.set(keys.userSequence('u'), corrupt);
        const rebuilt = encodeWindow({ watermark: { partition: 1, offset: 7 }, events: [{ item: 1, type: 0, ts: T0 }] });
        assert.deepEqual(await sut.writeMany([{ userId: 'u', expected: corrupt, next: rebuilt }]), ['stale'], 'a normal write trusts the header');
        assert.deepEqual(await sut.writeMany([{ userId: 'u', expected: Buffer.from('other'), next: rebuilt, replace: true }]), ['conflict']);
        assert.deepEqual(await sut.writeMany([{ userId: 'u', expected: corrupt, next: rebuilt, replace: true }]), ['ok']);
        const [got] = await sut.getMany(['u']);
        assert.ok(got!.equals(rebuilt));
        // and the applier does it on its own: a corrupt window is rebuilt from the batch and reported
        await redis.set(keys.userSequence('v'), corrupt);
        const applier = new SequenceApplier(sut, new RedisItemDictionary(redis, keys), { capacity: 50, sessionGapMs: 1_800_000 });
        const r = await applier.apply([{ partition: 1, offset: 3, event: { eventId: 'e', userId: 'v', type: 'view', itemId: 'x', ts: T0 } }]);
        assert.deepEqual([r.applied, r.corrupt.map((c) => c.userId)], [1, ['v']]);
        assert.equal(decodeWindow((await sut.getMany(['v']))[0]!).events.length, 1);
      });

      it('applies a batch idempotently through the applier and stays compact', async () => {
        const store = new RedisSequenceStore(redis, keys, { ttlMs: 0 });
        const sut = new SequenceApplier(store, new RedisItemDictionary(redis, keys), { capacity: 50, sessionGapMs: 1_800_000 });
        const batch = Array.from({ length: 120 }, (_, i) => ({
          partition: 0,
          offset: i,
          event: { eventId: `e${i}`, userId: 'u', type: 'view' as const, itemId: `item-${(i * 7919) % 5000}`, ts: T0 + i * 20_000 },
        }));
        const first = await sut.apply(batch);
        assert.equal(first.applied, 50);
        const again = await sut.apply(batch);
        assert.equal(again.applied, 0);
        const [buf] = await store.getMany(['u']);
        const w = decodeWindow(buf!);
        assert.equal(w.events.length, 50);
        assert.deepEqual(w.watermark, { partition: 0, offset: 119 });
        const bytes = await store.memoryUsage('u');
        // A cluster node also links every key into its slot's key list (two pointers per key in Redis 7.0).
        const limit = onCluster ? 316 : 300;
        assert.ok(bytes !== null && bytes < limit, `a full 50-event window takes ${bytes} bytes in Redis`);
      });
    });

    describe(RedisItemDictionary.name, () => {
      it('hands out dense, stable indices shared between processes', async () => {
        const a = new RedisItemDictionary(redis, keys);
        const b = new RedisItemDictionary(redis, keys);
        assert.deepEqual(await a.indicesOf(['x', 'y', 'x']), [0, 1, 0]);
        assert.deepEqual(await b.indicesOf(['y', 'z']), [1, 2]);
        assert.deepEqual(await a.idsOf([2, 0, 99]), ['z', 'x', undefined]);
      });
    });

    describe(RedisEventClaims.name, () => {
      it('tells producer retries from our own redelivery, in one call per claim bucket', async () => {
        const sut = new RedisEventClaims(redis, keys);
        assert.deepEqual(await sut.claim([{ eventId: 'e1', source: 'k:0:1' }, { eventId: 'e2', source: 'k:0:2' }], 60_000), [true, true]);
        assert.deepEqual(await sut.claim([{ eventId: 'e1', source: 'k:0:1' }, { eventId: 'e2', source: 'k:0:9' }], 60_000), [true, false]);
        // the same id twice in one batch: the first source holds it, the second is a duplicate
        assert.deepEqual(
          await sut.claim([{ eventId: 'e3', source: 'h:r:0' }, { eventId: 'e3', source: 'h:r:1' }, { eventId: 'e3', source: 'h:r:0' }], 60_000),
          [true, false, true],
        );
        assert.equal(await redis.get(keys.eventSeen('e3')), 'h:r:0');
        const ttl = await redis.pttl(keys.eventSeen('e3'));
        assert.ok(ttl > 59_000 && ttl <= 60_000, `claim TTL ${ttl} ms`);
      });

      it('once marked published, a replay by the same source is a duplicate; its HTTP attempt still owns it', async () => {
        const sut = new RedisEventClaims(redis, keys);
        const mine = [{ eventId: 'p1', source: 'k:0:5' }, { eventId: 'p2', source: 'h:r:3' }];
        assert.deepEqual(await sut.claim(mine, 60_000), [true, true]);
        // not marked yet: a redelivery after an aborted transaction is ours
        assert.deepEqual(await sut.claim(mine, 60_000), [true, true]);
        // marking is done by the holder only: another source's mark changes nothing
        await sut.markPublished([...mine, { eventId: 'p1', source: 'k:0:6' }]);
        assert.equal(await redis.get(keys.eventSeen('p1')), 'p:k:0:5');
        assert.equal(await redis.get(keys.eventSeen('p2')), 'p:h:r:3');
        const ttl = await redis.pttl(keys.eventSeen('p1'));
        assert.ok(ttl > 59_000 && ttl <= 60_000, `TTL kept by the mark: ${ttl} ms`);
        assert.deepEqual(await sut.claim(mine, 60_000, 'publish'), [false, false], 'a replay of the raw topic');
        assert.deepEqual(await sut.claim(mine, 60_000, 'answer'), [true, true], 'the attempt that owns the copy');
        assert.deepEqual(await sut.claim([{ eventId: 'p1', source: 'k:0:6' }], 60_000, 'answer'), [false], 'another source');
        await sut.markPublished(mine); // marking twice is harmless
        assert.equal(await redis.get(keys.eventSeen('p1')), 'p:k:0:5');
      });

      it('forgets a claim after its TTL: the id is free again', async () => {
        const sut = new RedisEventClaims(redis, keys);
        assert.deepEqual(await sut.claim([{ eventId: 'short', source: 'k:0:1' }], 200), [true]);
        assert.deepEqual(await sut.claim([{ eventId: 'short', source: 'k:0:2' }], 200), [false]);
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(await sut.claim([{ eventId: 'short', source: 'k:0:2' }], 200), [true]);
      });
    });

    describe('every store method with keys on every node', () => {
      // On the cluster, a script or pipeline whose keys cross slots fails (CROSSSLOT from the
      // server, or ioredis refusing a pipeline spanning nodes): these batches span every master.
      const USERS = Array.from({ length: 300 }, (_, i) => `user-${i}`);

      if (onCluster) it('spreads the batch over every master (cluster only)', async () => {
        assert.ok(isCluster(redis));
        const cluster = redis;
        const masters = await masterNodes(cluster);
        assert.equal(masters.length, 3);
        const served = new Set(USERS.map((u) => cluster.slots[keySlot(keys.userSequence(u))]?.[0]));
        assert.equal(served.size, masters.length, `the users' keys are served by ${[...served].join(', ')}`);
        for (const key of [keys.userSequence('u'), keys.eventSeen('e1'), keys.itemIndex(), 'plain', 'a{}b', 'x{{y}}z']) {
          assert.equal(keySlot(key), await cluster.cluster('KEYSLOT', key), `slot of ${key}`);
        }
      });

      it('sequence store, item dictionary, event claims and getBuffers: many keys per call', async () => {
        const store = new RedisSequenceStore(redis, keys, { ttlMs: 60_000 });
        const dict = new RedisItemDictionary(redis, keys);
        const itemIds = USERS.map((u) => `item-of-${u}`);
        const indices = await dict.indicesOf(itemIds);
        assert.deepEqual([...indices].sort((a, b) => a - b), USERS.map((_, i) => i));
        assert.deepEqual(await new RedisItemDictionary(redis, keys).idsOf(indices), itemIds);

        const windows = USERS.map((_, i) => encodeWindow({ watermark: { partition: 0, offset: i + 10 }, events: [{ item: indices[i]!, type: 0, ts: T0 + i * 1_000 }] }));
        const first = USERS.map((userId, i) => ({ userId, expected: null, next: windows[i]! }));
        assert.deepEqual(await store.writeMany(first), USERS.map(() => 'ok'));
        const read = await store.getMany([...USERS, 'nobody']);
        USERS.forEach((u, i) => assert.ok(read[i]?.equals(windows[i]!), u));
        assert.equal(read[USERS.length], null);

        // odd users: a stale expectation (conflict); even users: a watermark going back (stale)
        const older = encodeWindow({ watermark: { partition: 0, offset: 0 }, events: [] });
        const outcomes = await store.writeMany(USERS.map((userId, i) => ({ userId, expected: i % 2 ? null : windows[i]!, next: older })));
        assert.deepEqual(outcomes, USERS.map((_, i) => (i % 2 ? 'conflict' : 'stale')));
        assert.ok(((await store.memoryUsage(USERS[7]!)) ?? 0) > 0);

        const replies = await getBuffers(redis, [keys.userSequence('nobody'), ...USERS.map((u) => keys.userSequence(u))]);
        assert.deepEqual(replies[0], [null, null]);
        replies.slice(1).forEach(([err, v], i) => assert.ok(err === null && v?.equals(windows[i]!), USERS[i]));
        assert.ok((await getBuffers(redis, [keys.userSequence(USERS[3]!)]))[0]![1]?.equals(windows[3]!));

        const claims = new RedisEventClaims(redis, keys);
        const mine = USERS.map((u, i) => ({ eventId: `ev-${u}`, source: `raw:0:${i}` }));
        assert.deepEqual(await claims.claim(mine, 60_000), USERS.map(() => true));
        const retries = mine.map((c) => ({ ...c, source: 'raw:1:0' }));
        assert.deepEqual(await claims.claim(retries, 60_000), USERS.map(() => false));
        assert.deepEqual(await claims.claim(mine, 60_000), USERS.map(() => true), 'our own redelivery');
      });

      if (onCluster) it('a pipeline or script across slots does fail on the cluster (what the tests above would catch)', async () => {
        const [a, b] = [keys.userSequence(USERS[0]!), keys.userSequence(USERS[1]!)];
        const naive = redis.pipeline();
        for (const u of USERS) naive.get(keys.userSequence(u));
        await assert.rejects(naive.exec(), /same slots allocation group/);
        // refused by ioredis (auto-pipelining checks each command's keys) or by the server (CROSSSLOT)
        const crossSlot = /CROSSSLOT|should belong to the same slot/;
        await assert.rejects(redis.mget(a, b), crossSlot);
        await assert.rejects(redis.allocItems(keys.itemIndex(), a, keys.itemCounter(), 'x'), crossSlot);
      });
    });
  });
}
