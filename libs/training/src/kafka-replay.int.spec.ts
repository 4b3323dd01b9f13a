import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS, type EventV1 } from '@seqrec/contracts';
import { fromEvents } from '@seqrec/datasets';
import { TEST_RETRY, brokersFromEnv, uniqueName } from '@seqrec/kafka/testing';
import { replayEvents } from './kafka-replay';
import { loadSource } from './sources';
import { generatedEvents } from './testing';
import { createTopicsAndWait } from '@seqrec/kafka';

/**
 * The trainer's replay of the events topic on the real broker: a namespaced events topic with 3
 * partitions, two batches of events with message timestamps an hour apart (the first written in a
 * transaction, so partitions end in commit markers), replayed whole and by time range.
 */
describe(replayEvents.name, () => {
  const brokers = brokersFromEnv();
  const ns = uniqueName('replay');
  const topic = `${ns}.${TOPICS.EVENTS}`;
  const kafka = new Kafka({ clientId: 'seqrec-test', brokers, logLevel: logLevel.NOTHING, retry: TEST_RETRY });
  const t0 = Date.now() - 2 * 3_600_000;
  const t1 = t0 + 3_600_000;
  const all = generatedEvents({ users: 12, items: 60, events: 400, seed: 11 });
  const early = all.filter((_, i) => i % 3 !== 0);
  const late = all.filter((_, i) => i % 3 === 0).map((e) => ({ ...e, eventId: `${e.eventId}-late`, ts: e.ts + 3_600_000 }));
  const msg = (e: EventV1, timestamp: number) => ({ key: e.userId, value: JSON.stringify(e), timestamp: String(timestamp) });

  before(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    await admin.disconnect();
    const tx = kafka.producer({ transactionalId: `${ns}-tx`, idempotent: true, maxInFlightRequests: 1 });
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

  after(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  const byUser = (events: readonly EventV1[]) => {
    const m = new Map<string, string[]>();
    for (const e of events) m.set(e.userId, [...(m.get(e.userId) ?? []), e.eventId]);
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

  it('fails clearly for a missing topic', async () => {
    await assert.rejects(replayEvents({ brokers, namespace: `${ns}-missing` }), /topic .*-missing\.ingest\.internal\.event\.accepted\.1 does not exist/);
  });
});
