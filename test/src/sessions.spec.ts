/**
 * Anonymous sessions end to end, as separate processes against real Kafka and Redis: shoppers browse
 * anonymously (events with a sessionId only), log in (an event with both ids) and keep going, some
 * of their anonymous events arriving after the login; users also have history of their own. Every
 * user's window in Redis must then hold the user's and the session's events exactly, once, in time
 * order; the session windows are gone and the links recorded. Replaying the whole events topic (a
 * builder restart from an older offset: every event redelivered, every login again) merges nothing
 * twice: no window and no trending count changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { GROUPS, RedisKeys, TOPICS } from '@seqrec/contracts';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, deleteNamespaceTopics, resetGroupOffsets, testKafka, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { Rng } from '@seqrec/random';
import { RedisItemDictionary, RedisSequenceStore, createRedis } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { expectedWindows, startService, type ExpectedPosition, type RunningService } from '@seqrec/testing';
import { decodeWindow } from '@seqrec/window';
import type { Redis } from 'ioredis';
import { metricValue } from './ingest-helpers';

const SHOPPERS = 40;
const WINDOW = 50;

/** Each shopper: own history, an anonymous session, the login, events after it (some anonymous ones late). */
function buildTraffic() {
  const rng = new Rng(19);
  const now = Date.now();
  const messages: Array<{ key: string; value: string }> = [];
  const perUser: Array<{ userId: string; itemId: string; type: 'view' | 'click'; ts: number }> = [];
  for (let s = 0; s < SHOPPERS; s++) {
    const userId = `user-${s}`;
    const sessionId = `sess-${s}`;
    let ts = now - 2 * 3_600_000 + s * 1_000;
    const at = () => (ts += 60_000 + rng.int(30) * 1_000);
    const item = () => `item-${rng.int(60)}`;
    const send = (body: Record<string, unknown>, key: string) => messages.push({ key, value: JSON.stringify(body) });
    let n = 0;
    const event = (ids: { userId?: string; sessionId?: string }, type: 'view' | 'click' = 'view') => {
      const e = { eventId: `${sessionId}-e${n++}`, ...ids, type, itemId: item(), ts: at() };
      send(e, ids.userId ?? ids.sessionId!);
      perUser.push({ userId, itemId: e.itemId, type, ts: e.ts });
    };
    for (let i = rng.int(3); i > 0; i--) event({ userId });
    for (let i = 1 + rng.int(4); i > 0; i--) event({ sessionId });
    event({ userId, sessionId }, 'click');
    for (let i = rng.int(3); i > 0; i--) event({ userId, sessionId });
    // the session's tab still open: anonymous events after the login go to the user
    if (s % 3 === 0) event({ sessionId });
  }
  return { messages, expected: expectedWindows(perUser, WINDOW), accepted: perUser.length };
}

describe('anonymous sessions: ingester → events topic → sequence-builder, merge at login, replayed', () => {
  const ns = uniqueName('sessions');
  const keys = new RedisKeys(ns);
  const brokers = brokersFromEnv();
  const kafka = testKafka('seqrec-e2e', brokers);
  const env = { KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: ns, REDIS_URL: redisUrlFromEnv(), REDIS_PREFIX: ns, SEQUENCE_LENGTH: String(WINDOW), LOG_LEVEL: 'warn' };
  const topic = (t: string) => `${ns}.${t}`;
  const traffic = buildTraffic();
  let producer: KafkaJS.Producer;
  let redis: Redis;
  let ingester: RunningService;
  let builder: RunningService;

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
    await deleteNamespaceTopics(brokers, ns);
    if (redis) {
      await deleteNamespace(redis, keys);
      await redis.quit();
    }
  });

  async function windows(): Promise<Map<string, ExpectedPosition[]>> {
    const users = [...traffic.expected.keys()];
    const bufs = await new RedisSequenceStore(redis, keys, { ttlMs: 0 }).getMany(users);
    const dict = new RedisItemDictionary(redis, keys);
    const out = new Map<string, ExpectedPosition[]>();
    for (const [u, buf] of bufs.entries()) {
      if (!buf) continue;
      const w = decodeWindow(buf);
      const ids = await dict.idsOf(w.events.map((e) => e.item));
      out.set(users[u]!, w.events.map((e, i) => ({ item: ids[i]!, type: e.type, ts: e.ts })));
    }
    return out;
  }

  const userKeys = () => [...traffic.expected.keys()].map((u) => keys.userSequence(u));

  it("merges every session into its user's window once, in time order, and sends later anonymous events to the user", async () => {
    await producer.send({ topic: topic(TOPICS.CLICKSTREAM_RAW), messages: traffic.messages.map((m) => ({ ...m })) });
    await waitFor(
      'every user window to hold the user and session events',
      async () => {
        const got = await windows();
        return [...traffic.expected].every(([u, exp]) => JSON.stringify(got.get(u)) === JSON.stringify(exp));
      },
      60_000,
    ).catch(async (err) => {
      const got = await windows();
      const bad = [...traffic.expected].find(([u, exp]) => JSON.stringify(got.get(u)) !== JSON.stringify(exp));
      if (bad) assert.deepEqual(got.get(bad[0]), bad[1], `window of ${bad[0]}`);
      throw err;
    });
    const sessions = Array.from({ length: SHOPPERS }, (_, s) => `sess-${s}`);
    assert.equal(await redis.exists(...sessions.map((s) => keys.sessionSequence(s))), 0, 'no session window left');
    const links = await redis.mget(...sessions.map((s) => keys.sessionMergedInto(s)));
    assert.deepEqual(links, sessions.map((_, s) => `1:user-${s}`));
    const metrics = await (await fetch(builder.metricsUrl)).text();
    const merged = metricValue(metrics, 'seqrec_sequence_builder_session_merges_total', 'outcome="merged"');
    // a login applied before the session's anonymous events (they are on another partition) finds
    // nothing to move ("empty"): it closes the session, and those events go to the user directly
    assert.equal(merged + metricValue(metrics, 'seqrec_sequence_builder_session_merges_total', 'outcome="empty"'), SHOPPERS);
    assert.ok(merged > 0, 'some sessions had events to move');
    const members = (await Promise.all(Array.from({ length: SHOPPERS }, (_, s) => redis.smembers(keys.userMergedSessions(`user-${s}`))))).map((m, s) => m.map((id) => [s, id] as const)).flat();
    assert.equal(members.length, merged, 'one user -> session link per merge that moved events');
    for (const [s, id] of members) assert.match(id, new RegExp(`^sess-${s}@\\d+:\\d+$`));
    assert.equal(metricValue(metrics, 'seqrec_sequence_builder_trending_events_total'), traffic.accepted);
  });

  it('replaying the events topic (every event and login redelivered) merges nothing twice and counts nothing twice', async () => {
    const before = await redis.mgetBuffer(...userKeys());
    const trending = await redis.zrange(keys.trendingItems(), 0, -1, 'WITHSCORES');
    assert.equal(await builder.stop(), 0);
    await resetGroupOffsets(brokers, { groupId: topic(GROUPS.SEQUENCE_BUILDER), topic: topic(TOPICS.EVENTS), to: 'earliest' });
    builder = await startService('sequence-builder', env);
    await waitFor(
      'the builder to re-consume the whole topic',
      async () => metricValue(await (await fetch(builder.metricsUrl)).text(), 'seqrec_sequence_builder_events_total', 'outcome="stale"') === traffic.accepted,
      60_000,
    );
    const metrics = await (await fetch(builder.metricsUrl)).text();
    assert.equal(metricValue(metrics, 'seqrec_sequence_builder_session_merges_total', 'outcome="merged"'), 0);
    assert.ok(metricValue(metrics, 'seqrec_sequence_builder_session_merges_total', 'outcome="before"') >= SHOPPERS);
    assert.equal(metricValue(metrics, 'seqrec_sequence_builder_trending_events_total'), 0);
    assert.deepEqual(await redis.mgetBuffer(...userKeys()), before);
    assert.deepEqual(await redis.zrange(keys.trendingItems(), 0, -1, 'WITHSCORES'), trending);
  });
});
