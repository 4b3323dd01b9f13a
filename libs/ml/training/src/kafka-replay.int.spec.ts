import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TOPICS, type EventV1 } from '@seqrec/contracts';
import { fromEvents } from '@seqrec/datasets';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, deleteNamespaceTopics, testKafka, uniqueName } from '@seqrec/kafka/testing';
import { replayEvents } from './kafka-replay';
import { loadSource } from './sources';
import { generatedEvents } from './testing';

/**
 * The trainer's replay of the events topic on the real broker: a namespaced events topic with 3
 * partitions, two batches of events with message timestamps an hour apart (the first written in a
 * transaction, so partitions end in commit markers), replayed whole and by time range.
 */
describe(replayEvents.name, () => {
  const brokers = brokersFromEnv();
  const ns = uniqueName('replay');
  const topic = `${ns}.${TOPICS.EVENTS}`;
  const kafka = testKafka('seqrec-test', brokers);
  const t0 = Date.now() - 2 * 3_600_000;
  const t1 = t0 + 3_600_000;
  const all = generatedEvents({ users: 12, items: 60, events: 400, seed: 11 });
  const early = all.filter((_, i) => i % 3 !== 0);
  const late = all.filter((_, i) => i % 3 === 0).map((e) => ({ ...e, eventId: `${e.eventId}-late`, ts: e.ts + 3_600_000 }));
  const msg = (e: EventV1, timestamp: number) => ({ key: e.userId, value: JSON.stringify(e), timestamp: String(timestamp) });

  before(async () => {
    await createTopicsAndWait(brokers, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    const tx = kafka.producer({ kafkaJS: { transactionalId: `${ns}-tx`, idempotent: true } });
    await tx.connect();
    const t = await tx.transaction();
    await t.send({ topic, messages: early.map((e) => msg(e, t0)) });
    await t.commit();
    await tx.disconnect();
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic, messages: [...late.map((e) => msg(e, t1)), { key: 'x', value: 'not json', timestamp: String(t1) }] });
    await plain.disconnect();
  });

  after(() => deleteNamespaceTopics(brokers, ns));

  const byUser = (events: readonly EventV1[]) => {
    const m = new Map<string, string[]>();
    for (const e of events) m.set(e.userId!, [...(m.get(e.userId!) ?? []), e.eventId]);
    return m;
  };

  it('replays the whole topic: every event once, per-user order kept, invalid messages counted', async () => {
    const r = await replayEvents({ brokers, namespace: ns });
    assert.equal(r.topic, topic);
    assert.equal(r.events.length, early.length + late.length);
    assert.equal(r.invalid, 1);
    assert.equal(r.partitions.length, 3);
    assert.deepEqual(byUser(r.events), byUser([...early, ...late]));
  });

  it('replays a time range by message timestamp', async () => {
    const lateOnly = await replayEvents({ brokers, namespace: ns, from: t1 });
    assert.deepEqual(byUser(lateOnly.events), byUser(late));
    const earlyOnly = await replayEvents({ brokers, namespace: ns, from: t0 - 1, to: t1 });
    assert.deepEqual(byUser(earlyOnly.events), byUser(early));
    const none = await replayEvents({ brokers, namespace: ns, from: t1 + 1 });
    assert.equal(none.events.length, 0);
  });

  it('turns the replay into the same dataset as the events themselves', async () => {
    const src = await loadSource({ kind: 'kafka', brokers, namespace: ns, name: 'replay' });
    const expected = fromEvents([...early, ...late], { name: 'replay' });
    assert.equal(src.dataset.sequences.length, expected.sequences.length);
    assert.equal(src.dataset.numItems, expected.numItems);
    const seqs = (ds: typeof expected) =>
      new Map(ds.users.map((u, i) => [u, Array.from(ds.sequences[i]!, (it) => ds.itemIds[it])]));
    assert.deepEqual(seqs(src.dataset), seqs(expected));
    assert.match(src.description, new RegExp(`^kafka:${topic.replace(/\./g, '\\.')}\\[start,end\\)$`));
  });

  it('completes partitions that end in a commit marker, leaving out aborted and still-open transactions', async () => {
    const txTopic = `${ns}.tx-only`;
    await createTopicsAndWait(brokers, [{ topic: txTopic, numPartitions: 2, replicationFactor: 1 }]);
    const tx = kafka.producer({ kafkaJS: { transactionalId: `${ns}-tx-only`, idempotent: true } });
    await tx.connect();
    try {
      let t = await tx.transaction();
      await t.send({ topic: txTopic, messages: early.map((e) => msg(e, t0)) });
      await t.commit();
      t = await tx.transaction();
      await t.send({ topic: txTopic, messages: late.map((e) => msg(e, t1)) });
      await t.abort();
      t = await tx.transaction();
      await t.send({ topic: txTopic, messages: late.map((e) => msg(e, t1)) });
      // this transaction is still open while the replay runs: its end is the last stable offset
      const started = Date.now();
      const r = await replayEvents({ brokers, namespace: ns, topic: 'tx-only', idleTimeoutMs: 10_000 });
      assert.ok(Date.now() - started < 5_000, `done by end of data, not by a timeout (${Date.now() - started} ms)`);
      assert.deepEqual(byUser(r.events), byUser(early));
      assert.equal(r.invalid, 0);
      await t.abort();
    } finally {
      await tx.disconnect();
    }
  });

  it('fails clearly for a missing topic', async () => {
    await assert.rejects(replayEvents({ brokers, namespace: `${ns}-missing` }), /topic .*-missing\.ingest\.internal\.event\.accepted\.1 does not exist/);
  });
});
