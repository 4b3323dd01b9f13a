import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { ClickstreamGenerator, recordToMessage } from './clickstream-generator';
import { run } from './cli';
import { parseCliArgs } from './cli-options';
import { KafkaSink } from './sinks';

// Real broker from scripts/infra.sh, passed as KAFKA_BROKERS; every test has its own topic.
function brokersFromEnv(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run integration tests through `npm test` (it starts Kafka and Redis)');
  return brokers.split(',').map((b) => b.trim());
}

const RETRY = { initialRetryTime: 50, retries: 5, maxRetryTime: 1_000 } as const;

async function createTopic(partitions: number): Promise<string> {
  const topic = `test.generator.${randomUUID().slice(0, 8)}`;
  const admin = new Kafka({ clientId: 'seqrec-test-admin', brokers: brokersFromEnv(), logLevel: logLevel.NOTHING, retry: RETRY }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: partitions, replicationFactor: -1 }] });
    // kafkajs' own waitForLeaders retries only LEADER_NOT_AVAILABLE; a KRaft broker that has not
    // applied the new topic yet answers UNKNOWN_TOPIC_OR_PARTITION, which failed this helper on a
    // freshly started broker. Wait until every partition has a leader, whichever of the two it says.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        if (topics[0]?.partitions.length === partitions && topics[0].partitions.every((p) => p.leader >= 0)) break;
      } catch (err) {
        if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' && (err as { type?: string }).type !== 'LEADER_NOT_AVAILABLE') throw err;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader for every partition after 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Reads a topic from the beginning until `count` messages arrived or the deadline passed. */
async function readTopic(topic: string, count: number, timeoutMs = 30_000): Promise<Array<KafkaMessage & { partition: number }>> {
  const kafka = new Kafka({ clientId: 'seqrec-test-reader', brokers: brokersFromEnv(), logLevel: logLevel.NOTHING, retry: RETRY });
  const consumer = kafka.consumer({ groupId: `test.reader.${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 50 });
  const got: Array<KafkaMessage & { partition: number }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        got.push({ ...message, partition });
        if (got.length >= count) resolveDone();
      },
    });
    await Promise.race([done, new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe(KafkaSink.name, () => {
  it('writes every record keyed by user id, each user on one partition in send order', async () => {
    const topic = await createTopic(3);
    const records = new ClickstreamGenerator({ seed: 9, users: 200, items: 300, duplicateRate: 0.02, malformedRate: 0.02, lateRate: 0.02 }).takeRecords(3_000);
    const sut = new KafkaSink(brokersFromEnv(), topic, 'seqrec-test');
    await sut.connect();
    try {
      await sut.send(records.slice(0, 1_000));
      await sut.send(records.slice(1_000));
    } finally {
      await sut.close();
    }

    const got = await readTopic(topic, records.length);
    assert.equal(got.length, records.length);
    const sentByKey = new Map<string, string[]>();
    for (const r of records) {
      const m = recordToMessage(r);
      sentByKey.set(m.key, [...(sentByKey.get(m.key) ?? []), m.value]);
    }
    const gotByKey = new Map<string, string[]>();
    const partitionOf = new Map<string, number>();
    for (const m of got) {
      const key = m.key!.toString();
      gotByKey.set(key, [...(gotByKey.get(key) ?? []), m.value!.toString()]);
      assert.equal(partitionOf.get(key) ?? m.partition, m.partition, `user ${key} split over partitions`);
      partitionOf.set(key, m.partition);
    }
    assert.deepEqual(gotByKey, sentByKey);
  });
});

describe('cli run with --sink kafka', () => {
  it('sends the requested number of records and reports them', async () => {
    const topic = await createTopic(2);
    const config = parseCliArgs(['--sink', 'kafka', '--topic', topic, '--events', '4000', '--users', '300', '--items', '400', '--dup-rate', '0.01'], {
      KAFKA_BROKERS: brokersFromEnv().join(','),
    });
    assert.ok(config);
    const summary = await run(config);
    assert.equal(summary.sent, 4_000);
    assert.equal(summary.topic, topic);
    assert.equal((await readTopic(topic, 4_000)).length, 4_000);
  });
});
