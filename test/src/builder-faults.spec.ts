/**
 * The sequence-builder never wedges, as its own process on real Kafka and Redis: records on the
 * events topic that are not events (not JSON, not an object, a wrong field, a timestamp beyond year
 * 9999, a tombstone) are dead-lettered with their reason while the rest of the batch is applied;
 * windows in Redis that do not decode (garbage, or a plausible header over garbage whose watermark
 * is ahead of the partition) are rebuilt from the new events, their bytes dead-lettered
 * (`corrupt_window`) and counted, never an exception loop. The consumer keeps going and is live.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Producer } from '@confluentinc/kafka-javascript';
import { RedisKeys, RejectReason, TOPICS, type DeadLetterV1, type EventV1 } from '@seqrec/contracts';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, deleteNamespaceTopics, readTopic, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { RedisItemDictionary, RedisSequenceStore, createRedis } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { decodeWindow } from '@seqrec/window';
import type { RunningService } from '@seqrec/testing';
import type { Redis } from 'ioredis';
import { metricValue, startServiceRetrying } from './ingest-helpers';

const T0 = Date.now() - 3_600_000;
const ev = (userId: string, i: number, itemId = `item-${i}`): EventV1 => ({ eventId: `${userId}-${i}`, userId, type: 'view', itemId, ts: T0 + i * 1_000 });

describe('sequence-builder: bad records and corrupt windows are dead-lettered, never a stuck consumer', () => {
  const brokers = brokersFromEnv();
  const ns = uniqueName('builder-faults');
  const keys = new RedisKeys(ns);
  const topic = (t: string) => `${ns}.${t}`;
  let redis: Redis;
  let builder: RunningService;
  let producer: Producer;

  before(async () => {
    // one partition: every record's position is known (partition 0)
    await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: topic(t), numPartitions: 1, replicationFactor: 1 })));
    redis = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-e2e' });
    await redis.connect();
    producer = new Producer({ 'bootstrap.servers': brokers.join(','), 'enable.idempotence': true, 'linger.ms': 2 } as never);
    await new Promise<void>((res, rej) => producer.connect({}, (err) => (err ? rej(err) : res())));
    producer.setPollInBackground(true);
    builder = await startServiceRetrying('sequence-builder', { KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: ns, REDIS_URL: redisUrlFromEnv(), REDIS_PREFIX: ns, LOG_LEVEL: 'error' });
  });

  after(async () => {
    await builder?.stop();
    await new Promise<void>((r) => producer?.disconnect(() => r()));
    await deleteNamespaceTopics(brokers, ns);
    if (redis) {
      await deleteNamespace(redis, keys);
      await redis.quit();
    }
  });

  const send = (value: Buffer | string | null, key: string | null) => producer.produce(topic(TOPICS.EVENTS), 0, value === null ? null : Buffer.from(value), key);

  async function itemsOf(userId: string): Promise<string[] | undefined> {
    const [buf] = await new RedisSequenceStore(redis, keys, { ttlMs: 0 }).getMany([userId]);
    if (!buf) return undefined;
    const w = decodeWindow(buf);
    return (await new RedisItemDictionary(redis, keys).idsOf(w.events.map((e) => e.item))).map((id) => id ?? '?');
  }

  it('applies the good records around the bad ones and rebuilds corrupt windows', async () => {
    const garbage = Buffer.from('not a window at all');
    // format 1, partition 0, offset 2^48 - 1 (ahead of anything on the partition), then an impossible body
    const plausible = Buffer.from([1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    await redis.set(keys.userSequence('corrupt-a'), garbage);
    await redis.set(keys.userSequence('corrupt-b'), plausible);

    const bad: Array<{ value: string | null; reason: RejectReason; field?: string }> = [
      { value: 'not json {', reason: RejectReason.InvalidJson },
      { value: '[1,2]', reason: RejectReason.NotAnObject },
      { value: JSON.stringify({ ...ev('good', 100), type: 'teleport' }), reason: RejectReason.InvalidField, field: '/type' },
      { value: JSON.stringify({ ...ev('good', 101), ts: 1e300 }), reason: RejectReason.TimestampOutOfRange, field: '/ts' },
      { value: JSON.stringify({ ...ev('good', 102), type: 'search', query: 'q' }), reason: RejectReason.MissingItemId, field: '/itemId' },
      { value: JSON.stringify({ ...ev('good', 103), extra: true }), reason: RejectReason.InvalidField, field: '/extra' },
      { value: null, reason: RejectReason.InvalidJson },
    ];
    send(JSON.stringify(ev('good', 1)), 'good');
    send(JSON.stringify(ev('good', 2)), 'good');
    for (const b of bad) send(b.value, 'good');
    send(JSON.stringify(ev('corrupt-a', 1)), 'corrupt-a');
    send(JSON.stringify(ev('corrupt-a', 2)), 'corrupt-a');
    send(JSON.stringify(ev('corrupt-b', 1)), 'corrupt-b');
    send(JSON.stringify(ev('good', 3)), 'good');
    await new Promise<void>((r) => producer.flush(10_000, () => r()));

    await waitFor('every window', async () => {
      const [good, a, b] = await Promise.all([itemsOf('good'), itemsOf('corrupt-a'), itemsOf('corrupt-b')]).catch(() => [undefined, undefined, undefined]);
      return good?.length === 3 && a?.length === 2 && b?.length === 1;
    }, 30_000);
    assert.deepEqual(await itemsOf('good'), ['item-1', 'item-2', 'item-3']);
    assert.deepEqual(await itemsOf('corrupt-a'), ['item-1', 'item-2']);
    assert.deepEqual(await itemsOf('corrupt-b'), ['item-1']);

    const letters = (await readTopic(brokers, topic(TOPICS.EVENTS_DLQ), { count: bad.length + 3, timeoutMs: 8_000 })).map((m) => JSON.parse(String(m.value)) as DeadLetterV1);
    const fromTopic = letters.filter((l) => l.source.kind === 'kafka').sort((x, y) => Number((x.source as { offset: string }).offset) - Number((y.source as { offset: string }).offset));
    assert.deepEqual(
      fromTopic.map((l) => [l.reason, l.field]),
      bad.map((b) => [b.reason, b.field]),
    );
    const corrupt = letters.filter((l) => l.reason === RejectReason.CorruptWindow);
    assert.deepEqual(
      corrupt.map((l) => [l.userId, l.source, Buffer.from(l.originalBase64!, 'base64')]).sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      [
        ['corrupt-a', { kind: 'window', userId: 'corrupt-a' }, garbage],
        ['corrupt-b', { kind: 'window', userId: 'corrupt-b' }, plausible],
      ],
    );
    const metrics = await (await fetch(builder.metricsUrl)).text();
    assert.equal(metricValue(metrics, 'seqrec_sequence_builder_corrupt_windows_total'), 2);
    assert.equal(metricValue(metrics, 'seqrec_sequence_builder_events_total', 'outcome="invalid"'), bad.length);
    assert.equal(metricValue(metrics, 'seqrec_sequence_builder_events_total', 'outcome="applied"'), 6);
  });

  it('keeps consuming afterwards, live, and answers 409 for a window that is corrupt now', async () => {
    send(JSON.stringify(ev('good', 4)), 'good');
    await new Promise<void>((r) => producer.flush(10_000, () => r()));
    await waitFor('the next event', async () => (await itemsOf('good'))?.length === 4, 20_000);
    assert.equal((await fetch(`${builder.url}/health/live`)).status, 200);
    await redis.set(keys.userSequence('corrupt-c'), Buffer.from([1, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff]));
    const res = await fetch(`${builder.url}/v1/users/corrupt-c/sequence`);
    assert.equal(res.status, 409, await res.clone().text());
    assert.match(((await res.json()) as { message: string }).message, /corrupt/);
  });
});
