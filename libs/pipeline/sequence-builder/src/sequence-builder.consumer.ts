import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch, ConsumedMessage, OutboundMessage } from '@seqrec/bus';
import {
  GROUPS,
  RejectReason,
  TOPICS,
  boundedLetter,
  originalPayload,
  parseAcceptedEvent,
  type DeadLetterV1,
  type Rejection,
} from '@seqrec/contracts';
import { BusContext, TRENDING_STORE, type BusHandlerExtras } from '@seqrec/nest-platform';
import { SequenceApplier, type PositionedEvent, type TrendingEvent, type TrendingStore } from '@seqrec/window';
import { ItemCategories } from './item-categories';
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
 *
 * Bad data never stops the partition: a record that is not an {@link EventV1} is dead-lettered
 * with its reason (the rest of the batch is applied), and a stored window that does not decode is
 * rebuilt from the batch's events, its bytes dead-lettered (`corrupt_window`) and counted.
 */
@Controller()
export class SequenceBuilderConsumer {
  private readonly log = new Logger(SequenceBuilderConsumer.name);

  constructor(
    private readonly applier: SequenceApplier,
    @Inject(SEQUENCING_OPTIONS) private readonly options: SequencingOptions,
    @Inject(SEQUENCING_METRICS) private readonly metrics: SequencingMetrics,
    @Inject(TRENDING_STORE) private readonly trending: TrendingStore,
    private readonly categories: ItemCategories,
  ) {}

  @EventPattern(TOPICS.EVENTS, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch, @Ctx() ctx: BusContext): Promise<void> {
    const events: PositionedEvent[] = [];
    const letters: OutboundMessage[] = [];
    let oldest = Infinity;
    for (const m of batch.messages) {
      const read = parseAcceptedEvent(m.value);
      if (!read.ok) {
        letters.push(this.invalidRecord(m, read.rejection, read.ids));
        continue;
      }
      events.push({ partition: m.partition, offset: Number(m.offset), event: read.event, timestamp: m.timestamp });
      if (m.timestamp < oldest) oldest = m.timestamp;
    }
    this.metrics.batchSize.observe(batch.messages.length);
    const end = this.metrics.applyDuration.startTimer();
    // both idempotent on their own (window and partition watermarks): a redelivery counts nothing twice
    const [result, counted] = await Promise.all([this.applier.apply(events), this.countTrending(events)]);
    end();
    if (counted) this.metrics.trending.inc(counted);
    if (events.length > 0) this.metrics.eventLag.observe((Date.now() - oldest) / 1000);
    this.metrics.events.inc({ outcome: 'applied' }, result.applied);
    if (result.stale) this.metrics.events.inc({ outcome: 'stale' }, result.stale);
    if (result.tooLate) this.metrics.events.inc({ outcome: 'too_late' }, result.tooLate);
    if (result.deleted) this.metrics.events.inc({ outcome: 'deleted' }, result.deleted);
    if (letters.length) this.metrics.events.inc({ outcome: 'invalid' }, letters.length);
    if (result.conflicts) this.metrics.conflicts.inc(result.conflicts);
    for (const c of result.corrupt) letters.push(this.corruptWindow(c.userId, c.window, c.detail));
    if (result.corrupt.length) this.metrics.corruptWindows.inc(result.corrupt.length);
    this.metrics.updates.inc(result.updates.length);
    if (result.sessionUpdates) this.metrics.sessionUpdates.inc(result.sessionUpdates);
    for (const outcome of ['merged', 'empty', 'before', 'taken'] as const) if (result.merges[outcome]) this.metrics.merges.inc({ outcome }, result.merges[outcome]);
    if (this.options.emitUpdates) {
      ctx.publish(result.updates.map((u) => ({ topic: TOPICS.SEQUENCE_UPDATES, key: u.userId, value: u.window })));
    }
    if (letters.length) ctx.publish(letters);
  }

  /** Counts the batch's item events into the live trending items (overall and per top-level category), per partition in offset order. */
  private async countTrending(events: PositionedEvent[]): Promise<number> {
    const counted = events.filter(({ event }) => event.itemId !== undefined && event.type !== 'search');
    if (counted.length === 0) return 0;
    const categoryOf = await this.categories.of(counted.map(({ event }) => event.itemId!));
    const byPartition = new Map<number, TrendingEvent[]>();
    for (const { partition, offset, event } of counted) {
      let list = byPartition.get(partition);
      if (!list) byPartition.set(partition, (list = []));
      const category = categoryOf.get(event.itemId!);
      list.push({ offset, ts: event.ts, itemId: event.itemId!, ...(category ? { category } : {}) });
    }
    const counts = await Promise.all([...byPartition].map(([p, list]) => this.trending.record(p, list.sort((a, b) => a.offset - b.offset))));
    return counts.reduce((a, b) => a + b, 0);
  }

  private invalidRecord(m: ConsumedMessage, rejection: Rejection, ids: { eventId?: string; userId?: string } | undefined): OutboundMessage {
    this.log.warn(`invalid record on ${m.topic}/${m.partition}@${m.offset}: ${rejection.detail.slice(0, 200)}`);
    const letter = boundedLetter({
      reason: rejection.reason,
      ...(rejection.field ? { field: rejection.field } : {}),
      detail: `sequence-builder could not apply the record: ${rejection.detail}`,
      source: { kind: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
      rejectedAt: Date.now(),
      ...(m.value ? originalPayload(m.value) : {}),
      ...ids,
    });
    return { topic: TOPICS.EVENTS_DLQ, key: ids?.userId ?? (m.key ? m.key.toString('utf8') : null), value: JSON.stringify(letter) };
  }

  private corruptWindow(userId: string, window: Buffer, detail: string): OutboundMessage {
    // the user id goes to the dead letter (an access-controlled topic), not to the log (docs/privacy.md)
    this.log.warn(`corrupt window (${detail}): rebuilt from the new events, its bytes dead-lettered`);
    const letter: DeadLetterV1 = boundedLetter({
      reason: RejectReason.CorruptWindow,
      detail: `the stored window did not decode (${detail}); replaced by a window of the events that followed`,
      source: { kind: 'window', userId },
      rejectedAt: Date.now(),
      ...originalPayload(window, undefined, { binary: true }),
      userId,
    });
    return { topic: TOPICS.EVENTS_DLQ, key: userId, value: JSON.stringify(letter) };
  }
}
