import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch } from '@seqrec/bus';
import { GROUPS, TOPICS } from '@seqrec/contracts';
import { BusContext, type BusHandlerExtras } from '@seqrec/nest-platform';
import { EventIngestor } from './event-ingestor';
import { INGEST_METRICS } from './ingest.constants';
import { countOutcomes, type IngestMetrics } from './ingest.metrics';

const EXTRAS: BusHandlerExtras = { group: GROUPS.INGESTER, transactional: true };

/**
 * Consumes the raw clickstream. Accepted events and dead letters are published in the same
 * transaction that commits the raw offsets: a crash re-runs the batch and publishes nothing twice.
 */
@Controller()
export class RawEventsConsumer {
  constructor(
    private readonly ingestor: EventIngestor,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
  ) {}

  @EventPattern(TOPICS.CLICKSTREAM_RAW, EXTRAS)
  async onBatch(@Payload() batch: ConsumedBatch, @Ctx() ctx: BusContext): Promise<void> {
    const end = this.metrics.batchDuration.startTimer({ source: 'kafka' });
    const result = await this.ingestor.ingest(
      batch.messages.map((m) => ({
        payload: m.value ?? Buffer.alloc(0),
        source: { kind: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
        claimSource: `k:${m.partition}:${m.offset}`,
      })),
    );
    ctx.publish(result.messages);
    countOutcomes(this.metrics, 'kafka', result.outcomes);
    end();
  }
}
