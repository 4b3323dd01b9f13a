import {
  CODES,
  KafkaConsumer,
  Producer,
  type LibrdKafkaError,
  type Message,
  type MessageHeader,
  type TopicPartition,
} from '@confluentinc/kafka-javascript';
import {
  BusError,
  PoisonTracker,
  type BatchHandler,
  type Bus,
  type ConsumedMessage,
  type ConsumedReport,
  type OutboundMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
  type TransactionReport,
} from '@seqrec/bus';
import { KafkaAdmin, call, connectionConfig, defaultInstanceId, errorCode, type KafkaCompression, type KafkaConnection } from './connection';
import { topicConfigs, type TopicDurability } from './topics';
import { checkTopicDurability, type TopicCheckResult } from './topic-check';

export interface KafkaBusOptions extends KafkaConnection {
  clientId: string;
  /** Compression of produced batches. Default lz4 (docs/architecture.md, "The Kafka client"). */
  compression?: KafkaCompression;
  /** How long the producer waits to fill a batch, ms. Default 2. */
  lingerMs?: number;
  /** Stable name of this process (pod name): names its transactional producers. Default host name + pid. */
  instanceId?: string;
  /** Replication, min ISR, retention and message size of the topics this bus creates. */
  durability?: TopicDurability;
  /** Consumer tuning; tests use short timeouts. */
  consumer?: {
    /** Group session timeout, ms (default 30,000): a member silent this long is dropped. */
    sessionTimeoutMs?: number;
    /** A member that does not poll for this long leaves the group (default 300,000). */
    maxPollIntervalMs?: number;
    /** Longest wait of a fetch for data, ms (default 50). */
    fetchMaxWaitMs?: number;
    /**
     * Static membership (KIP-345): every consumer joins with `group.instance.id` = `instanceId`.
     * A member restarted under the same id gets its partitions back at once, without a rebalance
     * and without waiting for the dead member's session timeout; a member that stops does not
     * leave the group (librdkafka sends no LeaveGroup for a static member on close), so its
     * partitions wait for it to come back, or for the session timeout. Only for instance ids that
     * are stable across restarts and unique in the group (StatefulSet pod names): needs `instanceId`.
     */
    staticMembership?: boolean;
    /**
     * A member whose assigned partitions have lag and that has neither committed nor seen its
     * handler fail for this long is wedged (a client stuck below the application: seen after a
     * paused broker came back) and counts as dead, so the process is restarted. Judged on the
     * lag readings (`lagIntervalMs`), so it needs `onConsumed`. 0: off (default).
     */
    stalledMs?: number;
  };
  /** Transaction timeout, ms (default 10,000): an open transaction of a crashed producer blocks read_committed readers at most this long. */
  transactionTimeoutMs?: number;
  logger?: Pick<Console, 'info' | 'warn' | 'error'>;
  /** Called with every handler failure (the batch is retried). */
  onError?: (err: unknown, topic: string, partition: number) => void;
  /** Called with every subscribed partition's lag, read from the broker every `lagIntervalMs` (consumer lag metrics). */
  onConsumed?: (report: ConsumedReport) => void;
  /** How often the lag is read from the broker, ms (default 15,000). */
  lagIntervalMs?: number;
  /** Called after every committed transaction (transaction phase metrics). */
  onTransaction?: (report: TransactionReport) => void;
  /** Called with the requests of every client of this bus by API, every 5 s (request-rate metrics). */
  onRequest?: (api: string, count: number) => void;
  /**
   * Prefix of every topic and consumer group this bus touches (`<namespace>.<topic>`), invisible to
   * service code: several deployments (or tests) can share one cluster.
   */
  namespace?: string;
}

type Config = Record<string, string | number | boolean | ((...args: never[]) => unknown)>;

/** Messages handed to the handlers per consume call, across partitions. */
const CONSUME_MAX_MESSAGES = 10_000;
/** transaction.timeout.ms of the transactional producers, and the deadline of each transaction (see commitTransaction). */
const DEFAULT_TRANSACTION_TIMEOUT_MS = 10_000;

/** A transactional call that did not complete by the transaction's deadline. */
class TransactionStuck extends Error {}

/** `p`, or a rejection with `error()` once `deadline` (epoch ms) has passed; `p` is left to settle on its own. */
function withDeadline<T>(p: Promise<T>, deadline: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), Math.max(0, deadline - Date.now()));
  });
  p.catch(() => undefined); // a late rejection of an abandoned call is not unhandled
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** How long one consume call waits for its first message, ms (bounds how late a stop or a rebalance is seen). */
const CONSUME_WAIT_MS = 100;

/**
 * {@link Bus} on Apache Kafka through librdkafka (`@confluentinc/kafka-javascript`, its native
 * API): an idempotent producer (acks=all) for plain publishing, a consume loop per subscription
 * that hands each partition's messages to the handler and commits only after it resolved, and for
 * transactional subscriptions one transactional producer whose transactions carry the batch's
 * output and its input offsets with the consumer's group metadata (KIP-447): a member that lost its
 * partitions in a rebalance (a zombie) cannot commit, the group fences it.
 */
export class KafkaBus implements Bus {
  private readonly producer: DeliveringProducer;
  private admin: KafkaAdmin | undefined;
  private ready = false;
  private readonly subscriptions = new Set<KafkaSubscription>();
  /** @internal */
  readonly stats: RequestStats;

  constructor(private readonly options: KafkaBusOptions) {
    if (options.consumer?.staticMembership && !options.instanceId) throw new Error('static consumer group membership needs a stable instanceId (INSTANCE_ID)');
    this.stats = new RequestStats(options.onRequest);
    this.producer = new DeliveringProducer(this.producerConfig({}), this.logger(), this.stats);
  }

  /** @internal */
  logger(): Pick<Console, 'info' | 'warn' | 'error'> {
    return this.options.logger ?? console;
  }

  /** @internal librdkafka properties common to every client of this bus. */
  baseConfig(): Config {
    return {
      ...connectionConfig(this.options),
      ...(this.options.onRequest ? { 'statistics.interval.ms': 5_000 } : {}),
    } as Config;
  }

  /** @internal Properties of a producer (plain or transactional). */
  producerConfig(extra: Config): Config {
    return {
      ...this.baseConfig(),
      'enable.idempotence': true,
      acks: 'all',
      'compression.codec': this.options.compression ?? 'lz4',
      'linger.ms': this.options.lingerMs ?? 2,
      // Java's partitioner: a key lands on the same partition whichever client produced it
      partitioner: 'murmur2_random',
      'message.max.bytes': 1_000_000,
      // A transaction's AddPartitionsToTxn/AddOffsetsToTxn meet CONCURRENT_TRANSACTIONS while the
      // broker still writes the previous transaction's markers (a few ms): librdkafka's 100 ms
      // default back-off put that on every event's latency (the Java client waits 20 ms).
      'retry.backoff.ms': 5,
      'retry.backoff.max.ms': 500,
      dr_cb: true,
      ...extra,
    };
  }

  /** @internal */
  busOptions(): KafkaBusOptions {
    return this.options;
  }

  /** Connects the producer; resolves once the broker answered. */
  async connect(): Promise<void> {
    try {
      await this.producer.connect();
      this.ready = true;
    } catch (err) {
      throw new BusError(`cannot connect to Kafka at ${this.options.brokers.join(',')}: ${(err as Error).message}`, true, { brokers: this.options.brokers }, { cause: err });
    }
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    await this.producer.send(messages.map((m) => this.physicalMessage(m)));
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
  physicalMessage(m: OutboundMessage): OutboundMessage {
    return { ...m, topic: this.physical(m.topic) };
  }

  /**
   * Reads the lag of every partition this process is assigned from the broker (end offset minus the
   * group's committed offset) and hands it to `onConsumed`. On a timer rather than after each batch:
   * a consumer that is stuck commits no batch, and its lag must still grow where alerts can see it.
   * Through each subscription's own consumer (OffsetFetch of its group, ListOffsets): the Admin API's
   * ListConsumerGroupOffsets dereferences a missing group in librdkafka 2.15 when a restarted
   * broker answers NOT_COORDINATOR, which crashed the process.
   */
  async reportLag(): Promise<void> {
    const onConsumed = this.options.onConsumed;
    if (!onConsumed) return;
    for (const sub of this.subscriptions) {
      let reports: ConsumedReport[];
      try {
        reports = await sub.lagReports();
      } catch (err) {
        // The consumer could not read its own lag: the broker is away (whether the member is wedged
        // cannot be judged), or the broker answers and this consumer cannot reach it (seen after a
        // broker pause: "no broker available" for good, while other clients are served), which is
        // a wedge the judgement must go on with.
        if (await this.brokerAnswers(sub.topics()[0]!)) sub.lagUnreadable();
        else sub.lagUnknown();
        throw err;
      }
      for (const r of reports) onConsumed(r);
    }
  }

  /** Whether the broker answers a client of its own (a fresh one: a wedged handle must not be the judge). */
  private async brokerAnswers(topic: string): Promise<boolean> {
    const probe = new KafkaAdmin({ ...this.options, clientId: `${this.options.clientId}-probe` });
    try {
      await probe.topicOffsets(this.physical(topic), 5_000);
      return true;
    } catch {
      return false;
    } finally {
      await probe.disconnect();
    }
  }

  private lagTimer: NodeJS.Timeout | undefined;

  private startLagTimer(): void {
    if (this.lagTimer || !this.options.onConsumed) return;
    const every = this.options.lagIntervalMs ?? 15_000;
    let running = false;
    const tick = () => {
      if (running) return;
      running = true;
      this.reportLag()
        .catch((err: Error) => this.logger().warn(`reading consumer lag: ${err.message}`))
        .finally(() => (running = false));
    };
    this.lagTimer = setInterval(tick, every);
    this.lagTimer.unref();
    setTimeout(tick, 2_000).unref(); // the first reading soon after the first subscription
  }

  async subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    this.startLagTimer();
    const sub = new KafkaSubscription(this, options, handler);
    this.subscriptions.add(sub);
    try {
      await sub.start();
    } catch (err) {
      this.subscriptions.delete(sub);
      await sub.stop().catch(() => undefined);
      throw err;
    }
    return {
      stop: async () => {
        await sub.stop();
        this.subscriptions.delete(sub);
      },
    };
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = this.adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(this.physical(s.topic)));
    if (missing.length === 0) return;
    const d = this.options.durability;
    await admin.createTopicsAndWait(
      missing.map((s) => ({
        topic: this.physical(s.topic),
        numPartitions: s.partitions,
        replicationFactor: d?.replicationFactor ?? -1,
        configs: { ...topicConfigs(d), ...(s.compacted ? { 'cleanup.policy': 'compact' } : {}) },
      })),
    );
  }

  /**
   * Compares existing topics (logical names) with this bus's durability settings: replication
   * factor, min.insync.replicas, retention.ms, max.message.bytes. Reports physical topic names.
   */
  async checkTopics(topics: string[]): Promise<TopicCheckResult> {
    return checkTopicDurability(this.adminClient(), topics.map((t) => this.physical(t)), this.options.durability ?? {});
  }

  /** Committed offset lag per partition of a group (for metrics and tests). */
  async groupLag(groupId: string, topic: string): Promise<Array<{ partition: number; lag: number }>> {
    const admin = this.adminClient();
    const offsets = await admin.topicOffsets(this.physical(topic));
    const committed = await admin.committedOffsets(this.physical(groupId), this.physical(topic), offsets.map((o) => o.partition));
    return offsets.map((p) => {
      const c = committed.get(p.partition) ?? -1;
      return { partition: p.partition, lag: c < 0 ? p.high - p.low : Math.max(0, p.high - c) };
    });
  }

  isReady(): boolean {
    return this.ready && this.producer.isConnected() && [...this.subscriptions].every((s) => s.isHealthy());
  }

  isAlive(): boolean {
    return [...this.subscriptions].every((s) => !s.isDead());
  }

  async close(): Promise<void> {
    clearInterval(this.lagTimer);
    this.lagTimer = undefined;
    for (const sub of this.subscriptions) await sub.stop();
    this.subscriptions.clear();
    await this.producer.disconnect();
    await this.admin?.disconnect();
    this.admin = undefined;
    this.ready = false;
  }

  /** @internal */
  adminClient(): KafkaAdmin {
    this.admin ??= new KafkaAdmin({ ...this.options, clientId: this.options.clientId });
    return this.admin;
  }
}

/**
 * Request counts by API from librdkafka's statistics (cumulative per client): reports the
 * increase since the previous statistics of the same client.
 */
class RequestStats {
  private readonly last = new Map<string, number>();

  constructor(private readonly onRequest?: (api: string, count: number) => void) {}

  /** @internal Feeds one client's statistics JSON. */
  add(json: string): void {
    if (!this.onRequest) return;
    let stats: { name?: string; brokers?: Record<string, { req?: Record<string, number> }> };
    try {
      stats = JSON.parse(json);
    } catch {
      return;
    }
    const totals = new Map<string, number>();
    for (const broker of Object.values(stats.brokers ?? {})) {
      for (const [api, n] of Object.entries(broker.req ?? {})) totals.set(api, (totals.get(api) ?? 0) + n);
    }
    for (const [api, total] of totals) {
      const key = `${stats.name}\u0000${api}`;
      const delta = total - (this.last.get(key) ?? 0);
      this.last.set(key, total);
      if (delta > 0) this.onRequest(api, delta);
    }
  }
}

/**
 * A librdkafka producer whose sends resolve when every message was acknowledged (delivery
 * reports), with the local queue's back-pressure waited out instead of failing.
 */
class DeliveringProducer {
  readonly client: Producer;
  private connected: Promise<void> | undefined;

  /**
   * @param reports whether every message's delivery is reported back (a transactional producer
   *   needs none: its commit fails when a message failed, and a report per message costs
   *   microseconds of the event loop: an object, a key copy and an event each)
   */
  constructor(
    config: Config,
    private readonly logger: Pick<Console, 'warn' | 'error'>,
    stats: RequestStats,
    reports = true,
  ) {
    this.client = new Producer({ ...config, dr_cb: reports } as never);
    if (reports) {
      this.client.on('delivery-report', (err, report) => {
        const done = report.opaque as ((err: LibrdKafkaError | null) => void) | undefined;
        done?.(err ?? null);
      });
    }
    this.client.on('event.log', (e: { severity: number; fac: string; message: string }) => {
      if (e.severity <= 3) this.logger.error(`[librdkafka] ${e.fac}: ${e.message}`);
      else this.logger.warn(`[librdkafka] ${e.fac}: ${e.message}`);
    });
    this.client.on('event.error', (err) => this.logger.warn(`[librdkafka] producer: ${err.message}`));
    this.client.on('event.stats', (e: { message: string }) => stats.add(e.message));
  }

  connect(): Promise<void> {
    this.connected ??= call((cb) => this.client.connect({}, (err) => cb(err))).then(
      () => {
        this.client.setPollInBackground(true);
      },
      (err) => {
        this.connected = undefined;
        throw err;
      },
    );
    return this.connected;
  }

  isConnected(): boolean {
    return this.client.isConnected();
  }

  /**
   * Hands messages to librdkafka without waiting for their acknowledgements (a transactional
   * producer: committing the transaction flushes them and fails if any failed). Resolves once all
   * are queued.
   */
  async enqueue(messages: OutboundMessage[]): Promise<void> {
    for (const m of messages) await this.produceOne(m, undefined);
  }

  /** Produces every message and resolves once all were acknowledged; rejects with the first failure. */
  async send(messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    let failed: LibrdKafkaError | null = null;
    let pending = messages.length;
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const done = (err: LibrdKafkaError | null) => {
      if (err && !failed) failed = err;
      if (--pending === 0) resolveAll();
    };
    for (const m of messages) {
      try {
        await this.produceOne(m, done);
      } catch (err) {
        done(err as LibrdKafkaError);
      }
    }
    await all;
    if (failed) throw failed;
  }

  /** Produces one message, waiting while librdkafka's local queue is full. */
  private async produceOne(m: OutboundMessage, opaque: ((err: LibrdKafkaError | null) => void) | undefined): Promise<void> {
    const value = typeof m.value === 'string' ? Buffer.from(m.value) : m.value;
    const headers = m.headers ? Object.entries(m.headers).map(([k, v]): MessageHeader => ({ [k]: v })) : undefined;
    for (;;) {
      try {
        this.client.produce(m.topic, null, value, m.key ?? undefined, Date.now(), opaque, headers);
        return;
      } catch (err) {
        if (errorCode(err) !== CODES.ERRORS.ERR__QUEUE_FULL) throw err;
        await new Promise((r) => setTimeout(r, 2)); // let deliveries drain the queue
      }
    }
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await this.connected.catch(() => undefined);
    if (!this.client.isConnected()) return;
    await call((cb) => this.client.flush(10_000, cb)).catch(() => undefined);
    await call((cb) => this.client.disconnect(10_000, (err) => cb(err))).catch(() => undefined);
    this.connected = undefined;
  }
}

/** Whether a failed transactional call leaves the producer unusable (fenced by a newer one of its id, or another fatal error). */
function isFatal(err: unknown): boolean {
  const e = err as { isFatal?: boolean; code?: number };
  return e?.isFatal === true || e?.code === CODES.ERRORS.ERR__FENCED || e?.code === CODES.ERRORS.ERR__FATAL;
}

function isRetriable(err: unknown): boolean {
  return (err as { isRetriable?: boolean })?.isRetriable === true;
}

/** A partition's messages of one consume call. */
interface PartitionBatch {
  topic: string;
  partition: number;
  messages: Message[];
}

/** What one partition's handling produced: offset to commit (if any progress), staged output, where to resume on failure. */
interface PartitionResult {
  topic: string;
  partition: number;
  /** First offset of the batch (where a failed commit rewinds to). */
  first: number;
  /** Next offset after the last handled message; undefined when nothing was handled. */
  next?: number;
  staged: OutboundMessage[];
  /** Callbacks of the handled chunks, run once the commit succeeded. */
  afterCommit: Array<() => Promise<void>>;
  /** Set when a chunk failed: the offset to redeliver from. */
  retryFrom?: number;
}

const tpKey = (topic: string, partition: number) => `${topic}:${partition}`;

/** Methods of the native consumer that its type declarations leave out (lib/kafka-consumer.js has them). */
interface ConsumerExtras {
  setDefaultIsTimeoutOnlyForFirstMessage(value: boolean): void;
  rebalanceProtocol(): 'NONE' | 'EAGER' | 'COOPERATIVE';
  incrementalAssign(assignment: TopicPartition[]): void;
  incrementalUnassign(assignment: TopicPartition[]): void;
  commitCb(offsets: Array<{ topic: string; partition: number; offset: number }>, cb: (err: LibrdKafkaError | null) => void): void;
  assignmentLost(): boolean;
}

class KafkaSubscription {
  private consumer!: KafkaConsumer & ConsumerExtras;
  private afterCommitTail: Promise<void> = Promise.resolve();
  private producer: DeliveringProducer | undefined;
  private loop: Promise<void> | undefined;
  private running = false;
  private crashed = false;
  /** The cycle (handle + commit) in progress; a revocation waits for it. */
  private cycle: Promise<void> = Promise.resolve();
  /** When the cycle in progress started (epoch ms); undefined between cycles. */
  private cycleStartedAt: number | undefined;
  /** Assignment changes queued by the rebalance callback, applied between cycles. */
  private rebalancing: Promise<void> = Promise.resolve();
  private readonly assigned = new Set<string>();
  private failures = 0;
  private readonly opts: KafkaBusOptions;

  constructor(
    private readonly bus: KafkaBus,
    private readonly options: SubscribeOptions,
    private readonly handler: BatchHandler,
  ) {
    this.opts = bus.busOptions();
    this.poison = new PoisonTracker(options.maxAttempts ?? 5, options.deadLetter);
  }

  private readonly poison: PoisonTracker;

  isHealthy(): boolean {
    return this.running && !this.crashed;
  }

  /**
   * Its consume loop ended for good (the consumer died), or one cycle (handler and commit) has run
   * longer than max.poll.interval.ms, past which the group has already given its partitions away:
   * only a restart brings it back.
   */
  isDead(): boolean {
    if (this.crashed) return true;
    const now = Date.now();
    if (this.cycleStartedAt !== undefined && now - this.cycleStartedAt > this.maxPollIntervalMs()) return true;
    const stalledMs = this.opts.consumer?.stalledMs ?? 0;
    if (stalledMs <= 0) return false;
    // between cycles the loop comes round at least every consume wait (100 ms) or back-off (≤ 5 s)
    if (this.running && this.cycleStartedAt === undefined && now - this.polledAt > stalledMs) return true;
    return this.behind && now - this.lastProgressAt > stalledMs;
  }

  /** When the consume loop last came round (a consume call returned), epoch ms. */
  private polledAt = Date.now();

  /**
   * The lag could not be read (the broker is away): whether the member is wedged cannot be judged,
   * and the judgement starts over once readings succeed again.
   */
  lagUnknown(): void {
    this.behind = false;
    this.lastProgressAt = Date.now();
  }

  /**
   * This consumer could not read its lag while the broker answers another client: it counts as
   * behind, so that without a commit for KAFKA_STALLED_CONSUMER_MS it is dead (a restart cures it).
   */
  lagUnreadable(): void {
    this.behind = true;
  }

  /** The last lag reading found work on an assigned partition (more than a transaction marker). */
  private behind = false;
  /** When this member last committed, saw its handler fail, or found nothing to do (epoch ms). */
  private lastProgressAt = Date.now();

  private maxPollIntervalMs(): number {
    return this.opts.consumer?.maxPollIntervalMs ?? 300_000;
  }

  private group(): string {
    return this.bus.physical(this.options.groupId);
  }

  /** The logical group id. */
  groupId(): string {
    return this.options.groupId;
  }

  /** The logical topics. */
  topics(): string[] {
    return this.options.topics;
  }

  /** Lag of the partitions this member is assigned (committed offsets and end offsets from the broker). */
  async lagReports(): Promise<ConsumedReport[]> {
    if (!this.running || !this.consumer.isConnected()) return [];
    const readAt = Date.now();
    const assigned = this.consumer.assignments().map((a) => ({ topic: a.topic, partition: a.partition }));
    if (assigned.length === 0) {
      this.behind = false;
      return [];
    }
    const committed = await call<Array<{ topic: string; partition: number; offset: number }>>((cb) => this.consumer.committed(assigned, 10_000, cb));
    const offsetOf = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));
    const out: ConsumedReport[] = [];
    for (const tp of assigned) {
      const w = await call<{ highOffset: number; lowOffset: number }>((cb) => this.consumer.queryWatermarkOffsets(tp.topic, tp.partition, 5_000, cb));
      const c = offsetOf.get(tpKey(tp.topic, tp.partition)) ?? -1;
      const done = c >= 0 ? c : -1;
      out.push({
        groupId: this.options.groupId,
        topic: this.bus.logical(tp.topic),
        partition: tp.partition,
        lag: done < 0 ? Math.max(0, w.highOffset - w.lowOffset) : Math.max(0, w.highOffset - done),
        committed: done,
      });
    }
    // A read-committed reader that is caught up still sees the last transaction's marker as lag 1.
    this.behind = out.some((r) => r.lag > 1);
    if (!this.behind) this.lastProgressAt = Math.max(this.lastProgressAt, readAt);
    return out;
  }

  async start(): Promise<void> {
    const c = this.opts.consumer ?? {};
    this.consumer = new KafkaConsumer(
      {
        ...this.bus.baseConfig(),
        'group.id': this.group(),
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'session.timeout.ms': c.sessionTimeoutMs ?? 30_000,
        'heartbeat.interval.ms': Math.min(3_000, Math.floor((c.sessionTimeoutMs ?? 30_000) / 3)),
        'max.poll.interval.ms': this.maxPollIntervalMs(),
        'fetch.wait.max.ms': c.fetchMaxWaitMs ?? 50,
        'fetch.min.bytes': 1,
        'partition.assignment.strategy': 'cooperative-sticky',
        ...(c.staticMembership ? { 'group.instance.id': this.opts.instanceId! } : {}),
        'enable.partition.eof': false,
        rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => this.onRebalance(err, assignment),
      } as never,
      // a topic-level property: in the global configuration it is overridden by this (default) one
      { 'auto.offset.reset': (this.options.fromBeginning ?? true) ? 'earliest' : 'latest' },
    ) as KafkaConsumer & ConsumerExtras;
    const log = this.bus.logger();
    this.consumer.on('event.log', (e: { severity: number; fac: string; message: string }) => {
      if (e.severity <= 3) log.error(`[librdkafka] ${this.options.groupId} ${e.fac}: ${e.message}`);
      else log.warn(`[librdkafka] ${this.options.groupId} ${e.fac}: ${e.message}`);
      if (e.fac === 'FATAL') this.fatal(e.message);
    });
    this.consumer.on('event.error', (err) => {
      log.warn(`[librdkafka] consumer ${this.options.groupId}: ${err.message}`);
      if (err.code === CODES.ERRORS.ERR__FATAL || (err as LibrdKafkaError & { isFatal?: boolean }).isFatal) this.fatal(err.message);
    });
    this.consumer.on('event.stats', (e: { message: string }) => this.bus.stats.add(e.message));
    await call((cb) => this.consumer.connect({}, (err) => cb(err)));
    this.consumer.setDefaultConsumeTimeout(CONSUME_WAIT_MS);
    this.consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    if (this.options.transactional) await this.newProducer();
    this.consumer.subscribe(this.options.topics.map((t) => this.bus.physical(t)));
    this.running = true;
    this.polledAt = Date.now();
    this.loop = this.run().catch((err) => {
      this.crashed = true;
      log.error(`consumer ${this.options.groupId} stopped: ${(err as Error).message}`);
    });
  }

  /**
   * librdkafka raised a fatal consumer error, e.g. a static member fenced by another with the same
   * group.instance.id (which librdkafka 2.15 can also report after a broker restart, against
   * itself): the consumer can do nothing more. The subscription counts as dead, so /health/live
   * fails and the process is restarted; the new process rejoins under the same id.
   */
  private fatal(message: string): void {
    if (this.crashed) return;
    this.crashed = true;
    this.bus.logger().error(`consumer ${this.options.groupId}: fatal error, the process must be restarted: ${message}`);
  }

  async stop(): Promise<void> {
    if (!this.running && !this.loop) return;
    this.running = false;
    await this.loop;
    this.loop = undefined;
    await this.afterCommitTail;
    if (this.consumer.isConnected()) await call((cb) => this.consumer.disconnect((err) => cb(err))).catch(() => undefined);
    await this.producer?.disconnect();
    this.producer = undefined;
  }

  /** A new transactional producer (the previous one, if any, is fenced or broken). */
  private async newProducer(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect().catch(() => undefined);
    const instance = this.opts.instanceId || defaultInstanceId();
    const producer = new DeliveringProducer(
      this.bus.producerConfig({
        'transactional.id': `${this.group()}.${instance}`,
        'transaction.timeout.ms': this.opts.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS,
        // the whole batch is produced at once and the commit flushes it: waiting to fill a batch only adds latency
        'linger.ms': 0,
        'client.id': `${this.opts.clientId}-tx`,
      }),
      this.bus.logger(),
      this.bus.stats,
      false,
    );
    await producer.connect();
    await call((cb) => producer.client.initTransactions(30_000, cb));
    this.producer = producer;
  }

  /**
   * librdkafka's rebalance callback. Assignments apply at once; a revocation waits for the cycle in
   * progress to commit (or abort) first, so the partitions' next owner starts where this member's
   * last transaction ended.
   */
  private onRebalance(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    const cooperative = this.consumer.rebalanceProtocol() === 'COOPERATIVE';
    const apply = async () => {
      try {
        if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
          this.lastProgressAt = Date.now();
          if (cooperative) this.consumer.incrementalAssign(assignment);
          else this.consumer.assign(assignment);
          for (const tp of assignment) this.assigned.add(tpKey(tp.topic, tp.partition));
        } else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
          await this.cycle;
          for (const tp of assignment) this.assigned.delete(tpKey(tp.topic, tp.partition));
          if (cooperative) this.consumer.incrementalUnassign(assignment);
          else this.consumer.unassign();
        } else {
          this.bus.logger().warn(`consumer ${this.options.groupId}: rebalance error ${err.message}`);
          this.assigned.clear();
          this.consumer.unassign();
        }
      } catch (e) {
        if (this.consumer.isConnected()) this.bus.logger().warn(`consumer ${this.options.groupId}: rebalance: ${(e as Error).message}`);
      }
    };
    this.rebalancing = this.rebalancing.then(apply);
  }

  private consume(): Promise<Message[]> {
    return new Promise((resolve, reject) => {
      this.consumer.consume(CONSUME_MAX_MESSAGES, (err, messages) => (err ? reject(err) : resolve(messages ?? [])));
    });
  }

  private async run(): Promise<void> {
    const log = this.bus.logger();
    while (this.running) {
      await this.rebalancing;
      let messages: Message[];
      try {
        messages = await this.consume();
        this.polledAt = Date.now();
      } catch (err) {
        this.polledAt = Date.now();
        if (!this.consumer.isConnected()) throw err;
        log.warn(`consumer ${this.options.groupId}: consume failed: ${(err as Error).message}`);
        await this.backoff();
        continue;
      }
      if (messages.length === 0) continue;
      let done!: () => void;
      this.cycle = new Promise<void>((r) => (done = r));
      this.cycleStartedAt = Date.now();
      try {
        await this.runCycle(messages);
      } finally {
        this.cycleStartedAt = undefined;
        done();
      }
    }
  }

  private async backoff(): Promise<void> {
    const ms = Math.min(100 * 2 ** Math.min(this.failures, 6), 5_000);
    this.failures++;
    await new Promise((r) => setTimeout(r, ms));
  }

  /** Handles one consume call's messages partition by partition, then commits what succeeded. */
  private async runCycle(messages: Message[]): Promise<void> {
    const batches = new Map<string, PartitionBatch>();
    for (const m of messages) {
      const key = tpKey(m.topic, m.partition);
      if (!this.assigned.has(key)) continue; // revoked since it was fetched
      let b = batches.get(key);
      if (!b) batches.set(key, (b = { topic: m.topic, partition: m.partition, messages: [] }));
      b.messages.push(m);
    }
    if (batches.size === 0) return;
    const results = await Promise.all([...batches.values()].map((b) => this.handlePartition(b)));
    const progressed = results.filter((r) => r.next !== undefined);
    let committed = true;
    if (progressed.length > 0) {
      try {
        if (this.options.transactional) await this.commitTransaction(progressed);
        else await this.commitPlain(progressed);
      } catch (err) {
        committed = false;
        this.bus.logger().warn(`consumer ${this.options.groupId}: commit failed, batch redone: ${(err as Error).message}`);
      }
      if (committed) {
        this.lastProgressAt = Date.now();
        this.runAfterCommit(progressed.flatMap((r) => r.afterCommit));
      }
    }
    // Rewind what must be redelivered: failed chunks, and everything of a failed commit.
    const rewinds = results
      .map((r) => ({ r, from: committed ? r.retryFrom : r.first }))
      .filter((x): x is { r: PartitionResult; from: number } => x.from !== undefined);
    for (const { r, from } of rewinds) await this.seek(r.topic, r.partition, from);
    if (rewinds.length > 0) await this.backoff();
    else this.failures = 0;
  }

  /** Runs committed batches' callbacks in commit order, off the consume loop (stop() waits for them). */
  private runAfterCommit(hooks: Array<() => Promise<void>>): void {
    if (hooks.length === 0) return;
    this.afterCommitTail = this.afterCommitTail.then(async () => {
      for (const fn of hooks) {
        await fn().catch((err) => this.bus.logger().warn(`consumer ${this.options.groupId}: after-commit callback failed: ${(err as Error)?.message}`));
      }
    });
  }

  private async handlePartition(b: PartitionBatch): Promise<PartitionResult> {
    const max = this.options.maxBatchSize ?? 10_000;
    const topic = this.bus.logical(b.topic);
    const result: PartitionResult = { topic: b.topic, partition: b.partition, first: b.messages[0]!.offset, staged: [], afterCommit: [] };
    for (let start = 0; start < b.messages.length; ) {
      const n = this.poison.limit(topic, b.partition, b.messages[start]!.offset, max);
      const slice = b.messages.slice(start, start + n);
      const consumed = slice.map((m) => toConsumed(topic, m));
      let staged: OutboundMessage[] = [];
      let hooks: Array<() => Promise<void>> = [];
      try {
        await this.handler(
          { topic, partition: b.partition, messages: consumed },
          {
            publish: (out) => void staged.push(...out),
            afterCommit: (fn) => void hooks.push(fn),
            heartbeat: async () => undefined, // librdkafka heartbeats from its own thread
            isRunning: () => this.running,
          },
        );
        this.poison.succeeded(topic, b.partition, slice[slice.length - 1]!.offset);
      } catch (err) {
        this.lastProgressAt = Date.now(); // failing on a dependency is not being wedged: a restart would not help
        this.opts.onError?.(err, topic, b.partition);
        const letters = this.poison.failed(topic, b.partition, consumed, err);
        if (!letters) {
          result.retryFrom = slice[0]!.offset;
          return result;
        }
        // a poison message: its dead letter goes out in its place and the partition moves on
        this.bus.logger().error(`consumer ${this.options.groupId}: ${topic}/${b.partition}@${slice[0]!.offset} failed ${this.poison.maxAttempts} times, dead-lettered: ${(err as Error)?.message}`);
        staged = letters;
        hooks = [];
      }
      for (const m of staged) result.staged.push(this.bus.physicalMessage(m));
      result.afterCommit.push(...hooks);
      result.next = slice[slice.length - 1]!.offset + 1;
      start += slice.length;
      if (!this.running) {
        // stopping: commit what was handled, the rest is redelivered to the next owner
        if (start < b.messages.length) result.retryFrom = result.next;
        return result;
      }
    }
    return result;
  }

  private async commitPlain(results: PartitionResult[]): Promise<void> {
    const staged = results.flatMap((r) => r.staged);
    if (staged.length > 0) await this.bus.publish(staged.map((m) => ({ ...m, topic: this.bus.logical(m.topic) })));
    await new Promise<void>((resolve, reject) => {
      this.consumer.commitCb(
        results.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.next! })),
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  /**
   * The cycle's output and input offsets (with the group's metadata) in one transaction.
   *
   * The whole transaction has a deadline: `transaction.timeout.ms`, after which the coordinator
   * aborts it anyway. librdkafka's own timeouts do not always hold: after a broker paused for 15 s
   * (the fault suite's broker-pause) sendOffsetsToTransaction waited 10 minutes on a coordinator
   * "loading", and all that time the open transaction held the events topic's last stable offset,
   * so no read-committed consumer (the sequence-builder) saw any event behind it. Past the deadline
   * the producer is abandoned, not aborted (its calls would queue behind the stuck one): the next
   * cycle's new producer under the same transactional.id fences it, which makes the coordinator
   * abort its transaction, and the batch is redone.
   */
  private async commitTransaction(results: PartitionResult[]): Promise<void> {
    const t0 = performance.now();
    if (!this.producer) await this.newProducer();
    const producer = this.producer!;
    const tx = producer.client;
    const tReady = performance.now();
    const staged = results.flatMap((r) => r.staged);
    const timeoutMs = this.opts.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const bounded = <T>(what: string, p: Promise<T>) => withDeadline(p, deadline, () => new TransactionStuck(`${what} did not complete within the transaction's ${timeoutMs} ms`));
    await call((cb) => tx.beginTransaction(cb)).catch(async (err) => {
      await this.newProducer().catch(() => undefined);
      throw err;
    });
    try {
      await bounded('producing the batch', producer.enqueue(staged));
      const t1 = performance.now();
      const offsets = results.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.next! }));
      // librdkafka marks the assignment lost (poll interval exceeded, session expired) before the
      // application hears of it; the broker fences a stale generation, this also covers a member
      // that already rejoined in the background with a new one.
      if (this.consumer.assignmentLost()) throw new BusError(`consumer ${this.options.groupId} lost its partitions: transaction aborted`, true);
      await this.retrying(() => bounded('sendOffsetsToTransaction', call((cb) => tx.sendOffsetsToTransaction(offsets, this.consumer, Math.max(1, deadline - Date.now()), cb))));
      const t2 = performance.now();
      await this.retrying(() => bounded('commitTransaction', call((cb) => tx.commitTransaction(Math.max(1, deadline - Date.now()), cb))));
      const t3 = performance.now();
      this.opts.onTransaction?.({
        groupId: this.options.groupId,
        batches: results.length,
        messages: staged.length,
        queuedSeconds: (tReady - t0) / 1000,
        produceSeconds: (t1 - tReady) / 1000,
        offsetsSeconds: (t2 - t1) / 1000,
        commitSeconds: (t3 - t2) / 1000,
      });
    } catch (err) {
      if (err instanceof TransactionStuck) {
        this.bus.logger().warn(`consumer ${this.options.groupId}: ${err.message}: producer abandoned, its successor fences it and the batch is redone`);
        this.abandonProducer(producer);
        throw err;
      }
      // Abort (output discarded, offsets not committed); a producer that cannot abort, or was
      // fenced, is replaced. The caller rewinds the partitions so the batch is redone.
      const aborted = isFatal(err)
        ? false
        : await call((cb) => tx.abortTransaction(30_000, cb)).then(
            () => true,
            () => false,
          );
      if (!aborted) await this.newProducer().catch(() => (this.producer = undefined));
      throw err;
    }
  }

  /**
   * Drops a producer whose transactional call is stuck: the next transaction starts a new one
   * (same transactional.id: its initTransactions fences this one and the coordinator aborts its
   * open transaction). Its disconnect runs in the background, as it may wait on the stuck call.
   */
  private abandonProducer(producer: DeliveringProducer): void {
    if (this.producer === producer) this.producer = undefined;
    void producer.disconnect().catch(() => undefined);
  }

  /** Retries a transactional call librdkafka calls retriable (a coordinator moving, a timeout). */
  private async retrying(fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isRetriable(err) || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
  }

  private async seek(topic: string, partition: number, offset: number): Promise<void> {
    if (!this.assigned.has(tpKey(topic, partition))) return;
    await call((cb) => this.consumer.seek({ topic, partition, offset }, 5_000, cb)).catch((err) =>
      this.bus.logger().warn(`consumer ${this.options.groupId}: seek ${topic}/${partition} to ${offset}: ${(err as Error).message}`),
    );
  }

}

function toConsumed(topic: string, m: Message): ConsumedMessage {
  return {
    topic,
    partition: m.partition,
    offset: String(m.offset),
    key: m.key === undefined || m.key === null ? null : typeof m.key === 'string' ? Buffer.from(m.key) : m.key,
    value: m.value ?? null,
    headers: decodeHeaders(m.headers),
    timestamp: m.timestamp ?? Date.now(),
  };
}

function decodeHeaders(headers: MessageHeader[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const h of headers) {
    for (const [k, v] of Object.entries(h)) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
  return out;
}
