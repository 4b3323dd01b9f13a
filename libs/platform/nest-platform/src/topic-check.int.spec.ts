import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { TOPICS } from '@seqrec/contracts';
import { KafkaBus } from '@seqrec/kafka';
import { brokersFromEnv, deleteNamespaceTopics, uniqueName } from '@seqrec/kafka/testing';
import type { Registry } from '@seqrec/metrics';
import { freePort } from '@seqrec/testing';
import { createService, type BootstrapOptions } from './bootstrap';
import { METRICS_REGISTRY } from './platform.constants';
import { PlatformModule } from './platform.module';
import { TopicCheckError } from './topic-check';

const FIXTURE = join(__dirname, 'testing', 'topic-check.fixture.js');
const ns = uniqueName('topiccheck');
const topics = Object.values(TOPICS).map((t) => `${ns}.${t}`);

/** The single test broker's topics: RF 1, min ISR 1, 7 days, 1 MiB (the defaults of KAFKA_*). */
const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
  KAFKA_BROKERS: brokersFromEnv().join(','),
  KAFKA_NAMESPACE: ns,
  KAFKA_TOPIC_PARTITIONS: '1',
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  ...extra,
});
/** Production's durability: more than the single broker's topics have. */
const PRODUCTION = { KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2', KAFKA_RETENTION_HOURS: '720' };

@Module({})
class TestModule {}
const service: BootstrapOptions<Record<string, never>> = {
  service: 'topic-check-test',
  env: {},
  defaultPort: 8090,
  module: (e) => ({ module: TestModule, imports: [PlatformModule.forRoot({ service: 'topic-check-test', env: e })] }),
};

/** Runs `fn` with the service's log lines (JSON, LOG_FORMAT=json) taken from stdout and stderr; the rest passes. */
async function captureLogs<T>(fn: () => Promise<T>): Promise<{ value: T; logs: Array<{ level: string; context?: string; message: string }> }> {
  const logs: Array<{ level: string; context?: string; message: string }> = [];
  const writes = [process.stdout.write, process.stderr.write] as const;
  const capture = (original: typeof process.stdout.write) =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      const text = String(chunk);
      if (text.startsWith('{"level":')) {
        for (const line of text.split('\n').filter(Boolean)) logs.push(JSON.parse(line) as (typeof logs)[number]);
        return true;
      }
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  process.stdout.write = capture(writes[0]);
  process.stderr.write = capture(writes[1]);
  try {
    return { value: await fn(), logs };
  } finally {
    process.stdout.write = writes[0];
    process.stderr.write = writes[1];
  }
}

before(async () => {
  // the topics exist already, created by an earlier deployment with the test broker's settings
  const bus = new KafkaBus({ brokers: brokersFromEnv(), clientId: 'seqrec-test', namespace: ns, durability: { replicationFactor: 1, minInsyncReplicas: 1, retentionMs: 168 * 3_600_000 } });
  try {
    await bus.ensureTopics(Object.values(TOPICS).map((topic) => ({ topic, partitions: 1 })));
  } finally {
    await bus.close();
  }
});

after(async () => {
  await deleteNamespaceTopics(brokersFromEnv(), ns);
});

describe('start-up topic check (real broker)', () => {
  it('warn (default): one warning per weaker setting naming topic, setting, actual and required, and the gauge', async () => {
    const { value: app, logs } = await captureLogs(async () => (await createService(service, env(PRODUCTION))).app);
    try {
      const warnings = logs.filter((l) => l.context === 'TopicCheck');
      assert.equal(warnings.length, topics.length * 3, warnings.map((w) => w.message).join('\n'));
      assert.ok(warnings.every((w) => w.level === 'warn'));
      for (const t of topics) {
        const mine = warnings.filter((w) => w.message.startsWith(`Kafka topic ${t}: `)).map((w) => w.message.slice(`Kafka topic ${t}: `.length));
        assert.deepEqual(mine, [
          'replication.factor is 1, weaker than required (at least 3) [KAFKA_REPLICATION_FACTOR]',
          'min.insync.replicas is 1, weaker than required (at least 2) [KAFKA_MIN_INSYNC_REPLICAS]',
          'retention.ms is 604800000 (7 d), weaker than required (at least 2592000000 (30 d)) [KAFKA_RETENTION_HOURS]',
        ]);
      }
      const metric = await app.get<Registry>(METRICS_REGISTRY).getSingleMetric('seqrec_kafka_topic_weaker_settings')!.get();
      const values = new Map(metric.values.map((v) => [`${v.labels.topic} ${v.labels.setting}`, v.value]));
      assert.equal(values.size, topics.length * 4);
      for (const t of topics) {
        assert.deepEqual(
          ['replication.factor', 'min.insync.replicas', 'retention.ms', 'max.message.bytes'].map((s) => values.get(`${t} ${s}`)),
          [1, 1, 1, 0],
          t,
        );
      }
    } finally {
      await app.close();
    }
  });

  it('strict: createService fails with every weaker setting listed', async () => {
    const { value: err } = await captureLogs(() =>
      createService(service, env({ ...PRODUCTION, KAFKA_TOPIC_CHECK: 'strict' })).then(
        () => assert.fail('strict mode must not start'),
        (e: unknown) => e,
      ),
    );
    assert.ok(err instanceof TopicCheckError, String(err));
    assert.equal(err.problems.length, topics.length * 3);
  });

  it('strict: the service process exits 1 with a clear error before it listens', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [FIXTURE], {
      env: { PATH: process.env.PATH, ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}), ...env({ ...PRODUCTION, KAFKA_TOPIC_CHECK: 'strict', LOG_FORMAT: 'text', HTTP_PORT: String(port) }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 1, out);
    assert.match(out, new RegExp(`KAFKA_TOPIC_CHECK=strict: ${topics.length * 3} Kafka topic settings are weaker than the configuration`));
    assert.match(out, new RegExp(`topic ${ns}\\.ingest\\.internal\\.event\\.accepted\\.1: min\\.insync\\.replicas is 1, weaker than required \\(at least 2\\)`));
    assert.doesNotMatch(out, /listening on/);
  });

  it('strict with the settings the topics have: starts, every gauge 0', async () => {
    const { value: app } = await captureLogs(async () =>
      (await createService(service, env({ KAFKA_REPLICATION_FACTOR: '1', KAFKA_MIN_INSYNC_REPLICAS: '1', KAFKA_TOPIC_CHECK: 'strict' }))).app,
    );
    try {
      const metric = await app.get<Registry>(METRICS_REGISTRY).getSingleMetric('seqrec_kafka_topic_weaker_settings')!.get();
      assert.equal(metric.values.length, topics.length * 4);
      assert.ok(metric.values.every((v) => v.value === 0));
    } finally {
      await app.close();
    }
  });
});
