import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { RedisKeys } from '@seqrec/contracts';
import { MemoryTrendingStore, type TrendingStore } from '@seqrec/window';
import type { RedisClient } from './cluster';
import { RedisTrendingStore } from './trending-store';
import { redisTestTargets, testRedis } from './testing';

const T0 = 1_795_000_000_000;
const HOUR = 3_600_000;
const ev = (offset: number, itemId: string, atMs: number) => ({ offset, ts: T0 + atMs, itemId });

// The same suite on the single server and on the 3-master cluster, and on the in-memory store: same numbers.
for (const { name, target } of redisTestTargets()) {
  describe(`${RedisTrendingStore.name} (${name === 'cluster' ? '3-master Redis Cluster' : 'single Redis'})`, () => {
    let redis: RedisClient;
    let keys: RedisKeys;
    let cleanup: () => Promise<void>;
    const stores = (keep?: number): TrendingStore[] => [new RedisTrendingStore(redis, keys, { halfLifeMs: HOUR, ...(keep ? { keep } : {}) }), new MemoryTrendingStore(HOUR, keep)];

    beforeEach(async () => ({ redis, keys, cleanup } = await testRedis(target)));
    afterEach(async () => cleanup());

    it('counts each event once: a redelivered batch, or one overlapping the last, adds only what is new', async () => {
      for (const sut of stores()) {
        assert.equal(await sut.record(0, [ev(0, 'a', 0), ev(1, 'a', 0), ev(2, 'b', 0)]), 3);
        assert.equal(await sut.record(0, [ev(0, 'a', 0), ev(1, 'a', 0), ev(2, 'b', 0)]), 0, 'redelivered');
        assert.equal(await sut.record(0, [ev(2, 'b', 0), ev(3, 'b', 0), ev(4, 'b', 0)]), 2, 'overlapping');
        assert.equal(await sut.record(1, [ev(0, 'c', 0)]), 1, 'offsets are per partition');
        const top = await sut.top(10, T0);
        assert.deepEqual(top.map((t) => [t.itemId, Math.round(t.score * 1e6) / 1e6]), [['b', 3], ['a', 2], ['c', 1]]);
      }
    });

    it('decays with the half-life: a recent item beats one counted more but earlier', async () => {
      for (const sut of stores()) {
        await sut.record(0, [ev(0, 'old', 0), ev(1, 'old', 0), ev(2, 'old', 0), ev(3, 'new', 2 * HOUR), ev(4, 'new', 2 * HOUR)]);
        const top = await sut.top(2, T0 + 2 * HOUR);
        assert.deepEqual(top.map((t) => t.itemId), ['new', 'old']);
        assert.ok(Math.abs(top[0]!.score - 2) < 1e-9 && Math.abs(top[1]!.score - 0.75) < 1e-9, JSON.stringify(top));
        const later = await sut.top(1, T0 + 3 * HOUR);
        assert.ok(Math.abs(later[0]!.score - 1) < 1e-9, 'an hour later it counts half');
      }
    });

    it('renormalises past 64 half-lives and drops what decayed to nothing, keeping the scores right', async () => {
      for (const sut of stores()) {
        // the event at 80 h renormalises (exponent 80 > 64): 'ancient' (2^-80 then) is dropped
        await sut.record(0, [ev(0, 'ancient', 0), ev(1, 'faded', 60 * HOUR), ev(2, 'recent', 80 * HOUR)]);
        await sut.record(0, [ev(3, 'now', 100 * HOUR), ev(4, 'now', 100 * HOUR)]);
        const top = await sut.top(10, T0 + 100 * HOUR);
        assert.deepEqual(top.map((t) => t.itemId), ['now', 'recent', 'faded']);
        const want = [2, 2 ** -20, 2 ** -40];
        top.forEach((t, i) => assert.ok(Math.abs(t.score / want[i]! - 1) < 1e-9, JSON.stringify(top)));
      }
      assert.equal(await redis.zscore(keys.trendingItems(), 'ancient'), null);
    });

    it('keeps only the best members when it renormalises (a bounded set)', async () => {
      const [redisStore, memory] = stores(2);
      for (const sut of [redisStore!, memory!]) {
        const at = 60 * HOUR;
        await sut.record(0, [ev(0, 'z', 0), ev(1, 'a', at), ev(2, 'b', at), ev(3, 'b', at), ev(4, 'c', at), ev(5, 'c', at), ev(6, 'c', at)]);
        await sut.record(0, [ev(7, 'd', 70 * HOUR)]);
        assert.deepEqual((await sut.top(10, T0 + 70 * HOUR)).map((t) => t.itemId), ['d', 'c', 'b']);
      }
    });

    it('counts per top-level category too, each list with its own decay epoch, once per offset', async () => {
      for (const sut of stores()) {
        const cat = (offset: number, itemId: string, category: string | undefined, atMs: number) => ({ ...ev(offset, itemId, atMs), ...(category ? { category } : {}) });
        // the Garden set starts 30 h after the Toys one (its own epoch)
        assert.equal(await sut.record(0, [cat(0, 't1', 'Toys', 0), cat(1, 't1', 'Toys', 0), cat(2, 't2', 'Toys', 0), cat(3, 'x', undefined, 0)]), 4);
        assert.equal(await sut.record(0, [cat(3, 'x', undefined, 0), cat(4, 'g1', 'Garden', 30 * HOUR), cat(5, 't2', 'Toys', 30 * HOUR)]), 2, 'offset 3 again counts nothing');
        const now = T0 + 30 * HOUR;
        const toys = await sut.top(10, now, 'Toys');
        assert.deepEqual(toys.map((t) => t.itemId), ['t2', 't1']);
        assert.ok(Math.abs(toys[0]!.score - (1 + 2 ** -30)) < 1e-12 && Math.abs(toys[1]!.score / 2 ** -29 - 1) < 1e-9, JSON.stringify(toys));
        assert.deepEqual((await sut.top(10, now, 'Garden')).map((t) => [t.itemId, t.score]), [['g1', 1]]);
        assert.deepEqual(await sut.top(10, now, 'Nothing'), []);
        assert.deepEqual((await sut.top(2, now)).map((t) => t.itemId), ['t2', 'g1'], 'overall counts every event');
      }
    });

    it('is empty before anything was counted', async () => {
      for (const sut of stores()) assert.deepEqual(await sut.top(5), []);
    });
  });
}
