import type { Bus } from '@seqrec/bus';
import { KafkaBus, describeWeakerSetting, formatTopicSetting, type CheckedTopicSetting } from '@seqrec/kafka';
import { gauge, type Registry } from '@seqrec/metrics';
import { SeqrecError } from '@seqrec/contracts';

/** `KAFKA_TOPIC_CHECK`: what start-up does with topics weaker than the configuration. */
export type TopicCheckMode = 'off' | 'warn' | 'strict';

/** The variable that sets each checked setting (named in messages). */
const VARIABLES: Record<CheckedTopicSetting, string> = {
  'replication.factor': 'KAFKA_REPLICATION_FACTOR',
  'min.insync.replicas': 'KAFKA_MIN_INSYNC_REPLICAS',
  'retention.ms': 'KAFKA_RETENTION_HOURS',
  'max.message.bytes': 'KAFKA_MAX_MESSAGE_BYTES',
};

/** Thrown in strict mode when a topic is weaker than the configuration or cannot be checked; not retriable. */
export class TopicCheckError extends SeqrecError {
  constructor(readonly problems: string[]) {
    super(
      `KAFKA_TOPIC_CHECK=strict: ${problems.length} Kafka topic setting${problems.length === 1 ? ' is' : 's are'} weaker than the configuration or could not be checked:\n` +
        problems.map((p) => `  ${p}`).join('\n') +
        '\nRaise them on the broker (kafka-configs.sh --alter --entity-type topics ..., kafka-reassign-partitions.sh for replicas), or lower the configuration, or set KAFKA_TOPIC_CHECK=warn.',
      { retriable: false },
    );
    this.name = 'TopicCheckError';
  }
}

export interface TopicCheckOptions {
  mode: TopicCheckMode;
  /**
   * The privacy bound on retention (PRIVACY_MAX_RETENTION_HOURS, ms; absent or < 0: none): a topic
   * of `personal` (logical names) keeping data longer, or forever, is a problem like a weaker setting.
   */
  privacy?: { maxRetentionMs: number; personal: ReadonlySet<string> };
  registry: Registry;
  log: { warn(message: string): void; log(message: string): void };
}

/**
 * Start-up check of durable topics: compares every topic in `topics` (logical names) with the
 * bus's durability configuration (replication factor, min.insync.replicas, retention.ms,
 * max.message.bytes). Each weaker setting: one warning naming topic, setting, actual and required
 * value, and `seqrec_kafka_topic_weaker_settings{topic,setting}` 1 (0 for the ones that are not).
 * `strict` throws {@link TopicCheckError} when anything is weaker or cannot be checked, so the
 * service exits before it is ready. Only a Kafka bus is checked.
 */
export async function checkTopics(bus: Bus, topics: string[], { mode, registry, log, privacy }: TopicCheckOptions): Promise<void> {
  if (mode === 'off' || !(bus instanceof KafkaBus) || topics.length === 0) return;
  let result;
  try {
    result = await bus.checkTopics(topics);
  } catch (err) {
    const problem = `cannot read the topics' settings: ${(err as Error).message}`;
    if (mode === 'strict') throw new TopicCheckError([problem]);
    log.warn(`Kafka topic check skipped: ${problem}`);
    return;
  }
  const weakerSettings = gauge(registry, {
    name: 'seqrec_kafka_topic_weaker_settings',
    help: 'Per topic and durability setting (replication.factor, min.insync.replicas, retention.ms, max.message.bytes): 1 when the topic on the broker is weaker than this service\'s configuration, 0 when not; set at start-up',
    labelNames: ['topic', 'setting'],
  });
  const problems: string[] = [];
  for (const c of result.comparisons) {
    weakerSettings.set({ topic: c.topic, setting: c.setting }, c.weaker ? 1 : 0);
    if (!c.weaker) continue;
    const line = `${describeWeakerSetting(c)} [${VARIABLES[c.setting]}]`;
    problems.push(line);
    log.warn(`Kafka ${line}`);
  }
  if (privacy && privacy.maxRetentionMs >= 0) {
    const overBound = gauge(registry, {
      name: 'seqrec_kafka_topic_retention_over_privacy_bound',
      help: 'Per topic holding personal data seqrec cannot rewrite: 1 when its retention.ms is longer than PRIVACY_MAX_RETENTION_HOURS (or forever), the exposure window of a deleted user\'s events; set at start-up',
      labelNames: ['topic'],
    });
    const isPersonal = (topic: string) => [...privacy.personal].some((t) => topic === t || topic.endsWith(`.${t}`));
    for (const c of result.comparisons) {
      if (c.setting !== 'retention.ms' || !isPersonal(c.topic) || c.actual === undefined) continue;
      const over = c.actual < 0 || c.actual > privacy.maxRetentionMs;
      overBound.set({ topic: c.topic }, over ? 1 : 0);
      if (!over) continue;
      const line = `topic ${c.topic}: retention.ms is ${formatTopicSetting('retention.ms', c.actual)}, longer than the privacy bound (at most ${formatTopicSetting('retention.ms', privacy.maxRetentionMs)}) [PRIVACY_MAX_RETENTION_HOURS]`;
      problems.push(line);
      log.warn(`Kafka ${line}`);
    }
  }
  for (const u of result.unreadable) {
    const line = `topic ${u.topic}: settings not checked (${u.reason})`;
    problems.push(line);
    log.warn(`Kafka ${line}`);
  }
  if (problems.length > 0 && mode === 'strict') throw new TopicCheckError(problems);
  if (problems.length === 0) log.log(`Kafka topics meet the durability configuration (${result.comparisons.length} settings of ${topics.length} topics checked)`);
}
