import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBus } from '@seqrec/bus';
import { KafkaBus, type TopicCheckResult } from '@seqrec/kafka';
import { createRegistry } from '@seqrec/metrics';
import { TopicCheckError, checkTopics, type TopicCheckMode } from './topic-check';

const RESULT: TopicCheckResult = {
  comparisons: [
    { topic: 'a', setting: 'replication.factor', actual: 1, required: 3, weaker: true },
    { topic: 'a', setting: 'min.insync.replicas', actual: 2, required: 2, weaker: false },
    { topic: 'a', setting: 'retention.ms', actual: 86_400_000, required: 604_800_000, weaker: true },
  ],
  unreadable: [],
};

/** A Kafka bus (never connected) whose topic check answers `result`, or fails with it. */
function newBus(result: TopicCheckResult | Error): KafkaBus & { checked: string[][] } {
  const bus = new KafkaBus({ brokers: ['127.0.0.1:1'], clientId: 'unit' }) as KafkaBus & { checked: string[][] };
  bus.checked = [];
  bus.checkTopics = async (topics: string[]) => {
    bus.checked.push(topics);
    if (result instanceof Error) throw result;
    return result;
  };
  return bus;
}

function newTestService(mode: TopicCheckMode, result: TopicCheckResult | Error = RESULT) {
  const registry = createRegistry('unit');
  const logs: Array<[string, string]> = [];
  const log = { warn: (m: string) => void logs.push(['warn', m]), log: (m: string) => void logs.push(['log', m]) };
  const bus = newBus(result);
  const sut = () => checkTopics(bus, ['a', 'b'], { mode, registry, log });
  return { sut, bus, logs, registry };
}

describe(checkTopics.name, () => {
  it('warn: one warning per weaker setting, and the gauge 1 for weaker, 0 for the others', async () => {
    const { sut, bus, logs, registry } = newTestService('warn');
    await sut();
    assert.deepEqual(bus.checked, [['a', 'b']]);
    assert.deepEqual(logs, [
      ['warn', 'Kafka topic a: replication.factor is 1, weaker than required (at least 3) [KAFKA_REPLICATION_FACTOR]'],
      ['warn', 'Kafka topic a: retention.ms is 86400000 (1 d), weaker than required (at least 604800000 (7 d)) [KAFKA_RETENTION_HOURS]'],
    ]);
    const metric = await registry.getSingleMetric('seqrec_kafka_topic_weaker_settings')!.get();
    assert.deepEqual(
      metric.values.map((v) => [v.labels.topic, v.labels.setting, v.value]),
      [
        ['a', 'replication.factor', 1],
        ['a', 'min.insync.replicas', 0],
        ['a', 'retention.ms', 1],
      ],
    );
  });

  it('reports a topic holding personal data kept longer than the privacy bound, or forever', async () => {
    const registry = createRegistry('unit');
    const logs: Array<[string, string]> = [];
    const log = { warn: (m: string) => void logs.push(['warn', m]), log: (m: string) => void logs.push(['log', m]) };
    const result: TopicCheckResult = {
      comparisons: [
        { topic: 'ns.ingest.internal.event.accepted.1', setting: 'retention.ms', actual: 40 * 86_400_000, required: 604_800_000, weaker: false },
        { topic: 'ns.ingest.public.clickstream.raw.1', setting: 'retention.ms', actual: -1, required: 604_800_000, weaker: false },
        { topic: 'ns.ingest.internal.event.rejected.1', setting: 'retention.ms', actual: 604_800_000, required: 604_800_000, weaker: false },
        { topic: 'ns.training.internal.model.promoted.1', setting: 'retention.ms', actual: -1, required: 604_800_000, weaker: false },
      ],
      unreadable: [],
    };
    const personal = new Set(['ingest.internal.event.accepted.1', 'ingest.public.clickstream.raw.1', 'ingest.internal.event.rejected.1']);
    await assert.rejects(checkTopics(newBus(result), ['x'], { mode: 'strict', registry, log, privacy: { maxRetentionMs: 30 * 86_400_000, personal } }), TopicCheckError);
    assert.deepEqual(logs.map(([, m]) => m), [
      'Kafka topic ns.ingest.internal.event.accepted.1: retention.ms is 3456000000 (40 d), longer than the privacy bound (at most 2592000000 (30 d)) [PRIVACY_MAX_RETENTION_HOURS]',
      'Kafka topic ns.ingest.public.clickstream.raw.1: retention.ms is -1 (forever), longer than the privacy bound (at most 2592000000 (30 d)) [PRIVACY_MAX_RETENTION_HOURS]',
    ]);
    const metric = await registry.getSingleMetric('seqrec_kafka_topic_retention_over_privacy_bound')!.get();
    assert.deepEqual(metric.values.map((v) => [v.labels.topic, v.value]), [
      ['ns.ingest.internal.event.accepted.1', 1],
      ['ns.ingest.public.clickstream.raw.1', 1],
      ['ns.ingest.internal.event.rejected.1', 0],
    ]);
  });

  it('strict: throws a TopicCheckError listing every weaker setting and unreadable topic', async () => {
    const { sut } = newTestService('strict', { ...RESULT, unreadable: [{ topic: 'b', reason: 'DescribeConfigs: Broker: Topic authorization failed' }] });
    const err = await sut().then(
      () => assert.fail('strict mode must throw'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TopicCheckError);
    assert.equal(err.retriable, false);
    assert.equal(err.problems.length, 3);
    assert.match(err.message, /^KAFKA_TOPIC_CHECK=strict: 3 Kafka topic settings are weaker/);
    assert.match(err.message, /topic b: settings not checked \(DescribeConfigs: Broker: Topic authorization failed\)/);
  });

  it('strict with every setting met: logs that, and does not throw', async () => {
    const { sut, logs } = newTestService('strict', { comparisons: [RESULT.comparisons[1]!], unreadable: [] });
    await sut();
    assert.deepEqual(logs, [['log', 'Kafka topics meet the durability configuration (1 settings of 2 topics checked)']]);
  });

  it('a check that cannot run: a warning in warn mode, an error in strict mode', async () => {
    const warn = newTestService('warn', new Error('Local: Timed out'));
    await warn.sut();
    assert.deepEqual(warn.logs, [['warn', "Kafka topic check skipped: cannot read the topics' settings: Local: Timed out"]]);
    await assert.rejects(newTestService('strict', new Error('Local: Timed out')).sut(), TopicCheckError);
  });

  it('off, or a bus that is not Kafka: nothing is checked', async () => {
    const { sut, bus, logs, registry } = newTestService('off');
    await sut();
    assert.deepEqual(bus.checked, []);
    assert.deepEqual(logs, []);
    assert.equal(registry.getSingleMetric('seqrec_kafka_topic_weaker_settings'), undefined);
    await checkTopics(new MemoryBus(), ['a'], { mode: 'strict', registry, log: { warn: assert.fail, log: assert.fail } });
  });
});
