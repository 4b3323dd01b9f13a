import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RedisKeys } from '@seqrec/contracts';
import type { RedisClient } from '@seqrec/redis';
import { redisTestTargets, testRedis } from '@seqrec/redis/testing';
import { RedisUserVectorStore } from './user-vectors';

// The same suite on the single server and on the 3-master cluster of scripts/infra.sh.
for (const { name, target } of redisTestTargets()) {
  describe(`${RedisUserVectorStore.name} (${name === 'cluster' ? '3-master Redis Cluster' : 'single Redis'})`, () => {
    let redis: RedisClient;
    let keys: RedisKeys;
    let cleanup: () => Promise<void>;
    let sut: RedisUserVectorStore;

    before(async () => {
      ({ redis, keys, cleanup } = await testRedis(target));
      sut = new RedisUserVectorStore(redis, keys, 60_000);
    });

    after(async () => cleanup());

    it('stores vectors compactly under the user vector key with a TTL, reads and deletes them', async () => {
      const vector = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 10);
      await sut.putMany([
        { userId: 'a', vector: { version: 'v1', lastTs: 1_000, events: 3, vector } },
        { userId: 'b', vector: { version: 'v1', lastTs: 2_000, events: 1, vector } },
      ]);
      const raw = await redis.getBuffer(keys.userVector('a'));
      assert.equal(raw?.length, 17 + 2 + 64);
      const ttl = await redis.pttl(keys.userVector('a'));
      assert.ok(ttl > 0 && ttl <= 60_000);
      const a = await sut.get('a');
      assert.deepEqual([a?.version, a?.lastTs, a?.events], ['v1', 1_000, 3]);
      assert.ok(Math.abs(a!.vector[0]! - vector[0]!) < 0.02);
      await sut.deleteMany(['a', 'b']);
      assert.equal(await sut.get('a'), null);
      assert.equal(await sut.get('b'), null);
    });

    it('writes and deletes a batch of users whose keys are on every node', async () => {
      const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
      const vector = Float32Array.from({ length: 8 }, (_, i) => i / 8);
      await sut.putMany(users.map((userId, i) => ({ userId, vector: { version: 'v2', lastTs: i, events: i + 1, vector } })));
      for (const [i, u] of users.entries()) assert.equal((await sut.get(u))?.events, i + 1, u);
      await sut.deleteMany(users);
      for (const u of users) assert.equal(await sut.get(u), null, u);
    });
  });
}
