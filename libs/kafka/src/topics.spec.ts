import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Admin } from 'kafkajs';
import { createTopicsAndWait } from './topics';

/** An admin whose metadata answers follow a script: an error type to throw, or the leaders per partition. */
function scriptedAdmin(script: Array<string | number[]>) {
  const calls = { create: [] as unknown[], metadata: 0 };
  const admin = {
    createTopics: async (req: unknown) => {
      calls.create.push(req);
      return true;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      const step = script[Math.min(calls.metadata++, script.length - 1)]!;
      if (typeof step === 'string') throw Object.assign(new Error(step), { type: step });
      return { topics: topics.map((name) => ({ name, partitions: step.map((leader, partitionId) => ({ partitionId, leader })) })) };
    },
  };
  return { admin: admin as unknown as Admin, calls };
}

describe(createTopicsAndWait.name, () => {
  it('creates without kafkajs\' waitForLeaders and waits through both not-yet answers until every partition has a leader', async () => {
    const { admin, calls } = scriptedAdmin(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', [1, -1, 1], [1, 1, 1]]);
    await createTopicsAndWait(admin, [{ topic: 't', numPartitions: 3 }], 5_000, 1);
    assert.deepEqual(calls.create, [{ waitForLeaders: false, topics: [{ topic: 't', numPartitions: 3 }] }]);
    assert.equal(calls.metadata, 4);
  });

  it('rethrows any other error, and names the topics and the last answer when it times out', async () => {
    await assert.rejects(createTopicsAndWait(scriptedAdmin(['TOPIC_AUTHORIZATION_FAILED']).admin, [{ topic: 't' }], 5_000, 1), /TOPIC_AUTHORIZATION_FAILED/);
    await assert.rejects(
      createTopicsAndWait(scriptedAdmin([[0, -1]]).admin, [{ topic: 'a' }, { topic: 'b' }], 30, 5),
      /topics a, b not ready after 30 ms \(no leader yet for every partition of a, b\)/,
    );
    await assert.rejects(createTopicsAndWait(scriptedAdmin(['UNKNOWN_TOPIC_OR_PARTITION']).admin, [{ topic: 'a' }], 30, 5), /not ready after 30 ms \(UNKNOWN_TOPIC_OR_PARTITION\)/);
  });

  it('does nothing for no topics', async () => {
    const { admin, calls } = scriptedAdmin([[0]]);
    await createTopicsAndWait(admin, []);
    assert.equal(calls.create.length + calls.metadata, 0);
  });
});
