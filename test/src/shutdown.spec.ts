/**
 * Stop and crash the stream services in the middle of a stream, then restart them: nothing may be
 * lost or applied twice. SIGTERM exercises graceful shutdown (finish the batch, commit, close);
 * SIGKILL exercises recovery (uncommitted work is redone: the ingester's transaction is aborted and
 * the builder's watermarks skip what it had already written).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { RedisKeys, TOPICS, type EventV1 } from '@seqrec/contracts';
import { ClickstreamGenerator, recordToMessage } from '@seqrec/generator';
import { brokersFromEnv, deleteNamespaceTopics, readTopic, testKafka, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { RedisItemDictionary, RedisSequenceStore, createRedis } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { countWindowDiffs, expectedWindows, startService, type RunningService } from '@seqrec/testing';
import type { Redis } from 'ioredis';
import { createTopicsAndWait } from '@seqrec/kafka';

const WINDOW = 50;

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  describe(`stream services ${signal}ed mid-stream`, () => {
    const ns = uniqueName(`stop-${signal.toLowerCase()}`);
    const keys = new RedisKeys(ns);
    const brokers = brokersFromEnv();
    const kafka = testKafka('seqrec-e2e', brokers);
    const env = { KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: ns, REDIS_URL: redisUrlFromEnv(), REDIS_PREFIX: ns, LOG_LEVEL: 'warn' };
    let producer: KafkaJS.Producer;
    let redis: Redis;
    const running: RunningService[] = [];

    before(async () => {
      await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: `${ns}.${t}`, numPartitions: 3, replicationFactor: 1 })));
      producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
      await producer.connect();
      redis = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-e2e' });
      await redis.connect();
    });

    after(async () => {
      await Promise.all(running.map((s) => s.stop()));
      await producer?.disconnect();
      await deleteNamespaceTopics(brokers, ns);
      if (redis) {
        await deleteNamespace(redis, keys);
        await redis.quit();
      }
    });

    it('loses nothing and applies nothing twice', async () => {
      const gen = new ClickstreamGenerator({ seed: 11, users: 800, items: 2_000, duplicateRate: 0.01, startTime: Date.now() - 2 * 86_400_000 });
      const records = gen.takeRecords(40_000);
      const accepted: Array<Pick<EventV1, 'userId' | 'itemId' | 'type' | 'ts'>> = [];
      for (const r of records) if (r.kind === 'event' || r.kind === 'late') accepted.push({ ...r.event, ts: r.event.ts as number });
      const messages = records.map(recordToMessage);
      const start = async (app: string) => {
        const s = await startService(app, env);
        running.push(s);
        return s;
      };
      const stop = async (s: RunningService) => {
        running.splice(running.indexOf(s), 1);
        if (signal === 'SIGKILL') {
          s.proc.kill('SIGKILL');
          await new Promise((r) => s.proc.once('exit', r));
        } else {
          assert.equal(await s.stop(), 0, `${s.name} exits 0 after SIGTERM`);
        }
      };
      const applied = async (s: RunningService) => {
        const text = await (await fetch(s.metricsUrl)).text();
        return Number(/seqrec_sequence_builder_events_total\{outcome="applied"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
      };

      let ingester = await start('ingester');
      let builder = await start('sequence-builder');
      const half = messages.length / 2;
      for (let i = 0; i < half; i += 2_000) await producer.send({ topic: `${ns}.${TOPICS.CLICKSTREAM_RAW}`, messages: messages.slice(i, i + 2_000) });
      // stop both while they are busy with the first half
      await waitFor('the builder to be mid-stream', async () => (await applied(builder)) > 2_000, 30_000);
      await Promise.all([stop(ingester), stop(builder)]);
      for (let i = half; i < messages.length; i += 2_000) await producer.send({ topic: `${ns}.${TOPICS.CLICKSTREAM_RAW}`, messages: messages.slice(i, i + 2_000) });
      ingester = await start('ingester');
      builder = await start('sequence-builder');

      const expected = expectedWindows(accepted, WINDOW);
      const store = new RedisSequenceStore(redis, keys, { ttlMs: 0 });
      const dict = new RedisItemDictionary(redis, keys);
      const compare = () => countWindowDiffs(store, dict, expected);
      await waitFor('every window to be complete', async () => (await compare()).lost === 0, 90_000).catch(() => undefined);
      assert.deepEqual(await compare(), { lost: 0, extra: 0 });
      const events = await readTopic(brokers, `${ns}.${TOPICS.EVENTS}`, { count: accepted.length + 1, timeoutMs: 5_000 });
      assert.equal(events.length, accepted.length, 'each accepted event exactly once on the events topic');
    });
  });
}
