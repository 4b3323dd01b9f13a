import { Logger } from '@nestjs/common';
import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { BatchContext, Bus, ConsumedBatch, ConsumedMessage, OutboundMessage, Subscription, TopicSpec } from '@seqrec/bus';
import { RejectReason, originalPayload, type DeadLetterV1 } from '@seqrec/contracts';

/** Options a handler sets through `@EventPattern(topic, { group, transactional, maxBatchSize })`. */
export interface BusHandlerExtras {
  /** Consumer group of this handler (required). */
  group: string;
  /**
   * One group per process: `<group>-<instance id>` (the server's `instanceId`, INSTANCE_ID), for
   * broadcast-style consumers where every replica must see every message.
   */
  perInstance?: boolean;
  /** Commit offsets and the handler's staged messages in one transaction. */
  transactional?: boolean;
  maxBatchSize?: number;
  /** Start a new group at the end of the topic instead of the beginning (broadcast-style consumers). */
  latest?: boolean;
  /**
   * Topic for poison messages: a message the handler still fails on after `maxAttempts` (default 5)
   * tries with a non-transient error becomes a {@link DeadLetterV1} there and the partition moves
   * on. Without it, a failing batch is retried for ever.
   */
  deadLetterTopic?: string;
  maxAttempts?: number;
}

/** The dead letter of a message a consumer keeps failing on. */
export function poisonLetter(topic: string, message: ConsumedMessage, error: unknown, attempts: number): OutboundMessage[] {
  const letter: DeadLetterV1 = {
    reason: RejectReason.ProcessingFailed,
    detail: `failed ${attempts} times: ${String((error as Error)?.message ?? error).slice(0, 1_000)}`,
    source: { kind: 'kafka', topic: message.topic, partition: message.partition, offset: message.offset },
    rejectedAt: Date.now(),
    ...(message.value ? originalPayload(message.value) : {}),
  };
  return [{ topic, key: message.key ? message.key.toString('utf8') : null, value: JSON.stringify(letter) }];
}

/** The RPC context handed to bus handlers (`@Ctx() ctx: BusContext`). */
export class BusContext extends BaseRpcContext<[ConsumedBatch, BatchContext]> {
  get batch(): ConsumedBatch {
    return this.args[0];
  }
  /** Stage messages that commit together with this batch's offsets. */
  publish: BatchContext['publish'] = (m) => this.args[1].publish(m);
  /** Run once this batch's output and offsets are committed. */
  afterCommit: BatchContext['afterCommit'] = (fn) => this.args[1].afterCommit(fn);
  heartbeat(): Promise<void> {
    return this.args[1].heartbeat();
  }
}

/**
 * A Nest microservice transport over the seqrec {@link Bus}: every `@EventPattern(topic, extras)`
 * handler gets whole batches (`@Payload() batch: ConsumedBatch`) from its consumer group, and the
 * batch is committed only when the handler completed. One class for Kafka and the in-memory bus.
 */
export class BusServer extends Server implements CustomTransportStrategy {
  private readonly subs: Subscription[] = [];
  private readonly log = new Logger(BusServer.name);

  /**
   * @param bus the bus to consume from
   * @param topics topics to create (when missing) before consuming, e.g. every seqrec topic
   * @param options.beforeConsume runs after the topics exist and before any consumer starts (the
   *   topic durability check); when it throws, the server fails to start
   * @param options.instanceId this process's name, which `perInstance` handlers' groups end with
   */
  constructor(
    private readonly bus: Bus,
    private readonly topics: TopicSpec[] = [],
    private readonly options: { beforeConsume?: () => Promise<void>; instanceId?: string } = {},
  ) {
    super();
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      if (this.topics.length > 0) await this.bus.ensureTopics(this.topics);
      await this.options.beforeConsume?.();
      for (const [pattern, handler] of this.messageHandlers) {
        const extras = (handler.extras ?? {}) as Partial<BusHandlerExtras>;
        if (!extras.group) throw new Error(`@EventPattern('${pattern}') needs extras.group (its consumer group)`);
        if (extras.perInstance && !this.options.instanceId) throw new Error(`@EventPattern('${pattern}') is perInstance: the BusServer needs an instanceId`);
        const group = extras.perInstance ? `${extras.group}-${this.options.instanceId}` : extras.group;
        const sub = await this.bus.subscribe(
          {
            groupId: group,
            topics: [pattern],
            fromBeginning: !extras.latest,
            transactional: extras.transactional ?? false,
            ...(extras.maxBatchSize ? { maxBatchSize: extras.maxBatchSize } : {}),
            ...(extras.deadLetterTopic
              ? { deadLetter: (m, err, attempts) => poisonLetter(extras.deadLetterTopic!, m, err, attempts), maxAttempts: extras.maxAttempts ?? 5 }
              : {}),
          },
          async (batch, ctx) => {
            const out = await handler(batch, new BusContext([batch, ctx]));
            if (isObservable(out)) await lastValueFrom(out, { defaultValue: undefined });
          },
        );
        this.subs.push(sub);
        this.log.log(`consuming ${pattern} as group ${group}`);
      }
      callback();
    } catch (err) {
      callback(err);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.subs.splice(0).map((s) => s.stop()));
  }

  on(): never {
    throw new Error('BusServer does not emit events; use metrics and health');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}
