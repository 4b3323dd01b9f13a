import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { KafkaAdmin, createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, readTopic } from '@seqrec/kafka/testing';
import { ClickstreamGenerator, recordToMessage } from './clickstream-generator';
import { run } from './cli';
import { parseCliArgs } from './cli-options';
import { KAFKA_COMPRESSIONS, KafkaSink } from './sinks';

// Real broker from scripts/infra.sh, passed as KAFKA_BROKERS; every test has its own topic.
const created: string[] = [];

after(async () => {
  if (created.length === 0) return;
  const admin = new KafkaAdmin(brokersFromEnv());
  await admin.deleteTopics(created).catch(() => undefined);
  await admin.disconnect();
});

async function createTopic(partitions: number): Promise<string> {
  const topic = `test.generator.${randomUUID().slice(0, 8)}`;
  created.push(topic);
  await createTopicsAndWait(brokersFromEnv(), [{ topic, numPartitions: partitions, replicationFactor: 1 }]);
  return topic;
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

    await assertDelivered(topic, records);
  });

  for (const compression of KAFKA_COMPRESSIONS) {
    it(`compression ${compression}: every record comes back`, async () => {
      const topic = await createTopic(2);
      const records = new ClickstreamGenerator({ seed: 3, users: 50, items: 100, malformedRate: 0.02 }).takeRecords(2_000);
      const sut = new KafkaSink(brokersFromEnv(), topic, 'seqrec-test', { compression });
      await sut.connect();
      try {
        await sut.send(records);
        assert.equal(sut.summary().compression, compression);
      } finally {
        await sut.close();
      }
      await assertDelivered(topic, records);
    });
  }

  it('fails a batch holding a record larger than the producer takes, once the records before it are acknowledged; the next batch goes through', async () => {
    const topic = `test.generator.${randomUUID().slice(0, 8)}`;
    created.push(topic); // created by the producer (the broker auto-creates topics)
    const sut = new KafkaSink(brokersFromEnv(), topic, 'seqrec-test', { messageTimeoutMs: 2_000 });
    await sut.connect();
    try {
      const records = new ClickstreamGenerator({ seed: 4, users: 10, items: 100 }).takeRecords(20);
      const r = records[10]!;
      assert.equal(r.kind, 'event');
      if (r.kind === 'event') r.event.itemId = 'x'.repeat(2_000_000); // beyond message.max.bytes
      await assert.rejects(sut.send(records), /producing to .* failed: .*/);
      // the sink still works for the next batch
      await sut.send(records.slice(0, 10));
    } finally {
      await sut.close();
    }
  });
});

/** Every record arrived once, keyed by user, each user on one partition in send order. */
async function assertDelivered(topic: string, records: ReturnType<ClickstreamGenerator['takeRecords']>): Promise<void> {
  const got = await readTopic(brokersFromEnv(), topic, { count: records.length, timeoutMs: 30_000 });
  assert.equal(got.length, records.length);
  const sentByKey = new Map<string, string[]>();
  for (const r of records) {
    const m = recordToMessage(r);
    sentByKey.set(m.key, [...(sentByKey.get(m.key) ?? []), m.value]);
  }
  const gotByKey = new Map<string, string[]>();
  const partitionOf = new Map<string, number>();
  for (const m of got) {
    const key = String(m.key);
    gotByKey.set(key, [...(gotByKey.get(key) ?? []), String(m.value)]);
    assert.equal(partitionOf.get(key) ?? m.partition, m.partition, `user ${key} split over partitions`);
    partitionOf.set(key, m.partition);
  }
  assert.deepEqual(gotByKey, sentByKey);
}

describe('cli run with --sink kafka', () => {
  it('sends the requested number of records and reports them', async () => {
    const topic = await createTopic(2);
    const config = parseCliArgs(['--sink', 'kafka', '--topic', topic, '--events', '4000', '--users', '300', '--items', '400', '--dup-rate', '0.01', '--compression', 'zstd'], {
      KAFKA_BROKERS: brokersFromEnv().join(','),
    });
    assert.ok(config);
    const summary = await run(config);
    assert.equal(summary.sent, 4_000);
    assert.equal(summary.topic, topic);
    assert.equal(summary.compression, 'zstd');
    assert.equal((await readTopic(brokersFromEnv(), topic, { count: 4_000, timeoutMs: 30_000 })).length, 4_000);
  });
});
