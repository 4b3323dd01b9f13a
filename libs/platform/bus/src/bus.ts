/**
 * The message bus every seqrec service talks through. Two implementations sit behind it: Kafka
 * (`@seqrec/kafka`, distributed mode) and {@link MemoryBus} (embedded mode and unit tests). Service
 * code is the same for both.
 *
 * Delivery contract of {@link Bus.subscribe}: at-least-once, in order per partition. A batch's
 * offsets are committed only after its handler resolved and the messages it staged with
 * {@link BatchContext.publish} were written; with `transactional: true` those writes and the offset
 * commit are one atomic transaction (exactly-once consume-transform-produce). A handler that throws
 * gets the same batch again after a back-off.
 */
import { SeqrecError } from '@seqrec/contracts';

/** A message to publish. */
export interface OutboundMessage {
  topic: string;
  /** Partitioning key; messages with the same key keep their order. */
  key: string | null;
  /** null: a tombstone (on a compacted topic, deletes the key). */
  value: Buffer | string | null;
  headers?: Record<string, string>;
}

/** A message as consumed. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** Offset as a decimal string (Kafka offsets exceed 2^53 in theory). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Broker or producer timestamp, epoch ms. */
  timestamp: number;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
}

export interface BatchContext {
  /** Stage messages to be written when the batch commits (atomically with the commit when transactional). */
  publish(messages: OutboundMessage[]): void;
  /**
   * Runs `fn` once this handler call's output and offsets are committed (not when the batch is
   * redone or dead-lettered). The next batch may start before it finished; a failure is logged,
   * never retried: use it for what may be lost in a crash right after the commit.
   */
  afterCommit(fn: () => Promise<void>): void;
  /** Keeps group membership alive during long work. */
  heartbeat(): Promise<void>;
  /** False once the subscription is stopping: finish the current work and return. */
  isRunning(): boolean;
}

export type BatchHandler = (batch: ConsumedBatch, ctx: BatchContext) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group; members of one group share the partitions. */
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. Default: earliest. */
  fromBeginning?: boolean;
  /** Write staged messages and commit offsets in one transaction. */
  transactional?: boolean;
  /** Upper bound on the messages handed to one handler call. */
  maxBatchSize?: number;
  /**
   * Poison messages: a batch whose handler failed `maxAttempts` times (default 5) with an error
   * that is not transient (see `isTransient`) is retried one message at a time, and a message that
   * still fails is replaced by the messages this returns (a dead letter with the reason), committed
   * like any output, and the partition moves on. Without it a failing batch is retried for ever.
   */
  deadLetter?: (message: ConsumedMessage, error: unknown, attempts: number) => OutboundMessage[];
  maxAttempts?: number;
}

export interface Subscription {
  /** Stops fetching, lets the in-flight batch finish and commit, then leaves the group. */
  stop(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Created with `cleanup.policy=compact`: the last message per key is kept (the items topic). */
  compacted?: boolean;
}

export interface Bus {
  /** Writes messages durably (acks from all in-sync replicas, idempotent producer). */
  publish(messages: OutboundMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription>;
  /** Creates the topics that are missing. */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** True while the bus can publish and consume. */
  isReady(): boolean;
  /** False once a subscription stopped for good (its consumer died): the process should be restarted. */
  isAlive(): boolean;
  close(): Promise<void>;
}

/**
 * Consumer lag, for metrics: Kafka reads it from the broker on a timer (end offset minus the
 * group's committed offset), so it keeps moving when a consumer is stuck; the in-memory bus reports
 * it after every batch.
 */
export interface ConsumedReport {
  groupId: string;
  topic: string;
  partition: number;
  /** Messages between the end of the partition and the group's committed offset. */
  lag: number;
  /** The group's committed offset (-1: none yet), when known. */
  committed?: number;
}

/** Reported after every committed transaction of a transactional subscription (Kafka only). */
export interface TransactionReport {
  groupId: string;
  /** Partition batches committed together (one consume call's partitions share a transaction). */
  batches: number;
  /** Messages published in the transaction. */
  messages: number;
  /** Time from the batch being ready to its transaction beginning (the producer connecting and initialising, the first time). */
  queuedSeconds: number;
  /** Wall time of the phases: produce (the output handed to the client), offsets (sent with the group's metadata), commit (the output flushed and acknowledged, EndTxn). */
  produceSeconds: number;
  offsetsSeconds: number;
  commitSeconds: number;
}

/** A bus failure; whether a retry can help is the caller's to say (a timeout can, a closed bus cannot). */
export class BusError extends SeqrecError {
  constructor(message: string, retriable: boolean, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, { retriable, context, cause: options?.cause });
    this.name = 'BusError';
  }
}
