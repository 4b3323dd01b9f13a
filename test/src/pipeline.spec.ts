/**
 * The ground floor end to end, as separate processes against real Kafka and Redis: a producer
 * publishes many users' events (with producer retries, malformed payloads and out-of-order
 * timestamps) to the raw topic; the ingester and the sequence-builder run as their own processes.
 * Asserts every user's window in Redis exactly, the dead-letter topic's content and reasons, no
 * duplicates on the events topic, and that replaying the events topic from an older committed
 * offset (a builder restart after a crash before its commit) changes no window.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { GROUPS, RedisKeys, RejectReason, TOPICS, type DeadLetterV1, type EventType } from '@seqrec/contracts';
import { brokersFromEnv, deleteNamespaceTopics, readTopic, resetGroupOffsets, testKafka, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { RedisItemDictionary, RedisSequenceStore, createRedis } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { Rng } from '@seqrec/random';
import type { Redis } from 'ioredis';
import { expectedWindows, startService, waitForWindows, type RunningService } from '@seqrec/testing';
import { createTopicsAndWait } from '@seqrec/kafka';

const WINDOW = 50;
const USERS = 150;
const ITEMS = 400;
const TYPES: EventType[] = ['view', 'view', 'view', 'click', 'click', 'add_to_cart', 'purchase', 'search'];

interface Published {
  key: string | null;
  value: string;
}

function buildTraffic() {
  // Seeded so a failure reproduces.
  const prng = new Rng(42);
  const rand = () => prng.float();
  const now = Date.now();
  const perUser = new Map<string, Array<{ eventId: string; item: string | null; type: EventType; ts: number }>>();
  const streams: Published[][] = [];
  let dupes = 0;
  for (let u = 0; u < USERS; u++) {
    const userId = `user-${u}`;
    const n = 10 + Math.floor(rand() * 70);
    let ts = now - 3 * 86_400_000 + Math.floor(rand() * 86_400_000);
    const accepted: Array<{ eventId: string; item: string | null; type: EventType; ts: number }> = [];
    const stream: Published[] = [];
    for (let i = 0; i < n; i++) {
      ts += rand() < 0.1 ? 45 * 60_000 : 1_000 + Math.floor(rand() * 120_000);
      // out of order: every ~8th event is stamped a few minutes before its predecessors
      const stamped = rand() < 0.12 ? ts - 60_000 - Math.floor(rand() * 600_000) : ts;
      const type = TYPES[Math.floor(rand() * TYPES.length)]!;
      const item = type === 'search' ? null : `item-${Math.floor(rand() ** 2 * ITEMS)}`;
      const eventId = `${userId}-e${i}`;
      const body: Record<string, unknown> = { eventId, userId, type, ts: rand() < 0.2 ? new Date(stamped).toISOString() : stamped };
      if (item) body.itemId = item;
      else body.query = 'running shoes';
      if (rand() < 0.1) body.page = 'pdp';
      const value = JSON.stringify(body);
      stream.push({ key: userId, value });
      accepted.push({ eventId, item, type, ts: stamped });
      if (rand() < 0.06) {
        stream.push({ key: userId, value }); // producer retry: same event again
        dupes++;
      }
    }
    perUser.set(userId, accepted);
    streams.push(stream);
  }
  const malformed: Array<Published & { reason: RejectReason }> = [
    { key: 'user-1', value: '{"eventId": "broken", ', reason: RejectReason.InvalidJson },
    { key: 'user-2', value: JSON.stringify({ eventId: 'm1', type: 'view', itemId: 'x', ts: now }), reason: RejectReason.MissingSubject },
    { key: 'user-3', value: JSON.stringify({ eventId: 'm2', userId: 'user-3', type: 'like', itemId: 'x', ts: now }), reason: RejectReason.InvalidField },
    { key: 'user-4', value: JSON.stringify({ eventId: 'm3', userId: 'user-4', type: 'view', itemId: 'x', ts: 'yesterday' }), reason: RejectReason.InvalidTimestamp },
    { key: 'user-5', value: JSON.stringify({ eventId: 'm4', userId: 'user-5', type: 'view', itemId: 'x', ts: now + 86_400_000 }), reason: RejectReason.TimestampOutOfRange },
    { key: 'user-6', value: JSON.stringify({ eventId: 'm5', userId: 'user-6', type: 'purchase', ts: now }), reason: RejectReason.MissingItemId },
    { key: 'user-7', value: JSON.stringify({ eventId: 'm6', userId: 'user-7', type: 'search', ts: now }), reason: RejectReason.MissingQuery },
    { key: null, value: '[1,2,3]', reason: RejectReason.NotAnObject },
    { key: 'user-8', value: JSON.stringify({ eventId: 'm7', userId: 'user-8', type: 'view', itemId: 'x', ts: now, blob: 'x'.repeat(20_000) }), reason: RejectReason.TooLarge },
    { key: 'user-9', value: '\u00ff\u00fe not json', reason: RejectReason.InvalidJson },
  ];
  // interleave users the way a shop's stream does, keeping each user's own order
  const messages: Published[] = [];
  const cursors = streams.map(() => 0);
  let left = streams.reduce((sum, x) => sum + x.length, 0);
  while (left > 0) {
    const u = Math.floor(rand() * streams.length);
    if (cursors[u]! < streams[u]!.length) {
      messages.push(streams[u]![cursors[u]!++]!);
      left--;
    }
  }
  for (const m of malformed) messages.splice(Math.floor(rand() * messages.length), 0, m);

  const expected = expectedWindows(
    [...perUser].flatMap(([userId, events]) => events.map((e) => ({ userId, type: e.type, ts: e.ts, ...(e.item ? { itemId: e.item } : {}) }))),
    WINDOW,
  );
  const acceptedCount = [...perUser.values()].reduce((s, e) => s + e.length, 0);
  return { messages, expected, malformed, dupes, acceptedCount };
}

describe('pipeline: raw topic → ingester → events topic → sequence-builder → Redis', () => {
  const ns = uniqueName('pipeline');
  const keys = new RedisKeys(ns);
  const brokers = brokersFromEnv();
  const kafka = testKafka('seqrec-e2e', brokers);
  const env = {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_NAMESPACE: ns,
    REDIS_URL: redisUrlFromEnv(),
    REDIS_PREFIX: ns,
    SEQUENCE_LENGTH: String(WINDOW),
    LOG_LEVEL: 'warn',
  };
  const topic = (t: string) => `${ns}.${t}`;
  let producer: KafkaJS.Producer;
  let redis: Redis;
  let ingester: RunningService;
  let builder: RunningService;
  const traffic = buildTraffic();

  before(async () => {
    await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: topic(t), numPartitions: 4, replicationFactor: 1 })));
    producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await producer.connect();
    redis = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-e2e' });
    await redis.connect();
    [ingester, builder] = await Promise.all([startService('ingester', env), startService('sequence-builder', env)]);
  });

  after(async () => {
    await Promise.all([ingester?.stop(), builder?.stop()]);
    await producer?.disconnect();
    await deleteNamespaceTopics(brokersFromEnv(), ns);
    if (redis) {
      await deleteNamespace(redis, keys);
      await redis.quit();
    }
  });

  it('builds every user window exactly, once, in time order', async () => {
    const { messages } = traffic;
    for (let i = 0; i < messages.length; i += 500) {
      // copies: the client turns the messages it is given into its own form (string values into Buffers)
      await producer.send({ topic: topic(TOPICS.CLICKSTREAM_RAW), messages: messages.slice(i, i + 500).map((m) => ({ ...m })) });
    }
    await waitForWindows(new RedisSequenceStore(redis, keys, { ttlMs: 0 }), new RedisItemDictionary(redis, keys), traffic.expected);
  });

  it('publishes each accepted event once on the events topic', async () => {
    const events = await readTopic(brokers, topic(TOPICS.EVENTS), { count: traffic.acceptedCount + 1, timeoutMs: 5_000 });
    assert.equal(events.length, traffic.acceptedCount);
    const ids = new Set(events.map((m) => (JSON.parse(String(m.value)) as { eventId: string }).eventId));
    assert.equal(ids.size, traffic.acceptedCount, 'no event id twice');
    assert.ok(traffic.dupes > 0, 'the traffic had producer retries');
  });

  it('sends every malformed input to the dead-letter topic with its reason and original payload', async () => {
    const letters = await readTopic(brokers, topic(TOPICS.EVENTS_DLQ), { count: traffic.malformed.length + 1, timeoutMs: 5_000 });
    assert.equal(letters.length, traffic.malformed.length);
    const got = letters.map((m) => JSON.parse(String(m.value)) as DeadLetterV1);
    for (const bad of traffic.malformed) {
      const letter = got.find((l) => l.original === bad.value || Buffer.from(l.originalBase64 ?? '', 'base64').toString() === bad.value);
      assert.ok(letter, `dead letter for ${bad.value.slice(0, 60)}`);
      assert.equal(letter.reason, bad.reason, `reason for ${bad.value.slice(0, 60)}`);
      assert.ok(letter.detail.length > 0);
      assert.equal(letter.source.kind, 'kafka');
    }
  });

  it('replaying the events topic from an older offset changes no window (idempotent builder)', async () => {
    const before = await redis.mgetBuffer(...[...traffic.expected.keys()].map((u) => keys.userSequence(u)));
    assert.equal(await builder.stop(), 0, 'builder exits cleanly on SIGTERM');
    await resetGroupOffsets(brokers, { groupId: topic(GROUPS.SEQUENCE_BUILDER), topic: topic(TOPICS.EVENTS), to: 'earliest' });
    builder = await startService('sequence-builder', env);
    await waitFor(
      'the builder to re-consume the whole topic',
      async () => {
        const metrics = await (await fetch(builder.metricsUrl)).text();
        const stale = /seqrec_sequence_builder_events_total\{outcome="stale"[^}]*\} (\d+)/.exec(metrics);
        return stale !== null && Number(stale[1]) === traffic.acceptedCount;
      },
      60_000,
    );
    const afterReplay = await redis.mgetBuffer(...[...traffic.expected.keys()].map((u) => keys.userSequence(u)));
    assert.deepEqual(afterReplay, before);
  });
});
