import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Producer } from '@confluentinc/kafka-javascript';
import type { ConsumedBatch, ConsumedReport, TransactionReport } from '@seqrec/bus';
import { call, connectionConfig } from './connection';
import { KafkaBus, type KafkaBusOptions } from './kafka-bus';
import { brokersFromEnv, deleteNamespaceTopics, readTopic, uniqueName, waitFor } from './testing';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const buses: KafkaBus[] = [];
const namespaces = new Set<string>();
function newBus(namespace: string, extra: Partial<KafkaBusOptions> = {}): KafkaBus {
  namespaces.add(namespace);
  const bus = new KafkaBus({ brokers: brokersFromEnv(), clientId: 'seqrec-test', namespace, logger: quiet, ...extra });
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
    const bus = newBus(ns, { onTransaction: (r) => reports.push(r) });
    await bus.ensureTopics([{ topic: 'in', partitions: 1 }, { topic: 'out', partitions: 1 }]);
    await bus.publish(['a', 'b', 'c'].map((v) => ({ topic: 'in', key: 'k', value: v })));
    let attempts = 0;
    const afterCommit: string[] = [];
    const sub = await bus.subscribe({ groupId: 'g', topics: ['in'], transactional: true }, async (b, ctx) => {
      const attempt = ++attempts;
      ctx.publish(b.messages.map((m) => ({ topic: 'out', key: 'k', value: `${m.value}!` })));
      ctx.afterCommit(async () => void afterCommit.push(`attempt ${attempt}, ${reports.length} committed`));
      if (attempts === 1) throw new Error('injected failure after staging');
    });
    await waitFor('the batch to commit', async () => (await bus.groupLag('g', 'in'))[0]!.lag === 0);
    await sub.stop();
    assert.deepEqual(afterCommit, ['attempt 2, 1 committed'], 'only the committed attempt, after its commit');
    const out = await readTopic(brokersFromEnv(), bus.physical('out'), { count: 3, timeoutMs: 10_000 });
    assert.deepEqual(out.map((m) => String(m.value)), ['a!', 'b!', 'c!']);
    assert.ok(attempts >= 2);
    // Only the committed transaction is reported, with its phases.
    assert.equal(reports.length, 1);
    const [r] = reports;
    assert.equal(r!.groupId, 'g');
    assert.equal(r!.batches, 1);
    assert.equal(r!.messages, 3);
    for (const phase of [r!.produceSeconds, r!.offsetsSeconds, r!.commitSeconds]) assert.ok(phase > 0 && phase < 30, `phase ${phase}`);
    assert.ok(r!.queuedSeconds >= 0);
  });

  it('a newer producer of the same transactional id fences ours: the batch is redone once with a new producer', async () => {
    const ns = uniqueName('fence');
    const bus = newBus(ns, { instanceId: 'pod-a' });
    await bus.ensureTopics([{ topic: 'in', partitions: 1 }, { topic: 'out', partitions: 1 }]);
    const attempts = new Map<string, number>();
    const sub = await bus.subscribe({ groupId: 'g', topics: ['in'], transactional: true }, async (b, ctx) => {
      for (const m of b.messages) attempts.set(String(m.value), (attempts.get(String(m.value)) ?? 0) + 1);
      ctx.publish(b.messages.map((m) => ({ topic: 'out', key: 'k', value: `${m.value}!` })));
    });
    await bus.publish([{ topic: 'in', key: 'k', value: 'a' }]);
    await waitFor('the first batch to commit', async () => (await bus.groupLag('g', 'in'))[0]!.lag === 0);

    // A restart of the same instance (same transactional id) starts a producer: InitProducerId bumps
    // the epoch and fences ours.
    const restarted = new Producer({ ...connectionConfig(brokersFromEnv()), 'transactional.id': `${bus.physical('g')}.pod-a` } as never);
    await call((cb) => restarted.connect({}, (err) => cb(err)));
    await call((cb) => restarted.initTransactions(10_000, cb));
    await call((cb) => restarted.disconnect((err) => cb(err)));

    await bus.publish([{ topic: 'in', key: 'k', value: 'x' }]);
    await waitFor('the new message to commit', async () => (await bus.groupLag('g', 'in'))[0]!.lag === 0, 30_000);
    await sub.stop();
    assert.equal(attempts.get('a'), 1);
    assert.equal(attempts.get('x'), 2, 'the fenced batch ran twice');
    const out = await readTopic(brokersFromEnv(), bus.physical('out'), { count: 3, timeoutMs: 5_000 });
    assert.deepEqual(out.map((m) => String(m.value)), ['a!', 'x!'], 'each output exactly once (read committed)');
  });

  it('fences a member that lost its partitions while its batch was in flight (KIP-447): the output is written once', async () => {
    const ns = uniqueName('zombie');
    // The broker's smallest session timeout; a member that does not poll for 6 s leaves the group.
    const consumer = { sessionTimeoutMs: 6_000, maxPollIntervalMs: 6_000 };
    const a = newBus(ns, { instanceId: 'a', consumer });
    const b = newBus(ns, { instanceId: 'b', consumer });
    await a.ensureTopics([{ topic: 'in', partitions: 1 }, { topic: 'out', partitions: 1 }]);
    await a.publish([{ topic: 'in', key: 'k', value: 'x' }]);
    let release!: () => void;
    const stalled = new Promise<void>((r) => (release = r));
    let aStarted = 0;
    let aReturned = false;
    const subA = await a.subscribe({ groupId: 'g', topics: ['in'], transactional: true }, async (batch, ctx) => {
      ctx.publish(batch.messages.map((m) => ({ topic: 'out', key: 'k', value: `${m.value}@a` })));
      if (aStarted++ === 0) {
        await stalled; // a stalled member: the group moves its partition on
        aReturned = true;
      }
    });
    await waitFor('member a to hold the batch', () => aStarted === 1);
    const subB = await b.subscribe({ groupId: 'g', topics: ['in'], transactional: true }, async (batch, ctx) => {
      ctx.publish(batch.messages.map((m) => ({ topic: 'out', key: 'k', value: `${m.value}@b` })));
    });
    await waitFor('member b to take the partition over and commit', async () => (await a.groupLag('g', 'in'))[0]!.lag === 0, 60_000);
    release(); // the zombie wakes up and tries to commit its stale batch
    await waitFor('the zombie to finish its batch', () => aReturned);
    await a.publish([{ topic: 'in', key: 'k', value: 'y' }]);
    await waitFor('the next message to commit', async () => (await a.groupLag('g', 'in'))[0]!.lag === 0, 60_000);
    await subA.stop();
    await subB.stop();
    const out = (await readTopic(brokersFromEnv(), a.physical('out'), { count: 3, timeoutMs: 5_000 })).map((m) => String(m.value));
    assert.equal(out[0], 'x@b', `the new owner's output, not the zombie's: ${out.join(',')}`);
    assert.equal(out.length, 2, `x once and y once: ${out.join(',')}`);
    assert.match(out[1]!, /^y@[ab]$/);
  });

  for (const transactional of [false, true]) {
    it(`dead-letters a poison message after bounded retries and moves on (${transactional ? 'exactly-once' : 'at-least-once'})`, async () => {
      const ns = uniqueName('poison');
      const bus = newBus(ns);
      await bus.ensureTopics([{ topic: 'in', partitions: 1 }, { topic: 'out', partitions: 1 }, { topic: 'dlq', partitions: 1 }]);
      await bus.publish(['a', 'b', 'poison', 'c'].map((v) => ({ topic: 'in', key: 'k', value: v })));
      const seen: string[][] = [];
      const sub = await bus.subscribe(
        {
          groupId: 'g',
          topics: ['in'],
          transactional,
          maxAttempts: 2,
          deadLetter: (m, err, attempts) => [{ topic: 'dlq', key: null, value: `${m.value}|${(err as Error).message}|${attempts}` }],
        },
        async (b, ctx) => {
          const values = b.messages.map((m) => String(m.value));
          seen.push(values);
          if (values.includes('poison')) throw new TypeError('cannot read the poison');
          ctx.publish(values.map((v) => ({ topic: 'out', key: 'k', value: `${v}!` })));
        },
      );
      await waitFor('the partition to move past the poison message', async () => (await bus.groupLag('g', 'in'))[0]!.lag === 0, 60_000);
      await sub.stop();
      const out = await readTopic(brokersFromEnv(), bus.physical('out'), { count: 4, timeoutMs: 3_000 });
      assert.deepEqual(out.map((m) => String(m.value)), ['a!', 'b!', 'c!'], 'every other message handled once, in order');
      const dlq = await readTopic(brokersFromEnv(), bus.physical('dlq'), { count: 2, timeoutMs: 3_000 });
      assert.deepEqual(dlq.map((m) => String(m.value)), ['poison|cannot read the poison|2']);
      assert.ok(seen.some((v) => v.length === 1 && v[0] === 'poison'), `isolated: ${JSON.stringify(seen)}`);
      assert.ok(bus.isAlive() && bus.isReady());
    });
  }

  it('retries a batch for as long as a dependency is down: never a dead letter for a transient error', async () => {
    const ns = uniqueName('transient');
    const bus = newBus(ns);
    await bus.ensureTopics([{ topic: 'in', partitions: 1 }]);
    await bus.publish([{ topic: 'in', key: 'k', value: 'x' }]);
    let attempts = 0;
    const letters: string[] = [];
    const sub = await bus.subscribe(
      { groupId: 'g', topics: ['in'], maxAttempts: 2, deadLetter: (m) => (letters.push(String(m.value)), []) },
      async () => {
        if (++attempts < 6) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
      },
    );
    await waitFor('the batch to go through once the dependency is back', async () => (await bus.groupLag('g', 'in'))[0]!.lag === 0, 60_000);
    await sub.stop();
    assert.equal(attempts, 6);
    assert.deepEqual(letters, []);
  });

  it('a static member fenced by another with its group.instance.id is dead, so the process gets restarted', async () => {
    const ns = uniqueName('static');
    const first = newBus(ns, { instanceId: 'member-0', consumer: { staticMembership: true, sessionTimeoutMs: 10_000 } });
    await first.ensureTopics([{ topic: 'in', partitions: 2 }]);
    await first.publish([{ topic: 'in', key: 'k', value: 'a' }]);
    let seen = 0;
    await first.subscribe({ groupId: 'g', topics: ['in'] }, async (b) => void (seen += b.messages.length));
    await waitFor('the first member to consume', () => seen > 0, 30_000);
    assert.equal(first.isAlive(), true);
    // a second process under the same name (what two pods sharing INSTANCE_ID would be)
    const second = newBus(ns, { instanceId: 'member-0', consumer: { staticMembership: true, sessionTimeoutMs: 10_000 } });
    await second.subscribe({ groupId: 'g', topics: ['in'] }, async () => undefined);
    await waitFor('the first member to be fenced', () => !first.isAlive(), 30_000);
    assert.equal(second.isAlive(), true, 'the newer member lives on');
  });

  it('a cycle that runs past max.poll.interval.ms makes the member dead, so the process gets restarted', async () => {
    const ns = uniqueName('wedged');
    // the broker's smallest session timeout; max.poll.interval.ms may not be below it
    const bus = newBus(ns, { consumer: { sessionTimeoutMs: 6_000, maxPollIntervalMs: 6_000 } });
    await bus.ensureTopics([{ topic: 'in', partitions: 1 }]);
    await bus.publish([{ topic: 'in', key: 'k', value: 'a' }]);
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let entered = 0;
    await bus.subscribe({ groupId: 'g', topics: ['in'] }, async () => {
      entered = Date.now();
      await stuck; // a handler waiting on something that never answers
    });
    try {
      await waitFor('the handler to be entered', () => entered > 0, 30_000);
      assert.equal(bus.isAlive(), true, 'alive while the cycle is young');
      await waitFor('the member to count as dead', () => !bus.isAlive(), 15_000);
      assert.ok(Date.now() - entered >= 6_000, `dead only past max.poll.interval.ms (after ${Date.now() - entered} ms)`);
    } finally {
      release();
    }
    await waitFor('the member to live again once the cycle ended', () => bus.isAlive(), 10_000);
  });

  it('a member with lag that commits nothing for stalledMs is wedged and dead; failing on a dependency is not', async () => {
    const ns = uniqueName('stalled');
    // longer than the handler's longest back-off (5 s), as in production (120 s)
    const stalledMs = 8_000;
    const bus = newBus(ns, { onConsumed: () => undefined, lagIntervalMs: 500, consumer: { stalledMs } });
    await bus.ensureTopics([{ topic: 'in', partitions: 1 }]);
    // more than one: a lag of 1 is what a caught-up reader of a transactional topic sees (the marker)
    await bus.publish(Array.from({ length: 5 }, (_, i) => ({ topic: 'in', key: 'k', value: String(i) })));
    let mode: 'fail' | 'hang' = 'fail';
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let calls = 0;
    let lastFailure = 0;
    await bus.subscribe({ groupId: 'g', topics: ['in'] }, async () => {
      calls++;
      if (mode === 'fail') {
        lastFailure = Date.now();
        throw new Error('the dependency is down'); // retried with back-off: not wedged
      }
      await stuck;
    });
    try {
      await waitFor('the handler to fail a few times', () => calls >= 3, 30_000);
      const failingSince = Date.now();
      while (Date.now() - failingSince < stalledMs * 1.5) {
        assert.equal(bus.isAlive(), true, 'a member whose handler keeps failing is alive');
        await new Promise((r) => setTimeout(r, 250));
      }
      mode = 'hang';
      const hangFrom = calls;
      await waitFor('the handler to hang', () => calls > hangFrom, 30_000);
      await waitFor('the wedged member to count as dead', () => !bus.isAlive(), stalledMs + 10_000);
      // the last sign of life was the last failure
      assert.ok(Date.now() - lastFailure >= stalledMs, `dead only after stalledMs without progress (${Date.now() - lastFailure} ms)`);
    } finally {
      release();
    }
  });

  it('reads consumer lag from the broker, so a stuck consumer shows its growing lag', async () => {
    const ns = uniqueName('lag');
    const reports: ConsumedReport[] = [];
    const bus = newBus(ns, { onConsumed: (r) => reports.push(r), lagIntervalMs: 60_000 });
    await bus.ensureTopics([{ topic: 'in', partitions: 2 }]);
    await bus.publish([{ topic: 'in', key: 'k', value: 'first' }]);
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let handled = 0;
    const sub = await bus.subscribe({ groupId: 'g', topics: ['in'] }, async () => {
      if (handled++ > 0) await stuck; // the second batch hangs, as on a dependency that never answers
    });
    await waitFor('the first batch to commit', async () => (await bus.groupLag('g', 'in')).every((p) => p.lag === 0));
    const committedBefore = (await bus.groupLag('g', 'in')).length;
    await bus.publish(Array.from({ length: 5 }, (_, i) => ({ topic: 'in', key: 'k', value: String(i) })));
    await waitFor('the consumer to be stuck', () => handled >= 2);
    reports.length = 0;
    await bus.reportLag();
    const byPartition = reports.filter((r) => r.groupId === 'g' && r.topic === 'in');
    assert.equal(byPartition.length, committedBefore, 'one report per partition');
    assert.equal(byPartition.reduce((a, r) => a + r.lag, 0), 5, 'the five messages behind the stuck batch');
    assert.ok(byPartition.some((r) => r.lag === 5 && r.committed === 1), JSON.stringify(byPartition));
    release();
    await waitFor('the consumer to catch up', async () => (await bus.groupLag('g', 'in')).every((p) => p.lag === 0));
    await sub.stop();
  });
});
