/**
 * npm run bench:trending — the cost of the live trending counts on real Redis, per event.
 *
 * The sequence-builder counts every item event of a batch with one `bumpTrending-n.lua` call per
 * partition (a last-offset check and one ZINCRBY of 2^((t - epoch)/half-life) per event). This
 * measures, for builder-sized batches over a 50,000-item catalogue with a skewed popularity:
 *   - wall time per event of `RedisTrendingStore.record` (one round trip per batch),
 *   - Redis CPU per event (INFO commandstats: the script's usec per call / events per call),
 *   - the same for a redelivered batch (all events below the watermark: the check only),
 *   - the renormalisation that runs once every 64 half-lives (O(set size), one script call),
 *   - the scorer's read (top 250 with scores) and the set's memory.
 * Against the alternative of bucketed counts (one sorted set per time bucket, decayed at read time):
 * its write is a bare ZINCRBY per event (measured, pipelined: the floor of any sorted-set counting),
 * its read a ZUNIONSTORE with decay weights over every bucket (measured over 24 hourly buckets of
 * the same events).
 *
 * Environment: REDIS_URL (scripts/bench.sh starts it), BENCH_EVENTS (500,000), BENCH_BATCH (500),
 * BENCH_ITEMS (50,000).
 */
import { randomUUID } from 'node:crypto';
import { RedisKeys } from '@seqrec/contracts';
import { Rng } from '@seqrec/random';
import { RedisTrendingStore, createRedis } from '@seqrec/redis';
import { deleteNamespace } from '@seqrec/redis/testing';
import { envNumber, machineInfo, percentile, writeResult } from './machine';

const EVENTS = envNumber('BENCH_EVENTS', 500_000);
const BATCH = envNumber('BENCH_BATCH', 500);
const ITEMS = envNumber('BENCH_ITEMS', 50_000);
const HALF_LIFE_MS = 6 * 3_600_000;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const log = (msg: string) => console.error(`[bench:trending ${process.uptime().toFixed(1)}s] ${msg}`);

type Redis = ReturnType<typeof createRedis>;

/** usec and calls of every EVALSHA/EVAL so far (the scripts run through EVALSHA). */
async function scriptStats(redis: Redis): Promise<{ usec: number; calls: number }> {
  const text = (await redis.info('commandstats')) as string;
  let usec = 0;
  let calls = 0;
  for (const m of text.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+),usec=(\d+)/gm)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return { usec, calls };
}

/** usec Redis spent in one command so far (INFO commandstats). */
async function commandUsec(redis: Redis, command: string): Promise<number> {
  const text = (await redis.info('commandstats')) as string;
  const m = new RegExp(`^cmdstat_${command}:calls=\\d+,usec=(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<void> {
  const redis = createRedis({ url: redisUrl, connectionName: 'seqrec-bench' });
  await redis.connect();
  const keys = new RedisKeys(`bench-trend-${randomUUID().slice(0, 8)}`);
  const sut = new RedisTrendingStore(redis, keys, { halfLifeMs: HALF_LIFE_MS });
  const rng = new Rng(7);
  const itemIds = Array.from({ length: ITEMS }, (_, i) => `item-${i}`);
  // skewed popularity, as in a shop: item index ~ ITEMS * u^3
  const t0 = Date.now() - 3_600_000;
  const batches: Array<Array<{ offset: number; ts: number; itemId: string }>> = [];
  for (let i = 0; i < EVENTS; i += BATCH) {
    batches.push(Array.from({ length: Math.min(BATCH, EVENTS - i) }, (_, k) => ({ offset: i + k, ts: t0 + Math.floor(((i + k) / EVENTS) * 3_600_000), itemId: itemIds[Math.floor(ITEMS * rng.float() ** 3)]! })));
  }
  log(`${EVENTS} events in batches of ${BATCH} over ${ITEMS} items`);

  // warm-up: load the script, grow the set
  for (const b of batches.slice(0, 20)) await sut.record(0, b);
  const s0 = await scriptStats(redis);
  const perBatch: number[] = [];
  const start = performance.now();
  let counted = 0;
  for (const b of batches.slice(20)) {
    const t = performance.now();
    counted += await sut.record(0, b);
    perBatch.push(performance.now() - t);
  }
  const wallMs = performance.now() - start;
  const s1 = await scriptStats(redis);
  perBatch.sort((a, b) => a - b);

  // a redelivery: the last 200 batches again, every event below the watermark
  const again = batches.slice(-200);
  const t2 = performance.now();
  let recounted = 0;
  for (const b of again) recounted += await sut.record(0, b);
  const redeliveryWallMs = performance.now() - t2;
  const s2 = await scriptStats(redis);
  const redeliveredEvents = again.reduce((n, b) => n + b.length, 0);

  const members = await redis.zcard(keys.trendingItems());
  const memoryBytes = ((await redis.call('MEMORY', 'USAGE', keys.trendingItems(), 'SAMPLES', '0')) as number) ?? 0;
  const reads: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await sut.top(250);
    reads.push(performance.now() - t);
  }
  reads.sort((a, b) => a - b);

  // the floor: a bare ZINCRBY per event, pipelined per batch; and the bucketed read
  const floorKey = `${keys.trendingItems('floor')}`;
  const z0 = await commandUsec(redis, 'zincrby');
  const tz = performance.now();
  for (const b of batches.slice(20)) {
    const pipe = redis.pipeline();
    for (const e of b) pipe.zincrby(floorKey, 1, e.itemId);
    await pipe.exec();
  }
  const floorWallMs = performance.now() - tz;
  const z1 = await commandUsec(redis, 'zincrby');
  const buckets = Array.from({ length: 24 }, (_, h) => keys.trendingItems(`bucket${h}`));
  for (const [i, b] of batches.entries()) {
    const pipe = redis.pipeline();
    for (const e of b) pipe.zincrby(buckets[Math.floor((i / batches.length) * 24)]!, 1, e.itemId);
    await pipe.exec();
  }
  const bucketReads: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await redis.zunionstore(keys.trendingItems('union'), buckets.length, ...buckets, 'WEIGHTS', ...buckets.map((_, h) => 2 ** (-(23 - h) / 6)));
    await redis.zrevrange(keys.trendingItems('union'), 0, 249, 'WITHSCORES');
    bucketReads.push(performance.now() - t);
  }
  bucketReads.sort((a, b) => a - b);

  // renormalisation: one event 65 half-lives later rescales every member
  const t3 = performance.now();
  await sut.record(0, [{ offset: EVENTS + 1, ts: t0 + 65 * HALF_LIFE_MS, itemId: 'late' }]);
  const renormMs = performance.now() - t3;

  const measured = EVENTS - 20 * BATCH;
  const result = {
    benchmark: 'trending',
    description: 'live trending counts (bumpTrending-n.lua: exponentially decayed counts in a sorted set, exactly once per partition offset) on real Redis, builder-sized batches',
    backend: 'none (no model on this path)',
    events: measured,
    batch: BATCH,
    items: ITEMS,
    halfLifeMinutes: HALF_LIFE_MS / 60_000,
    counted,
    wallMicrosPerEvent: +((wallMs * 1000) / measured).toFixed(2),
    batchP50Ms: +percentile(perBatch, 50).toFixed(3),
    batchP99Ms: +percentile(perBatch, 99).toFixed(3),
    redisCpuMicrosPerEvent: +((s1.usec - s0.usec) / measured).toFixed(2),
    redisCpuMicrosPerBatch: +((s1.usec - s0.usec) / (s1.calls - s0.calls)).toFixed(1),
    redeliveryCounted: recounted,
    redeliveryWallMicrosPerEvent: +((redeliveryWallMs * 1000) / redeliveredEvents).toFixed(2),
    redeliveryRedisCpuMicrosPerEvent: +((s2.usec - s1.usec) / redeliveredEvents).toFixed(2),
    members,
    setMemoryBytes: memoryBytes,
    readTop250P50Ms: +percentile(reads, 50).toFixed(3),
    readTop250P99Ms: +percentile(reads, 99).toFixed(3),
    renormalisationMs: +renormMs.toFixed(1),
    floorZincrbyWallMicrosPerEvent: +((floorWallMs * 1000) / measured).toFixed(2),
    floorZincrbyRedisCpuMicrosPerEvent: +((z1 - z0) / measured).toFixed(2),
    bucketedRead24P50Ms: +percentile(bucketReads, 50).toFixed(1),
    bucketedReadNote: 'the alternative design: ZUNIONSTORE with decay weights over 24 hourly bucket sets of the same events, then the top 250',
    renormalisationNote: `one script call keeping and rescaling at most 10,000 of ${members} members, once every 64 half-lives (${((64 * HALF_LIFE_MS) / 86_400_000).toFixed(0)} days at this half-life); Redis serves nothing else meanwhile`,
    machine: machineInfo(),
    at: new Date().toISOString(),
  };
  const file = writeResult('trending', result);
  console.log(JSON.stringify(result, null, 2));
  log(`wrote ${file}`);
  await deleteNamespace(redis, keys);
  await redis.quit();
  if (counted !== measured || recounted !== 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
