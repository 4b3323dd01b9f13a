/**
 * How long a restarted stream service's partitions stand still (docs/operations.md, "Consumer
 * groups"), against the real ingester processes and broker, under continuous load on the raw topic.
 *
 * A member's partitions "resume" once the group's committed offset of every raw partition moved past
 * where it stood when the member went down: the survivor's partitions move on at once, the downed
 * member's only when someone consumes them again. With dynamic membership a SIGKILLed member keeps
 * them until the broker expires its session (KAFKA_SESSION_TIMEOUT_MS); a static member restarted
 * under the same INSTANCE_ID (a StatefulSet's pod) takes them back as soon as it is up. The session
 * timeout is the production default, 30 s, so the two cases are far apart on any machine.
 * Oracle for every case: each produced event is on the events topic exactly once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TOPICS, GROUPS } from '@seqrec/contracts';
import { KafkaAdmin, createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, testKafka, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { redisUrlFromEnv } from '@seqrec/redis/testing';
import { startService, type RunningService } from '@seqrec/testing';
import { dropNamespaces, makeEvents, tallyEvents, type TestEvent } from './ingest-helpers';

const brokers = brokersFromEnv();
const SESSION_TIMEOUT_MS = 30_000;
const PARTITIONS = 4;
/** Raw events per second offered while members die and come back. */
const RATE = 200;
const namespaces: string[] = [];
const running = new Set<RunningService>();
const admin = new KafkaAdmin(brokers);

after(async () => {
  await Promise.all([...running].map((s) => s.stop()));
  await dropNamespaces(brokers, namespaces);
  await admin.disconnect();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two ingesters on a raw topic of their own, a producer at {@link RATE}, and the group's progress. */
async function scenario(label: string, staticMembership: boolean) {
  const ns = uniqueName(`restart-${label}`);
  namespaces.push(ns);
  await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: `${ns}.${t}`, numPartitions: PARTITIONS, replicationFactor: 1 })));
  const raw = `${ns}.${TOPICS.CLICKSTREAM_RAW}`;
  const group = `${ns}.${GROUPS.INGESTER}`;
  const env = (name: string) => ({
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_NAMESPACE: ns,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
    KAFKA_STATIC_MEMBERSHIP: String(staticMembership),
    INSTANCE_ID: name,
    REDIS_URL: redisUrlFromEnv(),
    REDIS_PREFIX: ns,
    LOG_LEVEL: 'warn',
  });
  const start = async (name: string) => {
    const s = await startService('ingester', env(name), 60_000);
    running.add(s);
    return s;
  };

  const sent: TestEvent[] = [];
  const producer = testKafka('seqrec-restart-load', brokers).producer({ kafkaJS: { idempotent: true, acks: -1 }, 'linger.ms': 5 } as never);
  await producer.connect();
  let producing = true;
  const load = (async () => {
    for (let batch = 0; producing; batch++) {
      const events = makeEvents(`${label}-${batch}`, RATE / 10);
      await producer.send({ topic: raw, messages: events.map((e) => ({ key: e.userId, value: JSON.stringify(e) })) });
      sent.push(...events);
      await sleep(100);
    }
  })();

  const committed = async () => admin.committedOffsets(group, raw, [...Array(PARTITIONS).keys()]);
  /** ms from now until the committed offset of every partition is past where it is now. */
  const resumeMs = async (from: number, limitMs = 3 * SESSION_TIMEOUT_MS): Promise<number> => {
    const before = await committed();
    for (;;) {
      const now = await committed();
      if ([...Array(PARTITIONS).keys()].every((p) => (now.get(p) ?? -1) > (before.get(p) ?? -1))) return Date.now() - from;
      if (Date.now() - from > limitMs) throw new Error(`partitions still not consumed after ${limitMs} ms: ${JSON.stringify([...now])} (at the stop: ${JSON.stringify([...before])})`);
      await sleep(200);
    }
  };
  /**
   * Both members hold partitions and every partition is being consumed. Returns who holds what
   * (by static member id; for dynamic members, by their position in the group's description).
   */
  const balanced = async (): Promise<Map<string, number[]>> => {
    const members = await waitFor('both members to hold partitions', async () => {
      const m = await admin.groupMembers(group, raw);
      return m.length === 2 && m.every((x) => x.partitions.length > 0) ? m : undefined;
    }, 60_000);
    await resumeMs(Date.now(), 60_000);
    return new Map(members.map((m, i) => [m.instanceId || `member-${i}`, m.partitions]));
  };
  const finish = async () => {
    producing = false;
    await load;
    await producer.disconnect();
    const got = await tallyEvents(brokers, `${ns}.${TOPICS.EVENTS}`, sent.length, 15_000);
    const wrong = sent.filter((e) => got.get(e.eventId) !== 1).map((e) => `${e.eventId}: ${got.get(e.eventId) ?? 0}`);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${sent.length} events not on the events topic exactly once`);
    return sent.length;
  };
  return { start, resumeMs, balanced, finish };
}

const killed = (s: RunningService) =>
  new Promise<void>((resolve) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) return resolve();
    s.proc.once('exit', () => resolve());
    s.proc.kill('SIGKILL');
  });

describe('a restarted stream service: its partitions resume after its restart, not after the session timeout', () => {
  it('dynamic members (a Deployment): a SIGKILLed member\'s partitions wait for its session to expire', async () => {
    const sc = await scenario('dynamic', false);
    const a = await sc.start('ingester-a');
    await sc.start('ingester-b');
    await sc.balanced();
    const t0 = Date.now();
    await killed(a);
    running.delete(a);
    const resumed = sc.resumeMs(t0);
    await sc.start('ingester-a');
    const readyMs = Date.now() - t0;
    const ms = await resumed;
    console.log(`# dynamic membership: SIGKILL → ready again ${readyMs} ms, partitions resumed after ${ms} ms (session timeout ${SESSION_TIMEOUT_MS} ms)`);
    // the control: what static membership removes (were this not so, the static cases would prove nothing)
    assert.ok(ms >= SESSION_TIMEOUT_MS * 0.8, `resumed after ${ms} ms, before the dead member's session expired`);
    console.log(`# ${await sc.finish()} events, each once`);
  });

  it('static members (a StatefulSet): a SIGKILLed member restarted under its name takes its partitions back at once', async () => {
    const sc = await scenario('static-kill', true);
    const members = new Map<string, RunningService>();
    for (const name of ['ingester-0', 'ingester-1']) members.set(name, await sc.start(name));
    for (const name of members.keys()) {
      const held = (await sc.balanced()).get(name);
      assert.ok(held && held.length > 0, `${name} holds partitions before it is killed`);
      const t0 = Date.now();
      await killed(members.get(name)!);
      running.delete(members.get(name)!);
      const resumed = sc.resumeMs(t0);
      members.set(name, await sc.start(name));
      const readyMs = Date.now() - t0;
      const ms = await resumed;
      const now = await sc.balanced();
      console.log(`# static membership, SIGKILL of ${name} (partitions ${held.join(',')}): ready again ${readyMs} ms, partitions resumed after ${ms} ms (session timeout ${SESSION_TIMEOUT_MS} ms); then ${name} holds ${now.get(name)?.join(',')}`);
      assert.ok(ms < SESSION_TIMEOUT_MS, `resumed after ${ms} ms: the group waited for the dead member's session to expire`);
      assert.deepEqual(now.get(name), held, 'the restarted member took its own partitions back');
    }
    console.log(`# ${await sc.finish()} events, each once`);
  });

  it('static members: a rolling restart (SIGTERM, start under the same name, one member after the other) stalls each member only for its restart', async () => {
    const sc = await scenario('static-roll', true);
    const members = [await sc.start('ingester-0'), await sc.start('ingester-1')];
    for (const [i, m] of members.entries()) {
      const held = (await sc.balanced()).get(`ingester-${i}`);
      assert.ok(held && held.length > 0, `ingester-${i} holds partitions before it is stopped`);
      const t0 = Date.now();
      assert.equal(await m.stop(30_000), 0, 'graceful stop');
      running.delete(m);
      const stoppedMs = Date.now() - t0;
      const resumed = sc.resumeMs(t0);
      await sc.start(`ingester-${i}`);
      const readyMs = Date.now() - t0;
      const ms = await resumed;
      console.log(`# static membership, rolling restart of ingester-${i} (partitions ${held.join(',')}): stopped in ${stoppedMs} ms, ready again ${readyMs} ms, partitions resumed after ${ms} ms`);
      assert.ok(ms < SESSION_TIMEOUT_MS, `resumed after ${ms} ms: the group waited for the stopped member's session to expire`);
    }
    console.log(`# ${await sc.finish()} events, each once`);
  });
});
