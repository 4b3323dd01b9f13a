import type { Admin, ITopicConfig } from 'kafkajs';

/** Metadata errors a broker gives for a topic it has created but not yet fully applied. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

function errorType(err: unknown): string | undefined {
  const e = err as { type?: string; originalError?: { type?: string } };
  return e?.type ?? e?.originalError?.type;
}

/**
 * Creates the topics that do not exist yet and waits until every partition of every one of them
 * has a leader. kafkajs' own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, while a KRaft
 * broker that has not applied a just-created topic answers UNKNOWN_TOPIC_OR_PARTITION, which then
 * fails the call (seen on freshly started brokers); this accepts either while waiting.
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000, pollMs = 50): Promise<void> {
  if (topics.length === 0) return;
  await admin.createTopics({ waitForLeaders: false, topics });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: names });
      const waiting = names.filter((name) => {
        const t = meta.find((m) => m.name === name);
        return !t || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0);
      });
      if (waiting.length === 0) return;
      last = `no leader yet for every partition of ${waiting.join(', ')}`;
    } catch (err) {
      const type = errorType(err);
      if (!type || !NOT_YET.has(type)) throw err;
      last = type;
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} not ready after ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
