/**
 * Durability settings of the topics seqrec creates. Production: replication factor 3 and
 * `min.insync.replicas` 2, so an acknowledged write survives the loss of one broker and writes stop
 * (rather than silently losing redundancy) when two are down. The single test broker: 1 and 1.
 */
export interface TopicDurability {
  /** Replicas per partition; -1: the broker's `default.replication.factor`. */
  replicationFactor?: number;
  /** `min.insync.replicas`: replicas that must have a write before acks=all succeeds. */
  minInsyncReplicas?: number;
  /** `retention.ms`: how long records are kept (-1: forever). */
  retentionMs?: number;
  /** `max.message.bytes`: largest record batch the topic accepts. */
  maxMessageBytes?: number;
}

/** The topic-level configuration entries of a durability setting (the ones it sets). */
export function topicConfigs(d: TopicDurability | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!d) return out;
  if (d.minInsyncReplicas !== undefined) out['min.insync.replicas'] = String(d.minInsyncReplicas);
  if (d.retentionMs !== undefined) out['retention.ms'] = String(d.retentionMs);
  if (d.maxMessageBytes !== undefined) out['max.message.bytes'] = String(d.maxMessageBytes);
  return out;
}
