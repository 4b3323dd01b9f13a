import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { ConsumedBatch, TransactionReport } from '@seqrec/bus';
import { KafkaBus } from './kafka-bus';
import { TEST_RETRY, brokersFromEnv, deleteNamespaceTopics, readTopic, uniqueName, waitFor } from './testing';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const buses: KafkaBus[] = [];
const namespaces = new Set<string>();
function newBus(namespace: string, onTransaction?: (r: TransactionReport) => void): KafkaBus {
  namespaces.add(namespace);
  const bus = new KafkaBus({ brokers: brokersFromEnv(), clientId: 'seqrec-test', namespace, retry: TEST_RETRY, logger: quiet, ...(onTransaction ? { onTransaction } : {}) });
  buses.push(bus);
  return bus;
}

afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
  for (const ns of namespaces) await deleteNamespaceTopics(brokersFromEnv(), ns);
  namespaces.clear();
});

describe(KafkaBus.name, () => {
  it('delivers in key order, commits after the handler, and resumes a group where it stopped', async () => {
    const ns = uniqueName('bus');
    const bus = newBus(ns);
    await bus.ensureTopics([{ topic: 'in', partitions: 3 }]);
    await bus.publish(Array.from({ length: 30 }, (_, i) => ({ topic: 'in', key: `k${i % 3}`, value: String(i) })));
    const got: string[] = [];
    const sub = await bus.subscribe({ groupId: 'g', topics: ['in'] }, async (b: ConsumedBatch) => {
      assert.equal(b.topic, 'in', 'handlers see logical topic names');
      got.push(...b.messages.map((m) => `${m.key}:${m.value}`));
    });
    await waitFor('30 messages', () => got.length >= 30);
    await sub.stop();
    for (const k of ['k0', 'k1', 'k2']) {
      const values = got.filter((g) => g.startsWith(`${k}:`)).map((g) => Number(g.split(':')[1]));
      assert.deepEqual(values, [...values].sort((a, b) => a - b), `order of ${k}`);
    }
    assert.deepEqual(await bus.groupLag('g', 'in').then((l) => l.map((p) => p.lag)), [0, 0, 0]);

    await bus.publish([{ topic: 'in', key: 'k0', value: 'late' }]);
    const after: string[] = [];
    const sub2 = await bus.subscribe({ groupId: 'g', topics: ['in'] }, async (b) => void after.push(...b.messages.map((m) => String(m.value))));
    await waitFor('the new message', () => after.includes('late'));
    await sub2.stop();
    assert.deepEqual(after, ['late']);
  });

  it('writes staged messages and offsets in one transaction: a failed batch leaves no trace', async () => {
    const ns = uniqueName('tx');
    const reports: TransactionReport[] = [];
    const bus = newBus(ns, (r) => reports.push(r));
    await bus.ensureTopics([{ topic: 'in', partitions: 1 }, { topic: 'out', partitions: 1 }]);
    await bus.publish(['a', 'b', 'c'].map((v) => ({ topic: 'in', key: 'k', value: v })));
    let attempts = 0;
    const sub = await bus.subscribe({ groupId: 'g', topics: ['in'], transactional: true }, async (b, ctx) => {
      attempts++;
      ctx.publish(b.messages.map((m) => ({ topic: 'out', key: 'k', value: `${m.value}!` })));
      if (attempts === 1) throw new Error('injected failure after staging');
    });
    await waitFor('the batch to commit', async () => (await bus.groupLag('g', 'in'))[0]!.lag === 0);
    await sub.stop();
    const out = await readTopic(brokersFromEnv(), bus.physical('out'), { count: 3, timeoutMs: 10_000 });
    assert.deepEqual(out.map((m) => String(m.value)), ['a!', 'b!', 'c!']);
    assert.ok(attempts >= 2);
    // Only the committed transaction is reported, with its phases and one AddPartitionsToTxn at least.
    assert.equal(reports.length, 1);
    const [r] = reports;
    assert.equal(r!.groupId, 'g');
    assert.equal(r!.batches, 1);
    assert.equal(r!.messages, 3);
    for (const phase of [r!.produceSeconds, r!.offsetsSeconds, r!.commitSeconds]) assert.ok(phase > 0 && phase < 30, `phase ${phase}`);
    assert.ok(r!.queuedSeconds >= 0);
    assert.ok(r!.addPartitionsRequests >= 1, `AddPartitionsToTxn requests ${r!.addPartitionsRequests}`);
  });

  it('looks the coordinators up once per producer, not four times per transaction', async () => {
    const ns = uniqueName('txlookups');
    const reports: TransactionReport[] = [];
    const bus = newBus(ns, (r) => reports.push(r));
    await bus.ensureTopics([{ topic: 'in', partitions: 1 }, { topic: 'out', partitions: 1 }]);
    const sub = await bus.subscribe({ groupId: 'g', topics: ['in'], transactional: true }, async (b, ctx) => {
      ctx.publish(b.messages.map((m) => ({ topic: 'out', key: 'k', value: `${m.value}!` })));
    });
    // One message at a time, each its own batch and transaction.
    for (let i = 0; i < 8; i++) {
      await bus.publish([{ topic: 'in', key: 'k', value: String(i) }]);
      await waitFor(`transaction ${i}`, () => reports.length > i);
    }
    await sub.stop();
    const out = await readTopic(brokersFromEnv(), bus.physical('out'), { count: 8, timeoutMs: 10_000 });
    assert.deepEqual(out.map((m) => String(m.value)), ['0!', '1!', '2!', '3!', '4!', '5!', '6!', '7!']);
    assert.equal(reports.length, 8);
    // The first transaction finds the group coordinator (the transaction coordinator was found
    // when the producer initialised); every later one sends none, where kafkajs alone sends four.
    const lookups = reports.map((r) => r.coordinatorLookups);
    assert.ok(lookups[0]! <= 2, `first transaction: ${lookups[0]} lookups`);
    assert.deepEqual(lookups.slice(1), [0, 0, 0, 0, 0, 0, 0], `lookups per transaction: ${lookups.join(',')}`);
  });

  it('commits each input partition with its own producer, which the partition\'s next owner fences; a fenced batch is redone once', async () => {
    const ns = uniqueName('fence');
    const reports: TransactionReport[] = [];
    const bus = newBus(ns, (r) => reports.push(r));
    await bus.ensureTopics([{ topic: 'in', partitions: 2 }, { topic: 'out', partitions: 1 }]);
    const attempts = new Map<string, number>();
    const sub = await bus.subscribe({ groupId: 'g', topics: ['in'], transactional: true }, async (b, ctx) => {
      for (const m of b.messages) attempts.set(String(m.value), (attempts.get(String(m.value)) ?? 0) + 1);
      ctx.publish(b.messages.map((m) => ({ topic: 'out', key: 'k', value: `${m.value}!` })));
    });
    const kafka = new Kafka({ brokers: brokersFromEnv(), clientId: 'seqrec-test-producer', logLevel: logLevel.NOTHING, retry: TEST_RETRY });
    const input = kafka.producer();
    await input.connect();
    const send = (v0: string, v1: string) =>
      input.send({ topic: bus.physical('in'), acks: -1, messages: [{ value: v0, partition: 0 }, { value: v1, partition: 1 }] });
    // Both partitions' batches commit (each in its own transactions).
    await send('a', 'b');
    await waitFor('both partitions to commit', async () => (await bus.groupLag('g', 'in')).every((p) => p.lag === 0));
    assert.ok(reports.length >= 2 && reports.every((r) => r.batches === 1), JSON.stringify(reports));

    // A "next owner" of partition 0 starts its producer: the transactional id is the group's and the
    // partition's, so this fences our producer of partition 0 (not that of partition 1).
    const nextOwner = kafka.producer({ transactionalId: `${bus.physical('g')}-${bus.physical('in')}-0`, idempotent: true, maxInFlightRequests: 1 });
    await nextOwner.connect();
    const tx = await nextOwner.transaction(); // InitProducerId: a new epoch for that id
    await tx.abort();
    await nextOwner.disconnect();

    await send('x', 'y');
    await input.disconnect();
    await waitFor('both new messages to commit', async () => (await bus.groupLag('g', 'in')).every((p) => p.lag === 0), 30_000);
    await sub.stop();
    // The fenced producer's transaction failed and was aborted; the batch was redone with a new producer.
    assert.equal(attempts.get('x'), 2, 'the batch of the fenced partition ran twice');
    assert.equal(attempts.get('y'), 1, 'the other partition\'s producer was not fenced');
    const out = await readTopic(brokersFromEnv(), bus.physical('out'), { count: 4, timeoutMs: 10_000 });
    assert.deepEqual(out.map((m) => String(m.value)).sort(), ['a!', 'b!', 'x!', 'y!'], 'each output exactly once (read committed)');
  });
});
