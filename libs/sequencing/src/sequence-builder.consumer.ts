import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch, OutboundMessage } from '@seqrec/bus';
import { GROUPS, TOPICS, type DeadLetterV1, type EventV1 } from '@seqrec/contracts';
import { BusContext, type BusHandlerExtras } from '@seqrec/nest-platform';
import { SequenceApplier, type PositionedEvent } from '@seqrec/sequence';
import { SEQUENCING_METRICS, SEQUENCING_OPTIONS } from './sequencing.constants';
import type { SequencingMetrics } from './sequencing.metrics';

export interface SequencingOptions {
  emitUpdates: boolean;
}

// a batch that keeps failing for its data (not for a dependency that is down) is isolated and its
// poison message dead-lettered, so one record never stops the partition
const EXTRAS: BusHandlerExtras = { group: GROUPS.SEQUENCE_BUILDER, deadLetterTopic: TOPICS.EVENTS_DLQ };

/**
 * Applies batches of accepted events to users' windows in the state store, then (after the store
 * has them) lets the bus commit the offsets and emit one window update per touched user.
 */
@Controller()
export class SequenceBuilderConsumer {
  private readonly log = new Logger(SequenceBuilderConsumer.name);

  constructor(
    private readonly applier: SequenceApplier,
    @Inject(SEQUENCING_OPTIONS) private readonly options: SequencingOptions,
    @Inject(SEQUENCING_METRICS) private readonly metrics: SequencingMetrics,
  ) {}

  @EventPattern(TOPICS.EVENTS, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch, @Ctx() ctx: BusContext): Promise<void> {
    const events: PositionedEvent[] = [];
    const letters: OutboundMessage[] = [];
    let oldest = Infinity;
    for (const m of batch.messages) {
      let event: EventV1;
      try {
        event = JSON.parse(m.value?.toString('utf8') ?? '') as EventV1;
        if (typeof event?.userId !== 'string' || typeof event.ts !== 'number') throw new Error('not an EventV1');
      } catch (err) {
        letters.push(this.deadLetter(m, (err as Error).message));
        continue;
      }
      events.push({ partition: m.partition, offset: Number(m.offset), event });
      if (m.timestamp < oldest) oldest = m.timestamp;
    }
    this.metrics.batchSize.observe(batch.messages.length);
    const end = this.metrics.applyDuration.startTimer();
    const result = await this.applier.apply(events);
    end();
    if (events.length > 0) this.metrics.eventLag.observe((Date.now() - oldest) / 1000);
    this.metrics.events.inc({ outcome: 'applied' }, result.applied);
    if (result.stale) this.metrics.events.inc({ outcome: 'stale' }, result.stale);
    if (result.tooLate) this.metrics.events.inc({ outcome: 'too_late' }, result.tooLate);
    if (letters.length) this.metrics.events.inc({ outcome: 'invalid' }, letters.length);
    if (result.conflicts) this.metrics.conflicts.inc(result.conflicts);
    this.metrics.updates.inc(result.updates.length);
    if (this.options.emitUpdates) {
      ctx.publish(result.updates.map((u) => ({ topic: TOPICS.SEQUENCE_UPDATES, key: u.userId, value: u.window })));
    }
    if (letters.length) ctx.publish(letters);
  }

  private deadLetter(m: ConsumedBatch['messages'][number], why: string): OutboundMessage {
    this.log.warn(`invalid message on ${m.topic}/${m.partition}@${m.offset}: ${why}`);
    const letter: DeadLetterV1 = {
      reason: 'invalid_json' as DeadLetterV1['reason'],
      detail: `sequence-builder could not read an event: ${why}`,
      source: { kind: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
      rejectedAt: Date.now(),
      ...(m.value ? { originalBase64: m.value.toString('base64') } : {}),
    };
    return { topic: TOPICS.EVENTS_DLQ, key: null, value: JSON.stringify(letter) };
  }
}
