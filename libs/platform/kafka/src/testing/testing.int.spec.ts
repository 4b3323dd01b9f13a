import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTopicsAndWait } from '../connection';
import { brokersFromEnv, deleteNamespaceTopics, readTopic, resetGroupOffsets, testKafka, uniqueName, waitFor } from './index';

describe(deleteNamespaceTopics.name, () => {
  it("deletes every topic of the namespace and nothing else, not even a namespace it prefixes", async () => {
    const ns = uniqueName('cleanup');
    const mine = [`${ns}.a`, `${ns}.b.c`];
    const others = [`${ns}x.a`, `${uniqueName('cleanup')}.a`];
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await createTopicsAndWait(brokersFromEnv(), [...mine, ...others].map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })));
      assert.deepEqual((await deleteNamespaceTopics(brokersFromEnv(), ns)).sort(), mine);
      const left = await waitFor('the deletion to show in metadata', async () => {
        const topics = new Set(await admin.listTopics());
        return mine.some((t) => topics.has(t)) ? undefined : topics;
      });
      for (const t of others) assert.ok(left.has(t), `${t} was deleted`);
      assert.deepEqual(await deleteNamespaceTopics(brokersFromEnv(), ns), [], 'a second call finds nothing');
    } finally {
      await admin.deleteTopics({ topics: others }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

describe(readTopic.name, () => {
  const ns = uniqueName('read');
  after(() => deleteNamespaceTopics(brokersFromEnv(), ns));

  it('returns committed messages only (not aborted, not in an open transaction), with key, headers, partition, offset and timestamp', async () => {
    const topic = `${ns}.t`;
    await createTopicsAndWait(brokersFromEnv(), [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    const kafka = testKafka();
    const tx = kafka.producer({ kafkaJS: { transactionalId: `${ns}-tx`, idempotent: true } });
    const plain = kafka.producer({ kafkaJS: { acks: -1 } });
    await Promise.all([tx.connect(), plain.connect()]);
    try {
      const ts = Date.now() - 60_000;
      let t = await tx.transaction();
      await t.send({ topic, messages: [{ key: 'a', value: 'committed-1', partition: 0, headers: { h: 'x', twice: ['1', '2'] }, timestamp: String(ts) }, { key: 'b', value: 'committed-2', partition: 1 }] });
      await t.commit();
      t = await tx.transaction();
      await t.send({ topic, messages: [{ key: 'a', value: 'aborted', partition: 0 }] });
      await t.abort();
      await plain.send({ topic, messages: [{ key: null, value: 'plain', partition: 0 }] });
      t = await tx.transaction();
      await t.send({ topic, messages: [{ key: 'a', value: 'open', partition: 1 }] });

      const got = await readTopic(brokersFromEnv(), topic, { count: 4, timeoutMs: 3_000 });
      await t.abort();
      assert.deepEqual(got.map((m) => String(m.value)).sort(), ['committed-1', 'committed-2', 'plain']);
      const first = got.find((m) => String(m.value) === 'committed-1')!;
      assert.equal(first.partition, 0);
      assert.equal(first.offset, 0);
      assert.equal(first.timestamp, ts);
      assert.equal(String(first.key), 'a');
      assert.deepEqual(Object.fromEntries(Object.entries(first.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)])), { h: 'x', twice: ['1', '2'] });
      const p = got.find((m) => String(m.value) === 'plain')!;
      assert.equal(p.key, null);
      assert.equal(p.partition, 0);
      assert.ok(p.offset > 1, 'after the aborted message and the control records');
    } finally {
      await Promise.all([tx.disconnect(), plain.disconnect()]);
    }
  });
});

describe(resetGroupOffsets.name, () => {
  const ns = uniqueName('reset');
  after(() => deleteNamespaceTopics(brokersFromEnv(), ns));

  it("moves a stopped group's offsets to the start or the end of each partition, and waits for running members to leave", async () => {
    const topic = `${ns}.t`;
    const groupId = `${ns}.group`;
    await createTopicsAndWait(brokersFromEnv(), [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    const kafka = testKafka();
    const producer = kafka.producer({ kafkaJS: { acks: -1 } });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 3 })) });
    await producer.disconnect();

    // a member of the group consumes everything and commits, and is still running
    const consumer = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false, allowAutoTopicCreation: false } });
    await consumer.connect();
    let seen = 0;
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async () => void seen++ });
    await waitFor('the member to read every message', () => seen === 30);
    await consumer.commitOffsets();
    await assert.rejects(resetGroupOffsets(brokersFromEnv(), { groupId, topic, timeoutMs: 1_000 }), /no members/);
    await consumer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = async () => new Map((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => [p.partition, Number(p.offset)]));
      assert.deepEqual(await committed(), new Map([[0, 10], [1, 10], [2, 10]]));
      assert.deepEqual(await resetGroupOffsets(brokersFromEnv(), { groupId, topic }), new Map([[0, 0], [1, 0], [2, 0]]));
      assert.deepEqual(await committed(), new Map([[0, 0], [1, 0], [2, 0]]));
      assert.deepEqual(await resetGroupOffsets(brokersFromEnv(), { groupId, topic, to: 'latest' }), new Map([[0, 10], [1, 10], [2, 10]]));
      assert.deepEqual(await committed(), new Map([[0, 10], [1, 10], [2, 10]]));
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
