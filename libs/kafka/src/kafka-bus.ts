import {
  CompressionTypes,
  Kafka,
  KafkaJSError,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaConfig,
  type Message,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import {
  BusError,
  type BatchHandler,
  type Bus,
  type ConsumedReport,
  type ConsumedMessage,
  type TransactionReport,
  type OutboundMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from '@seqrec/bus';
import { createTopicsAndWait } from './topics';
import { installCoordinatorCache } from './coordinator-cache';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: SASLOptions;
  /** Connection/request retry policy; tests use short ones. */
  retry?: KafkaConfig['retry'];
  /** Partitions whose batches are handled concurrently (transactional ones then share transactions). Default 3. */
  partitionsConsumedConcurrently?: number;
  /** Compression of produced batches. Default none: on small CPUs it costs more than it saves. */
  compression?: 'none' | 'gzip';
  logger?: Pick<Console, 'info' | 'warn' | 'error'>;
  /** Called with every handler failure (the batch is retried). */
  onError?: (err: unknown, topic: string, partition: number) => void;
  /** Called after every committed batch (consumer lag metrics). */
  onConsumed?: (report: ConsumedReport) => void;
  /** Called after every committed transaction (transaction phase metrics). */
  onTransaction?: (report: TransactionReport) => void;
  /** Called with the API name of every request a client of this bus sends (request-rate metrics). */
  onRequest?: (api: string) => void;
  /**
   * Prefix of every topic and consumer group this bus touches (`<namespace>.<topic>`), invisible to
   * service code: several deployments (or tests) can share one cluster.
   */
  namespace?: string;
}

/**
 * {@link Bus} on Apache Kafka through kafkajs: an idempotent producer (acks=all) for plain
 * publishing, one transactional producer per transactional subscription, and manual offset commits
 * that happen only after a batch's handler resolved.
 */
export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private admin: Admin | undefined;
  private producerConnected: Promise<void> | undefined;
  private ready = false;
  private readonly subscriptions = new Set<KafkaSubscription>();

  constructor(private readonly options: KafkaBusOptions) {
    // we key every message; kafkajs' default partitioner (murmur2, as the Java client) is the one we want
    process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
    const log = options.logger ?? console;
    // Four FindCoordinator round trips fewer per transaction (see coordinator-cache.ts).
    if (!installCoordinatorCache()) log.warn('kafkajs has no Cluster.prototype.findGroupCoordinator: coordinator lookups are not cached');
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...(options.ssl ? { ssl: true } : {}),
      ...(options.sasl ? { sasl: options.sasl } : {}),
      retry: options.retry ?? { initialRetryTime: 100, retries: 8 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        const { message, ...extra } = entry.log;
        const line = `[kafkajs] ${entry.namespace}: ${message} ${JSON.stringify(extra)}`;
        if (entry.level <= logLevel.ERROR) log.error(line);
        else log.warn(line);
      },
    });
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
    this.producer.on(this.producer.events.DISCONNECT, () => (this.ready = false));
    this.countRequests(this.producer);
  }

  /** @internal Reports every request of a client to `onRequest`. */
  countRequests(client: Producer | Consumer): void {
    const onRequest = this.options.onRequest;
    if (!onRequest) return;
    const listener = (e: { payload: { apiName: string } }) => onRequest(e.payload.apiName);
    // The same call twice: split only so that TypeScript resolves each client type's `on` overloads.
    if ('transaction' in client) client.on(client.events.REQUEST, listener);
    else client.on(client.events.REQUEST, listener);
  }

  /** Connects the producer; resolves once the broker answered. */
  async connect(): Promise<void> {
    this.producerConnected ??= this.producer.connect().then(() => {
      this.ready = true;
    });
    try {
      await this.producerConnected;
    } catch (err) {
      this.producerConnected = undefined;
      throw new BusError(`cannot connect to Kafka at ${this.options.brokers.join(',')}: ${(err as Error).message}`, true, {
        brokers: this.options.brokers,
      }, { cause: err });
    }
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    for (const chunk of chunkBySize(messages, MAX_REQUEST_BYTES)) {
      await this.producer.sendBatch({ topicMessages: this.toTopicMessages(chunk), acks: -1, compression: this.compression() });
    }
  }

  /** The broker-side name of a topic or group. */
  physical(name: string): string {
    return this.options.namespace ? `${this.options.namespace}.${name}` : name;
  }

  /** @internal */
  logical(topic: string): string {
    const ns = this.options.namespace;
    return ns && topic.startsWith(`${ns}.`) ? topic.slice(ns.length + 1) : topic;
  }

  /** @internal */
  toTopicMessages(messages: OutboundMessage[]): Array<{ topic: string; messages: Message[] }> {
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      const topic = this.physical(m.topic);
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(m.headers ? { key: m.key, value: m.value, headers: m.headers } : { key: m.key, value: m.value });
    }
    return [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
  }

  async subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    const sub = new KafkaSubscription(this.kafka, this, options, handler, this.options);
    this.subscriptions.add(sub);
    await sub.start();
    return {
      stop: async () => {
        await sub.stop();
        this.subscriptions.delete(sub);
      },
    };
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(this.physical(s.topic)));
    if (missing.length === 0) return;
    await createTopicsAndWait(
      admin,
      missing.map((s) => ({ topic: this.physical(s.topic), numPartitions: s.partitions, replicationFactor: -1 })),
    );
  }

  /** Committed offset lag per partition of a group (for metrics and tests). */
  async groupLag(groupId: string, topic: string): Promise<Array<{ partition: number; lag: number }>> {
    const admin = await this.adminClient();
    const [latest, committed] = await Promise.all([
      admin.fetchTopicOffsets(this.physical(topic)),
      admin.fetchOffsets({ groupId: this.physical(groupId), topics: [this.physical(topic)] }),
    ]);
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return latest.map((p) => {
      const c = done.get(p.partition) ?? -1;
      const high = Number(p.high);
      return { partition: p.partition, lag: c < 0 ? high - Number(p.low) : high - c };
    });
  }

  isReady(): boolean {
    return this.ready && [...this.subscriptions].every((s) => s.isHealthy());
  }

  async close(): Promise<void> {
    for (const sub of this.subscriptions) await sub.stop();
    this.subscriptions.clear();
    await this.producer.disconnect();
    await this.admin?.disconnect();
    this.ready = false;
  }

  /** @internal */
  compression(): CompressionTypes {
    return this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }
}

/** Whether a transactional request failed because a newer producer of the same id fenced this one. */
function isFenced(err: unknown): boolean {
  const e = err as { type?: string; message?: string };
  return e?.type === 'INVALID_PRODUCER_EPOCH' || e?.type === 'PRODUCER_FENCED' || /^Producer attempted an operation with an old epoch/.test(e?.message ?? '');
}

/** A transactional producer of one input partition (see {@link KafkaSubscription}). */
interface PartitionProducer {
  producer: Producer;
  connected: Promise<void>;
  /** AddPartitionsToTxn requests of its current transaction (> 1: CONCURRENT_TRANSACTIONS retries). */
  addPartitionsRequests: number;
  /** FindCoordinator requests of its current transaction. */
  coordinatorLookups: number;
}

class KafkaSubscription {
  private readonly consumer: Consumer;
  /** Transactional producers by input `topic:partition` (transactional subscriptions only). */
  private readonly txProducers = new Map<string, PartitionProducer>();
  private crashed = false;
  private running = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly bus: KafkaBus,
    private readonly options: SubscribeOptions,
    private readonly handler: BatchHandler,
    private readonly busOptions: KafkaBusOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: bus.physical(options.groupId),
      allowAutoTopicCreation: true,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 16 * 1024 * 1024,
      maxWaitTimeInMs: Number(process.env.KAFKA_FETCH_MAX_WAIT_MS ?? 50),
      readUncommitted: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      retry: busOptions.retry ?? { initialRetryTime: 100, retries: 8 },
    });
    bus.countRequests(this.consumer);
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.crashed = !e.payload.restart;
      busOptions.logger?.error?.(`consumer ${options.groupId} crashed: ${e.payload.error.message}`);
    });
  }

  isHealthy(): boolean {
    return this.running && !this.crashed;
  }

  async start(): Promise<void> {
    if (this.options.transactional) {
      // A new assignment: drop the producers of partitions this member no longer owns (their new
      // owner's InitProducerId fences them anyway).
      this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
        const owned = new Set(Object.entries(e.payload.memberAssignment).flatMap(([topic, parts]) => parts.map((p) => `${topic}:${p}`)));
        for (const key of [...this.txProducers.keys()]) if (!owned.has(key)) void this.dropProducer(key);
      });
    }
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topic: this.bus.physical(topic), fromBeginning: this.options.fromBeginning ?? true });
    }
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.busOptions.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect();
    await Promise.all([...this.txProducers.keys()].map((key) => this.dropProducer(key)));
  }

  /**
   * The transactional producer of one input partition, created on its first batch. Its
   * transactional id is the group's and the partition's, not this instance's: whichever member
   * owns the partition next fences the previous owner's producer when it starts (InitProducerId),
   * so a stalled former owner cannot commit output or offsets for a batch the new owner redoes.
   * kafkajs has no KIP-447 offset commits (group generation checked by the broker), so this is what
   * fences zombies. One producer per partition also lets partitions commit in parallel instead of
   * queueing behind one instance-wide transaction.
   */
  private producerFor(topic: string, partition: number): PartitionProducer {
    const key = `${topic}:${partition}`;
    let entry = this.txProducers.get(key);
    if (!entry) {
      const producer = this.kafka.producer({
        transactionalId: `${this.bus.physical(this.options.groupId)}-${topic}-${partition}`,
        idempotent: true,
        // The broker writes a transaction's markers after EndTxn returns; adding the same partitions
        // to the next transaction meanwhile answers CONCURRENT_TRANSACTIONS, which is retried. With
        // kafkajs' 100 ms default back-off that added ~100 ms to every event; the Java client waits 20.
        retry: { initialRetryTime: 5, maxRetryTime: 1_000, retries: 20 },
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
      });
      const created: PartitionProducer = { producer, connected: producer.connect(), addPartitionsRequests: 0, coordinatorLookups: 0 };
      this.bus.countRequests(producer);
      producer.on(producer.events.REQUEST, (e) => {
        if (e.payload.apiName === 'AddPartitionsToTxn') created.addPartitionsRequests++;
        else if (e.payload.apiName === 'GroupCoordinator') created.coordinatorLookups++; // kafkajs' name for FindCoordinator
      });
      created.connected.catch(() => this.txProducers.delete(key));
      this.txProducers.set(key, (entry = created));
    }
    return entry;
  }

  private async dropProducer(key: string): Promise<void> {
    const entry = this.txProducers.get(key);
    if (!entry) return;
    this.txProducers.delete(key);
    await entry.producer.disconnect().catch(() => undefined);
  }

  /** The batch's output and its input offset in one transaction of its partition's producer. */
  private async runTransaction(staged: OutboundMessage[], topic: string, partition: number, offset: string): Promise<void> {
    const t0 = performance.now();
    const entry = this.producerFor(topic, partition);
    await entry.connected;
    const tReady = performance.now();
    entry.addPartitionsRequests = 0;
    entry.coordinatorLookups = 0;
    const tx = await entry.producer.transaction();
    try {
      for (const chunk of chunkBySize(staged, MAX_REQUEST_BYTES)) {
        await tx.sendBatch({ topicMessages: this.bus.toTopicMessages(chunk), compression: this.bus.compression() });
      }
      const t1 = performance.now();
      await tx.sendOffsets({
        consumerGroupId: this.bus.physical(this.options.groupId),
        topics: [{ topic, partitions: [{ partition, offset }] }],
      });
      const t2 = performance.now();
      await tx.commit();
      const t3 = performance.now();
      this.busOptions.onTransaction?.({
        groupId: this.options.groupId,
        batches: 1,
        messages: staged.length,
        queuedSeconds: (tReady - t0) / 1000,
        produceSeconds: (t1 - tReady) / 1000,
        offsetsSeconds: (t2 - t1) / 1000,
        commitSeconds: (t3 - t2) / 1000,
        addPartitionsRequests: entry.addPartitionsRequests,
        coordinatorLookups: entry.coordinatorLookups,
      });
    } catch (err) {
      // Abort; a producer that cannot (fenced, or its state unknown) is replaced on the retry, whose
      // InitProducerId also aborts whatever it left open.
      const aborted = await tx.abort().then(
        () => true,
        () => false,
      );
      const fenced = isFenced(err);
      if (!aborted || fenced) await this.dropProducer(`${topic}:${partition}`);
      if (fenced) {
        // kafkajs calls fencing non-retriable, which would stop the consumer for good. Here it means
        // another producer of this partition's id started (a new owner, or a restart of ours): if
        // the partition is still ours, the batch is redone with a new producer, else the rejoin
        // hands it over.
        throw new KafkaJSError(`the producer of ${topic}/${partition} was fenced by a newer one of its transactional id: batch redone`, { retriable: true });
      }
      throw err;
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const max = this.options.maxBatchSize ?? 10_000;
    const all = batch.messages;
    const topic = this.bus.logical(batch.topic);
    for (let start = 0; start < all.length; start += max) {
      if (!isRunning() || isStale()) return;
      const slice = all.slice(start, start + max);
      const messages: ConsumedMessage[] = slice.map((m) => ({
        topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        headers: decodeHeaders(m.headers),
        timestamp: Number(m.timestamp),
      }));
      const staged: OutboundMessage[] = [];
      try {
        await this.handler(
          { topic, partition: batch.partition, messages },
          { publish: (m) => void staged.push(...m), heartbeat, isRunning },
        );
      } catch (err) {
        this.busOptions.onError?.(err, topic, batch.partition);
        throw err;
      }
      const last = slice[slice.length - 1]!.offset;
      const next = (BigInt(last) + 1n).toString();
      const offsets = [{ topic: batch.topic, partition: batch.partition, offset: next }];
      if (this.options.transactional) {
        await this.runTransaction(staged, batch.topic, batch.partition, next);
      } else {
        if (staged.length > 0) await this.bus.publish(staged);
        await this.consumer.commitOffsets(offsets);
      }
      resolveOffset(last);
      const high = Number(batch.highWatermark);
      if (Number.isFinite(high)) {
        this.busOptions.onConsumed?.({ groupId: this.options.groupId, topic, partition: batch.partition, lag: Math.max(0, high - Number(next)) });
      }
      await heartbeat();
    }
  }
}

/**
 * Upper bound of the payload bytes sent in one produce request. kafkajs writes all of a request's
 * messages for one partition as a single record batch, which the broker refuses above
 * `message.max.bytes` (1 MiB by default), so large handler outputs go out in several requests.
 */
const MAX_REQUEST_BYTES = 768 * 1024;

/** Splits messages into runs of at most `maxBytes` of keys and values (a larger single message stands alone). */
export function chunkBySize(messages: OutboundMessage[], maxBytes: number): OutboundMessage[][] {
  const out: OutboundMessage[][] = [];
  let current: OutboundMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const bytes = (typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length) + (m.key?.length ?? 0) + 32;
    if (current.length > 0 && size + bytes > maxBytes) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function decodeHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
  return out;
}
