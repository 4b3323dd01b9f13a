import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';

/**
 * Helpers for tests against a real broker (started by `scripts/infra.sh`, passed as KAFKA_BROKERS).
 * Every test gets its own topics and group ids; waiting is by condition with a deadline, never sleep.
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

/** Fast retry policy for tests. */
export const TEST_RETRY = { initialRetryTime: 50, retries: 5, maxRetryTime: 1_000 } as const;

export interface ReadTopicOptions {
  /** Stop once this many messages arrived. */
  count: number;
  timeoutMs?: number;
}

/**
 * Reads a topic from the beginning with a throwaway group until `count` messages arrived (then
 * waits a short grace period to catch extras) or the deadline passes; returns what it got.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  { count, timeoutMs = 20_000 }: ReadTopicOptions,
): Promise<KafkaMessage[]> {
  const kafka = new Kafka({ clientId: 'seqrec-test-reader', brokers, logLevel: logLevel.NOTHING, retry: TEST_RETRY });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 50, readUncommitted: false });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message);
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
  const kafka = new Kafka({ clientId: 'seqrec-test-cleanup', brokers, logLevel: logLevel.NOTHING, retry: TEST_RETRY });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    return topics;
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
