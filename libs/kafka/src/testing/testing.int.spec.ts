import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsAndWait } from '../topics';
import { TEST_RETRY, brokersFromEnv, deleteNamespaceTopics, uniqueName, waitFor } from './index';

describe(deleteNamespaceTopics.name, () => {
  it("deletes every topic of the namespace and nothing else, not even a namespace it prefixes", async () => {
    const ns = uniqueName('cleanup');
    const mine = [`${ns}.a`, `${ns}.b.c`];
    const others = [`${ns}x.a`, `${uniqueName('cleanup')}.a`];
    const kafka = new Kafka({ clientId: 'seqrec-test', brokers: brokersFromEnv(), logLevel: logLevel.NOTHING, retry: TEST_RETRY });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await createTopicsAndWait(admin, [...mine, ...others].map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })));
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
