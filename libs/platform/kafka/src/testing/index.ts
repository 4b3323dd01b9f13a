import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';

/**
 * Helpers for tests against a real broker (started by `scripts/infra.sh`, passed as KAFKA_BROKERS),
 * on `@confluentinc/kafka-javascript` (librdkafka) through its KafkaJS-compatible API, with the
 * library's own logging off. Every test gets its own topics and group ids; waiting is by
 * condition with a deadline, never sleep.
 */

export function brokersFromEnv(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    throw new Error('KAFKA_BROKERS is not set: run integration tests through `npm test` (it starts Kafka and Redis)');
  }
  return brokers.split(',').map((b) => b.trim());
}

/** A unique, valid topic or group name for one test. */
export function uniqueName(label: string): string {
  return `test.${label}.${randomUUID().slice(0, 8)}`;
}

/** Fast retry policy for tests (KafkaJS-style `retry` options). */
export const TEST_RETRY = { initialRetryTime: 50, retries: 5, maxRetryTime: 1_000 } as const;

/**
 * A KafkaJS-compatible client for tests: the library's logging off, fast retries. Its producers
 * take `acks`/`compression`/`idempotent` in their own config (`{ kafkaJS: { ... } }`), not per send;
 * its consumers `fromBeginning` in theirs, not per subscribe.
 */
export function testKafka(clientId = 'seqrec-test', brokers: string[] = brokersFromEnv()): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ kafkaJS: { brokers, clientId, logLevel: KafkaJS.logLevel.NOTHING, retry: { ...TEST_RETRY } } });
}

/** One message as {@link readTopic} returns it. */
export interface TopicMessage {
  partition: number;
  offset: number;
  /** Epoch ms (create time, or log-append time if the topic says so). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values by key; a key that occurs more than once has an array of its values. */
  headers: Record<string, Buffer | Buffer[]>;
}

export interface ReadTopicOptions {
  /** Stop once this many messages arrived. */
  count: number;
  timeoutMs?: number;
}

function toTopicMessage(partition: number, m: KafkaJS.KafkaMessage): TopicMessage {
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    const asBuffer = (x: Buffer | string) => (typeof x === 'string' ? Buffer.from(x) : x);
    headers[k] = Array.isArray(v) ? v.map(asBuffer) : asBuffer(v);
  }
  return { partition, offset: Number(m.offset), timestamp: Number(m.timestamp), key: m.key, value: m.value, headers };
}

/**
 * Reads a topic from the beginning with a throwaway group (read committed: aborted or still open
 * transactional writes are not returned) until `count` messages arrived (then waits a short grace
 * period to catch extras) or the deadline passes; returns what it got, in arrival order (each
 * partition in offset order). Commits nothing.
 */
export async function readTopic(brokers: string[], topic: string, { count, timeoutMs = 20_000 }: ReadTopicOptions): Promise<TopicMessage[]> {
  const consumer = testKafka('seqrec-test-reader', brokers).consumer({
    kafkaJS: { groupId: uniqueName('reader'), fromBeginning: true, autoCommit: false, maxWaitTimeInMs: 50, allowAutoTopicCreation: false },
    'isolation.level': 'read_committed',
  });
  const got: TopicMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push(toTopicMessage(partition, message));
        if (got.length >= count) resolveDone();
      },
    });
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([done, deadline]);
    if (got.length >= count) await new Promise((r) => setTimeout(r, 300));
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/**
 * Deletes every topic of a test's namespace (`<namespace>.<topic>`) and returns their names. Tests
 * run against a shared broker and each gets its own topics: without this they stay behind, and a
 * broker that collected them over many runs is slower for everything else on it (3,574 partition
 * directories from earlier test runs: Kafka's own ProducerPerformance 93k records/s; the same broker
 * emptied, same hour: 152k).
 */
export async function deleteNamespaceTopics(brokers: string[], namespace: string): Promise<string[]> {
  const admin = testKafka('seqrec-test-cleanup', brokers).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics({ timeout: 30_000 })).filter((t) => t.startsWith(`${namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    return topics;
  } finally {
    await admin.disconnect();
  }
}

export interface ResetGroupOffsetsOptions {
  groupId: string;
  topic: string;
  /** Where every partition of the topic goes: its first retained offset, or its end. Default earliest. */
  to?: 'earliest' | 'latest';
  /** How long to wait for the group to have no members (its consumers stopped). Default 30 s. */
  timeoutMs?: number;
}

/**
 * Moves a consumer group's committed offsets for one topic to the start (or end) of each partition,
 * as `kafka-consumer-groups --reset-offsets` does; returns the offsets committed. The group must
 * have no running members (a broker rejects commits from outside a live generation): this waits
 * until the group is empty, then commits from a consumer of that group that never subscribes (a
 * standalone commit, which the broker accepts for an empty group), and reads the result back.
 */
export async function resetGroupOffsets(brokers: string[], { groupId, topic, to = 'earliest', timeoutMs = 30_000 }: ResetGroupOffsetsOptions): Promise<Map<number, number>> {
  const kafka = testKafka('seqrec-test-reset', brokers);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      `consumer group ${groupId} to have no members`,
      async () => {
        const { groups } = await admin.describeGroups([groupId], { timeout: 5_000 });
        const g = groups[0];
        return g !== undefined && !g.error && g.members.length === 0;
      },
      timeoutMs,
    );
    const ends = await admin.fetchTopicOffsets(topic, { timeout: 10_000, isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED });
    const wanted = new Map(ends.map((p) => [p.partition, Number(to === 'earliest' ? p.low : p.high)]));
    const consumer = kafka.consumer({ kafkaJS: { groupId, autoCommit: false, allowAutoTopicCreation: false } });
    await consumer.connect();
    try {
      await consumer.commitOffsets([...wanted].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })));
    } finally {
      await consumer.disconnect();
    }
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic], timeout: 10_000 });
    const got = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    for (const [partition, offset] of wanted) {
      if (got.get(partition) !== offset) throw new Error(`resetting ${groupId} on ${topic}/${partition} to ${offset} did not hold: the group has ${got.get(partition)}`);
    }
    return wanted;
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
