import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '@seqrec/contracts';
import { SequenceApplier, decodeWindow, encodeWindow } from '@seqrec/sequence';
import { RedisEventClaims } from './event-claims';
import { RedisItemDictionary } from './item-dictionary';
import { RedisSequenceStore } from './sequence-store';
import { testRedis } from './testing';

const T0 = 1_795_000_000_000;
let redis: Redis;
let keys: RedisKeys;
let cleanup: () => Promise<void>;

beforeEach(async () => ({ redis, keys, cleanup } = await testRedis()));
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
    assert.ok(bytes !== null && bytes < 300, `a full 50-event window takes ${bytes} bytes in Redis`);
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
  it('tells producer retries from our own redelivery, and releases only its own claims', async () => {
    const sut = new RedisEventClaims(redis, keys);
    assert.deepEqual(await sut.claim([{ eventId: 'e1', source: 'k:0:1' }, { eventId: 'e2', source: 'k:0:2' }], 60_000), [true, true]);
    assert.deepEqual(await sut.claim([{ eventId: 'e1', source: 'k:0:1' }, { eventId: 'e2', source: 'k:0:9' }], 60_000), [true, false]);
    await sut.release([{ eventId: 'e2', source: 'k:0:9' }]);
    assert.deepEqual(await sut.claim([{ eventId: 'e2', source: 'k:0:9' }], 60_000), [false]);
    await sut.release([{ eventId: 'e2', source: 'k:0:2' }]);
    assert.deepEqual(await sut.claim([{ eventId: 'e2', source: 'k:0:9' }], 60_000), [true]);
  });
});
