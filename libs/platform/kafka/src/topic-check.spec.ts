import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TopicDescription } from '@confluentinc/kafka-javascript';
import type { ConfigResource, ConfigResourceDescription, KafkaAdmin } from './connection';
import { checkTopicDurability, compareTopicSettings, describeWeakerSetting, formatTopicSetting, type ActualTopicSettings } from './topic-check';

const PROD = { replicationFactor: 3, minInsyncReplicas: 2, retentionMs: 7 * 86_400_000, maxMessageBytes: 1_048_588 };

function actual(replicationFactor: number | undefined, configs: Record<string, string | null>): ActualTopicSettings {
  return { replicationFactor, configs };
}

const weakerOf = (a: ActualTopicSettings, required = PROD) =>
  compareTopicSettings('t', a, required)
    .filter((c) => c.weaker)
    .map((c) => c.setting);

describe(compareTopicSettings.name, () => {
  const strong = { 'min.insync.replicas': '2', 'retention.ms': String(7 * 86_400_000), 'max.message.bytes': '1048588' };

  it('compares every setting the configuration sets, equal is not weaker', () => {
    const sut = compareTopicSettings('t', actual(3, strong), PROD);
    assert.deepEqual(
      sut.map((c) => [c.setting, c.actual, c.required, c.weaker]),
      [
        ['replication.factor', 3, 3, false],
        ['min.insync.replicas', 2, 2, false],
        ['retention.ms', 604_800_000, 604_800_000, false],
        ['max.message.bytes', 1_048_588, 1_048_588, false],
      ],
    );
  });

  it('more than required is not weaker', () => {
    assert.deepEqual(weakerOf(actual(5, { 'min.insync.replicas': '3', 'retention.ms': String(30 * 86_400_000), 'max.message.bytes': '8388608' })), []);
  });

  it('lower replication and min ISR, shorter retention and smaller max.message.bytes are weaker', () => {
    assert.deepEqual(weakerOf(actual(1, { 'min.insync.replicas': '1', 'retention.ms': '3600000', 'max.message.bytes': '1000000' })), [
      'replication.factor',
      'min.insync.replicas',
      'retention.ms',
      'max.message.bytes',
    ]);
  });

  it('retention -1 (forever) is the strongest, and a required -1 accepts only -1', () => {
    assert.deepEqual(weakerOf(actual(3, { ...strong, 'retention.ms': '-1' })), []);
    const forever = { ...PROD, retentionMs: -1 };
    assert.deepEqual(weakerOf(actual(3, { ...strong, 'retention.ms': '-1' }), forever), []);
    assert.deepEqual(weakerOf(actual(3, { ...strong, 'retention.ms': String(365 * 86_400_000) }), forever), ['retention.ms']);
  });

  it('checks only what the configuration sets; replication factor -1 (broker default) is not checked', () => {
    assert.deepEqual(compareTopicSettings('t', actual(1, {}), {}), []);
    assert.deepEqual(
      compareTopicSettings('t', actual(1, { 'min.insync.replicas': '1' }), { replicationFactor: -1, minInsyncReplicas: 1 }).map((c) => c.setting),
      ['min.insync.replicas'],
    );
  });

  it('an unknown or unparsable value counts as weaker', () => {
    const sut = compareTopicSettings('t', actual(undefined, { 'min.insync.replicas': null, 'retention.ms': 'soon' }), PROD);
    assert.deepEqual(
      sut.filter((c) => c.weaker).map((c) => [c.setting, c.actual]),
      [
        ['replication.factor', undefined],
        ['min.insync.replicas', undefined],
        ['retention.ms', undefined],
        ['max.message.bytes', undefined],
      ],
    );
  });
});

describe(describeWeakerSetting.name, () => {
  it('names topic, setting, actual and required value', () => {
    assert.equal(
      describeWeakerSetting({ topic: 'ns.ingest.internal.event.accepted.1', setting: 'min.insync.replicas', actual: 1, required: 2, weaker: true }),
      'topic ns.ingest.internal.event.accepted.1: min.insync.replicas is 1, weaker than required (at least 2)',
    );
    assert.equal(
      describeWeakerSetting({ topic: 't', setting: 'retention.ms', actual: 86_400_000, required: 604_800_000, weaker: true }),
      'topic t: retention.ms is 86400000 (1 d), weaker than required (at least 604800000 (7 d))',
    );
    assert.equal(
      describeWeakerSetting({ topic: 't', setting: 'retention.ms', actual: 3_600_000, required: -1, weaker: true }),
      'topic t: retention.ms is 3600000 (1 h), weaker than required (forever)',
    );
  });

  it('formats retention in days, hours or seconds', () => {
    assert.equal(formatTopicSetting('retention.ms', 90 * 60_000), '5400000 (5400 s)');
    assert.equal(formatTopicSetting('retention.ms', 36 * 3_600_000), '129600000 (36 h)');
    assert.equal(formatTopicSetting('max.message.bytes', undefined), 'unknown');
  });
});

describe(checkTopicDurability.name, () => {
  type Admin = Pick<KafkaAdmin, 'describeTopics' | 'describeConfigs'>;
  const node = (id: number) => ({ id, host: 'h', port: 9092 });
  function fakeAdmin(topics: Record<string, { replicas: number[]; configs: Record<string, string> } | 'missing'>): Admin & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      describeTopics: async (names: string[]) => {
        calls.push('describeTopics');
        return names.map((name) => {
          const t = topics[name];
          if (!t || t === 'missing') return { name, error: { code: 3, message: 'Broker: Unknown topic or partition' }, partitions: [] } as unknown as TopicDescription;
          return { name, partitions: t.replicas.map((r, partition) => ({ partition, leader: node(1), isr: [], replicas: Array.from({ length: r }, (_, i) => node(i)) })) } as unknown as TopicDescription;
        });
      },
      describeConfigs: async (resources: ConfigResource[]) => {
        calls.push('describeConfigs');
        return resources.map((r): ConfigResourceDescription => {
          const t = topics[r.name];
          if (!t || t === 'missing') return { type: 2, name: r.name, error: { code: 3, message: 'Broker: Unknown topic or partition' } as never, configs: [] };
          return { type: 2, name: r.name, configs: Object.entries(t.configs).map(([name, value]) => ({ name, value, source: 1, isDefault: false, isReadOnly: false, isSensitive: false })) };
        });
      },
    };
  }

  it('takes the least replicated partition and the topic configs, and lists unreadable topics', async () => {
    const sut = fakeAdmin({
      a: { replicas: [3, 1, 3], configs: { 'min.insync.replicas': '2', 'retention.ms': '-1', 'max.message.bytes': '1048588' } },
      b: 'missing',
    });
    const res = await checkTopicDurability(sut, ['a', 'b'], PROD);
    assert.deepEqual(
      res.comparisons.filter((c) => c.weaker).map((c) => [c.topic, c.setting, c.actual]),
      [['a', 'replication.factor', 1]],
    );
    assert.deepEqual(res.unreadable, [{ topic: 'b', reason: 'DescribeTopics: Broker: Unknown topic or partition' }]);
  });

  it('asks only what the configuration needs', async () => {
    const sut = fakeAdmin({ a: { replicas: [1], configs: { 'max.message.bytes': '100' } } });
    const res = await checkTopicDurability(sut, ['a'], { replicationFactor: -1, maxMessageBytes: 1000 });
    assert.deepEqual(sut.calls, ['describeConfigs']);
    assert.deepEqual(res.comparisons.map((c) => [c.setting, c.weaker]), [['max.message.bytes', true]]);
    const none = fakeAdmin({});
    assert.deepEqual(await checkTopicDurability(none, [], PROD), { comparisons: [], unreadable: [] });
    assert.deepEqual(none.calls, []);
  });
});
