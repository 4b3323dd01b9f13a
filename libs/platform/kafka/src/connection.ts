import { hostname } from 'node:os';
import { AdminClient, IsolationLevel, OffsetSpec, type GlobalConfig, type GroupDescriptions, type IAdminClient, type LibrdKafkaError, type TopicDescription } from '@confluentinc/kafka-javascript';

/** Where and how to reach the cluster: the part of every client's configuration that is the same. */
export interface KafkaConnection {
  brokers: string[];
  clientId?: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** librdkafka `debug` contexts (e.g. `cgrp,fetch`): its debug lines are logged too. */
  debug?: string;
}

/** Compression codecs of produced batches (every one is readable by every client of this project). */
export const KAFKA_COMPRESSION_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSION_CODECS)[number];

/** librdkafka's global properties for a connection. */
export function connectionConfig(c: KafkaConnection | string[]): GlobalConfig {
  const conn = Array.isArray(c) ? { brokers: c } : c;
  const protocol = conn.ssl ? (conn.sasl ? 'sasl_ssl' : 'ssl') : conn.sasl ? 'sasl_plaintext' : 'plaintext';
  return {
    'bootstrap.servers': conn.brokers.join(','),
    'client.id': conn.clientId ?? 'seqrec',
    'security.protocol': protocol,
    ...(conn.sasl
      ? {
          'sasl.mechanisms': conn.sasl.mechanism === 'plain' ? 'PLAIN' : conn.sasl.mechanism.toUpperCase(),
          'sasl.username': conn.sasl.username,
          'sasl.password': conn.sasl.password,
        }
      : {}),
    // librdkafka's own log lines come as 'event.log' events, warnings and worse only (unless debugging)
    ...(conn.debug ? { debug: conn.debug, log_level: 7 } : { log_level: 4 }),
  };
}

/** A default name for this process: the pod name in Kubernetes, else host and pid. */
export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

/** Wraps a callback-style librdkafka call in a promise. */
export function call<T = void>(fn: (cb: (err: LibrdKafkaError | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

/** librdkafka's error code of a failed call, if it has one. */
export function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Broker error codes by name, where the code matters to the caller. */
export const KAFKA_ERRORS = {
  TOPIC_ALREADY_EXISTS: 36,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
} as const;

/**
 * A promise-based admin client: the operations the services, tests and benchmarks need, on
 * librdkafka's Admin API.
 */
export class KafkaAdmin {
  private readonly client: IAdminClient;

  constructor(connection: KafkaConnection | string[]) {
    this.client = AdminClient.create({ ...connectionConfig(connection), 'client.id': `${clientIdOf(connection)}-admin` });
  }

  listTopics(timeoutMs = 10_000): Promise<string[]> {
    return call<string[]>((cb) => this.client.listTopics({ timeout: timeoutMs }, cb));
  }

  /** Creates one topic; resolves `false` when it existed already. */
  async createTopic(topic: string, partitions: number, replicationFactor: number, config: Record<string, string> = {}, timeoutMs = 30_000): Promise<boolean> {
    try {
      await call((cb) => this.client.createTopic({ topic, num_partitions: partitions, replication_factor: replicationFactor, config }, timeoutMs, cb));
      return true;
    } catch (err) {
      if (errorCode(err) === KAFKA_ERRORS.TOPIC_ALREADY_EXISTS) return false;
      throw err;
    }
  }

  async deleteTopics(topics: string[], timeoutMs = 30_000): Promise<void> {
    for (const topic of topics) {
      await call((cb) => this.client.deleteTopic(topic, timeoutMs, cb)).catch((err) => {
        if (errorCode(err) !== KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION) throw err;
      });
    }
  }

  createPartitions(topic: string, total: number, timeoutMs = 30_000): Promise<void> {
    return call((cb) => this.client.createPartitions(topic, total, timeoutMs, cb));
  }

  describeTopics(topics: string[], timeoutMs = 10_000): Promise<TopicDescription[]> {
    return call<TopicDescription[]>((cb) => this.client.describeTopics(topics, { timeout: timeoutMs }, cb));
  }

  /**
   * The configuration of resources (Kafka's DescribeConfigs): every entry, defaults included,
   * with where its value comes from. One result per resource, in any order; a resource the broker
   * could not describe (e.g. an unknown topic) carries `error` and no entries. Needs the addon
   * built with `patches/kafka-javascript-*.diff` (`scripts/kafka-native.sh`).
   */
  describeConfigs(resources: ConfigResource[], timeoutMs = 10_000): Promise<ConfigResourceDescription[]> {
    const client = this.client as unknown as DescribeConfigsClient;
    if (typeof client.describeConfigs !== 'function') {
      return Promise.reject(new Error('this build of @confluentinc/kafka-javascript has no describeConfigs: run `bash scripts/kafka-native.sh` (it applies patches/kafka-javascript-*.diff)'));
    }
    if (resources.length === 0) return Promise.resolve([]);
    return call<ConfigResourceDescription[]>((cb) => client.describeConfigs!(resources, { timeout: timeoutMs }, cb));
  }

  /** Topic-level configuration of topics by name (value null: sensitive); throws when one cannot be described. */
  async describeTopicConfigs(topics: string[], timeoutMs = 10_000): Promise<Map<string, Record<string, string | null>>> {
    const res = await this.describeConfigs(topics.map((name) => ({ type: CONFIG_RESOURCE_TYPES.TOPIC, name })), timeoutMs);
    const out = new Map<string, Record<string, string | null>>();
    for (const r of res) {
      if (r.error) throw r.error;
      out.set(r.name, Object.fromEntries(r.configs.map((c) => [c.name, c.value])));
    }
    return out;
  }

  /**
   * The members of a consumer group and the partitions of `topic` each holds (DescribeGroups):
   * `instanceId` is the static member's `group.instance.id`, empty for a dynamic member.
   */
  async groupMembers(groupId: string, topic: string, timeoutMs = 10_000): Promise<Array<{ instanceId: string; clientId: string; partitions: number[] }>> {
    const res = await call<GroupDescriptions>((cb) => this.client.describeGroups([groupId], { timeout: timeoutMs }, cb));
    const group = res.groups[0];
    if (group?.error) throw group.error;
    return (group?.members ?? []).map((m) => ({
      instanceId: m.groupInstanceId ?? '',
      clientId: m.clientId,
      partitions: (m.assignment?.topicPartitions ?? []).filter((tp) => tp.topic === topic).map((tp) => tp.partition).sort((a, b) => a - b),
    }));
  }

  /** Committed offsets of a group for every partition of `topic` (-1: none committed). */
  async committedOffsets(groupId: string, topic: string, partitions: number[], timeoutMs = 10_000): Promise<Map<number, number>> {
    const res = await call<Array<{ partitions: Array<{ partition: number; offset: number }> }>>((cb) =>
      this.client.listConsumerGroupOffsets([{ groupId, partitions: partitions.map((partition) => ({ topic, partition })) }], { timeout: timeoutMs, requireStableOffsets: true }, cb),
    );
    return new Map((res[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  }

  /** Earliest and latest offset of every partition of a topic (latest: read_committed's last stable offset). */
  async topicOffsets(topic: string, timeoutMs = 10_000): Promise<Array<{ partition: number; low: number; high: number }>> {
    const [desc] = await this.describeTopics([topic], timeoutMs);
    const partitions = (desc?.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b);
    const list = (spec: 'EARLIEST' | 'LATEST') =>
      call<Array<{ partition: number; offset: number }>>((cb) =>
        this.client.listOffsets(
          partitions.map((partition) => ({ topic, partition, offset: spec === 'EARLIEST' ? OffsetSpec.EARLIEST : OffsetSpec.LATEST })),
          { timeout: timeoutMs, isolationLevel: IsolationLevel.READ_COMMITTED },
          cb as never,
        ),
      );
    const [low, high] = await Promise.all([list('EARLIEST'), list('LATEST')]);
    const lowOf = new Map(low.map((p) => [p.partition, Number(p.offset)]));
    return high.map((p) => ({ partition: p.partition, low: lowOf.get(p.partition) ?? 0, high: Number(p.offset) })).sort((a, b) => a.partition - b.partition);
  }

  /** Offsets of partitions at a time (the first offset with a timestamp at or after it; the end when none). */
  async offsetsForTime(topic: string, timestampMs: number, timeoutMs = 10_000): Promise<Array<{ partition: number; offset: number }>> {
    const [desc] = await this.describeTopics([topic], timeoutMs);
    const partitions = (desc?.partitions ?? []).map((p) => p.partition);
    const res = await call<Array<{ partition: number; offset: number }>>((cb) =>
      this.client.listOffsets(
        partitions.map((partition) => ({ topic, partition, offset: new OffsetSpec(timestampMs) })),
        { timeout: timeoutMs, isolationLevel: IsolationLevel.READ_COMMITTED },
        cb as never,
      ),
    );
    return res.map((p) => ({ partition: p.partition, offset: Number(p.offset) })).sort((a, b) => a.partition - b.partition);
  }

  /**
   * Creates the topics that do not exist yet and waits until every partition of every one of them
   * has a leader (a KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION for a topic it created but has
   * not applied yet: that is waited out too).
   */
  async createTopicsAndWait(topics: TopicCreateSpec[], timeoutMs = 30_000, pollMs = 50): Promise<void> {
    if (topics.length === 0) return;
    for (const t of topics) {
      await this.createTopic(t.topic, t.numPartitions ?? 1, t.replicationFactor ?? -1, t.configs ?? {}, timeoutMs);
    }
    await waitForLeaders((names) => this.describeTopics(names), topics.map((t) => t.topic), timeoutMs, pollMs);
  }

  async disconnect(): Promise<void> {
    this.client.disconnect();
  }
}

/** Resource types of {@link KafkaAdmin.describeConfigs} (librdkafka's `rd_kafka_ResourceType_t`). */
export const CONFIG_RESOURCE_TYPES = { TOPIC: 2, GROUP: 3, BROKER: 4 } as const;

/** A resource to describe: a topic by name, a broker by its id. */
export interface ConfigResource {
  type: (typeof CONFIG_RESOURCE_TYPES)[keyof typeof CONFIG_RESOURCE_TYPES];
  name: string;
}

/** One configuration entry as the broker describes it. */
export interface ConfigEntryDescription {
  name: string;
  /** null: sensitive, or unset */
  value: string | null;
  /** librdkafka's `rd_kafka_ConfigSource_t`: 1 set on the topic, 4 the broker's static config, 5 Kafka's default, ... */
  source: number;
  isDefault: boolean;
  isReadOnly: boolean;
  isSensitive: boolean;
  /** Where else the value could come from, most specific first (brokers ≥ 1.1). */
  synonyms?: ConfigEntryDescription[];
}

/** The configuration of one resource. */
export interface ConfigResourceDescription {
  type: number;
  name: string;
  /** Set when this resource could not be described (UNKNOWN_TOPIC_OR_PARTITION, an authorisation error, ...). */
  error?: LibrdKafkaError;
  configs: ConfigEntryDescription[];
}

/** The admin client of the patched addon (its type declarations predate the patch). */
interface DescribeConfigsClient {
  describeConfigs?(
    resources: ConfigResource[],
    options: { timeout?: number },
    cb: (err: LibrdKafkaError | null | undefined, value?: ConfigResourceDescription[]) => void,
  ): void;
}

/** A topic to create. Replication factor -1: the broker's default. */
export interface TopicCreateSpec {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  /** Topic-level configuration (`min.insync.replicas`, `retention.ms`, ...). */
  configs?: Record<string, string>;
}

/** Polls topic descriptions until every partition of every named topic has a leader. */
export async function waitForLeaders(
  describe: (names: string[]) => Promise<TopicDescription[]>,
  names: string[],
  timeoutMs = 30_000,
  pollMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const meta = await describe(names);
      const waiting = names.filter((name) => {
        const t = meta.find((m) => m.name === name);
        return !t || (t.error && t.error.code !== 0) || t.partitions.length === 0 || t.partitions.some((p) => !p.leader || p.leader.id < 0);
      });
      if (waiting.length === 0) return;
      last = `no leader yet for every partition of ${waiting.join(', ')}`;
    } catch (err) {
      const code = errorCode(err);
      if (code !== KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION && code !== KAFKA_ERRORS.LEADER_NOT_AVAILABLE) throw err;
      last = String((err as Error).message);
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} not ready after ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Creates the topics that do not exist yet and waits for their leaders, with a short-lived admin
 * client (tests, benchmarks, tools).
 */
export async function createTopicsAndWait(connection: KafkaConnection | string[], topics: TopicCreateSpec[], timeoutMs = 30_000): Promise<void> {
  const admin = new KafkaAdmin(connection);
  try {
    await admin.createTopicsAndWait(topics, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

function clientIdOf(c: KafkaConnection | string[]): string {
  return Array.isArray(c) ? 'seqrec' : (c.clientId ?? 'seqrec');
}
