import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CONFIG_RESOURCE_TYPES, KafkaAdmin, KAFKA_ERRORS } from './connection';
import { KafkaBus } from './kafka-bus';
import { brokersFromEnv, deleteNamespaceTopics, uniqueName } from './testing';
import type { TopicDurability } from './topics';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** What the single test broker can hold: RF 1, min ISR 1. */
const CREATED: TopicDurability = { replicationFactor: 1, minInsyncReplicas: 1, retentionMs: 3 * 3_600_000, maxMessageBytes: 2_000_000 };
/** Production's configuration: more than the test broker's topics have. */
const PRODUCTION: TopicDurability = { replicationFactor: 3, minInsyncReplicas: 2, retentionMs: 7 * 86_400_000, maxMessageBytes: 4_000_000 };

const ns = uniqueName('topiccheck');
const buses: KafkaBus[] = [];
const admin = new KafkaAdmin(brokersFromEnv());

function newBus(durability: TopicDurability): KafkaBus {
  const bus = new KafkaBus({ brokers: brokersFromEnv(), clientId: 'seqrec-test', namespace: ns, logger: quiet, durability });
  buses.push(bus);
  return bus;
}

after(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
  await admin.disconnect();
  await deleteNamespaceTopics(brokersFromEnv(), ns);
});

describe('topic durability (real broker)', () => {
  it('describeConfigs returns the values a topic was created with, and an error for an unknown topic', async () => {
    await newBus(CREATED).ensureTopics([{ topic: 'a', partitions: 2 }]);
    const [topic, missing] = await Promise.all([
      admin.describeConfigs([{ type: CONFIG_RESOURCE_TYPES.TOPIC, name: `${ns}.a` }]),
      admin.describeConfigs([{ type: CONFIG_RESOURCE_TYPES.TOPIC, name: `${ns}.no-such-topic` }]),
    ]);
    const entries = new Map(topic[0]!.configs.map((c) => [c.name, c]));
    assert.equal(entries.get('min.insync.replicas')?.value, '1');
    assert.equal(entries.get('retention.ms')?.value, String(3 * 3_600_000));
    assert.equal(entries.get('max.message.bytes')?.value, '2000000');
    // set on the topic (DYNAMIC_TOPIC_CONFIG), not inherited from the broker
    assert.equal(entries.get('retention.ms')?.source, 1);
    assert.equal(entries.get('retention.ms')?.isDefault, false);
    assert.equal(entries.get('cleanup.policy')?.value, 'delete', 'defaults are described too');
    assert.equal(missing[0]!.error?.code, KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION);
    assert.deepEqual(missing[0]!.configs, []);

    const byTopic = await admin.describeTopicConfigs([`${ns}.a`]);
    assert.equal(byTopic.get(`${ns}.a`)?.['max.message.bytes'], '2000000');
  });

  it('a configuration that expects more than the topics have: every stronger setting is reported weaker', async () => {
    await newBus(CREATED).ensureTopics([{ topic: 'a', partitions: 2 }, { topic: 'b', partitions: 1 }]);
    const res = await newBus(PRODUCTION).checkTopics(['a', 'b']);
    assert.deepEqual(res.unreadable, []);
    assert.deepEqual(
      res.comparisons.map((c) => [c.topic, c.setting, c.actual, c.required, c.weaker]),
      ['a', 'b'].flatMap((t) => [
        [`${ns}.${t}`, 'replication.factor', 1, 3, true],
        [`${ns}.${t}`, 'min.insync.replicas', 1, 2, true],
        [`${ns}.${t}`, 'retention.ms', 3 * 3_600_000, 7 * 86_400_000, true],
        [`${ns}.${t}`, 'max.message.bytes', 2_000_000, 4_000_000, true],
      ]),
    );
  });

  it('the configuration the topics were created with, or a weaker one, is met; a missing topic is unreadable', async () => {
    await newBus(CREATED).ensureTopics([{ topic: 'a', partitions: 2 }]);
    const same = await newBus(CREATED).checkTopics(['a']);
    assert.deepEqual(same.comparisons.filter((c) => c.weaker), []);
    assert.equal(same.comparisons.length, 4);
    const weaker = await newBus({ replicationFactor: -1, minInsyncReplicas: 1, retentionMs: 3_600_000, maxMessageBytes: 1_000_000 }).checkTopics(['a']);
    assert.deepEqual(weaker.comparisons.filter((c) => c.weaker), []);
    const missing = await newBus(CREATED).checkTopics(['no-such-topic']);
    assert.equal(missing.unreadable.length, 1);
    assert.equal(missing.unreadable[0]!.topic, `${ns}.no-such-topic`);
  });
});
