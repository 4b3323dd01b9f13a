import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS } from '@seqrec/contracts';
import { BusContext, CATALOGUE_STORE } from '@seqrec/nest-platform';
import type { CatalogueStore } from '@seqrec/window';
import { catalogueBatch } from './catalogue';
import { CATALOGUE_OPTIONS } from './ingest.constants';

export interface CatalogueOptions {
  maxEventsPerRequest: number;
  maxDeadLetterOriginalBytes: number;
  retryAfterSeconds: number;
}

/**
 * Writes the items topic into the catalogue store (Redis, or memory in embedded mode), in order,
 * before the batch's offsets are committed: a crash re-applies the batch, and since each message is
 * an item's whole record, applying it twice leaves the same state. Bad records are dead-lettered
 * with their reason; the rest of the batch is applied.
 */
@Controller()
export class CatalogueConsumer {
  constructor(
    @Inject(CATALOGUE_STORE) private readonly store: CatalogueStore,
    @Inject(CATALOGUE_OPTIONS) private readonly options: CatalogueOptions,
  ) {}

  @EventPattern(TOPICS.ITEMS, { group: GROUPS.CATALOGUE, deadLetterTopic: TOPICS.EVENTS_DLQ })
  async onBatch(@Payload() batch: ConsumedBatch, @Ctx() ctx: BusContext): Promise<void> {
    const { changes, letters } = catalogueBatch(batch.messages, Date.now(), this.options.maxDeadLetterOriginalBytes);
    if (changes.length) await this.store.apply(changes);
    if (letters.length) ctx.publish(letters);
  }
}
