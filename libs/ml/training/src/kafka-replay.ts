/**
 * Replay of the events topic (or any topic of `EventV1` JSON) from Kafka into memory: every
 * partition from a start offset to an end offset captured when the replay begins, so the replay
 * terminates even while producers keep writing.
 *
 * - Range: all retained messages, or `[from, to)` by message timestamp (epoch ms). The offsets are
 *   looked up by timestamp (`ListOffsets`); messages whose own timestamp falls outside the range
 *   are skipped as well (producer timestamps need not be monotonic within a partition).
 * - Isolation: read-committed (aborted transactional writes are never seen). The end offset of a
 *   partition is its last stable offset when the replay begins (a transaction still open then is
 *   left out), and counts control records: a partition is complete once a message at or past its
 *   last offset arrived, or the consumer reached the partition's end (librdkafka's partition EOF,
 *   which comes after a trailing commit marker too).
 * - Order: partition by partition, each in offset order. Every user's events are in one partition
 *   (the topic is keyed by user id), so per-user order is the topic's order.
 * - Reading: librdkafka's native consumer, partitions assigned at their start offsets (no group
 *   membership, no rebalances, no offsets committed; the group id `<namespace>.seqrec-trainer-replay-<uuid>`
 *   only names the client), messages taken a thousand at a time.
 * - Deleted users (docs/privacy.md): the whole compacted deletions topic is read first, and every
 *   event of a deleted user stamped (by its producer or by Kafka) at or before the deletion, and
 *   every event of a user who objects to profiling, is left out: a model trained on the replay
 *   never saw them.
 */
import { randomUUID } from 'node:crypto';
import { KafkaConsumer, type LibrdKafkaError, type Message } from '@confluentinc/kafka-javascript';
import { TOPICS, deletedEvent, parseUserDeletion, type EventV1, type UserDeletionV1 } from '@seqrec/contracts';
import { KafkaAdmin, call, connectionConfig, type KafkaConnection } from '@seqrec/kafka';
import { SeqrecError } from '@seqrec/contracts';

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
  sasl?: KafkaConnection['sasl'];
  /** Give up when no message arrived for this long while partitions are still open. Default 30 s. */
  idleTimeoutMs?: number;
  /** Called every few thousand messages. */
  onProgress?: (read: number, total: number) => void;
  /**
   * Leave out the events of deleted and objecting users (the deletions topic, read whole first).
   * Default true; false only for tools that must see the topic as it is.
   */
  honourDeletions?: boolean;
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
  /** Events left out because their user was deleted after them, or objects to profiling. */
  deleted: number;
  /** Deletion records honoured (users on the deletions topic). */
  deletions: number;
  /** The latest deletion's time (epoch ms; null: none), for the model store (see `ModelStore.recordDeletion`). */
  latestDeletion: number | null;
  partitions: PartitionReplay[];
  seconds: number;
}

/** Thrown when the replay cannot complete (retriable: the broker may come back). */
export class KafkaReplayError extends SeqrecError {
  constructor(message: string, context: Record<string, unknown>) {
    super(message, { retriable: true, context });
    this.name = 'KafkaReplayError';
  }
}

/** Offsets by partition; a partition without one (-1: no message at or after the time) gets `fallback`'s. */
function toOffsets(list: Array<{ partition: number; offset: number }>, fallback: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const { partition, offset } of list) out.set(partition, offset < 0 ? (fallback.get(partition) ?? 0) : offset);
  return out;
}

/** Messages taken from the consumer per call. */
const CONSUME_BATCH = 1_000;

function asEvent(v: unknown): EventV1 | null {
  if (typeof v !== 'object' || v === null) return null;
  const e = v as Partial<EventV1>;
  if (typeof e.eventId !== 'string' || typeof e.userId !== 'string' || typeof e.type !== 'string' || typeof e.ts !== 'number') return null;
  return e as EventV1;
}

/** Reads the topic range described by `o` and returns its events, without those of deleted users. */
export async function replayEvents(o: KafkaReplayOptions): Promise<KafkaReplayResult> {
  const t0 = performance.now();
  const topic = physical(o, o.topic ?? TOPICS.EVENTS);
  if (o.from !== undefined && o.to !== undefined && !(o.from < o.to)) {
    throw new RangeError(`replay range is empty: from ${new Date(o.from).toISOString()} is not before to ${new Date(o.to).toISOString()}`);
  }
  const deletions = o.honourDeletions === false ? new Map<string, UserDeletionV1>() : await readDeletions(o);
  let invalid = 0;
  let deleted = 0;
  const byPartition = new Map<number, EventV1[]>();
  // anonymous events of sessions that logged into a deleted user are theirs too: left out after the pass
  const linked = new Map<string, UserDeletionV1>();
  const stamps = new Map<EventV1, number>();
  const r = await readRange(o, topic, { from: o.from, to: o.to, required: true, onProgress: o.onProgress }, (partition, m) => {
    let e: EventV1 | null = null;
    try {
      e = m.value ? asEvent(JSON.parse(m.value.toString('utf8'))) : null;
    } catch {
      e = null;
    }
    if (!e) {
      invalid++;
      return;
    }
    if (deletions.size > 0) {
      if (e.userId === undefined) stamps.set(e, m.timestamp ?? 0);
      else {
        const d = deletions.get(e.userId);
        if (d && e.sessionId !== undefined) linked.set(e.sessionId, d);
        if (deletedEvent(d, e.ts, m.timestamp ?? 0)) {
          deleted++;
          return;
        }
      }
    }
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    list.push(e);
  });
  // (not push(...each): a spread of a million events overflows the stack)
  let events = r.partitions.flatMap((p) => byPartition.get(p.partition) ?? []);
  if (linked.size > 0) {
    const before = events.length;
    events = events.filter((e) => e.userId !== undefined || !deletedEvent(linked.get(e.sessionId!), e.ts, stamps.get(e)));
    deleted += before - events.length;
  }
  return { topic, events, invalid, outOfRange: r.outOfRange, deleted, deletions: deletions.size, latestDeletion: latestOf(deletions), partitions: r.partitions, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The deletions topic as it is now, whole: each user's latest {@link UserDeletionV1} (a compacted
 * topic may still hold older records of a user until the cleaner runs: the latest by offset wins,
 * which is the latest by time). No topic yet: no deletions.
 */
export async function readDeletions(o: Omit<KafkaReplayOptions, 'from' | 'to' | 'topic'>): Promise<Map<string, UserDeletionV1>> {
  const out = new Map<string, UserDeletionV1>();
  await readRange(o, physical(o, TOPICS.USER_DELETIONS), { required: false }, (_p, m) => {
    const d = parseUserDeletion(m.value ?? null, m.key === undefined || m.key === null ? null : m.key.toString());
    if (d) out.set(d.userId, d);
  });
  return out;
}

function latestOf(deletions: Map<string, UserDeletionV1>): number | null {
  let latest: number | null = null;
  for (const d of deletions.values()) if (latest === null || d.at > latest) latest = d.at;
  return latest;
}

function physical(o: { namespace?: string }, logical: string): string {
  return o.namespace ? `${o.namespace}.${logical}` : logical;
}

interface RangeOptions {
  from?: number | undefined;
  to?: number | undefined;
  /** Throw when the topic does not exist (else: nothing to read). */
  required: boolean;
  onProgress?: ((read: number, total: number) => void) | undefined;
}

/** Reads `topic` from the start offsets to the end offsets captured now, handing each message in range to `each`. */
async function readRange(
  o: Omit<KafkaReplayOptions, 'from' | 'to' | 'topic'>,
  topic: string,
  range: RangeOptions,
  each: (partition: number, m: Message) => void,
): Promise<{ partitions: PartitionReplay[]; outOfRange: number }> {
  const connection: KafkaConnection = {
    brokers: o.brokers,
    clientId: o.clientId ?? 'seqrec-trainer-replay',
    ssl: o.ssl ?? false,
    ...(o.sasl ? { sasl: o.sasl } : {}),
  };
  const admin = new KafkaAdmin(connection);
  const groupId = `${o.namespace ? `${o.namespace}.` : ''}seqrec-trainer-replay-${randomUUID().slice(0, 8)}`;
  let consumer: KafkaConsumer | undefined;
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      if (range.required) throw new KafkaReplayError(`topic ${topic} does not exist`, { topic, brokers: o.brokers });
      return { partitions: [], outOfRange: 0 };
    }
    // high: the last stable offset (read committed), so the range holds only decided transactions
    const offsets = await admin.topicOffsets(topic);
    const high = new Map(offsets.map((p) => [p.partition, p.high]));
    const low = new Map(offsets.map((p) => [p.partition, p.low]));
    const start = range.from === undefined ? low : toOffsets(await admin.offsetsForTime(topic, range.from), high);
    const end = range.to === undefined ? high : toOffsets(await admin.offsetsForTime(topic, range.to), high);
    const parts: PartitionReplay[] = offsets
      .map((p) => ({
        partition: p.partition,
        start: Math.max(start.get(p.partition) ?? p.low, p.low),
        end: Math.min(end.get(p.partition) ?? p.high, p.high),
        read: 0,
      }))
      .sort((a, b) => a.partition - b.partition);
    const total = parts.reduce((n, p) => n + Math.max(0, p.end - p.start), 0);
    const open = new Set(parts.filter((p) => p.end > p.start).map((p) => p.partition));
    let outOfRange = 0;
    let read = 0;
    let lastReport = 0;
    if (open.size > 0) {
      const info = new Map(parts.map((p) => [p.partition, p]));
      const c = new KafkaConsumer(
        {
          ...connectionConfig(connection),
          'group.id': groupId,
          'enable.auto.commit': false,
          'enable.auto.offset.store': false,
          'enable.partition.eof': true,
          'isolation.level': 'read_committed',
          'fetch.wait.max.ms': 100,
        },
        { 'auto.offset.reset': 'earliest' },
      );
      consumer = c;
      let lastError: LibrdKafkaError | undefined;
      c.on('event.error', (err) => (lastError = err));
      const eofs: Array<{ partition: number; offset: number }> = [];
      c.on('partition.eof', (e) => eofs.push(e));
      await call((cb) => c.connect({ timeout: 30_000 }, (err) => cb(err)));
      c.setDefaultConsumeTimeout(100);
      c.assign(parts.filter((p) => open.has(p.partition)).map((p) => ({ topic, partition: p.partition, offset: p.start })));
      const close = (p: PartitionReplay) => {
        open.delete(p.partition);
        c.pause([{ topic, partition: p.partition }]);
      };
      const idle = o.idleTimeoutMs ?? 30_000;
      let lastData = Date.now();
      while (open.size > 0) {
        let batch: Message[];
        try {
          batch = await new Promise<Message[]>((resolve, reject) => c.consume(CONSUME_BATCH, (err, messages) => (err ? reject(err) : resolve(messages))));
        } catch (err) {
          // librdkafka retries by itself: remember the error for the stall report, back off a little
          lastError = err as LibrdKafkaError;
          batch = [];
          await new Promise((r) => setTimeout(r, 100));
        }
        if (batch.length > 0 || eofs.length > 0) lastData = Date.now();
        for (const m of batch) {
          const p = info.get(m.partition);
          if (!p || !open.has(p.partition)) continue;
          const off = m.offset;
          if (off >= p.end - 1) close(p);
          if (off < p.start || off >= p.end) continue;
          p.read++;
          read++;
          const ts = m.timestamp ?? 0;
          if ((range.from !== undefined && ts < range.from) || (range.to !== undefined && ts >= range.to)) {
            outOfRange++;
            continue;
          }
          each(p.partition, m);
        }
        // after the batch: every message before a partition's end-of-data has been taken above
        for (const eof of eofs.splice(0)) {
          const p = info.get(eof.partition);
          if (p && open.has(p.partition) && eof.offset >= p.end) close(p);
        }
        if (range.onProgress && read - lastReport >= 5_000) {
          lastReport = read;
          range.onProgress(read, total);
        }
        if (open.size > 0 && Date.now() - lastData > idle) {
          const why = lastError ? ` (last error: ${lastError.message})` : '';
          throw new KafkaReplayError(`replay of ${topic} stalled: no data for ${idle} ms, partitions ${[...open].join(',')} incomplete${why}`, {
            topic,
            open: [...open],
            ...(lastError ? { lastError: lastError.message } : {}),
          });
        }
      }
    }
    range.onProgress?.(read, total);
    return { partitions: parts, outOfRange };
  } finally {
    if (consumer?.isConnected()) {
      const c = consumer;
      await call((cb) => c.disconnect((err) => cb(err))).catch(() => undefined);
    }
    await admin.disconnect().catch(() => undefined);
  }
}
