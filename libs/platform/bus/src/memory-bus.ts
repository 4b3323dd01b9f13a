import type {
  BatchHandler,
  ConsumedReport,
  Bus,
  ConsumedMessage,
  OutboundMessage,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from './bus';
import { PoisonTracker } from './poison';

export interface MemoryBusOptions {
  /** Partitions of a topic created implicitly on first use. */
  defaultPartitions?: number;
  /** Back-off after a failed handler call, ms. */
  retryDelayMs?: number;
  /** Called with every handler failure (the bus retries the batch). */
  onError?: (err: unknown, topic: string, partition: number) => void;
  /** Called when a handler's after-commit callback failed. */
  onAfterCommitError?: (err: unknown, topic: string, partition: number) => void;
  /** Called after every committed batch. */
  onConsumed?: (report: ConsumedReport) => void;
}

interface GroupState {
  committed: Map<string, number>; // `${topic}/${partition}` -> next offset
  members: MemorySubscription[];
}

/**
 * An in-process {@link Bus} with Kafka's semantics where services rely on them: partitions chosen by
 * key hash, per-partition order, consumer groups sharing partitions, offsets committed after the
 * handler (so a failing handler sees the batch again), staged messages written atomically with the
 * commit. Used by embedded mode and unit tests; nothing is persisted.
 */
export class MemoryBus implements Bus {
  private readonly topics = new Map<string, ConsumedMessage[][]>();
  private readonly groups = new Map<string, GroupState>();
  private closed = false;

  constructor(private readonly options: MemoryBusOptions = {}) {}

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) this.partitionsOf(spec.topic, spec.partitions);
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (this.closed) throw new Error('MemoryBus is closed');
    this.append(messages);
  }

  async subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    for (const topic of options.topics) this.partitionsOf(topic);
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = { committed: new Map(), members: [] };
      this.groups.set(options.groupId, group);
    }
    const sub = new MemorySubscription(this, group, options, handler, this.options);
    group.members.push(sub);
    sub.start();
    return sub;
  }

  isAlive(): boolean {
    return true;
  }

  isReady(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    for (const group of this.groups.values()) {
      await Promise.all(group.members.map((m) => m.stop()));
    }
    this.closed = true;
  }

  /** Every message ever published to a topic, in partition then offset order (tests, tools). */
  messages(topic: string): ConsumedMessage[] {
    return (this.topics.get(topic) ?? []).flat();
  }

  /** @internal */
  partitionsOf(topic: string, partitions = this.options.defaultPartitions ?? 4): ConsumedMessage[][] {
    let parts = this.topics.get(topic);
    if (!parts) {
      parts = Array.from({ length: partitions }, () => []);
      this.topics.set(topic, parts);
    }
    return parts;
  }

  /** @internal */
  append(messages: OutboundMessage[]): void {
    const touched = new Set<string>();
    for (const m of messages) {
      const parts = this.partitionsOf(m.topic);
      const partition = m.key === null ? Math.floor(Math.random() * parts.length) : hashKey(m.key) % parts.length;
      const log = parts[partition]!;
      log.push({
        topic: m.topic,
        partition,
        offset: String(log.length),
        key: m.key === null ? null : Buffer.from(m.key),
        value: typeof m.value === 'string' ? Buffer.from(m.value) : m.value,
        headers: { ...(m.headers ?? {}) },
        timestamp: Date.now(),
      });
      touched.add(m.topic);
    }
    for (const group of this.groups.values()) {
      for (const member of group.members) if (member.topics.some((t) => touched.has(t))) member.wake();
    }
  }
}

class MemorySubscription implements Subscription {
  readonly topics: string[];
  private running = true;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly bus: MemoryBus,
    private readonly group: GroupState,
    private readonly options: SubscribeOptions,
    private readonly handler: BatchHandler,
    private readonly busOptions: MemoryBusOptions,
  ) {
    this.topics = options.topics;
    this.poison = new PoisonTracker(options.maxAttempts ?? 5, options.deadLetter);
  }

  private readonly poison: PoisonTracker;

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    this.wake();
    await this.loop;
    this.group.members = this.group.members.filter((m) => m !== this);
  }

  private assigned(): Array<[string, number]> {
    const members = this.group.members;
    const me = members.indexOf(this);
    const out: Array<[string, number]> = [];
    let i = 0;
    for (const topic of this.topics) {
      const n = this.bus.partitionsOf(topic).length;
      for (let p = 0; p < n; p++, i++) if (i % members.length === me) out.push([topic, p]);
    }
    return out;
  }

  private async run(): Promise<void> {
    const max = this.options.maxBatchSize ?? 10_000;
    while (this.running) {
      let worked = false;
      for (const [topic, partition] of this.assigned()) {
        if (!this.running) break;
        const log = this.bus.partitionsOf(topic)[partition]!;
        const key = `${topic}/${partition}`;
        const from = this.group.committed.get(key) ?? (this.options.fromBeginning === false ? log.length : 0);
        if (!this.group.committed.has(key)) this.group.committed.set(key, from);
        if (from >= log.length) continue;
        worked = true;
        const messages = log.slice(from, from + this.poison.limit(topic, partition, from, max));
        const staged: OutboundMessage[] = [];
        const hooks: Array<() => Promise<void>> = [];
        try {
          await this.handler(
            { topic, partition, messages },
            {
              publish: (m) => void staged.push(...m),
              afterCommit: (fn) => void hooks.push(fn),
              heartbeat: async () => undefined,
              isRunning: () => this.running,
            },
          );
          this.bus.append(staged);
          this.poison.succeeded(topic, partition, from + messages.length - 1);
          this.group.committed.set(key, from + messages.length);
          this.busOptions.onConsumed?.({ groupId: this.options.groupId, topic, partition, lag: log.length - from - messages.length });
          for (const fn of hooks) await fn().catch((err) => this.busOptions.onAfterCommitError?.(err, topic, partition));
        } catch (err) {
          this.busOptions.onError?.(err, topic, partition);
          const letters = this.poison.failed(topic, partition, messages, err);
          if (letters) {
            this.bus.append(letters);
            this.group.committed.set(key, from + 1);
            continue;
          }
          await new Promise((r) => setTimeout(r, this.busOptions.retryDelayMs ?? 100));
        }
      }
      if (!worked && this.running) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          setTimeout(resolve, 50).unref();
        });
      }
    }
  }
}

/** FNV-1a, 32 bit: a stable partitioner for the in-memory bus. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
