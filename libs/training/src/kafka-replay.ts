/**
 * Replay of the events topic (or any topic of `EventV1` JSON) from Kafka into memory: every
 * partition from a start offset to an end offset captured when the replay begins, so the replay
 * terminates even while producers keep writing.
 *
 * - Range: all retained messages, or `[from, to)` by message timestamp (epoch ms). The offsets are
 *   looked up by timestamp (`ListOffsets`); messages whose own timestamp falls outside the range
 *   are skipped as well (producer timestamps need not be monotonic within a partition).
 * - Isolation: read-committed (aborted transactional writes are never seen). The end offset of a
 *   partition counts control records, so a partition ending in a commit marker still completes.
 * - Order: partition by partition, each in offset order. Every user's events are in one partition
 *   (the topic is keyed by user id), so per-user order is the topic's order.
 * - A throw-away consumer group (`<namespace>.seqrec-trainer-replay-<uuid>`) is used and deleted
 *   afterwards; no offsets are committed.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { TOPICS, type EventV1 } from '@seqrec/contracts';

export interface KafkaReplayOptions {
  brokers: string[];
  /** `KAFKA_NAMESPACE`: the physical topic is `<namespace>.<topic>`. */
  namespace?: string;
  /** Logical topic. Default `TOPICS.EVENTS`. */
  topic?: string;
  /** Inclusive lower bound on the message timestamp, epoch ms. */
  from?: number;
  /** Exclusive upper bound on the message timestamp, epoch ms. */
  to?: number;
  clientId?: string;
  ssl?: boolean;
  sasl?: SASLOptions;
  /** Give up when no batch arrived for this long while partitions are still open. Default 30 s. */
  idleTimeoutMs?: number;
  /** Called every few thousand messages. */
  onProgress?: (read: number, total: number) => void;
}

export interface PartitionReplay {
  partition: number;
  start: number;
  end: number;
  read: number;
}

export interface KafkaReplayResult {
  topic: string;
  events: EventV1[];
  /** Messages in range that were not valid event JSON (skipped). */
  invalid: number;
  /** Messages read but outside the timestamp range. */
  outOfRange: number;
  partitions: PartitionReplay[];
  seconds: number;
}

/** Thrown when the replay cannot complete (retriable: the broker may come back). */
export class KafkaReplayError extends Error {
  readonly retriable = true;
  constructor(
    message: string,
    readonly context: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'KafkaReplayError';
  }
}

function toOffsets(list: Array<{ partition: number; offset: string }>, fallback: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const { partition, offset } of list) {
    const n = Number(offset);
    out.set(partition, n < 0 ? (fallback.get(partition) ?? 0) : n);
  }
  return out;
}

function asEvent(v: unknown): EventV1 | null {
  if (typeof v !== 'object' || v === null) return null;
  const e = v as Partial<EventV1>;
  if (typeof e.eventId !== 'string' || typeof e.userId !== 'string' || typeof e.type !== 'string' || typeof e.ts !== 'number') return null;
  return e as EventV1;
}

/** Reads the topic range described by `o` and returns its events. */
export async function replayEvents(o: KafkaReplayOptions): Promise<KafkaReplayResult> {
  const t0 = performance.now();
  const topic = o.namespace ? `${o.namespace}.${o.topic ?? TOPICS.EVENTS}` : (o.topic ?? TOPICS.EVENTS);
  if (o.from !== undefined && o.to !== undefined && !(o.from < o.to)) {
    throw new RangeError(`replay range is empty: from ${new Date(o.from).toISOString()} is not before to ${new Date(o.to).toISOString()}`);
  }
  const kafka = new Kafka({
    clientId: o.clientId ?? 'seqrec-trainer-replay',
    brokers: o.brokers,
    logLevel: logLevel.NOTHING,
    ssl: o.ssl ?? false,
    ...(o.sasl ? { sasl: o.sasl } : {}),
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
  const admin = kafka.admin();
  const groupId = `${o.namespace ? `${o.namespace}.` : ''}seqrec-trainer-replay-${randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100, retry: { retries: 3 } });
  await admin.connect();
  let consumerStarted = false;
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) throw new KafkaReplayError(`topic ${topic} does not exist`, { topic, brokers: o.brokers });
    const offsets = await admin.fetchTopicOffsets(topic);
    const high = new Map(offsets.map((p) => [p.partition, Number(p.high)]));
    const low = new Map(offsets.map((p) => [p.partition, Number(p.low)]));
    const start = o.from === undefined ? low : toOffsets(await admin.fetchTopicOffsetsByTimestamp(topic, o.from), high);
    const end = o.to === undefined ? high : toOffsets(await admin.fetchTopicOffsetsByTimestamp(topic, o.to), high);
    const parts: PartitionReplay[] = offsets
      .map((p) => ({ partition: p.partition, start: Math.max(start.get(p.partition)!, low.get(p.partition)!), end: end.get(p.partition)!, read: 0 }))
      .sort((a, b) => a.partition - b.partition);
    const total = parts.reduce((n, p) => n + Math.max(0, p.end - p.start), 0);
    const open = new Set(parts.filter((p) => p.end > p.start).map((p) => p.partition));
    const byPartition = new Map<number, EventV1[]>(parts.map((p) => [p.partition, []]));
    let invalid = 0;
    let outOfRange = 0;
    let read = 0;
    let lastReport = 0;
    if (open.size > 0) {
      const info = new Map(parts.map((p) => [p.partition, p]));
      let finish!: () => void;
      let fail!: (e: Error) => void;
      const done = new Promise<void>((res, rej) => {
        finish = res;
        fail = rej;
      });
      let lastBatch = Date.now();
      await consumer.connect();
      consumerStarted = true;
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          lastBatch = Date.now();
          const p = info.get(batch.partition)!;
          if (!open.has(p.partition)) return;
          const out = byPartition.get(p.partition)!;
          for (const m of batch.messages) {
            const off = Number(m.offset);
            if (off < p.start || off >= p.end) continue;
            p.read++;
            read++;
            const ts = Number(m.timestamp);
            if ((o.from !== undefined && ts < o.from) || (o.to !== undefined && ts >= o.to)) {
              outOfRange++;
              continue;
            }
            let e: EventV1 | null = null;
            try {
              e = m.value ? asEvent(JSON.parse(m.value.toString('utf8'))) : null;
            } catch {
              e = null;
            }
            if (e) out.push(e);
            else invalid++;
          }
          if (o.onProgress && read - lastReport >= 5_000) {
            lastReport = read;
            o.onProgress(read, total);
          }
          if (Number(batch.lastOffset()) >= p.end - 1) {
            open.delete(p.partition);
            consumer.pause([{ topic, partitions: [p.partition] }]);
            if (open.size === 0) finish();
          }
        },
      });
      for (const p of parts) if (open.has(p.partition)) consumer.seek({ topic, partition: p.partition, offset: String(p.start) });
      const idle = o.idleTimeoutMs ?? 30_000;
      const timer = setInterval(() => {
        if (open.size > 0 && Date.now() - lastBatch > idle) {
          fail(new KafkaReplayError(`replay of ${topic} stalled: no data for ${idle} ms, partitions ${[...open].join(',')} incomplete`, { topic, open: [...open] }));
        }
      }, 1_000);
      try {
        await done;
      } finally {
        clearInterval(timer);
      }
    }
    o.onProgress?.(read, total);
    const events: EventV1[] = [];
    for (const p of parts) events.push(...byPartition.get(p.partition)!);
    return { topic, events, invalid, outOfRange, partitions: parts, seconds: (performance.now() - t0) / 1000 };
  } finally {
    if (consumerStarted) await consumer.disconnect().catch(() => undefined);
    if (consumerStarted) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
