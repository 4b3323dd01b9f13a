import { CONFIG_RESOURCE_TYPES, errorCode, type KafkaAdmin } from './connection';
import type { TopicDurability } from './topics';

/**
 * The durability settings compared with the configuration, by their Kafka names.
 * `replication.factor` is not a topic config: it is the replica count of the topic's least
 * replicated partition (from DescribeTopics).
 */
export const CHECKED_TOPIC_SETTINGS = ['replication.factor', 'min.insync.replicas', 'retention.ms', 'max.message.bytes'] as const;
export type CheckedTopicSetting = (typeof CHECKED_TOPIC_SETTINGS)[number];

/** What a topic has on the broker. */
export interface ActualTopicSettings {
  /** Replicas of its least replicated partition; undefined: unknown. */
  replicationFactor?: number;
  /** Its topic-level configuration (DescribeConfigs: `min.insync.replicas`, `retention.ms`, ...). */
  configs: Record<string, string | null | undefined>;
}

/** One setting of one topic compared with what the configuration requires. */
export interface TopicSettingComparison {
  topic: string;
  setting: CheckedTopicSetting;
  /** What the topic has; undefined when the broker did not say (counted as weaker). */
  actual: number | undefined;
  required: number;
  /**
   * Lower replication factor or `min.insync.replicas`, shorter `retention.ms` (-1, forever, is the
   * longest), smaller `max.message.bytes` than required, or unknown.
   */
  weaker: boolean;
}

/** The outcome of {@link checkTopicDurability}. */
export interface TopicCheckResult {
  /** Every setting the configuration requires, of every topic that could be read. */
  comparisons: TopicSettingComparison[];
  /** Topics whose settings could not be read (missing, not authorised, ...), with the reason. */
  unreadable: Array<{ topic: string; reason: string }>;
}

/**
 * Compares one topic's settings with a durability configuration (pure). Only what the
 * configuration sets is compared; a replication factor of -1 (the broker's default) is not.
 */
export function compareTopicSettings(topic: string, actual: ActualTopicSettings, required: TopicDurability): TopicSettingComparison[] {
  const out: TopicSettingComparison[] = [];
  const add = (setting: CheckedTopicSetting, have: number | undefined, want: number, weaker: (have: number, want: number) => boolean) =>
    out.push({ topic, setting, actual: have, required: want, weaker: have === undefined || weaker(have, want) });
  if (required.replicationFactor !== undefined && required.replicationFactor > 0) {
    add('replication.factor', actual.replicationFactor, required.replicationFactor, (have, want) => have < want);
  }
  if (required.minInsyncReplicas !== undefined) {
    add('min.insync.replicas', configNumber(actual.configs, 'min.insync.replicas'), required.minInsyncReplicas, (have, want) => have < want);
  }
  if (required.retentionMs !== undefined) {
    add('retention.ms', configNumber(actual.configs, 'retention.ms'), required.retentionMs, shorterRetention);
  }
  if (required.maxMessageBytes !== undefined) {
    add('max.message.bytes', configNumber(actual.configs, 'max.message.bytes'), required.maxMessageBytes, (have, want) => have < want);
  }
  return out;
}

/** Whether retention `have` keeps records for less time than `want` (negative: forever). */
function shorterRetention(have: number, want: number): boolean {
  if (have < 0) return false;
  return want < 0 || have < want;
}

function configNumber(configs: ActualTopicSettings['configs'], name: string): number | undefined {
  const v = configs[name];
  if (v === undefined || v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A setting's value for people: retention with its duration, -1 as forever. */
export function formatTopicSetting(setting: CheckedTopicSetting, value: number | undefined): string {
  if (value === undefined) return 'unknown';
  if (setting !== 'retention.ms') return String(value);
  if (value < 0) return '-1 (forever)';
  const hours = value / 3_600_000;
  const human = hours >= 24 && Number.isInteger(hours / 24) ? `${hours / 24} d` : Number.isInteger(hours) ? `${hours} h` : `${value / 1000} s`;
  return `${value} (${human})`;
}

/** One line naming the topic, the setting, what it has and what is required. */
export function describeWeakerSetting(c: TopicSettingComparison): string {
  const need = c.setting === 'retention.ms' && c.required < 0 ? 'forever' : `at least ${formatTopicSetting(c.setting, c.required)}`;
  return `topic ${c.topic}: ${c.setting} is ${formatTopicSetting(c.setting, c.actual)}, weaker than required (${need})`;
}

/**
 * Reads the replication (DescribeTopics) and configuration (DescribeConfigs) of existing topics
 * and compares them with `required`. Topics the broker cannot describe are listed as unreadable;
 * a failed request (broker unreachable, timeout) throws.
 */
export async function checkTopicDurability(
  admin: Pick<KafkaAdmin, 'describeTopics' | 'describeConfigs'>,
  topics: string[],
  required: TopicDurability,
  timeoutMs = 10_000,
): Promise<TopicCheckResult> {
  const result: TopicCheckResult = { comparisons: [], unreadable: [] };
  if (topics.length === 0) return result;
  const needsReplicas = required.replicationFactor !== undefined && required.replicationFactor > 0;
  const needsConfigs = required.minInsyncReplicas !== undefined || required.retentionMs !== undefined || required.maxMessageBytes !== undefined;
  const [descriptions, configs] = await Promise.all([
    needsReplicas ? admin.describeTopics(topics, timeoutMs) : Promise.resolve([]),
    needsConfigs ? admin.describeConfigs(topics.map((name) => ({ type: CONFIG_RESOURCE_TYPES.TOPIC, name })), timeoutMs) : Promise.resolve([]),
  ]);
  for (const topic of topics) {
    const actual: ActualTopicSettings = { configs: {} };
    if (needsReplicas) {
      const d = descriptions.find((x) => x.name === topic);
      if (!d || (d.error && errorCode(d.error) !== 0) || d.partitions.length === 0) {
        result.unreadable.push({ topic, reason: `DescribeTopics: ${d?.error?.message ?? 'no such topic'}` });
        continue;
      }
      actual.replicationFactor = Math.min(...d.partitions.map((p) => p.replicas.length));
    }
    if (needsConfigs) {
      const c = configs.find((x) => x.name === topic);
      if (!c || c.error) {
        result.unreadable.push({ topic, reason: `DescribeConfigs: ${c?.error?.message ?? 'no answer for the topic'}` });
        continue;
      }
      actual.configs = Object.fromEntries(c.configs.map((e) => [e.name, e.value]));
    }
    result.comparisons.push(...compareTopicSettings(topic, actual, required));
  }
  return result;
}
